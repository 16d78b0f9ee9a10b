using System.Globalization;
using System.Text;
using Contention.Client.Results;
using Contention.Grains;
using HdrHistogram;

namespace Contention.Client.Reports;

/// <summary>
/// The co-location section of a sweep's report (issue 13): for each run with latency-sensitive
/// tenants (inference) beside best-effort ones (training), how near its isolated self each
/// latency-sensitive tenant stays and what the best-effort ones keep, against reference runs of
/// the same sweep — the latency-sensitive tenant alone, the best-effort tenants without it —
/// and, where the sweep has an <c>arbiter</c> axis, what the arbiter costs in CPU against the same
/// point without it.
/// </summary>
internal static class ColocationReport
{
    /// <summary>The SLOs attainment is measured at: these multiples of the isolated p99.</summary>
    public static readonly double[] SloMultiples = [1.5, 2.0];

    /// <summary>A latency-sensitive tenant that completed less than this share of its offered requests was overloaded.</summary>
    public const double KeptUp = 0.9;

    /// <summary>Whether the section applies: some run measured latency-sensitive and best-effort tenants together.</summary>
    public static bool Applies(ReportInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return input.Runs.Count > 1 && input.Runs.Any(r => Measured(r).Any(Sensitive) && Measured(r).Any(BestEffort));
    }

    /// <summary>A latency-sensitive tenant: inference, or a replay offered requests at a rate.</summary>
    public static bool Sensitive(TenantRow tenant)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        return tenant.Kind == TenantKind.Inference || (tenant.Kind == TenantKind.Replay && tenant.OfferedPerSecond > 0);
    }

    /// <summary>A best-effort tenant: training, or a replay of closed-loop steps (a recorded trainer).</summary>
    public static bool BestEffort(TenantRow tenant)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        return tenant.Kind == TenantKind.Training || (tenant.Kind == TenantKind.Replay && tenant.OfferedPerSecond <= 0);
    }

    /// <summary>Each latency-sensitive tenant of each co-located run against its references.</summary>
    public static List<ColocationRow> Rows(ReportInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var rows = new List<ColocationRow>();
        var histograms = new Dictionary<(string Run, string Tenant), HistogramBase?>();
        HistogramBase? Histogram(ReportRun run, string tenant)
        {
            if (!histograms.TryGetValue((run.Id, tenant), out var histogram))
            {
                histogram = run.Document.MeasuredLatency(tenant);
                histograms[(run.Id, tenant)] = histogram;
            }

            return histogram;
        }

        foreach (var run in input.Runs)
        {
            var measured = Measured(run).ToList();
            var best = measured.Where(BestEffort).ToList();
            if (best.Count == 0)
            {
                continue;
            }

            var bestNames = best.Select(t => t.Tenant).ToHashSet(StringComparer.Ordinal);
            var bestAlone = Reference(input, run, bestNames);
            var cpu = measured.Sum(t => (t.UserCpuSeconds + t.SystemCpuSeconds) / t.Seconds);
            var withoutArbiter = ArbiterOffTwin(input, run);
            foreach (var sensitive in measured.Where(Sensitive))
            {
                var alone = Reference(input, run, new HashSet<string>(StringComparer.Ordinal) { sensitive.Tenant }, isolated: true);
                var aloneRows = alone.Select(r => Row(r, sensitive.Tenant)).OfType<TenantRow>().ToList();
                var histogram = Histogram(run, sensitive.Tenant);
                var isolatedP99 = aloneRows.Count == 0 ? double.NaN : aloneRows.Average(r => r.P99Ms);
                var isolatedP999 = alone.Count == 0 ? double.NaN : alone.Select(r => Percentile(Histogram(r, sensitive.Tenant), 99.9)).Average();
                var offered = sensitive.OfferedPerSecond * sensitive.Seconds;
                var requests = Math.Max(sensitive.Completed, offered);
                var slo = SloMultiples.Select(m => double.IsNaN(isolatedP99) || histogram is null || requests <= 0 ? double.NaN : CountAtOrBelow(histogram, m * isolatedP99 * 1e6) / requests).ToArray();
                var bestRatio = bestAlone.Count == 0 ? double.NaN : best.Sum(t => t.ThroughputPerSecond) / bestAlone.Average(r => best.Sum(t => Row(r, t.Tenant)?.ThroughputPerSecond ?? 0));
                var bestOfAll = BestAlone(input, bestNames);
                var bestOfAllRatio = bestOfAll > 0 ? best.Sum(t => t.ThroughputPerSecond) / bestOfAll : double.NaN;
                var system = (aloneRows.Count == 0 ? double.NaN : sensitive.ThroughputPerSecond / aloneRows.Average(r => r.ThroughputPerSecond))
                    + best.Sum(t => bestAlone.Count == 0 ? double.NaN : t.ThroughputPerSecond / bestAlone.Average(r => Row(r, t.Tenant)?.ThroughputPerSecond ?? double.NaN));
                rows.Add(new ColocationRow(
                    run.Id,
                    Point(input, run),
                    sensitive.Tenant,
                    best.Count,
                    sensitive.Arbiter,
                    sensitive.ArbiterQuantumUs,
                    sensitive.OfferedPerSecond <= 0 || sensitive.ThroughputPerSecond >= KeptUp * sensitive.OfferedPerSecond,
                    sensitive.P99Ms,
                    isolatedP99,
                    histogram is null ? double.NaN : Percentile(histogram, 99.9),
                    isolatedP999,
                    slo[0],
                    slo[1],
                    sensitive.P50Ms - (aloneRows.Count == 0 ? double.NaN : aloneRows.Average(r => r.P50Ms)),
                    bestRatio,
                    bestOfAllRatio,
                    system,
                    cpu,
                    withoutArbiter is null ? double.NaN : cpu - Measured(withoutArbiter).Sum(t => (t.UserCpuSeconds + t.SystemCpuSeconds) / t.Seconds),
                    alone.Count,
                    bestAlone.Count,
                    PredictedOverMeasured(best),
                    aloneRows.Count == 0 ? double.NaN : aloneRows.Min(r => r.P99Ms),
                    aloneRows.Count == 0 ? double.NaN : aloneRows.Max(r => r.P99Ms)));
            }
        }

        return rows;
    }

    /// <summary>The section's Markdown, its findings and the files it wrote (colocation.csv).</summary>
    public static (string Section, string Findings, IReadOnlyList<string> Files) Write(ReportInput input, string directory)
    {
        var rows = Rows(input);
        ResultsFiles.Replace(Path.Combine(directory, "colocation.csv"), Csv(rows));
        var text = new StringBuilder("## Latency-sensitive beside best-effort tenants\n\n");
        text.Append("Each inference tenant (latency-sensitive) of each run with training tenants (best-effort), against the same sweep's runs of the inference tenant alone — without the arbiter where the sweep has such runs: isolated is the service alone on the GPU — and of the training tenants without it, at the same values of every other axis (where the arbiter's settings or a variant have no such run, any of them where the tenants ran on the same device, sync and sharing modes and GPU share, offered the same load). ");
        text.Append("p99 and p99.9 are over the isolated run's (means over its repetitions; the isolated runs' own p99s, lowest to highest, beside them: a ratio within their spread is within the service's run-to-run variation); SLO attainment is the share of the requests offered in the window (or completed, closed loop) answered within 1.5x and 2x the isolated p99 — requests an overloaded tenant never answered count as misses; the preemption delay is the p50 less the isolated p50, in ms, beside the arbiter's slice quantum; *best-effort* is the training tenants' throughput together over theirs without the service at the same settings, and *of their best* over the most they reached together without it at any settings of the sweep (mean over repetitions; one denominator for every mechanism: capping them, say, counts against them); system throughput sums every tenant's throughput over its own reference; CPU is every tenant's CPU seconds per second, and against the same point with `arbiter: off` where the sweep has that axis. `*`: the service completed under 90 % of its offered load (overloaded: its tail measures the run's length). Means over repetitions (n).\n\n");
        if (rows.Count == 0)
        {
            text.Append("No run had both.\n\n");
            return (text.ToString(), "", ["colocation.csv"]);
        }

        text.Append("| point | tenant | arbiter | n | p99 ms | alone p99 ms (runs) | vs alone | p99.9 vs alone | SLO 1.5x | SLO 2x | delay ms / quantum us | best-effort | of their best | system | CPU s/s | vs off |\n");
        text.Append("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|\n");
        foreach (var group in rows.GroupBy(r => (r.Point, r.Tenant)))
        {
            var g = group.ToList();
            var overloaded = g.Any(r => !r.KeptUp) ? "*" : "";
            text.Append(CultureInfo.InvariantCulture, $"| {group.Key.Point} | {group.Key.Tenant} | {g[0].Arbiter.Word()} | {g.Count} | {F(g.Average(r => r.P99Ms))}{overloaded} | {Isolated(g[0])} | {X(Mean(g, r => r.P99Ms / r.IsolatedP99Ms))} | {X(Mean(g, r => r.P999Ms / r.IsolatedP999Ms))} | {P(Mean(g, r => r.Slo15))} | {P(Mean(g, r => r.Slo20))} | {F(Mean(g, r => r.DelayMs))} / {(g[0].QuantumUs > 0 ? F(g[0].QuantumUs) : "-")} | {P(Mean(g, r => r.BestEffort))} | {P(Mean(g, r => r.BestEffortOfBest))} | {F(Mean(g, r => r.System))} | {F(Mean(g, r => r.CpuSeconds))} | {Signed(Mean(g, r => r.CpuVsOff))} |\n");
        }

        text.Append('\n');
        var findings = Findings(rows);
        text.Append(findings).Append("\n\n");
        return (text.ToString(), findings, ["colocation.csv"]);
    }

    // Points (means over repetitions) where the service kept its p99 within 1.10x of alone while the best-effort tenants kept half their throughput.
    private static string Findings(IReadOnlyList<ColocationRow> rows)
    {
        var points = rows.GroupBy(r => (r.Point, r.Tenant)).Select(g => (g.Key, KeptUp: g.All(r => r.KeptUp), Ratio: Mean(g.ToList(), r => r.P99Ms / r.IsolatedP99Ms), Best: Mean(g.ToList(), r => r.BestEffortOfBest))).ToList();
        var judged = points.Where(p => !double.IsNaN(p.Ratio) && !double.IsNaN(p.Best)).ToList();
        var met = judged.Where(p => p.KeptUp && p.Ratio <= 1.10 && p.Best >= 0.5).ToList();
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Of {points.Count} co-located points, {judged.Count} have both references; at {met.Count} the latency-sensitive p99 stays within 1.10x of alone while the best-effort tenants keep at least half the throughput they reach together without it (their best in the sweep)");
        text.Append(met.Count == 0 ? "." : ": " + string.Join("; ", met.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key.Point} ({p.Key.Tenant} {p.Ratio:0.00}x, best-effort {p.Best:P0})"))) + ".");
        var overloaded = points.Count(p => !p.KeptUp);
        if (overloaded > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $" At {overloaded} the service was overloaded (under {KeptUp:P0} of its offered load completed).");
        }

        var spreads = rows.Where(r => r.IsolatedRuns > 1 && r.IsolatedP99MinMs > 0).GroupBy(r => r.Point).Select(g => (Point: g.Key, Spread: g.First().IsolatedP99MaxMs / g.First().IsolatedP99MinMs)).ToList();
        if (spreads.Count > 0)
        {
            var widest = spreads.MaxBy(x => x.Spread);
            var inside = rows.GroupBy(r => (r.Point, r.Tenant)).Count(g => g.First().IsolatedRuns > 1 && g.Average(r => r.P99Ms) <= g.First().IsolatedP99MaxMs);
            text.Append(CultureInfo.InvariantCulture, $" The service's own p99 alone varies up to {widest.Spread:0.00}x between its isolated runs (the reference of {widest.Point}); at {inside} point(s) the p99 beside the best-effort tenants is within the highest of them.");
        }

        if (judged.Count < points.Count)
        {
            text.Append(" Points without a reference run (the service alone, or the training tenants without it) are not judged: give the sweep those runs (replicas: 0 values).");
        }

        return text.ToString();
    }

    // Empty cells where a reference is missing.
    private static string Csv(IReadOnlyList<ColocationRow> rows) => ResultsFiles.Tidy(rows.Select(r => new
    {
        run = r.Run,
        point = r.Point,
        tenant = r.Tenant,
        best_effort_tenants = r.BestEffortTenants,
        arbiter = r.Arbiter.Word(),
        quantum_us = r.QuantumUs,
        kept_up = r.KeptUp ? "true" : "false",
        p99_ms = N(r.P99Ms),
        isolated_p99_ms = N(r.IsolatedP99Ms),
        isolated_p99_min_ms = N(r.IsolatedP99MinMs),
        isolated_p99_max_ms = N(r.IsolatedP99MaxMs),
        p999_ms = N(r.P999Ms),
        isolated_p999_ms = N(r.IsolatedP999Ms),
        slo_1_5x = N(r.Slo15),
        slo_2x = N(r.Slo20),
        delay_ms = N(r.DelayMs),
        best_effort_vs_alone = N(r.BestEffort),
        best_effort_vs_best_alone = N(r.BestEffortOfBest),
        system_throughput = N(r.System),
        cpu_s_per_s = N(r.CpuSeconds),
        cpu_vs_arbiter_off = N(r.CpuVsOff),
        isolated_runs = r.IsolatedRuns,
        best_effort_alone_runs = r.BestEffortAloneRuns,
        best_effort_predicted_vs_gpu = N(r.PredictedOverMeasured),
    }));

    // The GPU time the arbiter predicted of the best-effort tenants' launches over the GPU time measured of them (NaN without both: no arbiter, no kernel timing, or a tenant's GPU time not measured in the phase).
    private static double PredictedOverMeasured(IReadOnlyList<TenantRow> best)
    {
        if (best.Any(t => t.GpuSeconds is null))
        {
            return double.NaN;
        }

        var predicted = best.Sum(t => t.ArbiterPredictedSeconds);
        var measured = best.Sum(t => t.GpuSeconds ?? 0);
        return predicted > 0 && measured > 0 ? predicted / measured : double.NaN;
    }

    private static double? N(double value) => double.IsNaN(value) ? null : value;

    // The isolated runs' p99: their mean, and their lowest and highest where there are several.
    private static string Isolated(ColocationRow row) =>
        double.IsNaN(row.IsolatedP99Ms) ? "-"
        : row.IsolatedRuns > 1 ? string.Create(CultureInfo.InvariantCulture, $"{F(row.IsolatedP99Ms)} ({F(row.IsolatedP99MinMs)}-{F(row.IsolatedP99MaxMs)})")
        : F(row.IsolatedP99Ms);

    /// <summary>
    /// The runs whose measured tenants are exactly <paramref name="names"/>, at <paramref name="run"/>'s
    /// values of every axis that does not name a tenant outside them (<c>TENANT.FIELD</c>); failing
    /// that, at any values of the arbiter's axes (<c>arbiter</c>, <c>arbiter_outstanding</c>,
    /// <c>arbiter_quantum</c>) and of <c>variant</c>, where each named tenant ran on the same device,
    /// sync and sharing modes and GPU share and was offered the same load (within 1 %).
    /// <paramref name="isolated"/> (the latency-sensitive tenant's reference) prefers, among those,
    /// the runs where the tenants ran without the arbiter: isolated is the service alone on the GPU,
    /// so what the arbiter costs it alone counts against the arbiter.
    /// </summary>
    internal static List<ReportRun> Reference(ReportInput input, ReportRun run, IReadOnlySet<string> names, bool isolated = false)
    {
        bool Names(string axis)
        {
            var dot = axis.IndexOf('.', StringComparison.Ordinal);
            if (dot < 0)
            {
                return true;
            }

            var tenant = axis[..dot];
            return names.Any(n => n == tenant || n.StartsWith(tenant + "-", StringComparison.Ordinal));
        }

        bool SameTenants(ReportRun other) => names.All(n => (Row(run, n), Row(other, n)) is ({ } a, { } b)
            && a.Device == b.Device && a.Sync == b.Sync && a.Sharing == b.Sharing && a.GpuSharePercent == b.GpuSharePercent
            && Math.Abs(a.OfferedPerSecond - b.OfferedPerSecond) <= 0.01 * Math.Max(a.OfferedPerSecond, b.OfferedPerSecond));

        var candidates = input.Runs.Where(r => !ReferenceEquals(r, run) && Measured(r).Select(t => t.Tenant).ToHashSet(StringComparer.Ordinal).SetEquals(names)).ToList();
        var axes = input.Axes.Where(Names).ToList();
        var settings = axes.Where(a => !ArbiterAxes.Contains(a)).ToList();
        var same = candidates.Where(r => settings.All(a => r.Values.GetValueOrDefault(a) == run.Values.GetValueOrDefault(a))).ToList();
        var exact = same.Where(r => axes.All(a => r.Values.GetValueOrDefault(a) == run.Values.GetValueOrDefault(a))).ToList();
        if (isolated)
        {
            var off = same.Where(r => names.All(n => Row(r, n)?.Arbiter == ArbiterMode.Off) && (exact.Contains(r) || SameTenants(r))).ToList();
            if (off.Count > 0)
            {
                return off;
            }
        }

        return exact.Count > 0 ? exact : same.Where(SameTenants).ToList();
    }

    // Axes a reference may differ in: the arbiter's settings, and variants (checked by what the tenants ran).
    private static readonly string[] ArbiterAxes = ["arbiter", "arbiter_outstanding", "arbiter_quantum", "variant"];

    // The most the tenants named reached together without anyone else, over every run of the sweep where they ran alone (any settings): a denominator the same for every mechanism.
    private static double BestAlone(ReportInput input, IReadOnlySet<string> names)
    {
        var alone = input.Runs.Where(r => Measured(r).Select(t => t.Tenant).ToHashSet(StringComparer.Ordinal).SetEquals(names)).ToList();
        return alone.Count == 0 ? double.NaN : alone.GroupBy(r => Point(input, r)).Max(g => g.Average(r => Measured(r).Sum(t => t.ThroughputPerSecond)));
    }

    // The run at the same values but arbiter: off, when the sweep has that axis.
    private static ReportRun? ArbiterOffTwin(ReportInput input, ReportRun run)
    {
        if (!input.Axes.Contains("arbiter") || run.Values.GetValueOrDefault("arbiter") is null or "off")
        {
            return null;
        }

        return input.Runs.FirstOrDefault(r => r.Values.GetValueOrDefault("arbiter") == "off" && input.Axes.Where(a => a != "arbiter").All(a => r.Values.GetValueOrDefault(a) == run.Values.GetValueOrDefault(a)) && RepetitionOf(r) == RepetitionOf(run))
            ?? input.Runs.FirstOrDefault(r => r.Values.GetValueOrDefault("arbiter") == "off" && input.Axes.Where(a => a != "arbiter").All(a => r.Values.GetValueOrDefault(a) == run.Values.GetValueOrDefault(a)));
    }

    private static string RepetitionOf(ReportRun run)
    {
        var dash = run.Id.LastIndexOf("-r", StringComparison.Ordinal);
        return dash < 0 ? "" : run.Id[dash..];
    }

    private static IEnumerable<TenantRow> Measured(ReportRun run) =>
        run.Document.Tenants.Where(t => t.Phase == MeasurementPhase.Measure && t.Seconds > 0);

    private static TenantRow? Row(ReportRun run, string tenant) => Measured(run).FirstOrDefault(t => t.Tenant == tenant);

    private static string Point(ReportInput input, ReportRun run) => string.Join(' ', input.Axes.Select(a => $"{a}={run.Values.GetValueOrDefault(a, "")}"));

    private static double Percentile(HistogramBase? histogram, double percentile) =>
        histogram is null || histogram.TotalCount == 0 ? double.NaN : histogram.GetValueAtPercentile(percentile) / 1e6;

    // Recorded latencies at or below valueNs (each counted at its bucket's highest equivalent value: a bucket straddling the bound counts as above it).
    private static long CountAtOrBelow(HistogramBase histogram, double valueNs)
    {
        var count = 0L;
        foreach (var bucket in histogram.RecordedValues())
        {
            if (bucket.ValueIteratedTo <= valueNs)
            {
                count += bucket.CountAtValueIteratedTo;
            }
        }

        return count;
    }

    private static double Mean(IReadOnlyList<ColocationRow> rows, Func<ColocationRow, double> value)
    {
        var values = rows.Select(value).Where(v => !double.IsNaN(v) && !double.IsInfinity(v)).ToList();
        return values.Count == 0 ? double.NaN : values.Average();
    }

    private static string F(double value) => double.IsNaN(value) ? "-" : value.ToString(value >= 100 ? "0" : value >= 10 ? "0.0" : "0.00", CultureInfo.InvariantCulture);

    private static string X(double value) => double.IsNaN(value) ? "-" : value.ToString("0.00", CultureInfo.InvariantCulture) + "x";

    private static string P(double value) => double.IsNaN(value) ? "-" : value.ToString("P0", CultureInfo.InvariantCulture);

    private static string Signed(double value) => double.IsNaN(value) ? "-" : value.ToString("+0.00;-0.00;0.00", CultureInfo.InvariantCulture);

}

/// <summary>One latency-sensitive tenant of one co-located run against its references (NaN where a reference is missing).</summary>
internal sealed record ColocationRow(
    string Run,
    string Point,
    string Tenant,
    int BestEffortTenants,
    ArbiterMode Arbiter,
    double QuantumUs,
    bool KeptUp,
    double P99Ms,
    double IsolatedP99Ms,
    double P999Ms,
    double IsolatedP999Ms,
    double Slo15,
    double Slo20,
    double DelayMs,
    double BestEffort,
    double BestEffortOfBest,
    double System,
    double CpuSeconds,
    double CpuVsOff,
    int IsolatedRuns,
    int BestEffortAloneRuns,
    double PredictedOverMeasured = double.NaN,
    double IsolatedP99MinMs = double.NaN,
    double IsolatedP99MaxMs = double.NaN);
