using System.Globalization;
using Contention.Client.Mixes;
using Contention.Client.Results;
using Contention.Grains;
using Spectre.Console;

namespace Contention.Client.Commands;

/// <summary>
/// Runs a mix's sweep on one cluster connection: each run an experiment of its own, results in
/// <c>DIR/points/RUN/</c>, the manifest and combined tables rewritten after each. Run again with
/// the same <c>--out DIR</c>, it skips the runs that completed and reruns the others (keeping
/// what an interrupted or failed attempt saved beside, as <c>RUN.attempt-N</c>).
/// </summary>
internal static class SweepRunner
{
    /// <summary>What a sweep into <paramref name="directory"/> starts from: its fingerprint and the manifest it resumes, if any (checked before any cluster starts).</summary>
    /// <exception cref="MixException">The directory holds another sweep.</exception>
    /// <param name="options">The sweep's options.</param>
    /// <param name="directory">Where it runs.</param>
    /// <param name="modelled">Every tenant runs on the modelled GPU (<c>contention simulate</c>); otherwise those whose device is sim (or auto) do.</param>
    public static (string Fingerprint, SweepManifest? Previous) Prepare(RunOptions options, string directory, bool modelled = false)
    {
        var sweep = options.Mix.Sweep!;
        // Simulated sweeps (virtual time) and run ones (real time) never resume into each other:
        // their runs measure different things under the same mix and overrides.
        var clock = modelled ? "virtual time" : "real time";

        // The modelled GPU's profile decides what sim tenants measure: resuming with another (or a
        // changed one) would mix two models in one sweep. Where no tenant runs on it (device cuda
        // or cpu) the profile decides nothing, and a changed one does not stop a resume.
        modelled = modelled || sweep.Points.SelectMany(p => p.Mix.Tenants).Select(options.Adjust).Any(t => !Contention.Workloads.Devices.DeviceId.TryParse(t.Device, out var id) || id.Kind == Contention.Workloads.Devices.DeviceKind.Sim);
        var profile = modelled ? System.Text.Json.JsonSerializer.Serialize(Contention.Workloads.Sim.DeviceProfile.Load(options.SimProfile), Contention.Workloads.Sim.DeviceProfileJson.Default.DeviceProfile) : "none modelled";
        // Counting calls per thread costs the traced workers a little more per call: a sweep resumed
        // with it on or off would mix two tracers.
        var fingerprint = SweepFiles.Fingerprint(options.Mix.Text, options.OverridesText, options.Ebpf.ToString().ToLowerInvariant() + (options.ThreadCalls ? "+thread-calls" : ""),
            string.Join(';', sweep.Points.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Mix.WarmupSeconds}/{p.Mix.DurationSeconds}"))), profile, clock);
        var previous = SweepFiles.ReadManifest(directory);
        if (previous is not null && previous.Fingerprint != fingerprint)
        {
            throw new MixException($"{directory} holds another sweep ({previous.Name}, {previous.Id}): its mix, overrides, tracer, modelled-GPU profile or clock (run in real time, simulated in virtual time) differ from this one's; give another --out, or delete {directory} to start afresh");
        }

        return (fingerprint, previous);
    }

    /// <summary>Runs the sweep into <paramref name="directory"/> (new as <paramref name="id"/>, or resuming what <see cref="Prepare"/> found) on <paramref name="connection"/>'s cluster.</summary>
    public static Task<int> ExecuteAsync(ClusterConnection connection, RunOptions options, string directory, string id, (string Fingerprint, SweepManifest? Previous) prepared, IAnsiConsole console, CancellationToken cancellation) =>
        ExecuteAsync((pointOptions, point, experiment, runDirectory, ct) => RunCommand.RunExperimentAsync(connection, pointOptions with { Mix = point.Reseeded() }, experiment, runDirectory, console, printTable: false, ct), options, directory, id, prepared, console, cancellation);

    /// <summary>
    /// Runs the sweep into <paramref name="directory"/>, each point by <paramref name="runPoint"/>
    /// (its options, the point, the experiment id, the run's directory): on a cluster, or in
    /// virtual time (<c>contention simulate</c>).
    /// </summary>
    public static async Task<int> ExecuteAsync(Func<RunOptions, SweepPoint, string, string, CancellationToken, Task<(ExperimentProgress Progress, ResultsDocument Document)>> runPoint, RunOptions options, string directory, string id, (string Fingerprint, SweepManifest? Previous) prepared, IAnsiConsole console, CancellationToken cancellation)
    {
        var sweep = options.Mix.Sweep!;
        var (fingerprint, previous) = prepared;
        id = previous?.Id ?? id;
        var earlier = previous?.Runs.ToDictionary(r => r.Id) ?? [];
        var runs = sweep.Points.ToDictionary(p => p.Id, p => earlier.GetValueOrDefault(p.Id) ?? new SweepRun(p.Id, p.Index, p.Repetition, p.Values.ToDictionary(v => v.Key, v => v.Value), "Pending", null));
        SweepManifest Manifest() => new()
        {
            Tool = RunRecorder.Tool(),
            Host = RunRecorder.Host(),
            Id = id,
            Name = options.Mix.Name,
            Mix = new MixInfo(options.Mix.Source, options.Mix.Text, options.OverridesText),
            Fingerprint = fingerprint,
            Axes = sweep.Axes.Select(a => a.Name).ToList(),
            Repetitions = sweep.Repetitions,
            Runs = sweep.Points.Select(p => runs[p.Id]).ToList(),
        };

        var combined = new SweepFiles.CombinedRuns();
        var done = sweep.Points.Count(p => Completed(runs[p.Id]));
        console.MarkupLineInterpolated($"sweep [bold]{id}[/]: {sweep.PointCount} points x {sweep.Repetitions} repetitions = {sweep.Points.Count} runs{(done > 0 ? $"; {done} completed before, {sweep.Points.Count - done} to run" : "")}; results in {Path.GetFullPath(directory)}");
        if (sweep.LeftOut.Count > 0)
        {
            console.MarkupLineInterpolated($"  {sweep.LeftOut.Count} point{(sweep.LeftOut.Count == 1 ? "" : "s")} of the product left out: every tenant has replicas: 0 there ({string.Join("; ", sweep.LeftOut.Take(3))}{(sweep.LeftOut.Count > 3 ? "; …" : "")})");
        }
        SweepFiles.Write(directory, Manifest(), combined);
        var failed = 0;
        var invalid = 0;
        var started = 0;
        int Interrupted(string from)
        {
            console.MarkupLineInterpolated($"[yellow]interrupted:[/] run the same command with --out {directory} to go on from {from}");
            return 130;
        }

        foreach (var point in sweep.Points)
        {
            if (Completed(runs[point.Id]))
            {
                continue;
            }

            if (cancellation.IsCancellationRequested)
            {
                return Interrupted(point.Id);
            }

            var runDirectory = SweepFiles.RunDirectory(directory, point.Id);
            KeepAttempt(runDirectory);
            var experiment = $"{id}-{point.Id}";
            started++;
            console.MarkupLineInterpolated($"[[{done + started}/{sweep.Points.Count}]] [bold]{point.Id}[/] {point.Describe()}");
            runs[point.Id] = runs[point.Id] with { State = "Running", Experiment = experiment, Outcome = "" };
            SweepFiles.Write(directory, Manifest(), combined);
            // Capacities (rate: N%) are measured once for the whole sweep, kept at its root.
            var pointOptions = options with { Mix = point.Mix, OverridesText = $"{options.OverridesText} sweep {id} run {point.Id}: {point.Describe()}".Trim(), CapacityFile = Path.Combine(directory, Capacities.File) };
            var (progress, document) = await runPoint(pointOptions, point, experiment, runDirectory, cancellation);
            var reasons = document.Validity?.Reasons ?? [];
            runs[point.Id] = runs[point.Id] with { State = progress.State.ToString(), Outcome = SweepFiles.Outcome(document), Invalid = reasons };
            SweepFiles.Write(directory, Manifest(), combined);
            console.MarkupLineInterpolated($"    {progress.State}{(reasons.Count > 0 ? ", invalid" : "")}: {runs[point.Id].Outcome}");
            foreach (var reason in reasons)
            {
                console.MarkupLineInterpolated($"      - {reason}");
            }

            invalid += progress.State == ExperimentState.Completed && reasons.Count > 0 ? 1 : 0;
            if (progress.State == ExperimentState.Interrupted)
            {
                return Interrupted(point.Id);
            }

            failed += progress.State == ExperimentState.Completed ? 0 : 1;
        }

        console.MarkupLineInterpolated($"sweep [bold]{id}[/]: {sweep.Points.Count - failed} of {sweep.Points.Count} runs completed; results: [bold]{Path.GetFullPath(directory)}[/] ({SweepFiles.Manifest}, {string.Join(", ", SweepFiles.CombinedFiles)}, {ResultsFiles.Summary}, {SweepFiles.Points}/)");
        if (failed > 0)
        {
            console.MarkupLineInterpolated($"[yellow]{failed} runs did not complete[/]: run the same command with --out {directory} to retry them");
        }

        if (invalid > 0)
        {
            console.MarkupLineInterpolated($"[yellow]{invalid} completed runs are invalid[/] (reasons above and in {SweepFiles.Manifest}): their numbers are not what the mix asked to measure");
        }

        return failed > 0 ? 3 : invalid > 0 ? 4 : 0;
    }

    private static bool Completed(SweepRun run) => run.State == nameof(ExperimentState.Completed);

    /// <summary>An earlier attempt's results (interrupted, failed) are kept, not overwritten.</summary>
    private static void KeepAttempt(string runDirectory)
    {
        if (!Directory.Exists(runDirectory))
        {
            return;
        }

        var attempt = 1;
        while (Directory.Exists($"{runDirectory}.attempt-{attempt}"))
        {
            attempt++;
        }

        Directory.Move(runDirectory, $"{runDirectory}.attempt-{attempt}");
    }
}
