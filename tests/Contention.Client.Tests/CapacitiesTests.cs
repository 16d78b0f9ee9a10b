using Contention.Client.Mixes;
using Contention.Client.Results;
using Contention.Client.Simulation;
using Contention.Grains;

namespace Contention.Client.Tests;

public class CapacitiesTests
{
    // Two replicas at 50 %, another batch at 20 %, a fixed rate and a trainer, on a modelled GPU.
    private static readonly ExperimentPlan Plan = MixParser.Parse(
        "name: cap\ndefaults: { device: sim, sync: block }\ntenants:\n"
            + "  - { name: svc, kind: inference, model: mlp, batch: 1, rate: 50%, replicas: 2 }\n"
            + "  - { name: other, kind: inference, model: mlp, batch: 8, rate: 20% }\n"
            + "  - { name: fixed, kind: inference, rate: 100 }\n"
            + "  - { name: train, kind: training }\n",
        "cap.yaml").ToPlan("e1");

    [Fact]
    public async Task ResolveAsync_EachDistinctTenantMeasuredOnceAndKept_RatesTheirShare()
    {
        var file = Path.Combine(Path.GetTempPath(), $"contention-cap-{Guid.NewGuid():N}", Capacities.File);
        var probes = new List<TenantSpec>();
        Task<MeasuredCapacity> Measure(TenantSpec probe, string key)
        {
            probes.Add(probe);
            return Task.FromResult(new MeasuredCapacity(probe.BatchSize == 1 ? 4_000 : 1_000, $"probe of {key}"));
        }

        var (plan, offered) = await Capacities.ResolveAsync(Plan, "here", file, Measure);

        // The two replicas of svc share one probe; other has its own (another batch); the probes run closed loop.
        Assert.Equal(2, probes.Count);
        Assert.All(probes, p => Assert.Equal((0.0, 0.0), (p.RatePerSecond, p.RateOfCapacity)));
        var rates = plan.Tenants.ToDictionary(t => t.Name, t => t.RatePerSecond);
        Assert.Equal(2_000, rates["svc-0"]);
        Assert.Equal(2_000, rates["svc-1"]);
        Assert.Equal(200, rates["other"]);
        Assert.Equal(100, rates["fixed"]);
        Assert.Equal(0, rates["train"]);
        Assert.Equal(["other", "svc-0", "svc-1"], offered.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(new TenantCapacity(0.5, 4_000, 2_000, $"probe of {Capacities.Key(Plan.Tenants[0], "here")}"), offered["svc-0"]);

        // Kept: a second resolution (a sweep's next point) measures nothing; another place measures again.
        Assert.Equal(2, Capacities.Read(file).Count);
        var (again, _) = await Capacities.ResolveAsync(Plan, "here", file, Measure);
        Assert.Equal(2, probes.Count);
        Assert.Equal(plan.Tenants.Select(t => t.RatePerSecond), again.Tenants.Select(t => t.RatePerSecond));
        await Capacities.ResolveAsync(Plan, "elsewhere", file, Measure);
        Assert.Equal(4, probes.Count);
        Directory.Delete(Path.GetDirectoryName(file)!, true);
    }

    [Fact]
    public async Task ResolveAsync_NoShareOfCapacity_MeasuresNothingAndWritesNothing()
    {
        var plan = Plan with { Tenants = [.. Plan.Tenants.Where(t => t.RateOfCapacity == 0)] };
        var file = Path.Combine(Path.GetTempPath(), $"contention-cap-{Guid.NewGuid():N}.json");

        var (resolved, offered) = await Capacities.ResolveAsync(plan, "here", file, (_, _) => throw new InvalidOperationException("measured"));

        Assert.Same(plan, resolved);
        Assert.Empty(offered);
        Assert.False(File.Exists(file));
    }

    [Fact]
    public async Task ResolveAsync_CapacityOfNothing_SaysToGiveARate()
    {
        var file = Path.Combine(Path.GetTempPath(), $"contention-cap-{Guid.NewGuid():N}.json");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Capacities.ResolveAsync(Plan, "here", file, (_, _) => Task.FromResult(new MeasuredCapacity(0, "nothing completed"))));

        Assert.Contains("its capacity measured 0 requests per second (nothing completed)", error.Message, StringComparison.Ordinal);
        Assert.Contains("give rate in requests per second", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Judge_CapacityFromAnInvalidProbe_RunIsInvalidSayingSo()
    {
        var document = new ResultsDocument
        {
            Tool = new ToolInfo("contention", "1", "x"),
            Host = new HostInfo("h", "linux", "6", 2, ".NET"),
            Experiment = new ExperimentInfo { Id = "e", Name = "cap", State = "Completed", DurationSeconds = 0 },
            Mix = new MixInfo("cap.yaml", "", "", null, new Dictionary<string, TenantCapacity> { ["svc"] = new(0.5, 4_000, 2_000, "alone; the probe run was invalid: busy", Valid: false) }),
        };

        var verdict = Validity.Judge(document);

        Assert.False(verdict.Valid);
        Assert.Contains(verdict.Reasons, r => r.StartsWith("tenant svc was offered 50 % of a capacity measured in an invalid run", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task MeasureAsync_InvalidProbes_MeasuredAgainUntilOneIsValid_AtMostThreeTimes(int firstValid)
    {
        // Probes read 3,000, 3,500, 3,200 and 4,000 requests/s; those before firstValid are invalid
        // (the host took CPU time). The first valid probe is the capacity, the invalid ones said;
        // with none valid in three (firstValid 4), the highest of the three, marked invalid.
        var file = Path.Combine(Path.GetTempPath(), $"contention-cap-{Guid.NewGuid():N}", Capacities.File);
        var reads = new[] { 3_000.0, 3_500, 3_200, 4_000 };
        var directories = new List<string>();
        Task<(ExperimentProgress, ResultsDocument)> Run(Mix mix, string directory)
        {
            directories.Add(directory);
            var attempt = directories.Count;
            var row = new TenantRow { Experiment = $"probe-{attempt}", Tenant = mix.Tenants[0].Name, Node = "n", Phase = MeasurementPhase.Measure, Seconds = 5, State = "Stopped", Completed = 100, ThroughputPerSecond = reads[attempt - 1] };
            var document = new ResultsDocument
            {
                Tool = new ToolInfo("contention", "1", "x"),
                Host = new HostInfo("h", "linux", "6", 2, ".NET"),
                Experiment = new ExperimentInfo { Id = $"probe-{attempt}", Name = mix.Name, State = "Completed", DurationSeconds = 5 },
                Mix = new MixInfo("cap.yaml", "", ""),
                Tenants = [row],
                Validity = attempt < firstValid ? new Validity(false, [$"stolen {attempt}"]) : new Validity(true, []),
            };
            return Task.FromResult((new ExperimentProgress(document.Experiment.Id, ExperimentState.Completed, 6, 0, [], null, null, null), document));
        }

        var mix = MixParser.Parse("name: cap\ndefaults: { device: sim }\ntenants:\n  - { name: svc, kind: inference, rate: 50% }\n", "cap.yaml");
        var output = new StringWriter();
        var capacity = await Capacities.MeasureAsync(mix, Plan.Tenants[0], "key", file, Consoles.Plain(output), Run);

        var attempts = Math.Min(firstValid, Capacities.Attempts);
        Assert.Equal(attempts, directories.Count);
        Assert.Equal(attempts, directories.Distinct().Count());
        Assert.All(directories.Skip(1), (d, i) => Assert.Equal($"{directories[0]}-{i + 2}", d));
        if (firstValid <= Capacities.Attempts)
        {
            Assert.True(capacity.Valid);
            Assert.Equal(reads[firstValid - 1], capacity.PerSecond);
            Assert.Contains($"{firstValid - 1} earlier probe(s) invalid and not used", capacity.MeasuredBy, StringComparison.Ordinal);
            Assert.Contains("stolen 1", capacity.MeasuredBy, StringComparison.Ordinal);
        }
        else
        {
            Assert.False(capacity.Valid);
            Assert.Equal(3_500, capacity.PerSecond);
            Assert.StartsWith("the highest of 3 probes, every one invalid: 3500 requests/s", capacity.MeasuredBy, StringComparison.Ordinal);
            Assert.All(new[] { "stolen 1", "stolen 2", "stolen 3" }, r => Assert.Contains(r, capacity.MeasuredBy, StringComparison.Ordinal));
        }

        Assert.Contains("measuring again", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void CheckMapping_AShareOfCapacity_RefusedNamingTheTenant()
    {
        var mapping = MixParser.Parse("name: map\ntenants:\n  - name: LS\n    kind: inference\n    rate: 50%\n  - name: BE\n    kind: training\n  - name: Burstable\n    kind: training\n  - name: Guaranteed\n    kind: training\n", "map.yaml");

        var error = Assert.Throws<MixException>(() => TraceSimulation.CheckMapping(mapping));

        Assert.Contains("tenant LS: a share of capacity (50%) cannot map a trace's pods", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToWorkload_AnUnresolvedShareOfCapacity_Refused()
    {
        var spec = Plan.Tenants[0];

        var error = Assert.Throws<ArgumentException>(() => Contention.Grains.Node.TenantWorkload.Of(spec));

        Assert.Contains("its rate is 50% of its capacity, which the client measures", error.Message, StringComparison.Ordinal);
        Assert.Equal(2_000, Contention.Grains.Node.TenantWorkload.Of(spec with { RatePerSecond = 2_000 }).RatePerSecond);
    }
}
