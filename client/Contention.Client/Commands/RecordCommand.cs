using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Contention.Client.Mixes;
using Contention.Client.Results;
using Contention.Workloads.Replay;
using Spectre.Console;

namespace Contention.Client.Commands;

/// <summary>
/// <c>contention record -- CMD ...</c>: runs a PyTorch job under Contention's recording hook (a
/// <c>sitecustomize</c> put first on PYTHONPATH: the job needs no change), which profiles a few of
/// its steps with torch.profiler, and turns the profiler's trace into a kernel trace
/// (<see cref="KernelTraceFile"/>); <c>--from-chrome FILE</c> turns a profiler trace made
/// elsewhere. docs/replay.md.
/// </summary>
internal static class RecordCommand
{
    /// <summary>The hook's file name (Python imports it as sitecustomize at start).</summary>
    public const string HookFile = "sitecustomize.py";

    public static Command Create()
    {
        var output = new Option<string?>("--out") { Description = "the kernel trace to write (default: NAME.ktrace.json; .gz compresses)" };
        var name = new Option<string?>("--name") { Description = "the trace's name (default: the job script's name, or the profiler trace's)" };
        var warmup = new Option<int>("--warmup") { Description = "steps the job runs before recording starts", DefaultValueFactory = _ => 20 }.Within(1, 100_000);
        var steps = new Option<int>("--steps") { Description = "steps recorded", DefaultValueFactory = _ => 10 }.Within(1, 10_000);
        var step = new Option<string>("--step") { Description = "what ends a step: auto (an optimizer's step, or a top-level forward until one is seen), optimizer, forward, manual (the job calls sitecustomize.step())", DefaultValueFactory = _ => "auto" };
        step.AcceptOnlyFromAmong("auto", "optimizer", "forward", "manual");
        var kind = new Option<string?>("--kind") { Description = "training or inference (default: training when the trace shows an optimizer step)" };
        kind.AcceptOnlyFromAmong("training", "inference");
        var keep = new Option<bool>("--keep-steps") { Description = "keep every recorded step (default: steps with the same ops are folded into one, repeated, with the median times)" };
        var profiledGaps = new Option<bool>("--profiled-gaps") { Description = "replay the host gaps as profiled (default: the profiler's own cost per recorded event is fitted so the replay alone matches the job's own step, and taken out)" };
        var chrome = new Option<string?>("--chrome") { Description = "also keep the profiler's own trace here (Chrome trace JSON; opens in Perfetto)" };
        var fromChrome = new Option<string?>("--from-chrome") { Description = "turn this profiler trace (torch.profiler's export_chrome_trace, .json or .json.gz) into a kernel trace instead of running a job" };
        var stepMs = new Option<double?>("--step-ms") { Description = "with --from-chrome: the job's own step time without the profiler, ms (record measures it), which the host gaps are fitted to" };
        var gpu = new Option<string?>("--gpu") { Description = "with --from-chrome: the recording GPU, for a trace without deviceProperties (h100, h200)" };
        gpu.AcceptOnlyFromAmong("h100", "h200");
        var job = new Argument<string[]>("command") { Description = "the job to run and record, after --: e.g. -- python3 train.py --batch 32", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("record", "record a PyTorch job's GPU kernels step by step (torch.profiler through a hook the job needs no change for) as a kernel trace that replay tenants run") { output, name, warmup, steps, step, kind, keep, profiledGaps, chrome, fromChrome, gpu, stepMs, job };
        command.SetAction(async (parse, cancellation) =>
        {
            var console = AnsiConsole.Console;
            try
            {
                var arguments = parse.GetValue(job) ?? [];
                var from = parse.GetValue(fromChrome);
                if ((from is null) == (arguments.Length == 0))
                {
                    throw new MixException("record: give a job to run after -- (e.g. contention record -- python3 train.py), or --from-chrome FILE, not both");
                }

                var settings = new Settings(parse.GetValue(name), parse.GetValue(output), parse.GetValue(kind), parse.GetValue(keep), parse.GetValue(gpu)) { ProfiledGaps = parse.GetValue(profiledGaps) };
                if (parse.GetValue(stepMs) is { } given)
                {
                    if (from is null || !(given > 0))
                    {
                        throw new MixException("record: --step-ms goes with --from-chrome and is a step time in ms above 0 (a recorded job's is measured by the hook)");
                    }

                    settings = settings with { Reference = new TraceReference(given * 1e3, 1, "--step-ms", 0) };
                }

                if (from is not null)
                {
                    return Convert(from, settings, new TraceRecording("torch.profiler (imported)", Path.GetFullPath(from), File.GetLastWriteTimeUtc(from).ToString("o", CultureInfo.InvariantCulture), Environment.MachineName, Tool()), console);
                }

                return await RunAsync(arguments, settings, parse.GetValue(warmup), parse.GetValue(steps), parse.GetValue(step)!, parse.GetValue(chrome), console, cancellation);
            }
            catch (Exception ex) when (ex is MixException or KernelTraceException or IOException or UnauthorizedAccessException)
            {
                console.MarkupLineInterpolated($"[red]error:[/] {ex.Message}");
                return 2;
            }
        });
        return command;
    }

    /// <summary>What the options ask of the trace.</summary>
    internal sealed record Settings(string? Name, string? Output, string? Kind, bool KeepSteps, string? Gpu)
    {
        /// <summary>The job's own step time, from the hook's step times.</summary>
        public TraceReference? Reference { get; init; }

        /// <summary>Keep the gaps as profiled (no <see cref="TraceHostCorrection"/>).</summary>
        public bool ProfiledGaps { get; init; }
    }

    /// <summary>
    /// The job's step time without the profiler from the hook's step times (µs, by phase): the
    /// median of the warm-up's last half (its first steps load and tune; the profiler has not yet
    /// run in the process) when that is 3 steps or more, else of the steps after the recording
    /// (which the profiler has been through: on the H200 they ran up to 2.6x the warm-up's); null
    /// without a file or enough steps.
    /// </summary>
    internal static TraceReference? ReferenceOf(string stepsFile)
    {
        if (!File.Exists(stepsFile))
        {
            return null;
        }

        System.Text.Json.JsonDocument document;
        try
        {
            document = System.Text.Json.JsonDocument.Parse(File.ReadAllText(stepsFile));
        }
        catch (System.Text.Json.JsonException)
        {
            // A job killed while the hook wrote them: no reference, the trace stands without one.
            return null;
        }

        using var parsed = document;
        double[] Phase(string name) => document.RootElement.TryGetProperty(name, out var list) && list.ValueKind == System.Text.Json.JsonValueKind.Array
            ? [.. list.EnumerateArray().Where(v => v.ValueKind == System.Text.Json.JsonValueKind.Number).Select(v => v.GetDouble())]
            : [];
        var (warmup, profiled, after) = (Phase("warmup"), Phase("profiled"), Phase("after"));
        var (steps, from) = warmup.Length >= 6 ? (warmup[(warmup.Length / 2)..], $"the warm-up's last {warmup.Length - (warmup.Length / 2)} steps")
            : after.Length >= 3 ? (after, $"{after.Length} steps after the recording")
            : (Array.Empty<double>(), "");
        if (steps.Length > 0 && after.Length >= 3 && steps != after)
        {
            from += string.Create(CultureInfo.InvariantCulture, $"; {after.Length} steps after the recording: {Simulation.TraceReport.Median(after) / 1e3:0.000} ms");
        }

        return steps.Length == 0 ? null : new TraceReference(Simulation.TraceReport.Median(steps), steps.Length, from, profiled.Length == 0 ? 0 : Simulation.TraceReport.Median(profiled));
    }

    /// <summary>Writes the hook where Python finds it when <paramref name="directory"/> is first on PYTHONPATH; returns its path.</summary>
    public static string WriteHook(string directory)
    {
        using var hook = typeof(RecordCommand).Assembly.GetManifestResourceStream("Contention.Client.Record.sitecustomize.py")
            ?? throw new InvalidOperationException("this build has no recording hook (Record/sitecustomize.py is an embedded resource)");
        var path = Path.Combine(directory, HookFile);
        using var file = File.Create(path);
        hook.CopyTo(file);
        return path;
    }

    private static async Task<int> RunAsync(string[] arguments, Settings settings, int warmup, int steps, string step, string? keepChrome, IAnsiConsole console, CancellationToken cancellation)
    {
        var scratch = Directory.CreateTempSubdirectory("contention-record-").FullName;
        try
        {
            WriteHook(scratch);
            var profile = Path.Combine(scratch, "profile.json.gz");
            var start = new ProcessStartInfo(arguments[0]) { UseShellExecute = false };
            foreach (var argument in arguments.Skip(1))
            {
                start.ArgumentList.Add(argument);
            }

            var pythonPath = Environment.GetEnvironmentVariable("PYTHONPATH");
            start.Environment["PYTHONPATH"] = string.IsNullOrEmpty(pythonPath) ? scratch : $"{scratch}{Path.PathSeparator}{pythonPath}";
            start.Environment["CONTENTION_RECORD_OUT"] = profile;
            start.Environment["CONTENTION_RECORD_WARMUP"] = warmup.ToString(CultureInfo.InvariantCulture);
            start.Environment["CONTENTION_RECORD_STEPS"] = steps.ToString(CultureInfo.InvariantCulture);
            start.Environment["CONTENTION_RECORD_STEP"] = step;
            var began = DateTime.UtcNow;
            console.MarkupLineInterpolated($"recording: {string.Join(' ', arguments)} ({warmup} steps of warm-up, then {steps} recorded; what ends a step: {step})");
            Process process;
            try
            {
                process = Process.Start(start) ?? throw new MixException($"record: could not start {arguments[0]}");
            }
            catch (System.ComponentModel.Win32Exception ex)
            {
                throw new MixException($"record: could not start {arguments[0]}: {ex.Message}");
            }

            using var started = process;
            try
            {
                await process.WaitForExitAsync(cancellation);
            }
            catch (OperationCanceledException)
            {
                // Interrupted: the job gets SIGTERM and its hook writes the steps recorded so far.
                _ = Contention.Tracer.Bpf.TracedStart.Terminate(process.Id);
                await process.WaitForExitAsync(CancellationToken.None);
            }

            if (!File.Exists(profile))
            {
                throw new MixException($"record: {arguments[0]} exited with code {process.ExitCode} and wrote no profiler trace (its output above says why: a job that is not Python, a Python without torch or a GPU, or fewer steps than the {warmup}-step warm-up)");
            }

            if (keepChrome is not null)
            {
                File.Copy(profile, keepChrome, overwrite: true);
            }

            var named = settings with { Name = settings.Name ?? JobName(arguments), Reference = ReferenceOf(profile + ".steps.json") };
            return Convert(profile, named, new TraceRecording($"torch.profiler via contention record ({steps} steps after {warmup}, step end: {step})", string.Join(' ', arguments), began.ToString("o", CultureInfo.InvariantCulture), Environment.MachineName, Tool()), console);
        }
        finally
        {
            Directory.Delete(scratch, true);
        }
    }

    /// <summary>The job script's name without its extension: the first argument after an interpreter that names a file.</summary>
    internal static string JobName(IReadOnlyList<string> arguments)
    {
        var script = arguments.Skip(1).FirstOrDefault(a => !a.StartsWith('-') && Path.HasExtension(a)) ?? arguments[0];
        return Path.GetFileNameWithoutExtension(script.EndsWith(".gz", StringComparison.Ordinal) ? script[..^3] : script);
    }

    private static int Convert(string profile, Settings settings, TraceRecording recorded, IAnsiConsole console)
    {
        var name = settings.Name ?? JobName(["", profile]).Replace(".pt.trace", "", StringComparison.Ordinal);
        TraceKind? kind = settings.Kind switch
        {
            "training" => TraceKind.Training,
            "inference" => TraceKind.Inference,
            _ => null,
        };
        var fallback = settings.Gpu is { } gpu ? Gpus[gpu] : null;
        var (trace, notes) = ChromeTraceImport.Import(KernelTraceFile.Decompressed(File.ReadAllBytes(profile)), profile, name, recorded, kind, fallback);
        if (!settings.KeepSteps)
        {
            trace = KernelTraceFile.Fold(trace);
        }

        trace = trace with { Reference = settings.Reference };
        var profileName = ProfileOf(trace);
        string? corrected = null;
        if (!settings.ProfiledGaps && trace.Reference is not null)
        {
            (trace, corrected) = FitHostCorrection(trace, profileName);
        }

        var output = settings.Output ?? $"{name}.ktrace.json";
        KernelTraceFile.Write(trace, output);
        console.Write(Summary(trace));
        foreach (var note in notes)
        {
            console.MarkupLineInterpolated($"note: {note}");
        }

        if (trace.Reference is { } reference)
        {
            var profiled = reference.ProfiledStepUs > 0 ? string.Create(CultureInfo.InvariantCulture, $", {reference.ProfiledStepUs / 1e3:0.000} ms profiled") : "";
            var of = reference.From == "--step-ms" ? "as given (--step-ms)" : $"median of {reference.From}";
            console.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"the job's own step: {reference.StepUs / 1e3:0.000} ms without the profiler ({of}){profiled}");
        }

        if (corrected is not null)
        {
            console.MarkupLineInterpolated($"host gaps: {corrected}");
        }

        var replayed = ReplayedAloneMs(trace, profileName);
        console.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"replayed alone in virtual time ({replayed.Profile}, spin sync): {replayed.StepMs:0.000} ms a step (median of {replayed.Steps}){(trace.Reference is { } job ? string.Create(CultureInfo.InvariantCulture, $", {replayed.StepMs * 1e3 / job.StepUs:0.00}x the job's own") : "")}");

        console.MarkupLineInterpolated($"kernel trace: [bold]{Path.GetFullPath(output)}[/] ({trace.RecordedSteps} steps recorded, {trace.Steps.Count} distinct, {trace.Kernels.Count} distinct kernels)");
        return 0;
    }

    /// <summary>
    /// The profiler's own host cost taken out of <paramref name="trace"/>'s gaps: the cost per
    /// recorded event (<see cref="TraceHostCorrection"/>) at which its replay alone in virtual time on
    /// <paramref name="profile"/> takes the job's own step (<see cref="KernelTrace.Reference"/>),
    /// found by bisection between 0 and the cost that empties every gap with events. Unchanged when
    /// the replay is no longer than the job's step as profiled (its GPU work sets the pace); the
    /// largest cost when even that leaves the replay longer. With what was done, in words.
    /// </summary>
    internal static (KernelTrace Trace, string Said) FitHostCorrection(KernelTrace trace, string profile)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var target = (trace.Reference ?? throw new ArgumentException("the trace has no reference step time to fit to", nameof(trace))).StepUs / 1e3;
        double StepMs(double usPerEvent) => ReplayedAloneMs(trace with { HostCorrection = usPerEvent > 0 ? new TraceHostCorrection(usPerEvent, "") : null }, profile).StepMs;
        var asProfiled = StepMs(0);
        if (asProfiled <= target)
        {
            return (trace with { HostCorrection = null }, string.Create(CultureInfo.InvariantCulture, $"as profiled: the replay alone ({asProfiled:0.000} ms) is no longer than the job's own step ({target:0.000} ms)"));
        }

        var most = trace.Steps.SelectMany(s => s.Ops.Select(o => (o.GapUs, o.Events)).Append((s.TailUs, s.TailEvents))).Where(g => g.Item2 > 0).Select(g => g.Item1 / g.Item2).DefaultIfEmpty(0).Max();
        var (low, high) = (0.0, most);
        var atMost = StepMs(most);
        if (atMost > target)
        {
            low = most;
        }
        else
        {
            for (var i = 0; i < 40 && high - low > 1e-4; i++)
            {
                var mid = (low + high) / 2;
                var step = StepMs(mid);
                if (Math.Abs(step - target) <= target * 1e-3)
                {
                    (low, high) = (mid, mid);
                    break;
                }

                (low, high) = step > target ? (mid, high) : (low, mid);
            }
        }

        var usPerEvent = Math.Round((low + high) / 2, 4);
        var events = trace.Steps.Sum(s => s.Events * s.Repeat) / (double)Math.Max(1, trace.RecordedSteps);
        var from = string.Create(CultureInfo.InvariantCulture, $"fitted so the replay alone in virtual time ({profile}) takes the job's own step without the profiler ({target:0.000} ms; {asProfiled:0.000} ms with the gaps as profiled)");
        var said = string.Create(CultureInfo.InvariantCulture, $"the profiler's own cost, {usPerEvent:0.###} µs for each of the {events:0} events it recorded a step, taken out ({from})");
        if (atMost > target)
        {
            said += string.Create(CultureInfo.InvariantCulture, $"; even with every gap with events emptied the replay takes {atMost:0.000} ms: the job's own step is shorter than its GPU work and host calls replayed");
        }

        return (trace with { HostCorrection = new TraceHostCorrection(usPerEvent, from) }, said);
    }

    /// <summary>The modelled GPU profile of the trace's recording GPU: h100 for an H100, else h200.</summary>
    internal static string ProfileOf(KernelTrace trace) => trace.Device.Name.Contains("H100", StringComparison.OrdinalIgnoreCase) ? "h100" : "h200";

    /// <summary>The trace at <paramref name="path"/> replayed alone as <see cref="ReplayedAloneMs(KernelTrace, string)"/> does.</summary>
    internal static (string Profile, double StepMs, long Steps) ReplayedAloneMs(string path, string profile) => ReplayedAloneMs(KernelTraceFile.Read(path), profile);

    /// <summary>
    /// <paramref name="trace"/> replayed alone, closed loop with spin sync, on a modelled GPU of
    /// <paramref name="profile"/> in virtual time (a warm-up of 2 cycles, then 3 cycles or 1 s,
    /// whichever is longer): the median step, and the steps it is the median of.
    /// </summary>
    internal static (string Profile, double StepMs, long Steps) ReplayedAloneMs(KernelTrace trace, string profile)
    {
        var program = ReplayProgram.From(trace);
        var spec = new Contention.Workloads.Workloads.WorkloadSpec { Kind = Contention.Workloads.Workloads.WorkloadKind.Replay };
        var cycleNs = program.Order.Sum(i => Math.Max(1, (long)(program.Trace.Steps[i].DurationUs * 1e3)));
        var gpu = new Contention.Workloads.Sim.VirtualGpu(Contention.Workloads.Sim.DeviceProfile.Load(profile), Contention.Workloads.Sim.GpuSharing.Timeslice, [new Contention.Workloads.Sim.VirtualTenant("replay", spec, Contention.Workloads.Devices.SyncMode.Spin, Contention.Workloads.Sim.SimContext.Default, Replay: program)], 0, startPause: Contention.Workloads.Sim.StartPause.None);
        gpu.Measure(2 * cycleNs, Math.Max(3 * cycleNs, 1_000_000_000));
        var result = gpu.Result(0);
        return (profile, result.Latency.GetValueAtPercentile(50) / 1e6, result.Completed);
    }

    /// <summary>The trace's steps: repeats, ops, kernels, GPU and host time, step time.</summary>
    internal static Table Summary(KernelTrace trace)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var table = new Table().Title(Markup.Escape($"{trace.Name}: {KernelTraceFile.Word(trace.Kind)} on {trace.Device.Name}")).AddColumns("step", "repeat", "ops", "kernels", "copies", "syncs", "GPU ms", "host gaps ms", "step ms");
        for (var i = 0; i < trace.Steps.Count; i++)
        {
            var s = trace.Steps[i];
            table.AddRow(
                i.ToString(CultureInfo.InvariantCulture),
                s.Repeat.ToString(CultureInfo.InvariantCulture),
                s.Ops.Count.ToString(CultureInfo.InvariantCulture),
                s.Ops.Count(o => o.Kind == TraceOpKind.Kernel).ToString(CultureInfo.InvariantCulture),
                s.Ops.Count(o => o.Kind == TraceOpKind.Copy).ToString(CultureInfo.InvariantCulture),
                s.Ops.Count(o => o.Kind == TraceOpKind.Sync).ToString(CultureInfo.InvariantCulture),
                (s.GpuUs / 1e3).ToString("0.000", CultureInfo.InvariantCulture),
                (s.HostUs / 1e3).ToString("0.000", CultureInfo.InvariantCulture),
                (s.DurationUs / 1e3).ToString("0.000", CultureInfo.InvariantCulture));
        }

        return table;
    }

    // The recording GPUs' limits for profiler traces without deviceProperties (CUDA's device properties of each).
    private static readonly Dictionary<string, TraceDevice> Gpus = new(StringComparer.Ordinal)
    {
        ["h100"] = new TraceDevice("NVIDIA H100 80GB HBM3", 132, 2048, 65536, 233472, 32),
        ["h200"] = new TraceDevice("NVIDIA H200", 132, 2048, 65536, 233472, 32),
    };

    private static string Tool()
    {
        var tool = RunRecorder.Tool();
        return $"{tool.Name} {tool.Version}+{tool.Commit}";
    }
}
