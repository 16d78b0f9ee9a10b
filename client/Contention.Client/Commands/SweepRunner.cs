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
    public static async Task<int> ExecuteAsync(ClusterConnection connection, RunOptions options, IAnsiConsole console, CancellationToken cancellation)
    {
        var sweep = options.Mix.Sweep!;
        var fingerprint = SweepFiles.Fingerprint(options.Mix.Text, options.OverridesText, options.Ebpf,
            string.Join(';', sweep.Points.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Mix.WarmupSeconds}/{p.Mix.DurationSeconds}"))));
        var id = RunCommand.NewExperimentId(options.Mix.Name);
        var directory = options.OutputDirectory ?? Path.Combine("results", id);
        var previous = SweepFiles.ReadManifest(directory);
        if (previous is not null && previous.Fingerprint != fingerprint)
        {
            throw new MixException($"{directory} holds another sweep ({previous.Name}, {previous.Id}): its mix, overrides or tracer differ from this one's; give another --out, or delete {directory} to start afresh");
        }

        id = previous?.Id ?? id;
        var states = previous?.Runs.ToDictionary(r => r.Id, r => (r.State, r.Experiment)) ?? [];
        SweepRun Run(SweepPoint p) => new(p.Id, p.Index, p.Repetition, p.Values.ToDictionary(v => v.Key, v => v.Value), states.GetValueOrDefault(p.Id, ("Pending", null)).State, states.GetValueOrDefault(p.Id).Experiment);
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
            Runs = sweep.Points.Select(Run).ToList(),
        };

        var done = sweep.Points.Count(p => Completed(states, p.Id));
        console.MarkupLineInterpolated($"sweep [bold]{id}[/]: {sweep.PointCount} points x {sweep.Repetitions} repetitions = {sweep.Points.Count} runs{(done > 0 ? $"; {done} completed before, {sweep.Points.Count - done} to run" : "")}; results in {Path.GetFullPath(directory)}");
        SweepFiles.Write(directory, Manifest());
        var failed = 0;
        var started = 0;
        int Interrupted(string from)
        {
            console.MarkupLineInterpolated($"[yellow]interrupted:[/] run the same command with --out {directory} to go on from {from}");
            return 130;
        }

        foreach (var point in sweep.Points)
        {
            if (Completed(states, point.Id))
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
            states[point.Id] = ("Running", experiment);
            SweepFiles.Write(directory, Manifest());
            var pointOptions = options with { Mix = point.Mix, OverridesText = $"{options.OverridesText} sweep {id} run {point.Id}: {point.Describe()}".Trim() };
            var progress = await RunCommand.RunExperimentAsync(connection, pointOptions, experiment, runDirectory, console, printTable: false, cancellation);
            states[point.Id] = (progress.State.ToString(), experiment);
            SweepFiles.Write(directory, Manifest());
            console.MarkupLineInterpolated($"    {progress.State}: {Measured(runDirectory)}");
            if (progress.State == ExperimentState.Interrupted)
            {
                return Interrupted(point.Id);
            }

            failed += progress.State == ExperimentState.Completed ? 0 : 1;
        }

        console.MarkupLineInterpolated($"sweep [bold]{id}[/]: {sweep.Points.Count - failed} of {sweep.Points.Count} runs completed; results: [bold]{Path.GetFullPath(directory)}[/] ({SweepFiles.Manifest}, {ResultsFiles.Csv}, {ResultsFiles.SyscallsCsv}, {ResultsFiles.IoctlsCsv}, {ResultsFiles.Summary}, {SweepFiles.Points}/)");
        if (failed > 0)
        {
            console.MarkupLineInterpolated($"[yellow]{failed} runs did not complete[/]: run the same command with --out {directory} to retry them");
        }

        return failed > 0 ? 3 : 0;
    }

    private static bool Completed(Dictionary<string, (string State, string? Experiment)> states, string run) =>
        states.TryGetValue(run, out var s) && s.State == nameof(ExperimentState.Completed);

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

    private static string Measured(string runDirectory)
    {
        var rows = ResultsFiles.Read(runDirectory).Tenants.Where(t => t.Phase == "measure");
        return string.Join("; ", rows.Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Tenant} {t.ThroughputPerSecond:0.##}/s p99 {t.P99Ms:0.###} ms")));
    }
}
