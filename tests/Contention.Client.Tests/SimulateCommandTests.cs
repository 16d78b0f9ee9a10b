using Contention.Client.Commands;
using Contention.Client.Mixes;
using Contention.Client.Results;
using Contention.Grains;
using Spectre.Console;

namespace Contention.Client.Tests;

public class SimulateCommandTests
{
    private const string Colocation = """
        name: co
        warmup: 1s
        duration: 4s
        defaults:
          device: sim
          sync: block
        tenants:
          - name: svc
            kind: inference
            model: mlp
            batch: 1
            rate: 200
            priority: 10
          - name: train
            kind: training
            model: resnet50
            batch: 32
        """;

    [Fact]
    public async Task Execute_ServiceBesideTrainer_WritesARunsResultsInVirtualTime()
    {
        var directory = Temp();
        var output = new StringWriter();

        var code = await SimulateCommand.ExecuteAsync(Options(MixParser.Parse(Colocation, "co.yaml"), directory), Console(output), CancellationToken.None);

        Assert.Equal(0, code);
        var document = ResultsFiles.Read(directory);
        Assert.Equal("Completed", document.Experiment.State);
        Assert.Contains("simulated in virtual time", document.Experiment.Message, StringComparison.Ordinal);
        Assert.True(document.Validity!.Valid, string.Join("; ", document.Validity.Reasons));
        var rows = document.Tenants.Where(r => r.Phase == MeasurementPhase.Measure).ToDictionary(r => r.Tenant);
        Assert.Equal(4, rows["svc"].Seconds);
        Assert.InRange(rows["svc"].ThroughputPerSecond, 170, 230); // 200/s offered, open loop
        Assert.Equal(200, rows["svc"].OfferedPerSecond);
        Assert.InRange(rows["train"].ThroughputPerSecond, 8, 14); // h200: about 75 ms a step alone
        Assert.All(rows.Values, r =>
        {
            Assert.True(r.P50Ms > 0 && r.P99Ms >= r.P50Ms, $"{r.Tenant}: implausible percentiles");
            Assert.True(r.GpuSeconds > 0, $"{r.Tenant}: no GPU time");
            Assert.Equal(SimulateCommand.Node, r.Node);
            Assert.Equal("sim:0", r.Device);
        });
        Assert.True(rows["train"].GpuSeconds > 3.0, "the trainer keeps the GPU busy most of the window");
        Assert.Contains("svc", output.ToString(), StringComparison.Ordinal);

        // Deterministic: the same mix gives the same numbers.
        var again = Temp();
        Assert.Equal(0, await SimulateCommand.ExecuteAsync(Options(MixParser.Parse(Colocation, "co.yaml"), again), Console(new StringWriter()), CancellationToken.None));
        var second = ResultsFiles.Read(again).Tenants.Where(r => r.Phase == MeasurementPhase.Measure).ToDictionary(r => r.Tenant);
        Assert.All(rows.Values, r => Assert.Equal((r.Completed, r.P99Ms, r.GpuSeconds), (second[r.Tenant].Completed, second[r.Tenant].P99Ms, second[r.Tenant].GpuSeconds)));
    }

    [Fact]
    public async Task Execute_AMix_TheCollectorExportsItsFiguresToPrometheusAsARunsFromNodeVirtual()
    {
        var directory = Temp();
        Assert.Equal(0, await SimulateCommand.ExecuteAsync(Options(MixParser.Parse(Colocation, "co.yaml"), directory), Console(new StringWriter()), CancellationToken.None));
        var document = ResultsFiles.Read(directory);
        var svc = document.Tenants.Single(r => r.Phase == MeasurementPhase.Measure && r.Tenant == "svc");

        // The embedded node's collector exports to the process's default registry.
        using var stream = new MemoryStream();
        await Prometheus.Metrics.DefaultRegistry.CollectAndExportAsTextAsync(stream);
        var lines = System.Text.Encoding.UTF8.GetString(stream.ToArray()).Split('\n').Where(l => l.Contains($"experiment=\"{document.Experiment.Id}\"", StringComparison.Ordinal)).ToList();
        double Value(string metric, string also) => double.Parse(lines.Single(l => l.StartsWith(metric + "{", StringComparison.Ordinal) && l.Contains("tenant=\"svc\"", StringComparison.Ordinal) && l.Contains(also, StringComparison.Ordinal)).Split(' ')[^1], System.Globalization.CultureInfo.InvariantCulture);

        Assert.All(lines, l => Assert.Contains("node=\"virtual\"", l, StringComparison.Ordinal));
        Assert.Equal(svc.Completed, Value("contention_tenant_operations_total", "device=\"sim:0\""));
        Assert.Equal(svc.Completed, Value("contention_tenant_latency_seconds_count", "device=\"sim:0\""));
        Assert.Equal(svc.UserCpuSeconds, Value("contention_tenant_cpu_seconds_total", "mode=\"user\""), 6);
        Assert.True(Value("contention_tenant_gpu_seconds_total", "device=\"sim:0\"") > 0);
    }

    [Fact]
    public async Task Execute_SpinClientsBeyondTheCores_TakeTurnsAndTheResultsSaySo()
    {
        const string spinning = """
            name: spinning
            warmup: 200ms
            duration: 1s
            sharing: mps
            defaults:
              device: sim
              sync: spin
            tenants:
              - name: svc
                kind: inference
                model: mlp
                batch: 1
                replicas: 4
            """;
        var free = Temp();
        var limited = Temp();

        Assert.Equal(0, await SimulateCommand.ExecuteAsync(Options(MixParser.Parse(spinning, "s.yaml"), free), Console(new StringWriter()), CancellationToken.None));
        Assert.Equal(0, await SimulateCommand.ExecuteAsync(Options(MixParser.Parse(spinning, "s.yaml"), limited) with { HostCores = 2 }, Console(new StringWriter()), CancellationToken.None));

        var before = ResultsFiles.Read(free);
        var after = ResultsFiles.Read(limited);
        Assert.Contains("a host core of its own", before.Experiment.Message, StringComparison.Ordinal);
        Assert.Contains("share 2 host core(s)", after.Experiment.Message, StringComparison.Ordinal);
        var alone = before.Tenants.Where(r => r.Phase == MeasurementPhase.Measure).Sum(r => r.ThroughputPerSecond);
        var turns = after.Tenants.Where(r => r.Phase == MeasurementPhase.Measure).ToList();
        Assert.True(turns.Sum(r => r.ThroughputPerSecond) < 0.8 * alone, $"{turns.Sum(r => r.ThroughputPerSecond)} against {alone} requests/s");
        Assert.All(turns, r => Assert.True(r.P99Ms > 2, $"{r.Tenant}: a request cut by a turn's end waits ~3 ms, p99 {r.P99Ms} ms"));
    }

    [Fact]
    public async Task Execute_ProbeFarBeyondTheOsFits_NamedAsExtrapolatedAndItsCpuHeldToTheWindow()
    {
        // A spinning closed-loop probe of ~10 us operations: ~90,000 a second where the shipped
        // model's spin fits saw at most ~1,000. Its CPU was 17 s a second before the hold.
        const string probe = """
            name: probe
            warmup: 100ms
            duration: 500ms
            sharing: mps
            defaults:
              device: sim
              sync: spin
            tenants:
              - name: probe
                kind: microbench
                op: elementwise
                bytes: 4KiB
                iterations: 1
              - name: light
                kind: microbench
                op: elementwise
                bytes: 4KiB
                iterations: 1
            """;
        var directory = Temp();

        Assert.Equal(0, await SimulateCommand.ExecuteAsync(Options(MixParser.Parse(probe, "p.yaml"), directory), Console(new StringWriter()), CancellationToken.None));

        var results = ResultsFiles.Read(directory);
        Assert.Contains("extrapolated beyond twice what its fits were fitted on", results.Experiment.Message, StringComparison.Ordinal);
        Assert.Matches(@"probe \(operations [\d,]+/s, fitted up to [\d,.]+/s", results.Experiment.Message);
        var rows = results.Tenants.Where(r => r.Phase == MeasurementPhase.Measure).ToList();
        Assert.Equal(2, rows.Count);
        Assert.All(rows, r =>
        {
            Assert.True(r.ThroughputPerSecond > 20_000, $"{r.Tenant}: {r.ThroughputPerSecond} operations/s");
            Assert.True(r.OsModelled);
            Assert.InRange(r.UserCpuSeconds + r.SystemCpuSeconds, 0.5 * r.Seconds, r.Seconds + 1e-9);
        });
    }

    [Theory]
    [InlineData("--cores", "4")]
    [InlineData("--repetitions", "3")]
    public async Task Command_MixOnlyOptionOnATrace_RefusedWithExitCode2(string option, string value)
    {
        // A trace that places fine (one job on one node): without the option it is placed (exit 0).
        var directory = Temp();
        Directory.CreateDirectory(directory);
        var jobs = Path.Combine(directory, "jobs.csv");
        var cluster = Path.Combine(directory, "cluster.yaml");
        File.WriteAllText(jobs, "job_id,submit_time,duration,gpus,qos\nj1,0,60,1,BE\n");
        File.WriteAllText(cluster, "name: c\nnodes:\n  - name: n\n    count: 1\n    cpu: 8\n    memory_gib: 64\n    gpus: 1\n    model: H200\n");
        string[] placed = [jobs, "--cluster-spec", cluster, "--mapping", Path.Combine(AppContext.BaseDirectory, "mixes", "traces", "alibaba-v2023.yaml"), "--placement-only", "--out", Path.Combine(directory, "out")];
        Assert.Equal(0, await SimulateCommand.Create().Parse(placed).InvokeAsync());

        var parse = SimulateCommand.Create().Parse([.. placed[..^1], Path.Combine(directory, "out2"), option, value]);
        Assert.Empty(parse.Errors);
        Assert.Equal(2, await parse.InvokeAsync());
    }

    [Fact]
    public async Task Execute_SweepOverSharing_EachPointAndRepetitionSimulatedWithItsOwnSeeds()
    {
        var mix = MixParser.Parse(Colocation + "\nsweep:\n  repetitions: 2\n  axes:\n    sharing: [timeslice, mps]\n", "co.yaml");
        var directory = Temp();

        Assert.Equal(0, await SimulateCommand.ExecuteAsync(Options(mix, directory), Console(new StringWriter()), CancellationToken.None));

        var manifest = SweepFiles.ReadManifest(directory)!;
        Assert.Equal(4, manifest.Runs.Count);
        Assert.All(manifest.Runs, r => Assert.Equal("Completed", r.State));
        double P99(string run) => ResultsFiles.Read(SweepFiles.RunDirectory(directory, run)).Tenants.Single(t => t.Tenant == "svc" && t.Phase == MeasurementPhase.Measure).P99Ms;

        // Under MPS the service's tail is far below time-slicing's (it does not wait out the trainer's slices).
        Assert.True(P99("p002-r1") < P99("p001-r1") / 2, $"mps {P99("p002-r1")} ms, time-sliced {P99("p001-r1")} ms");

        // Repetitions draw other arrivals: not the same numbers; the seeds each ran with are in its results.
        Assert.NotEqual(P99("p001-r1"), P99("p001-r2"));
        IReadOnlyDictionary<string, int> Seeds(string run) => ResultsFiles.Read(SweepFiles.RunDirectory(directory, run)).Mix.Seeds!;
        Assert.Equal(Seeds("p001-r1").Keys, Seeds("p001-r2").Keys);
        Assert.All(Seeds("p001-r1"), s => Assert.Equal(s.Value + SweepPoint.RepetitionSeedStride, Seeds("p001-r2")[s.Key]));
    }

    [Fact]
    public async Task Execute_InterruptedInTheWindow_SavesWhatWasSimulatedAndSaysSo()
    {
        // Ctrl+C comes as the first window's progress line is printed: the coordinator stops at that
        // window's end (0.1 s of virtual time, all of it measured: no warm-up).
        var mix = MixParser.Parse(Colocation.Replace("warmup: 1s", "warmup: 0s", StringComparison.Ordinal).Replace("duration: 4s", "duration: 600s", StringComparison.Ordinal), "co.yaml");
        var directory = Temp();
        using var interrupt = new CancellationTokenSource();
        var output = new Interrupting(interrupt);

        var code = await SimulateCommand.ExecuteAsync(Options(mix, directory), Console(output), interrupt.Token);

        Assert.Equal(130, code);
        var results = ResultsFiles.Read(directory);
        Assert.Equal("Interrupted", results.Experiment.State);
        Assert.Contains("interrupted at 0.1 s of 600 s of virtual time: results are the first 0.1 s of the window", results.Experiment.Message, StringComparison.Ordinal);
        var svc = results.Tenants.Single(r => r.Tenant == "svc" && r.Phase == MeasurementPhase.Measure);
        Assert.Equal(0.1, svc.Seconds, 6);
        Assert.InRange(svc.Completed, 8, 35); // 200/s for 0.1 s
        Assert.Contains("interrupted", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Execute_WithAnOsModel_TheOsColumnsArePredictedAndMarkedModelled()
    {
        // Block tenants: half a CPU second per second, one sync-wait call per wait. The trainer is
        // put on spin, which the model does not cover: its OS columns stay 0, not modelled.
        var model = new Contention.Workloads.Sim.OsCostModel("test", [
            new(Contention.Workloads.Devices.SyncMode.Block, "user_cpu_s", new Dictionary<string, double> { ["per_second"] = 0.5 }, 10, 1, 0),
            new(Contention.Workloads.Devices.SyncMode.Block, "calls_sync-wait", new Dictionary<string, double> { ["waits"] = 1 }, 10, 1, 0),
        ]);
        var file = Path.GetTempFileName();
        File.WriteAllText(file, model.ToJson());
        var mix = MixParser.Parse(Colocation.Replace("    model: resnet50\n    batch: 32", "    model: resnet50\n    batch: 32\n    sync: spin", StringComparison.Ordinal), "co.yaml");
        var directory = Temp();
        var output = new StringWriter();

        Assert.Equal(0, await SimulateCommand.ExecuteAsync(Options(mix, directory) with { OsModel = file }, Console(output), CancellationToken.None));

        var rows = ResultsFiles.Read(directory).Tenants.Where(r => r.Phase == MeasurementPhase.Measure).ToDictionary(r => r.Tenant);
        var svc = rows["svc"];
        Assert.True(svc.OsModelled);
        Assert.False(svc.Traced);
        Assert.Equal(0.5 * svc.Seconds, svc.UserCpuSeconds, 6);
        Assert.InRange(svc.CategoryCalls["sync-wait"], svc.Completed, 3 * svc.Completed); // a request waits once or more
        Assert.Equal(svc.CategoryCalls["sync-wait"], svc.Syscalls);
        Assert.False(rows["train"].OsModelled);
        Assert.Equal(0, rows["train"].UserCpuSeconds);
        Assert.Contains("not for sync spin (no fit)", ResultsFiles.Read(directory).Experiment.Message, StringComparison.Ordinal);
        Assert.Contains("os_modelled", File.ReadAllText(Path.Combine(directory, ResultsFiles.Csv)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("    kind: command\n    command: [sleep, '1']", "cannot be simulated")]
    [InlineData("    kind: inference\n    device: cpu", "is not a GPU")]
    public async Task Execute_TenantVirtualTimeCannotPlay_SaysWhichAndWhatToDo(string tenant, string expected)
    {
        var mix = MixParser.Parse($"name: bad\ntenants:\n  - name: odd\n{tenant}\n", "bad.yaml");

        var error = await Assert.ThrowsAsync<MixException>(() => SimulateCommand.ExecuteAsync(Options(mix, Temp()), Console(new StringWriter()), CancellationToken.None));

        Assert.Contains("tenant odd", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Execute_SweepOverSharesOfCapacity_MeasuresTheCapacityOnceAndOffersEachShare()
    {
        // The service of Colocation alone, at 20 and 60 % of its capacity.
        var text = Colocation[..Colocation.IndexOf("  - name: train", StringComparison.Ordinal)].Replace("rate: 200", "rate: 50%", StringComparison.Ordinal)
            + "sweep:\n  repetitions: 2\n  axes:\n    svc.rate: [20%, 60%]\n";
        var directory = Temp();

        Assert.Equal(0, await SimulateCommand.ExecuteAsync(Options(MixParser.Parse(text, "shares.yaml"), directory), Console(new StringWriter()), CancellationToken.None));

        // One probe for the four runs: the service alone, closed loop, its rate its capacity.
        var kept = Assert.Single(Capacities.Read(Path.Combine(directory, Capacities.File)));
        var probe = ResultsFiles.Read(Assert.Single(Directory.GetDirectories(Path.Combine(directory, "capacity"))));
        var alone = probe.Tenants.Single(t => t.Phase == MeasurementPhase.Measure);
        Assert.Equal((0.0, Capacities.DurationSeconds), (alone.OfferedPerSecond, alone.Seconds));
        Assert.Equal(alone.ThroughputPerSecond, kept.Value.PerSecond);
        Assert.InRange(kept.Value.PerSecond, 3_000, 6_000); // h200: an MLP batch-1 request alone takes ~0.2 ms
        foreach (var (point, share) in new[] { ("p001-r1", 0.2), ("p001-r2", 0.2), ("p002-r1", 0.6), ("p002-r2", 0.6) })
        {
            var document = ResultsFiles.Read(SweepFiles.RunDirectory(directory, point));
            var offered = document.Mix.Capacities!["svc"];
            Assert.Equal((share, kept.Value.PerSecond), (offered.Share, offered.CapacityPerSecond));
            var row = document.Tenants.Single(t => t.Phase == MeasurementPhase.Measure);
            Assert.Equal(share * kept.Value.PerSecond, row.OfferedPerSecond, 6);
            Assert.InRange(row.ThroughputPerSecond, 0.85 * row.OfferedPerSecond, 1.15 * row.OfferedPerSecond);
            Assert.Contains($"svc offered {share * 100:0} % of its capacity", File.ReadAllText(Path.Combine(SweepFiles.RunDirectory(directory, point), ResultsFiles.Summary)), StringComparison.Ordinal);
        }

        Directory.Delete(directory, true);
    }

    [Fact]
    public async Task Execute_ArbiterAxis_GatingKeepsTheServicesTailAndRunRefusesIt()
    {
        // Colocation's service (200/s, priority 10) beside its trainer under MPS, without and with
        // the arbiter's gating: the service's p99 drops, and the results say which ran.
        var text = Colocation.Replace("warmup: 1s", "warmup: 1s\nsharing: mps\narbiter_outstanding: 300us", StringComparison.Ordinal)
            + "\narbiter_quantum: 100us\nsweep:\n  repetitions: 1\n  axes:\n    arbiter: [off, gating, slicing]\n";
        var mix = MixParser.Parse(text, "arbiter.yaml");
        Assert.Equal([(300_000L, 100_000L), (300_000L, 100_000L)], mix.Tenants.Select(t => (t.ArbiterOutstandingNs, t.ArbiterQuantumNs)));
        var directory = Temp();

        Assert.Equal(0, await SimulateCommand.ExecuteAsync(Options(mix, directory), Console(new StringWriter()), CancellationToken.None));

        var off = ResultsFiles.Read(SweepFiles.RunDirectory(directory, "p001-r1")).Tenants.Single(t => t.Tenant == "svc" && t.Phase == MeasurementPhase.Measure);
        var gated = ResultsFiles.Read(SweepFiles.RunDirectory(directory, "p002-r1")).Tenants.Single(t => t.Tenant == "svc" && t.Phase == MeasurementPhase.Measure);
        var sliced = ResultsFiles.Read(SweepFiles.RunDirectory(directory, "p003-r1")).Tenants.Single(t => t.Tenant == "svc" && t.Phase == MeasurementPhase.Measure);
        Assert.Equal((ArbiterMode.Off, ArbiterMode.Gating, ArbiterMode.Slicing), (off.Arbiter, gated.Arbiter, sliced.Arbiter));
        // h200 (2026-12-04): gated 0.90 and sliced 0.96 ms against 1.34 ms.
        Assert.True(gated.P99Ms < 0.8 * off.P99Ms, $"p99 {gated.P99Ms} ms gated against {off.P99Ms} ms");
        Assert.True(sliced.P99Ms < 0.8 * off.P99Ms, $"p99 {sliced.P99Ms} ms sliced against {off.P99Ms} ms");
        Assert.Contains("mps + arbiter (gating)", File.ReadAllText(Path.Combine(SweepFiles.RunDirectory(directory, "p002-r1"), ResultsFiles.Summary)), StringComparison.Ordinal);
        Assert.Contains(",gating,measure,", File.ReadAllText(Path.Combine(directory, ResultsFiles.Csv)), StringComparison.Ordinal);

        // What the arbiter held is reported as a real run's is: the trainer's launches, not the service's.
        var trainer = ResultsFiles.Read(SweepFiles.RunDirectory(directory, "p002-r1")).Tenants.Single(t => t.Tenant != "svc" && t.Phase == MeasurementPhase.Measure);
        Assert.True(trainer.ArbiterHeld > 0 && trainer.ArbiterHeldSeconds > 0 && trainer.ArbiterPredictedSeconds > 0, $"held {trainer.ArbiterHeld} for {trainer.ArbiterHeldSeconds} s, predicted {trainer.ArbiterPredictedSeconds} s");
        Assert.True(trainer.ArbiterPredictedSeconds <= trainer.GpuSeconds * 1.15, $"predicted {trainer.ArbiterPredictedSeconds} s of {trainer.GpuSeconds} s on the GPU");
        Assert.Equal((0L, 0.0), (gated.ArbiterHeld, gated.ArbiterPredictedSeconds));

        // The trainers' duration predictors learnt the model's own times (a correction near 1), the
        // sliced one too: its parts' costs are predicted, not learnt (learnt, they made it ~1.2x
        // here); the service predicts nothing.
        var slicedTrainer = ResultsFiles.Read(SweepFiles.RunDirectory(directory, "p003-r1")).Tenants.Single(t => t.Tenant != "svc" && t.Phase == MeasurementPhase.Measure);
        Assert.InRange(trainer.ArbiterCorrection, 0.95, 1.1);
        Assert.InRange(slicedTrainer.ArbiterCorrection, 0.95, 1.1);
        Assert.Equal((0.0, 0.0), (gated.ArbiterCorrection, sliced.ArbiterCorrection));

        // Its held launches' sleeps are futex waits (and voluntary switches), the service's closes that woke them futex wakes.
        var futex = File.ReadAllLines(Path.Combine(SweepFiles.RunDirectory(directory, "p002-r1"), ResultsFiles.SyscallsCsv)).Where(l => l.Contains(",measure,sync-wait,futex,", StringComparison.Ordinal)).ToList();
        Assert.Contains(futex, l => l.StartsWith($"{trainer.Tenant},", StringComparison.Ordinal));
        Assert.Contains(futex, l => l.StartsWith("svc,", StringComparison.Ordinal));
        Assert.DoesNotContain(",futex,", File.ReadAllText(Path.Combine(SweepFiles.RunDirectory(directory, "p001-r1"), ResultsFiles.SyscallsCsv)), StringComparison.Ordinal);
        Assert.Equal(0L, ResultsFiles.Read(SweepFiles.RunDirectory(directory, "p001-r1")).Tenants.Single(t => t.Tenant != "svc" && t.Phase == MeasurementPhase.Measure).ArbiterHeld);

        // On the cpu device there is no GPU to arbitrate: refused before anything runs, saying what to do.
        var refused = Temp();
        var error = await Assert.ThrowsAsync<MixException>(() => RunCommand.ExecuteAsync(new RunOptions(mix, refused, null, 0, 1, RunCommand.Overrides("cpu", null), ""), Console(new StringWriter()), CancellationToken.None));
        Assert.Contains("runs on cpu under arbiter: gating, and the arbiter orders a GPU's launches: give it device cuda or sim", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(refused));
        Directory.Delete(directory, true);
    }

    [Fact]
    public async Task Execute_ReplayTenant_EachStepTheRecordedHostTimeAndTheKernelsItWaitsFor()
    {
        // The example trace's step: host gaps and tail of 321 us, kernels of 157 us and a 32 us copy it waits for, 500 us as recorded.
        var trace = Path.Combine(Repository.Root, "examples", "record", "two-steps.ktrace.json");
        var mix = MixParser.Parse($"name: r\nwarmup: 500ms\nduration: 2s\ntenants:\n  - name: job\n    kind: replay\n    trace: {trace}\n", "r.yaml");
        var directory = Temp();

        Assert.Equal(0, await SimulateCommand.ExecuteAsync(Options(mix, directory), Console(new StringWriter()), CancellationToken.None));

        var row = ResultsFiles.Read(directory).Tenants.Single(r => r.Phase == MeasurementPhase.Measure);
        Assert.Equal((TenantKind.Replay, "sim:0"), (row.Kind, row.Device));
        Assert.True(row.P50Ms >= 0.321, $"a step ({row.P50Ms} ms) shorter than its host's recorded time");
        Assert.True(row.P50Ms <= 0.7, $"a step ({row.P50Ms} ms) far beyond the recorded 0.5 ms alone");
        Assert.InRange(row.ThroughputPerSecond, 1 / 0.0007, 1 / 0.000321);
    }

    private static string Temp() => Path.Combine(Path.GetTempPath(), $"contention-simulate-{Guid.NewGuid():N}");

    private static RunOptions Options(Mix mix, string directory) => new(mix, directory, null, 0, 1, spec => spec, "") { SimProfile = "h200" };

    private static IAnsiConsole Console(StringWriter output) => Consoles.Plain(output);

    /// <summary>Cancels as a simulation's progress line is written (the first comes after its first window).</summary>
    private sealed class Interrupting(CancellationTokenSource interrupt) : StringWriter(System.Globalization.CultureInfo.InvariantCulture)
    {
        public override void Write(string? value)
        {
            base.Write(value);
            if (value?.Contains(" M events/s", StringComparison.Ordinal) == true)
            {
                interrupt.Cancel();
            }
        }
    }
}
