using System.CommandLine;
using System.Globalization;
using Contention.Workloads.Devices;
using Contention.Workloads.Replay;
using Contention.Workloads.Workloads;
using Spectre.Console;

namespace Contention.Client.Commands;

/// <summary>
/// <c>contention bench replay TRACE</c>: a kernel trace replayed alone, closed loop, against the
/// recorded job's own step time (its <see cref="KernelTrace.Reference"/>) — on a real GPU (the busy
/// kernels of the recorded grids: how replay on <c>cuda</c> is checked before mixes may use it) or
/// in virtual time on a modelled GPU. docs/replay.md.
/// </summary>
internal static class BenchReplayCommand
{
    public static Command Create()
    {
        var trace = new Argument<string>("trace") { Description = "the kernel trace (contention record writes one)" };
        var device = new Option<string>("--device") { Description = "cuda:N (busy kernels on that GPU, in real time) or sim (virtual time on the recording GPU's profile)", DefaultValueFactory = _ => "sim" };
        var sync = new Option<string>("--sync") { Description = Contention.Grains.Words.List<Contention.Grains.SyncMode>(), DefaultValueFactory = _ => "spin" };
        sync.AcceptOnlyFromAmong([.. Contention.Grains.Words.All<Contention.Grains.SyncMode>()]);
        var seconds = new Option<double>("--seconds") { Description = "how long to replay on a real GPU after a warm-up of one cycle", DefaultValueFactory = _ => 5 };
        var kernels = new Option<bool>("--kernels") { Description = "on a real GPU, also time each distinct op's busy stand-in alone (CUDA events) against its recorded GPU time: the step's GPU time as replayed, and the ops furthest off" };
        var command = new Command("replay", "a kernel trace replayed alone against the recorded job's own step time: busy kernels on a real GPU, or virtual time") { trace, device, sync, seconds, kernels };
        command.SetAction((parse, cancellation) =>
        {
            var console = AnsiConsole.Console;
            try
            {
                var path = parse.GetValue(trace)!;
                var recorded = KernelTraceFile.Read(path);
                var where = parse.GetValue(device)!;
                var mode = Contention.Grains.Words.Parse<Contention.Grains.SyncMode>(parse.GetValue(sync));
                var (stepMs, steps, on) = where == "sim"
                    ? Simulated(recorded)
                    : OnGpu(path, recorded, where, TenantRunnerSync(mode), parse.GetValue(seconds), parse.GetValue(kernels) ? console : null, cancellation);
                var table = new Table().Title(Markup.Escape($"{recorded.Name} replayed alone on {on}")).AddColumns("steps", "replayed step ms (p50)", "the job's own step ms", "replayed / job");
                var job = recorded.Reference?.StepUs / 1e3;
                table.AddRow(
                    steps.ToString(CultureInfo.InvariantCulture),
                    stepMs.ToString("0.000", CultureInfo.InvariantCulture),
                    job is { } j ? j.ToString("0.000", CultureInfo.InvariantCulture) : "not recorded",
                    job is { } k ? (stepMs / k).ToString("0.000", CultureInfo.InvariantCulture) : "—");
                console.Write(table);
                return Task.FromResult(0);
            }
            catch (Exception ex) when (ex is KernelTraceException or ArgumentException or IOException)
            {
                console.MarkupLineInterpolated($"[red]error:[/] {ex.Message}");
                return Task.FromResult(2);
            }
        });
        return command;
    }

    private static (double StepMs, long Steps, string On) Simulated(KernelTrace trace)
    {
        var profile = RecordCommand.ProfileOf(trace);
        var (_, stepMs, steps) = RecordCommand.ReplayedAloneMs(trace, profile);
        return (stepMs, steps, $"a modelled {profile} in virtual time, spin sync");
    }

    private static (double StepMs, long Steps, string On) OnGpu(string path, KernelTrace trace, string device, SyncMode sync, double seconds, IAnsiConsole? perKernel, CancellationToken cancellation)
    {
        if (!DeviceId.TryParse(device, out var id) || id.Kind != DeviceKind.Cuda || CudaDevice.CountDevices() <= id.Index)
        {
            throw new ArgumentException($"--device {device}: not sim, nor a CUDA device of this machine (see 'contention devices')");
        }

        using var cuda = new CudaDevice(new DeviceOptions { Id = id, SyncMode = sync });
        var spec = new WorkloadSpec { Kind = WorkloadKind.Replay, Trace = path };
        var runner = new WorkloadRunner(cuda, spec);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        var replaying = Task.Factory.StartNew(() => runner.Run(stop.Token), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        var cycle = trace.RecordedSteps;
        SpinWait.SpinUntil(() => runner.Completed >= cycle || replaying.IsCompleted, TimeSpan.FromSeconds(60));
        _ = runner.Latency.TakeInterval();
        Thread.Sleep(TimeSpan.FromSeconds(seconds));
        var histogram = runner.Latency.TakeInterval();
        stop.Cancel();
        replaying.GetAwaiter().GetResult();
        if (perKernel is not null)
        {
            PerKernel(cuda, trace, perKernel);
        }

        var (fixedNs, waveNs) = cuda.BusyCalibration;
        return (histogram.GetValueAtPercentile(50) / 1e6, histogram.TotalCount, $"{device} ({cuda.Description}), {sync.ToString().ToLowerInvariant()} sync, busy kernels ({fixedNs} ns a kernel, {waveNs} ns a wave beyond their waits)");
    }

    // Each distinct op of the trace's first step timed alone (median of 3, CUDA events); the step's GPU time recorded and as replayed; the 8 ops whose stand-ins are furthest off in all.
    private static void PerKernel(CudaDevice cuda, KernelTrace trace, IAnsiConsole console)
    {
        var step = trace.Steps[0];
        var ops = step.Ops.Where(o => o.Kind != TraceOpKind.Sync).Select(o => (Op: o, Spec: ReplayProgram.Spec(trace, o))).ToList();
        var measured = ops.Select(o => o.Spec).Distinct().ToDictionary(s => s, s => cuda.MeasureReplayNs(s, 3));
        var recordedMs = ops.Sum(o => o.Spec.ReplayNs) / 1e6;
        var replayedMs = ops.Sum(o => measured[o.Spec]) / 1e6;
        var table = new Table().Title(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"step 0's {ops.Count} ops timed alone: {recordedMs:0.000} ms recorded, {replayedMs:0.000} ms replayed ({replayedMs / recordedMs:0.000}x)")))
            .AddColumns("op", "grid blocks", "threads", "count", "recorded µs", "replayed µs", "excess in the step µs");
        foreach (var worst in ops.GroupBy(o => o.Spec).Select(g => (g.Key, Name: g.First().Op.Kind == TraceOpKind.Kernel ? trace.Kernels[g.First().Op.Kernel].Name : g.First().Op.Kind.ToString(), Count: g.Count(), Excess: g.Count() * (measured[g.Key] - g.Key.ReplayNs)))
            .OrderByDescending(g => Math.Abs(g.Excess)).Take(8))
        {
            table.AddRow(
                Markup.Escape(worst.Name.Length > 50 ? worst.Name[..50] + "…" : worst.Name),
                worst.Key.M.ToString(CultureInfo.InvariantCulture),
                worst.Key.N.ToString(CultureInfo.InvariantCulture),
                worst.Count.ToString(CultureInfo.InvariantCulture),
                (worst.Key.ReplayNs / 1e3).ToString("0.0", CultureInfo.InvariantCulture),
                (measured[worst.Key] / 1e3).ToString("0.0", CultureInfo.InvariantCulture),
                (worst.Excess / 1e3).ToString("0.0", CultureInfo.InvariantCulture));
        }

        console.Write(table);
    }

    private static SyncMode TenantRunnerSync(Contention.Grains.SyncMode mode) => mode switch
    {
        Contention.Grains.SyncMode.Yield => SyncMode.Yield,
        Contention.Grains.SyncMode.Block => SyncMode.Block,
        _ => SyncMode.Spin,
    };
}
