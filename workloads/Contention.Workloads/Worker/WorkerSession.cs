using Contention.Workloads.Devices;
using Contention.Workloads.Workloads;

namespace Contention.Workloads.Worker;

/// <summary>
/// One tenant's workload on its own dedicated thread: opens the device, runs the workload until
/// stopped and hands out interval reports. A worker process wraps it with its standard streams;
/// thread-isolated tenants use it directly inside the silo.
/// </summary>
public sealed class WorkerSession : IDisposable
{
    /// <summary>The name of the thread that runs <paramref name="tenant"/>'s workload (the kernel keeps its first 15 characters).</summary>
    public static string ThreadName(string tenant) => $"tenant {tenant}";

    private readonly IComputeDevice device;
    private readonly WorkloadRunner runner;
    private readonly CancellationTokenSource stop = new();
    private readonly Thread thread;
    private readonly TaskCompletionSource<int> started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ManualResetEventSlim release = new();
    private readonly IPhaseSink? sink;
    private readonly bool threadOnly;
    private PhaseRecorder? recorder;
    private long reportedKernelNs;
    private KernelSampling reportedSampling;
    private int reportedGcs;
    private long reportedGcPauseNs;
    private long reportedHeld;
    private long reportedHeldNs;
    private long reportedPredictedNs;

    /// <summary>
    /// Opens the device and prepares the workload; nothing runs until <see cref="Start"/>. With
    /// <paramref name="phases"/>, the worker's phases go there: in a worker process
    /// (<paramref name="threadOnly"/> false) the start-up phase ends here, and each phase counts
    /// the whole process; on a thread inside the silo phases start with the workload and count
    /// that thread alone.
    /// </summary>
    public WorkerSession(WorkerStart start, IPhaseSink? phases = null, bool threadOnly = false)
    {
        ArgumentNullException.ThrowIfNull(start);
        device = DeviceFactory.Open(OptionsOf(start));
        try
        {
            runner = new WorkloadRunner(device, start.Workload);
        }
        catch
        {
            device.Dispose();
            throw;
        }

        thread = new Thread(Run) { IsBackground = true, Name = ThreadName(start.Tenant) };
        sink = phases;
        this.threadOnly = threadOnly;
        if (phases is not null && !threadOnly)
        {
            recorder = new PhaseRecorder(phases, threadOnly: false, PhaseRecorder.ProcessStartNs());
            recorder.Boundary(new PhaseSample { Name = "init" });
        }
    }

    /// <summary>Whether the workload ends by itself (a microbenchmark grid) rather than when stopped.</summary>
    public bool Finite => runner.Finite;

    /// <summary>The device's description.</summary>
    public string Description => device.Description;

    /// <summary>The device the start line asks for: a <see cref="WorkerStart.KernelTimingBudget"/> of 0 times no kernel.</summary>
    internal static DeviceOptions OptionsOf(WorkerStart start) => new()
    {
        Id = DeviceId.Parse(start.Device),
        SyncMode = start.SyncMode,
        PinnedHost = start.PinnedHost,
        CpuThreads = start.CpuThreads,
        CudaOrdinal = start.CudaOrdinal,
        HighPriorityStream = start.HighPriorityStream,
        TimeKernels = start.KernelTimingBudget > 0,
        KernelTimingBudget = start.KernelTimingBudget > 0 ? start.KernelTimingBudget : DeviceOptions.DefaultKernelTimingBudget,
        SimChannel = start.SimChannel,
        Arbiter = start.Arbiter,
        Seed = start.Workload.Seed,
    };

    /// <summary>Completes with the workload thread's id once it runs.</summary>
    public Task<int> Started => started.Task;

    /// <summary>Completes when the workload thread ends; faults if the workload threw.</summary>
    public Task Finished => finished.Task;

    /// <summary>Starts the workload thread.</summary>
    public void Start() => thread.Start();

    /// <summary>Operations completed, latencies recorded and GPU time used since the previous call.</summary>
    public WorkerInterval TakeInterval()
    {
        // Counted from the histogram itself, so a report's count and its latencies always agree.
        var (count, histogram) = runner.Latency.TakeEncodedInterval();
        long? kernelNs = null;
        if (device.KernelNs is { } total)
        {
            kernelNs = total - reportedKernelNs;
            reportedKernelNs = total;
        }

        KernelSampling? sampling = null;
        if (device.Sampling is { } sampled)
        {
            sampling = sampled - reportedSampling;
            reportedSampling = sampled;
        }

        // The process's collections since the previous report: each paused the workload's thread.
        var gcs = GC.CollectionCount(0);
        var pauseNs = (long)GC.GetTotalPauseDuration().TotalNanoseconds;
        // The arbiter's holds of this tenant's launches (its counters, read from another thread: whole longs).
        // And a best-effort tenant's predictor's correction (a double written whole by the workload's thread).
        var (held, heldNs, predictedNs, correction) = device is Arbiter.ArbitratedDevice arbitrated
            ? (arbitrated.Member.Held, arbitrated.Member.HeldNs, arbitrated.Member.PredictedNs, arbitrated.Member.Sensitive ? 0 : arbitrated.Predictor.Correction)
            : (0L, 0L, 0L, 0.0);
        var interval = new WorkerInterval(count, histogram, kernelNs, gcs - reportedGcs, pauseNs - reportedGcPauseNs, held - reportedHeld, heldNs - reportedHeldNs, predictedNs - reportedPredictedNs, sampling, correction);
        (reportedGcs, reportedGcPauseNs, reportedHeld, reportedHeldNs, reportedPredictedNs) = (gcs, pauseNs, held, heldNs, predictedNs);
        return interval;
    }

    /// <summary>Asks the workload to stop after its current operation and waits for it.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        await stop.CancelAsync().ConfigureAwait(false);
        (device as Arbiter.ArbitratedDevice)?.Member.LetGo();
        try
        {
            await finished.Task.WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"the workload did not finish its current operation within {timeout.TotalSeconds:0.#} s of being stopped");
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        stop.Cancel();
        (device as Arbiter.ArbitratedDevice)?.Member.LetGo();
        release.Set();
        if (thread.IsAlive)
        {
            thread.Join(TimeSpan.FromSeconds(30));
        }

        device.Dispose();
        stop.Dispose();
        release.Dispose();
    }

    private void Run()
    {
        started.TrySetResult(ThreadId.Current());
        try
        {
            if (sink is not null && threadOnly)
            {
                recorder = new PhaseRecorder(sink, threadOnly: true, 0);
            }

            runner.Run(stop.Token, recorder);
            if (!runner.Finite)
            {
                // Everything since start-up was one phase: the workload ran until stopped.
                recorder?.Boundary(new PhaseSample { Name = "run", Operations = runner.Completed });
            }

            finished.TrySetResult();
        }
        catch (Exception ex)
        {
            finished.TrySetException(ex);
        }

        // The thread stays (idle) until disposal, so a tracer can take its final sample of it:
        // /proc forgets a thread's counters once it exits.
        release.Wait();
    }
}
