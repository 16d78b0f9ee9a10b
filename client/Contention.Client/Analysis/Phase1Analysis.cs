using System.Globalization;
using System.Text;
using Contention.Tracer;

namespace Contention.Client.Analysis;

/// <summary>
/// The Phase-1 analysis of a microbenchmark grid: per execution model, what start-up costs, what
/// a steady phase makes by system-call category, whether that changes along bytes and
/// iterations (log-log slopes with bootstrap intervals and a stated threshold), and how the
/// execution models differ. Pure: observations in, numbers and a findings paragraph out.
/// </summary>
public static class Phase1Analysis
{
    /// <summary>The pseudo-category of every call.</summary>
    public const string AllCategories = "all";

    /// <summary>Analyses <paramref name="phases"/> (every marked phase of every run; traced ones count).</summary>
    /// <exception cref="InvalidOperationException">No traced steady phase to analyse.</exception>
    public static Phase1Result Analyze(IReadOnlyList<PhaseObservation> phases)
    {
        ArgumentNullException.ThrowIfNull(phases);
        var traced = phases.Where(p => p.Traced).ToList();
        var steady = traced.Where(p => p.Phase == "steady").ToList();
        if (steady.Count == 0)
        {
            throw new InvalidOperationException("no traced steady phases: a Phase-1 report needs a microbench grid run with the eBPF tracer (mixes/phase1.yaml)");
        }

        var execs = traced.Select(p => p.Exec).Distinct(StringComparer.Ordinal).OrderBy(e => e == "cpu" ? 0 : 1).ThenBy(e => e, StringComparer.Ordinal).ToList();
        var categories = SyscallCategories.All.Where(c => traced.Any(p => p.CallsIn(c) > 0)).ToList();
        var startups = traced.Where(p => p.Phase == "init").ToList();

        var startup = execs.SelectMany(e => categories.Select(c =>
        {
            var values = startups.Where(p => p.Exec == e).Select(p => p.CallsIn(c)).ToList();
            return new FootprintRow(e, c, Median(values.Select(v => (double)v)), values.DefaultIfEmpty().Min(), values.DefaultIfEmpty().Max(), values.Count);
        })).ToList();
        var startupOs = execs.Select(e =>
        {
            var runs = startups.Where(p => p.Exec == e).ToList();
            return new StartupOsRow(e, Median(runs.Select(p => p.WallSeconds)), Median(runs.Select(p => p.UserSeconds)), Median(runs.Select(p => p.SystemSeconds)), Median(runs.Select(p => (double)p.VoluntarySwitches)), Median(runs.Select(p => (double)p.InvoluntarySwitches)), Median(runs.Select(p => (double)p.CallsIn(null))), runs.Count);
        }).ToList();

        var steadyRows = new List<SteadyRow>();
        var invariance = new List<InvarianceRow>();
        foreach (var exec in execs)
        {
            var rows = steady.Where(p => p.Exec == exec).ToList();
            foreach (var category in categories.Prepend(AllCategories))
            {
                var key = category == AllCategories ? null : category;
                var counts = rows.Select(p => (double)p.CallsIn(key)).ToList();
                var (low, high) = Bootstrap.Interval(counts.Count, sample => sample.Average(i => counts[i]));
                var seconds = rows.Select(p => key is null ? p.Seconds.Values.Sum() : p.Seconds.GetValueOrDefault(key)).DefaultIfEmpty().Average();
                steadyRows.Add(new SteadyRow(exec, category, counts.DefaultIfEmpty().Average(), low, high, Median(rows.Select(p => p.CallsIn(key) / (double)Math.Max(1, p.IterationsRun))), rows.Count, seconds));
                invariance.Add(Slopes(rows, key, exec, category));
            }
        }

        var divergence = new List<DivergenceRow>();
        if (execs.Contains("cpu"))
        {
            var cpu = steady.Where(p => p.Exec == "cpu").ToList();
            foreach (var exec in execs.Where(e => e != "cpu"))
            {
                var other = steady.Where(p => p.Exec == exec).ToList();
                foreach (var category in categories.Prepend(AllCategories))
                {
                    var key = category == AllCategories ? null : category;
                    divergence.Add(Diverge(cpu, other, key, exec, category, startups));
                }
            }
        }

        var result = new Phase1Result
        {
            Execs = execs,
            Categories = categories,
            Runs = traced.Select(p => p.Run).Distinct(StringComparer.Ordinal).Count(),
            SteadyPhases = steady.Count,
            CutPhases = steady.Count(p => p.IterationsRun < p.Iterations),
            Startup = startup,
            StartupOs = startupOs,
            Steady = steadyRows,
            Invariance = invariance,
            Divergence = divergence,
            TopSyscalls = execs.SelectMany(e => TopSyscalls(steady.Where(p => p.Exec == e).ToList(), e)).ToList(),
            BytesCurve = Curve(steady, execs, p => p.Bytes),
            IterationsCurve = Curve(steady, execs, p => p.Iterations),
            Findings = "",
        };
        return result with { Findings = Phase1Findings.Write(result) };
    }

    /// <summary>Median of <paramref name="values"/>; NaN when there are none.</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? double.NaN : Bootstrap.Percentile(sorted, 0.5);
    }

    private static InvarianceRow Slopes(List<PhaseObservation> rows, string? key, string exec, string category)
    {
        var all = Enumerable.Range(0, rows.Count).ToList();
        var offset = LogLogFit.OffsetFor(rows, key);
        var (bytes, iterations) = LogLogFit.Slopes(rows, all, key, offset);

        // One resample refits both slopes; the two intervals come from the same resamples.
        var fits = Bootstrap.Samples(rows.Count).Select(sample => LogLogFit.Slopes(rows, sample, key, offset)).ToList();
        return new InvarianceRow(exec, category, Estimate(bytes, fits.Select(f => f.Bytes), "bytes"), Estimate(iterations, fits.Select(f => f.Iterations), "iterations"), rows.Count);
    }

    private static SlopeEstimate Estimate(double estimate, IEnumerable<double> resampled, string axis)
    {
        if (double.IsNaN(estimate))
        {
            return SlopeEstimate.NotVaried;
        }

        var sorted = resampled.Where(double.IsFinite).Order().ToList();
        if (sorted.Count == 0)
        {
            return SlopeEstimate.NotVaried;
        }

        var low = Bootstrap.Percentile(sorted, 0.025);
        var high = Bootstrap.Percentile(sorted, 0.975);
        return new SlopeEstimate(estimate, low, high, SlopeEstimate.Judge(low, high, estimate, axis));
    }

    private static DivergenceRow Diverge(List<PhaseObservation> cpu, List<PhaseObservation> other, string? key, string exec, string category, List<PhaseObservation> startups)
    {
        var a = cpu.Select(p => (double)p.CallsIn(key)).ToList();
        var b = other.Select(p => (double)p.CallsIn(key)).ToList();

        var (low, high) = Bootstrap.Interval(a.Count, b.Count, (sa, sb) => sb.Average(i => b[i]) - sa.Average(i => a[i]));
        var cpuStartup = Median(startups.Where(p => p.Exec == "cpu").Select(p => (double)p.CallsIn(key)));
        var execStartup = Median(startups.Where(p => p.Exec == exec).Select(p => (double)p.CallsIn(key)));
        var meanCpu = a.DefaultIfEmpty().Average();
        var meanExec = b.DefaultIfEmpty().Average();
        return new DivergenceRow(category, exec, meanCpu, meanExec, meanExec - meanCpu, low, high, cpuStartup, execStartup);
    }

    /// <summary>The eight most frequent calls of <paramref name="rows"/>; the rate is over the phases' summed wall time, so a call made while waiting shows as calls per second of waiting.</summary>
    private static IEnumerable<TopSyscallRow> TopSyscalls(List<PhaseObservation> rows, string exec)
    {
        var wall = rows.Sum(p => p.WallSeconds);
        return rows.SelectMany(p => p.BySyscall).GroupBy(c => c.Key, StringComparer.Ordinal)
            .Select(g => new TopSyscallRow(exec, g.Key, g.Sum(c => c.Value) / (double)rows.Count, wall > 0 ? g.Sum(c => c.Value) / wall : double.NaN, rows.Count(p => p.BySyscall.GetValueOrDefault(g.Key) > 0) / (double)rows.Count))
            .OrderByDescending(t => t.MeanPerPhase).ThenBy(t => t.Syscall, StringComparer.Ordinal).Take(8);
    }

    private static List<CurvePoint> Curve(List<PhaseObservation> steady, List<string> execs, Func<PhaseObservation, double> axis) =>
        execs.SelectMany(exec => steady.Where(p => p.Exec == exec).GroupBy(axis).OrderBy(g => g.Key).Select(g =>
        {
            var counts = g.Select(p => (double)p.CallsIn(null)).ToList();
            var (low, high) = Bootstrap.Interval(counts.Count, sample => sample.Average(i => counts[i]));
            return new CurvePoint(exec, g.Key, counts.Average(), low, high, counts.Count);
        })).ToList();

    /// <summary>A number for prose and tables: whole above 100, else three significant digits.</summary>
    internal static string Format(double value) =>
        double.IsNaN(value) ? "—" : Math.Abs(value) >= 100 ? value.ToString("N0", CultureInfo.InvariantCulture) : value.ToString("0.##", CultureInfo.InvariantCulture);

    internal static StringBuilder AppendList(this StringBuilder text, IReadOnlyList<string> items)
    {
        for (var i = 0; i < items.Count; i++)
        {
            text.Append(i == 0 ? "" : i == items.Count - 1 ? " and " : ", ").Append(items[i]);
        }

        return text;
    }
}
