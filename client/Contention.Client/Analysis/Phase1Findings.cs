using System.Globalization;
using System.Text;

namespace Contention.Client.Analysis;

/// <summary>The findings paragraph of a Phase-1 report, written from the analysis's numbers only.</summary>
internal static class Phase1Findings
{
    public static string Write(Phase1Result r)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Across {r.Runs} fresh worker processes and {r.SteadyPhases} steady phases");
        text.Append(r.CutPhases > 0 ? string.Create(CultureInfo.InvariantCulture, $" ({r.CutPhases} cut short by the point time limit)") : "").Append(": ");
        var clauses = new List<string>();
        foreach (var exec in r.Execs)
        {
            var all = r.Invariance.Single(i => i.Exec == exec && i.Category == Phase1Analysis.AllCategories);
            var mean = r.Steady.Single(s => s.Exec == exec && s.Category == Phase1Analysis.AllCategories);
            clauses.Add(string.Create(CultureInfo.InvariantCulture, $"on {exec} a steady phase makes {Phase1Analysis.Format(mean.MeanPerPhase)} system calls on average, {Describe(all.Bytes, "bytes")} and {Describe(all.Iterations, "iterations")}"));
        }

        text.AppendList(clauses).Append(". ");
        foreach (var exec in r.Execs)
        {
            var rows = r.Invariance.Where(i => i.Exec == exec && i.Category != Phase1Analysis.AllCategories && r.Steady.Any(s => s.Exec == exec && s.Category == i.Category && s.MeanPerPhase > 0)).ToList();
            var scaling = rows.Where(i => i.Bytes.Verdict.StartsWith("scales", StringComparison.Ordinal) || i.Iterations.Verdict.StartsWith("scales", StringComparison.Ordinal)).ToList();
            if (scaling.Count > 0)
            {
                text.Append(CultureInfo.InvariantCulture, $"On {exec}, the categories that grow with the grid are ");
                text.AppendList(scaling.Select(i => string.Create(CultureInfo.InvariantCulture, $"{i.Category} ({string.Join(", ", new[] { Growth(i.Bytes, "bytes"), Growth(i.Iterations, "iterations") }.Where(g => g.Length > 0))})")).ToList()).Append(". ");
            }

            var invariant = rows.Where(i => i.Bytes.Verdict is "invariant" or "not varied" && i.Iterations.Verdict is "invariant" or "not varied").Select(i => i.Category).ToList();
            if (invariant.Count > 0)
            {
                text.Append(CultureInfo.InvariantCulture, $"On {exec}, ");
                text.AppendList(invariant).Append(invariant.Count == 1 ? " is" : " are").Append(" invariant in both. ");
            }
        }

        var tops = r.Execs.Select(e => r.TopSyscalls.FirstOrDefault(t => t.Exec == e)).OfType<TopSyscallRow>().ToList();
        if (tops.Count > 0)
        {
            text.Append("The most frequent call of steady phases is ");
            text.AppendList(tops.Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Syscall} on {t.Exec} ({Phase1Analysis.Format(t.MeanPerPhase)} per phase, {Phase1Analysis.Format(t.PerSecond)} per second of phase time, in {t.PhasesWithCall:P0} of phases)")).ToList()).Append(". ");
        }

        var startups = r.StartupOs.Where(s => s.Runs > 0).ToList();
        if (startups.Count > 0)
        {
            text.Append("Start-up in a fresh process makes ");
            text.AppendList(startups.Select(s => string.Create(CultureInfo.InvariantCulture, $"{Phase1Analysis.Format(s.Calls)} system calls on {s.Exec} (median of {s.Runs}; {Phase1Analysis.Format(s.WallSeconds)} s)")).ToList());
            var gpu = r.Startup.Where(f => f.Category == Contention.Tracer.SyscallCategories.GpuDriver && f.Median > 0).ToList();
            if (gpu.Count > 0)
            {
                text.Append(", of which GPU-driver ioctls: ");
                text.AppendList(gpu.Select(f => string.Create(CultureInfo.InvariantCulture, $"{Phase1Analysis.Format(f.Median)} on {f.Exec}")).ToList());
            }

            text.Append(". ");
        }

        foreach (var exec in r.Execs.Where(e => e != "cpu"))
        {
            var total = r.Divergence.FirstOrDefault(d => d.Exec == exec && d.Category == Phase1Analysis.AllCategories);
            if (total is null)
            {
                continue;
            }

            text.Append(CultureInfo.InvariantCulture, $"Per steady phase {exec} makes {Phase1Analysis.Format(total.ExecSteady)} calls against {Phase1Analysis.Format(total.CpuSteady)} on cpu (difference {Phase1Analysis.Format(total.Difference)}, 95% interval {Phase1Analysis.Format(total.Low)} to {Phase1Analysis.Format(total.High)})");
            var apart = r.Divergence.Where(d => d.Exec == exec && d.Category != Phase1Analysis.AllCategories && (d.Low > 0 || d.High < 0))
                .OrderByDescending(d => Math.Abs(d.Difference)).Take(3).ToList();
            if (apart.Count > 0)
            {
                text.Append("; the categories that differ most are ");
                text.AppendList(apart.Select(d => string.Create(CultureInfo.InvariantCulture, $"{d.Category} ({Phase1Analysis.Format(d.ExecSteady)} against {Phase1Analysis.Format(d.CpuSteady)})")).ToList());
            }

            text.Append(". ");
        }

        text.Append(CultureInfo.InvariantCulture, $"(A count is called invariant along an axis when the bootstrap 95% interval of its log-log slope lies within ±{SlopeEstimate.Threshold}: a tenfold larger axis changes it by less than {(Math.Pow(10, SlopeEstimate.Threshold) - 1) * 100:0}%.)");
        return text.ToString();
    }

    private static string Describe(SlopeEstimate slope, string axis) => slope.Verdict switch
    {
        "not varied" => $"{axis} not varied",
        "invariant" => string.Create(CultureInfo.InvariantCulture, $"invariant in {axis} (slope {slope.Estimate:0.00}, 95% interval {slope.Low:0.00} to {slope.High:0.00})"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{(slope.Verdict == "inconclusive" ? $"inconclusive in {axis}" : slope.Verdict)} (slope {slope.Estimate:0.00}, 95% interval {slope.Low:0.00} to {slope.High:0.00})"),
    };

    private static string Growth(SlopeEstimate slope, string axis) =>
        slope.Verdict.StartsWith("scales", StringComparison.Ordinal) ? string.Create(CultureInfo.InvariantCulture, $"slope {slope.Estimate:0.00} in {axis}") : "";
}
