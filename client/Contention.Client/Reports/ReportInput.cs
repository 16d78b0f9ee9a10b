using Contention.Client.Analysis;
using Contention.Client.Results;

namespace Contention.Client.Reports;

/// <summary>
/// What a report is made from: the runs of a results directory — a sweep's finished runs (with
/// their axis values) or a single run — each with its results document.
/// </summary>
public sealed record ReportInput
{
    /// <summary>The mix's name.</summary>
    public required string Name { get; init; }

    /// <summary>The directory read.</summary>
    public required string Directory { get; init; }

    /// <summary>The tool that wrote the results, the machine it ran on, and the command line's overrides.</summary>
    public required ToolInfo Tool { get; init; }

    public required HostInfo Host { get; init; }

    public string Overrides { get; init; } = "";

    /// <summary>Sweep axes (none for a single run).</summary>
    public IReadOnlyList<string> Axes { get; init; } = [];

    /// <summary>Runs with results, in run order.</summary>
    public required IReadOnlyList<ReportRun> Runs { get; init; }

    /// <summary>Runs of the sweep without results (failed before starting, or not run yet).</summary>
    public IReadOnlyList<string> Missing { get; init; } = [];

    /// <summary>
    /// A sweep's runs judged invalid (their results.json's verdict), left out of <see cref="Runs"/>
    /// unless asked for: each run's id and reasons.
    /// </summary>
    public IReadOnlyList<(string Run, IReadOnlyList<string> Reasons)> Invalid { get; init; } = [];

    /// <summary>Whether <see cref="Runs"/> keeps the sweep's invalid runs (<c>--include-invalid</c>).</summary>
    public bool IncludesInvalid { get; init; }

    /// <summary>
    /// Reads a sweep directory (sweep.json) or a run's results directory (results.json). A sweep's
    /// runs whose verdict is invalid are listed in <see cref="Invalid"/> and left out of
    /// <see cref="Runs"/> (their numbers are not what the mix asked to measure) unless
    /// <paramref name="includeInvalid"/>; a single run is read whatever its verdict (its summary says it).
    /// </summary>
    /// <exception cref="FileNotFoundException">Neither is there.</exception>
    public static ReportInput Load(string path, bool includeInvalid = false)
    {
        var manifestPath = Path.Combine(path, SweepFiles.Manifest);
        if (File.Exists(manifestPath))
        {
            var manifest = SweepFiles.ReadManifest(path) ?? throw new InvalidDataException($"{manifestPath} is empty");
            var runs = new List<ReportRun>();
            var missing = new List<string>();
            var invalid = new List<(string, IReadOnlyList<string>)>();
            foreach (var run in manifest.Runs)
            {
                var file = Path.Combine(SweepFiles.RunDirectory(path, run.Id), ResultsFiles.Json);
                if (run.State is "Pending" or "Running" || !File.Exists(file))
                {
                    missing.Add(run.Id);
                    continue;
                }

                var results = ResultsFiles.Read(file);
                if (results.Validity is { Valid: false } verdict)
                {
                    invalid.Add((run.Id, verdict.Reasons));
                    if (!includeInvalid)
                    {
                        continue;
                    }
                }

                runs.Add(new ReportRun(run.Id, run.Values, results));
            }

            return new ReportInput { Name = manifest.Name, Directory = path, Tool = manifest.Tool, Host = manifest.Host, Overrides = manifest.Mix.Overrides, Axes = manifest.Axes, Runs = runs, Missing = missing, Invalid = invalid, IncludesInvalid = includeInvalid };
        }

        var document = ResultsFiles.Read(path);
        return new ReportInput
        {
            Name = document.Experiment.Name,
            Directory = path,
            Tool = document.Tool,
            Host = document.Host,
            Overrides = document.Mix.Overrides,
            Runs = [new ReportRun(document.Experiment.Id, new Dictionary<string, string>(), document)],
        };
    }

    /// <summary>Every marked phase of every run, as the analysis reads them.</summary>
    public IReadOnlyList<PhaseObservation> Phases() =>
        Runs.SelectMany(run =>
        {
            // Each run's system-call rows grouped by phase once, not scanned again for every phase.
            var byPhase = run.Document.PhaseSyscalls.ToLookup(s => (s.Tenant, s.Pid, s.Index));
            return run.Document.Phases.Select(p => (Phase: p, Calls: byPhase[(p.Tenant, p.Pid, p.Index)].ToList()));
        }, (run, x) =>
        {
            var (p, calls) = x;
            return new PhaseObservation
            {
                Run = run.Id,
                Exec = ExecOf(p.Device),
                Phase = p.Phase,
                Op = p.Op,
                Bytes = p.Bytes,
                Iterations = p.Iterations,
                IterationsRun = p.IterationsRun,
                Calls = calls.GroupBy(s => s.Category).ToDictionary(g => g.Key, g => g.Sum(s => s.Count)),
                BySyscall = calls.GroupBy(s => s.Syscall == "ioctl" ? $"ioctl ({s.Category})" : s.Syscall).ToDictionary(g => g.Key, g => g.Sum(s => s.Count)),
                Seconds = calls.GroupBy(s => s.Category).ToDictionary(g => g.Key, g => g.Sum(s => s.Seconds)),
                Traced = p.Traced,
                WallSeconds = p.WallSeconds,
                VoluntarySwitches = p.VoluntarySwitches,
                InvoluntarySwitches = p.InvoluntarySwitches,
                UserSeconds = p.UserCpuSeconds,
                SystemSeconds = p.SystemCpuSeconds,
            };
        }).ToList();

    /// <summary>The execution model of a device name: its kind (cpu, cuda, sim).</summary>
    public static string ExecOf(string device) =>
        Contention.Workloads.Devices.DeviceId.TryParse(device, out var id) ? id.Kind.ToString().ToLowerInvariant() : device;
}

/// <summary>One run of a report's input: its id, its sweep axis values and its results.</summary>
public sealed record ReportRun(string Id, IReadOnlyDictionary<string, string> Values, ResultsDocument Document);
