using System.Globalization;
using Contention.Client.Commands;
using Contention.Client.Mixes;
using Contention.Client.Results;
using Contention.Grains;
using Contention.Grains.Simulation;
using Contention.Workloads.Sim;
using Spectre.Console;

namespace Contention.Client.Simulation;

/// <summary>
/// <c>contention simulate --fit-os RESULTS…</c>: the OS cost model fitted from real runs. Each
/// run's mix (a sweep's point) is simulated in virtual time as it ran (each tenant's sync mode,
/// sharing and share as its row says) for the features of its tenants; each tenant's measured
/// window on a real GPU gives the metrics; <see cref="OsCostModel.Fit"/> does the rest.
/// </summary>
internal static class OsFit
{
    /// <summary>One measured window: a real run's tenant row and the unit tenant it was simulated as.</summary>
    internal sealed record Window(string Run, TenantRow Row, string Unit, int Index);

    /// <summary>Fits, writes <c>os-model.json</c> and <c>os-model.md</c> into <paramref name="output"/>, prints the fits; returns the exit code.</summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> results, string profile, string? cluster, string output, IAnsiConsole console, CancellationToken cancellation)
    {
        var units = new List<SimUnit>();
        var windows = new List<Window>();
        var runs = new List<string>();
        long warmupNs = 0, durationNs = 0;
        foreach (var (run, document) in results.SelectMany(Runs))
        {
            var rows = document.Tenants.Where(r => r.Phase == MeasurementPhase.Measure && r.Device.StartsWith("cuda", StringComparison.Ordinal) && r.Seconds > 0 && r.Kind is TenantKind.Inference or TenantKind.Training).ToList();
            if (rows.Count == 0)
            {
                continue;
            }

            var mix = PointMix(document, run);
            var byName = mix.ToPlan(document.Experiment.Id, s => s).Tenants.ToDictionary(t => t.Name, StringComparer.Ordinal);
            runs.Add(run);
            warmupNs = Math.Max(warmupNs, (long)Math.Round(document.Experiment.WarmupSeconds * 1e9));
            durationNs = Math.Max(durationNs, (long)Math.Round(document.Experiment.DurationSeconds * 1e9));
            // Every tenant of a GPU as it ran, measured or not (they shared the GPU).
            foreach (var gpu in document.Tenants.Where(r => r.Phase == MeasurementPhase.Measure && r.Device.StartsWith("cuda", StringComparison.Ordinal) && byName.ContainsKey(r.Tenant)).GroupBy(r => r.Device))
            {
                var tenants = gpu.ToList();
                var id = $"{run}|{gpu.Key}";
                // A share of capacity (rate: 50%) ran at the rate it was offered, which the row keeps.
                units.Add(new SimUnit(id, profile, tenants[0].Sharing, [.. tenants.Select((r, i) => new SimUnitTenant(byName[r.Tenant] with { SyncMode = r.Sync, Sharing = r.Sharing, GpuSharePercent = r.GpuSharePercent, RatePerSecond = byName[r.Tenant].RateOfCapacity > 0 ? r.OfferedPerSecond : byName[r.Tenant].RatePerSecond, RateOfCapacity = 0 }, r.Tenant, 0, r.GpuSharePercent / 100.0))]));
                windows.AddRange(tenants.Select((r, i) => new Window(run, r, id, i)).Where(w => rows.Contains(w.Row)));
            }
        }

        if (windows.Count == 0)
        {
            throw new MixException($"--fit-os: no measured window of an inference or training tenant on a real GPU (cuda) in {string.Join(", ", results)}; give results directories of 'contention run' on a GPU node");
        }

        // The longest run's window for every unit: rates per second do not depend on its length.
        var connect = new RunOptions(new Mix { Name = "fit-os", Tenants = [] }, null, cluster, 0, 1, t => t, "");
        SimulationOutcome outcome;
        await using (var connection = await SimulateCommand.OpenAsync(connect, cancellation))
        {
            outcome = await SimulateCommand.RunAsync(connection.Client, new SimulationRequest($"fit-os-{Guid.NewGuid():N}", units, warmupNs, durationNs, SimulationRequest.DefaultStepNs), console, cancellation);
        }

        if (outcome.Interrupted)
        {
            console.MarkupLine("[yellow]interrupted: nothing fitted[/]");
            return 130;
        }

        // The eBPF tracer costs CPU and switches of its own: where a sync mode has enough windows
        // without it, CPU and switches are fitted on those alone (system calls need the tracer).
        var untraced = windows.Where(w => !w.Row.Traced).GroupBy(w => w.Row.Sync).Where(g => g.Count() >= OsCostModel.MinRows).Select(g => g.Key).ToHashSet();
        var byUnit = outcome.Units.ToDictionary(u => u.Id, StringComparer.Ordinal);
        var fitted = OsCostModel.Fit(
            string.Create(CultureInfo.InvariantCulture, $"contention simulate --fit-os {string.Join(' ', results)} --sim-profile {profile}: {windows.Count} measured windows of {runs.Count} runs ({windows.Count(w => w.Row.Traced)} traced by eBPF: system calls by category; CPU and switches from the untraced ones for sync {(untraced.Count == 0 ? "none" : string.Join(", ", untraced.Select(m => m.Word()).Order(StringComparer.Ordinal)))}), fitted {DateTime.UtcNow:yyyy-MM-dd}"),
            windows.Select(w => FitWindow(byUnit[w.Unit], w, cpu: !w.Row.Traced || !untraced.Contains(w.Row.Sync))));
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "os-model.json"), fitted.ToJson());
        var text = $"# OS cost model\n\n{fitted.Source}.\n\nEach metric per second of a tenant's window = Σ coefficient × feature, features per second: {string.Join(", ", OsFeatures.Names)} (operations, launches and waits per second; the shares of the window spent waiting for the GPU and idle; time-slice switches that gave the GPU back to the tenant while it waited, and the other tenants' waits on its GPU, per second). Fitted by non-negative least squares per sync mode; R² and the median relative error are on the windows fitted.\n\n{fitted.Markdown()}";
        File.WriteAllText(Path.Combine(output, "os-model.md"), text);
        var table = new Table().Title(Markup.Escape($"OS cost model: {windows.Count} windows of {runs.Count} runs")).AddColumns("sync", "metric", "rows", "R²", "median error");
        foreach (var f in fitted.Fits)
        {
            table.AddRow(f.Sync.ToString().ToLowerInvariant(), Markup.Escape(f.Metric), f.Rows.ToString(CultureInfo.InvariantCulture), f.R2.ToString("0.000", CultureInfo.InvariantCulture), f.MedianRelativeError.ToString("0.0%", CultureInfo.InvariantCulture));
        }

        console.Write(table);
        var missing = Enum.GetValues<Contention.Workloads.Devices.SyncMode>().Where(m => !fitted.Covers(m)).ToList();
        if (missing.Count > 0)
        {
            console.MarkupLineInterpolated($"not fitted (fewer than {OsCostModel.MinRows} windows): {string.Join(", ", missing.Select(m => m.ToString().ToLowerInvariant()))}");
        }

        console.MarkupLineInterpolated($"model: [bold]{Path.GetFullPath(Path.Combine(output, "os-model.json"))}[/] (os-model.md)");
        return 0;
    }

    /// <summary>
    /// One window for the fit: the tenant's features over its unit's simulated window, and what
    /// its row measured over its own window brought to the same length (the unit may have run
    /// longer: every unit of a fit runs the longest run's window).
    /// </summary>
    internal static (Contention.Workloads.Devices.SyncMode, OsFeatures, IReadOnlyDictionary<string, double>) FitWindow(SimUnitOutcome unit, Window w, bool cpu)
    {
        var features = Features(unit, w.Index);
        var scale = features.Seconds / w.Row.Seconds;
        return (Contention.Grains.Node.TenantWorkload.Sync(w.Row.Sync), features, Measured(w.Row, cpu).ToDictionary(p => p.Key, p => p.Value * scale, StringComparer.Ordinal));
    }

    /// <summary>A tenant's features from its unit's outcome.</summary>
    public static OsFeatures Features(SimUnitOutcome unit, int index)
    {
        ArgumentNullException.ThrowIfNull(unit);
        var t = unit.Tenants[index];
        var others = unit.Tenants.Where((_, j) => j != index).Sum(o => o.Host.Waits);
        return new OsFeatures(unit.MeasuredNs / 1e9, t.Completed, t.Host.Launches, t.Host.Waits, t.Host.WaitNs / 1e9, t.Host.IdleNs / 1e9, t.Host.SwitchesIn, others, t.Host.TurnsLost, t.Host.HostBusyNs / 1e9);
    }

    /// <summary>The metrics a row measured: CPU and switches (when <paramref name="cpu"/>), and system calls by category where eBPF traced it.</summary>
    private static Dictionary<string, double> Measured(TenantRow row, bool cpu)
    {
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        if (cpu)
        {
            metrics["user_cpu_s"] = row.UserCpuSeconds;
            metrics["system_cpu_s"] = row.SystemCpuSeconds;
            metrics["voluntary_switches"] = row.VoluntarySwitches;
            metrics["involuntary_switches"] = row.InvoluntarySwitches;
        }

        if (row.Traced)
        {
            foreach (var category in Contention.Tracer.SyscallCategories.All)
            {
                metrics[$"calls_{category}"] = row.CategoryCalls.GetValueOrDefault(category);
            }
        }

        return metrics;
    }

    /// <summary>Every run under a results directory: a run's own, or each point of a sweep.</summary>
    private static IEnumerable<(string Run, ResultsDocument Document)> Runs(string directory)
    {
        if (SweepFiles.ReadManifest(directory) is { } manifest)
        {
            foreach (var run in manifest.Runs.Where(r => File.Exists(Path.Combine(SweepFiles.RunDirectory(directory, r.Id), ResultsFiles.Json))))
            {
                yield return ($"{directory}/{run.Id}", ResultsFiles.Read(SweepFiles.RunDirectory(directory, run.Id)));
            }
        }
        else if (File.Exists(Path.Combine(directory, ResultsFiles.Json)))
        {
            yield return (directory, ResultsFiles.Read(directory));
        }
        else
        {
            throw new MixException($"--fit-os: {directory} holds no results (no {ResultsFiles.Json}, no sweep.json); give a 'contention run' results directory");
        }
    }

    /// <summary>The mix a run ran: its document's mix, the sweep's point of the run's id for a sweep.</summary>
    private static Mix PointMix(ResultsDocument document, string run)
    {
        var mix = MixParser.Parse(document.Mix.Text, document.Mix.File);
        if (mix.Sweep is null)
        {
            return mix;
        }

        var id = Path.GetFileName(run);
        return mix.Sweep.Points.FirstOrDefault(p => p.Id == id)?.Mix
            ?? throw new MixException($"--fit-os: {run}: its sweep has no point {id}");
    }
}
