using Contention.Client.Reports;
using Contention.Client.Results;
using Contention.Grains;
using Contention.Workloads.Metrics;

namespace Contention.Client.Tests;

/// <summary>The report's co-location section on hand-made runs whose figures are computed by hand.</summary>
public class ColocationReportTests
{
    private static readonly ToolInfo Tool = new("contention", "1.0.0", "abc");
    private static readonly HostInfo Host = new("h", "linux", "6.18", 2, ".NET");

    [Fact]
    public void Rows_ServiceBesideTrainers_AgainstItAloneAndThemWithoutIt()
    {
        // Alone: 1,000 requests of 1 ms (p99 1 ms), 100/s. Beside two trainers, gated: 900 of 1 ms and
        // 100 of 3 ms answered of 1,100 offered (110/s over 10 s): 900 within 1.5 ms and 2 ms
        // (82 %), p99 3 ms (3x). The trainers do 4 + 6 steps/s beside it, 8 + 8 without it behind
        // the arbiter (62.5 %) and 10 + 10 without it at best (50 %); system throughput:
        // 100/100 + 4/8 + 6/8 = 2.25. The point without the arbiter used 0.5 CPU s/s less.
        var input = Input(
            Run("p001-r1", "0", "gating", Service(P(1.0, 1_000), 100, 100), Cpu: 0.2),
            Run("p002-r1", "2", "gating", Service(P(1.0, 900).Concat(P(3.0, 100)), 100, 110), Cpu: 0.3, Trainers: [4, 6]),
            Run("p003-r1", "2", "off", Service(P(2.0, 1_000), 100, 100), Cpu: 0.1, Trainers: [5, 5]),
            Trainers("p004-r1", "2", "off", [10, 10]),
            Trainers("p005-r1", "2", "gating", [8, 8]));

        var rows = ColocationReport.Rows(input);

        Assert.Equal(["p002-r1", "p003-r1"], rows.Select(r => r.Run));
        var gated = rows[0];
        Assert.Equal(1.0, gated.IsolatedP99Ms, 2);
        Assert.Equal(3.0, gated.P99Ms / gated.IsolatedP99Ms, 1);
        Assert.Equal(900 / 1_100.0, gated.Slo15, 6);
        Assert.Equal(900 / 1_100.0, gated.Slo20, 6);
        Assert.Equal(0.625, gated.BestEffort, 9);
        Assert.Equal(0.5, gated.BestEffortOfBest, 9);
        Assert.Equal(2.25, gated.System, 9);
        Assert.True(gated.KeptUp); // 100 of 110 offered a second: 91 %, above the 90 % a tenant that keeps up completes
        Assert.Equal(0.3 + 0.4 + 0.6 - (0.1 + 0.5 + 0.5), gated.CpuVsOff, 9);
        Assert.Equal((1, 1), (gated.IsolatedRuns, gated.BestEffortAloneRuns));
        Assert.Equal(0.8, gated.PredictedOverMeasured, 9); // the arbiter predicted 0.8 s of each trainer's 1 s of GPU time

        // Without the arbiter, its own alone run is the gated one (no arbiter: off alone): matched to any arbiter.
        var off = rows[1];
        Assert.Equal(2.0, off.P99Ms / off.IsolatedP99Ms, 1);
        Assert.Equal(0.0, off.Slo20, 9); // 2 ms requests are not within 2 x 1 ms
        Assert.True(double.IsNaN(off.CpuVsOff));
        Assert.True(double.IsNaN(off.PredictedOverMeasured));
    }

    [Fact]
    public void Rows_ReplayedJobs_AServiceAtARateAndTrainersInClosedLoop_AsInferenceAndTraining()
    {
        // The first case's runs with every tenant a replay (the service offered its requests at a rate): the same rows.
        static ReportRun Replayed(ReportRun run) => run with { Document = run.Document with { Tenants = [.. run.Document.Tenants.Select(t => t with { Kind = TenantKind.Replay })] } };
        ReportRun[] runs =
        [
            Run("p001-r1", "0", "gating", Service(P(1.0, 1_000), 100, 100), Cpu: 0.2),
            Run("p002-r1", "2", "gating", Service(P(1.0, 900).Concat(P(3.0, 100)), 100, 110), Cpu: 0.3, Trainers: [4, 6]),
            Trainers("p004-r1", "2", "off", [10, 10]),
            Trainers("p005-r1", "2", "gating", [8, 8]),
        ];

        var replayed = ColocationReport.Rows(Input([.. runs.Select(Replayed)]));

        Assert.True(ColocationReport.Applies(Input([.. runs.Select(Replayed)])));
        Assert.Equal(ColocationReport.Rows(Input(runs)), replayed);
        Assert.Equal(["p002-r1"], replayed.Select(r => r.Run));
        Assert.Equal((3.0, 0.625), (Math.Round(replayed[0].P99Ms / replayed[0].IsolatedP99Ms, 1), replayed[0].BestEffort));
    }

    [Fact]
    public void Rows_ServiceAloneWithAndWithoutTheArbiter_IsolatedIsWithout()
    {
        // The service alone: 1 ms without the arbiter, 2 ms behind it (the arbiter's own cost):
        // beside the trainers gated at 3 ms it is 3x its isolated self, not 1.5x.
        var input = Input(
            Run("p001-r1", "0", "off", Service(P(1.0, 1_000), 100, 100), Cpu: 0.2),
            Run("p002-r1", "0", "gating", Service(P(2.0, 1_000), 100, 100), Cpu: 0.2),
            Run("p003-r1", "2", "gating", Service(P(3.0, 1_000), 100, 100), Cpu: 0.3, Trainers: [4, 6]),
            Trainers("p004-r1", "2", "gating", [8, 8]));

        var gated = Assert.Single(ColocationReport.Rows(input));

        Assert.Equal(1.0, gated.IsolatedP99Ms, 2);
        Assert.Equal(1, gated.IsolatedRuns);
        Assert.Equal(4 / 8.0 + 6 / 8.0 + 1, gated.System, 9); // the trainers against themselves gated; the service against itself alone
    }

    [Fact]
    public void Rows_Variants_ReferencesAreTheVariantsWhereTheTenantsRanAlike()
    {
        // Variants alone (block), alone-spin (spin), trainers (off), and the
        // service beside them gated, block and spin: each against the alone variant it ran like.
        var input = Input(
            ["variant"],
            Variant(Run("p001-r1", "0", "off", Service(P(1.0, 1_000), 100, 100), Cpu: 0.2), "alone"),
            Variant(Run("p002-r1", "0", "off", Service(P(0.5, 1_000), 100, 100), Cpu: 0.2), "alone-spin", SyncMode.Spin),
            Variant(Trainers("p003-r1", "2", "off", [10, 10]), "trainers"),
            Variant(Run("p004-r1", "2", "gating", Service(P(2.0, 1_000), 100, 100), Cpu: 0.3, Trainers: [4, 6]), "gating"),
            Variant(Run("p005-r1", "2", "gating", Service(P(1.5, 1_000), 100, 100), Cpu: 0.3, Trainers: [5, 5]), "gating-spin", SyncMode.Spin));

        var rows = ColocationReport.Rows(input);

        Assert.Equal(["p004-r1", "p005-r1"], rows.Select(r => r.Run));
        Assert.Equal((1.0, 2.0), (Math.Round(rows[0].IsolatedP99Ms, 2), Math.Round(rows[0].P99Ms / rows[0].IsolatedP99Ms, 1)));
        Assert.Equal((0.5, 3.0), (Math.Round(rows[1].IsolatedP99Ms, 2), Math.Round(rows[1].P99Ms / rows[1].IsolatedP99Ms, 1)));
        Assert.All(rows, r => Assert.Equal((1, 1), (r.IsolatedRuns, r.BestEffortAloneRuns)));
        Assert.All(rows, r => Assert.Equal(0.5, r.BestEffort, 9));
    }

    [Fact]
    public void Write_WithoutTheTrainersAloneRun_SaysWhatIsMissing()
    {
        var directory = Directory.CreateTempSubdirectory("contention-coloc-").FullName;
        var input = Input(
            Run("p001-r1", "0", "off", Service(P(1.0, 1_000), 100, 100), Cpu: 0.2),
            Run("p002-r1", "2", "off", Service(P(1.0, 1_000), 100, 100), Cpu: 0.3, Trainers: [4, 6]));

        var (section, findings, files) = ColocationReport.Write(input, directory);

        Assert.Contains("Of 1 co-located points, 0 have both references", findings, StringComparison.Ordinal);
        Assert.Contains("give the sweep those runs (replicas: 0 values)", findings, StringComparison.Ordinal);
        Assert.Contains("| train.replicas=2 arbiter=off | svc | off | 1 | 1.00 | 1.00 | 1.00x |", section, StringComparison.Ordinal);
        Assert.Equal(["colocation.csv"], files);
        Assert.StartsWith("run,point,tenant,", File.ReadAllText(Path.Combine(directory, "colocation.csv")), StringComparison.Ordinal);
        Directory.Delete(directory, true);
    }

    [Fact]
    public void Write_IsolatedRunsThatDisagree_ShowsTheirRangeAndSaysWhatIsWithinIt()
    {
        // The service alone twice, p99 1 ms and 2 ms (mean 1.5); beside the trainers 1.8 ms: 1.2x
        // the mean, but within the highest isolated run, which the section says.
        var directory = Directory.CreateTempSubdirectory("contention-coloc-").FullName;
        ReportRun[] alone = [.. new[] { 1.0, 2.0 }.Select((ms, i) => Run($"p001-r{i + 1}", "0", "off", Service(P(ms, 1_000), 100, 100), Cpu: 0.2))];
        var input = Input([.. alone, Run("p002-r1", "2", "off", Service(P(1.8, 1_000), 100, 100), Cpu: 0.3, Trainers: [4, 6]), Trainers("p003-r1", "2", "off", [10, 10])]);

        var row = Assert.Single(ColocationReport.Rows(input));
        var (section, findings, _) = ColocationReport.Write(input, directory);

        Assert.Equal((2, 1.0, 2.0), (row.IsolatedRuns, Math.Round(row.IsolatedP99MinMs, 2), Math.Round(row.IsolatedP99MaxMs, 2)));
        Assert.Contains("| train.replicas=2 arbiter=off | svc | off | 1 | 1.80 | 1.50 (1.00-2.00) | 1.20x |", section, StringComparison.Ordinal);
        Assert.Contains("varies up to 2.00x between its isolated runs (the reference of train.replicas=2 arbiter=off); at 1 point(s) the p99 beside the best-effort tenants is within the highest of them", findings, StringComparison.Ordinal);
        var csv = File.ReadAllLines(Path.Combine(directory, "colocation.csv"));
        Assert.Contains("isolated_p99_min_ms,isolated_p99_max_ms", csv[0], StringComparison.Ordinal);
        Directory.Delete(directory, true);
    }

    [Fact]
    public void Applies_OnlyWhereARunMeasuredBothKinds()
    {
        Assert.False(ColocationReport.Applies(Input(Run("p001-r1", "0", "off", Service(P(1.0, 10), 1, 1), Cpu: 0), Trainers("p002-r1", "1", "off", [1]))));
        Assert.True(ColocationReport.Applies(Input(Run("p001-r1", "0", "off", Service(P(1.0, 10), 1, 1), Cpu: 0), Run("p002-r1", "1", "off", Service(P(1.0, 10), 1, 1), Cpu: 0, Trainers: [1]))));
    }

    private static IEnumerable<double> P(double ms, int count) => Enumerable.Repeat(ms, count);

    private static (IEnumerable<double> Latencies, double Throughput, double Offered) Service(IEnumerable<double> latencies, double throughput, double offered) => (latencies, throughput, offered);

    private static ReportInput Input(params ReportRun[] runs) => Input(["train.replicas", "arbiter"], runs);

    private static ReportInput Input(IReadOnlyList<string> axes, params ReportRun[] runs) => new()
    {
        Name = "coloc",
        Directory = "/tmp/coloc",
        Tool = Tool,
        Host = Host,
        Axes = axes,
        Runs = runs,
    };

    // The run as a variant's (its only axis), the service's sync mode set.
    private static ReportRun Variant(ReportRun run, string variant, SyncMode sync = SyncMode.Block) => new(
        run.Id,
        new Dictionary<string, string> { ["variant"] = variant },
        run.Document with { Tenants = [.. run.Document.Tenants.Select(t => t.Kind == TenantKind.Inference ? t with { Sync = sync } : t)] });

    private static ReportRun Run(string id, string replicas, string arbiter, (IEnumerable<double> Latencies, double Throughput, double Offered) service, double Cpu, double[]? Trainers = null)
    {
        var histogram = Histograms.Create();
        var latencies = service.Latencies.ToList();
        latencies.ForEach(ms => histogram.RecordValue((long)(ms * 1e6)));
        histogram.GetValueAtPercentile(99);
        var mode = Words.Parse<ArbiterMode>(arbiter);
        var tenants = new List<TenantRow>
        {
            new()
            {
                Experiment = id, Tenant = "svc", Kind = TenantKind.Inference, Phase = MeasurementPhase.Measure, Arbiter = mode, Seconds = 10, Completed = latencies.Count,
                ThroughputPerSecond = service.Throughput, OfferedPerSecond = service.Offered, P50Ms = latencies.Order().ElementAt(latencies.Count / 2),
                P99Ms = histogram.GetValueAtPercentile(99) / 1e6, UserCpuSeconds = Cpu * 10,
            },
        };
        tenants.AddRange((Trainers ?? []).Select((steps, i) => Trainer(id, i, steps, mode)));
        return Document(id, replicas, arbiter, tenants, new Dictionary<string, string> { ["svc/measure"] = Histograms.ToCompressedBase64(histogram) });
    }

    private static ReportRun Trainers(string id, string replicas, string arbiter, double[] steps) =>
        Document(id, replicas, arbiter, [.. steps.Select((s, i) => Trainer(id, i, s, Words.Parse<ArbiterMode>(arbiter)))], []);

    private static TenantRow Trainer(string id, int index, double steps, ArbiterMode mode) => new()
    {
        Experiment = id,
        Tenant = $"train-{index}",
        Kind = TenantKind.Training,
        Phase = MeasurementPhase.Measure,
        Arbiter = mode,
        Seconds = 10,
        Completed = (long)(steps * 10),
        ThroughputPerSecond = steps,
        UserCpuSeconds = steps / 2,
        GpuSeconds = 1,
        ArbiterPredictedSeconds = mode == ArbiterMode.Off ? 0 : 0.8,
    };

    private static ReportRun Document(string id, string replicas, string arbiter, List<TenantRow> tenants, Dictionary<string, string> histograms) => new(
        id,
        new Dictionary<string, string> { ["train.replicas"] = replicas, ["arbiter"] = arbiter },
        new ResultsDocument
        {
            Tool = Tool,
            Host = Host,
            Experiment = new ExperimentInfo { Id = id, Name = "coloc", State = "Completed" },
            Mix = new MixInfo("m.yaml", "name: coloc", ""),
            Tenants = tenants,
            Histograms = histograms,
        });
}
