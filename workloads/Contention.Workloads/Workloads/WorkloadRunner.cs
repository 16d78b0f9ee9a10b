using Contention.Workloads.Devices;
using Contention.Workloads.Kernels;
using Contention.Workloads.Metrics;
using Contention.Workloads.Replay;
using Contention.Workloads.Sim;
using Contention.Workloads.Worker;

namespace Contention.Workloads.Workloads;

/// <summary>
/// Runs a workload on a device on the calling thread until cancelled, recording one latency per
/// training step, inference request or microbenchmark repetition. Call <see cref="Run"/> from a
/// dedicated thread or process, never from a grain turn or the thread pool.
/// </summary>
public sealed class WorkloadRunner
{
    private readonly IComputeDevice device;
    private readonly WorkloadSpec spec;
    private readonly IReadOnlyList<KernelSpec> kernels;
    private readonly ReplayProgram? replay;
    private long completed;
    private long replayed;

    // With the host-timings diagnostic on: when the request's last launch returned (its wait began),
    // and every launch's and synchronise's call and return (null: off).
    private bool recordLaunched;
    private long launchedNs;
    private HostTimings? launches;

    /// <summary>Rows the launch recorder keeps (a ResNet-50 trainer launches ~4,000 kernels a second, a 1,000/s MLP service ~11,000).</summary>
    private const int LaunchRows = 1 << 19;

    /// <summary>The index a synchronise's row in the launch recorder has (a launch's is its place in the operation).</summary>
    public const long SynchronizeIndex = -1;

    /// <summary>Prepares <paramref name="spec"/> on <paramref name="device"/> (allocates its buffers).</summary>
    public WorkloadRunner(IComputeDevice device, WorkloadSpec spec)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(spec);
        this.device = device;
        this.spec = spec;
        replay = spec.Kind == WorkloadKind.Replay ? ReplayOf(spec) : null;
        kernels = replay?.Kernels ?? (spec.Grid is null ? KernelsOf(spec) : []);
        if (kernels.Count > 0 && !spec.AllocatePerOperation)
        {
            device.Prepare(kernels);
        }
    }

    /// <summary>Operations completed since the start (requests, steps, repetitions, grid steady phases).</summary>
    public long Completed => Interlocked.Read(ref completed);

    /// <summary>Whether this workload ends by itself (a grid walk) rather than when stopped.</summary>
    public bool Finite => spec.Grid is not null;

    /// <summary>Latencies and the completion count.</summary>
    public LatencyRecorder Latency { get; } = new();

    /// <summary>The replay a replay workload plays: its trace file read and made ready.</summary>
    /// <exception cref="ArgumentException">It names no trace.</exception>
    /// <exception cref="KernelTraceException">The trace cannot be read.</exception>
    public static ReplayProgram ReplayOf(WorkloadSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return ReplayProgram.Load(spec.Trace ?? throw new ArgumentException("a replay workload needs its kernel trace (Trace)", nameof(spec)), spec.TraceSteps);
    }

    /// <summary>The kernel sequence of one operation of <paramref name="spec"/> (a replay's: every op it launches, for preparing a device).</summary>
    public static IReadOnlyList<KernelSpec> KernelsOf(WorkloadSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.Kind switch
        {
            WorkloadKind.Training => ModelShapes.TrainingStep(spec.Model, spec.BatchSize),
            WorkloadKind.Inference => ModelShapes.InferenceRequest(spec.Model, spec.BatchSize),
            WorkloadKind.Replay => ReplayOf(spec).Kernels,
            _ => Enumerable.Repeat(MicrobenchKernel(spec.Op, spec.Bytes), spec.Iterations).ToList(),
        };
    }

    /// <summary>The kernel a microbenchmark of <paramref name="op"/> over <paramref name="bytes"/> launches.</summary>
    public static KernelSpec MicrobenchKernel(MicrobenchOp op, long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bytes, 16);
        switch (op)
        {
            case MicrobenchOp.Gemm:
                var n = Math.Max(1, (int)Math.Sqrt(bytes / 12.0));
                return KernelSpec.Gemm(n, n, n);
            case MicrobenchOp.Elementwise:
                return KernelSpec.Elementwise(Math.Max(1, bytes / 12), ElementwiseOp.Add);
            case MicrobenchOp.Reduce:
                return KernelSpec.Reduce(bytes / 4);
            default:
                return KernelSpec.CopyToDevice(bytes / 4);
        }
    }

    /// <summary>
    /// Runs until <paramref name="cancellation"/> fires, or a grid walk ends; marks the grid's
    /// phase boundaries on <paramref name="phases"/> when given.
    /// </summary>
    public void Run(CancellationToken cancellation, PhaseRecorder? phases = null)
    {
        if (spec.Grid is { } grid)
        {
            RunGrid(grid, phases, cancellation);
            return;
        }

        if (spec.Kind is WorkloadKind.Inference or WorkloadKind.Replay && spec.RatePerSecond > 0)
        {
            RunOpenLoop(cancellation);
            return;
        }

        var operations = 0;
        var timings = HostTimings.Open("operation", ["started_ns", "ended_ns"]);
        launches = OpenLaunches();
        while (!cancellation.IsCancellationRequested)
        {
            var start = MonotonicClock.NowNs();
            device.BeginOperation();
            RunOnce();
            var end = MonotonicClock.NowNs();

            // Closed after the operation's time is read: closing may wake held best-effort tenants (a system call).
            device.EndOperation();
            Latency.Record(end - start);
            Interlocked.Increment(ref completed);
            timings?.Record(start, end, 0);
            if (++operations == StartPauseAfter)
            {
                PreciseSleep.Until(end + StartPauseNs(spec.Seed, end - start), cancellation);
            }
        }

        timings?.Save();
        launches?.Save();
    }

    // Each launch's and synchronise's call and return: where an operation's time on the host goes
    // (a launch the driver holds while its queue is full, a wait). Off with the diagnostic.
    private static HostTimings? OpenLaunches() => HostTimings.Open("launch", ["operation", "index", "called_ns", "returned_ns"], LaunchRows);

    /// <summary>The closed-loop operation after which <see cref="StartPauseNs"/> is paused: the second (the first warms up).</summary>
    public const int StartPauseAfter = 2;

    /// <summary>
    /// How long a closed-loop tenant of <paramref name="seed"/> pauses after its
    /// <see cref="StartPauseAfter"/>th operation, which took <paramref name="operationNs"/>: uniform
    /// over that operation's time, from a stream of its own, so tenants started together begin
    /// their operations at unrelated phases, whenever their processes happened to start. Without
    /// it, identical tenants on the modelled GPU, whose kernels last exactly their modelled time,
    /// run in step for a whole run (two ResNet-50 trainers under MPS each layer's kernels side by
    /// side), and the phases real processes start at repeat from run to run on one host: a
    /// service's p99 beside two MPS trainers ranged 3.3-5.2 ms over the trainers' phase, each
    /// run of a session keeping one (docs/sim.md, "Start pauses"). Both modelled GPUs and real
    /// ones pause alike; the pause falls in the warm-up.
    /// </summary>
    public static long StartPauseNs(int seed, long operationNs) =>
        operationNs <= 0 ? 0 : new Random(unchecked(seed ^ StartPauseSeed)).NextInt64(operationNs);

    private const int StartPauseSeed = 0x3C6EF372;

    /// <summary>The gap to an open-loop tenant's next arrival: exponential with mean <paramref name="meanGapNs"/> (a Poisson process), drawn from <paramref name="random"/>, ns.</summary>
    public static long NextGapNs(Random random, double meanGapNs)
    {
        ArgumentNullException.ThrowIfNull(random);
        return (long)(-Math.Log(1.0 - random.NextDouble()) * meanGapNs);
    }

    private void RunOpenLoop(CancellationToken cancellation)
    {
        // Arrivals follow a Poisson process fixed in advance; a request's latency runs from its
        // arrival, so time spent queued behind a slow predecessor counts (no coordinated omission).
        // The thread sleeps to each arrival with 1 µs timer slack: Linux's default 50 µs would
        // start requests up to 50 µs late, on every device, a delay of the load generator's own.
        NativeMethods.UsePreciseTimers();
        var random = new Random(spec.Seed);
        var meanGapNs = 1e9 / spec.RatePerSecond;
        var arrival = MonotonicClock.NowNs() + NextGapNs(random, meanGapNs);
        // The device's operation (what a GPU arbiter holds best-effort launches for) stays open
        // while a request is pending: from an arrival until the service's queue is empty, so a
        // request queued behind its predecessor never finds best-effort work let go in between.
        var timings = HostTimings.Open("request", ["arrival_ns", "started_ns", "ended_ns", "launched_ns"]);
        recordLaunched = timings is not null;
        launches = OpenLaunches();
        var pending = false;
        try
        {
            while (!cancellation.IsCancellationRequested)
            {
                if (pending && arrival > MonotonicClock.NowNs())
                {
                    device.EndOperation();
                    pending = false;
                }

                PreciseSleep.Until(arrival, cancellation);
                if (cancellation.IsCancellationRequested)
                {
                    break;
                }

                if (!pending)
                {
                    device.BeginOperation();
                    pending = true;
                }

                // The next arrival drawn first (the same draws in the same order): the device may ask
                // whether a request is waiting when this one's work is queued.
                var next = arrival + NextGapNs(random, meanGapNs);
                device.NextArrival(next);
                var started = timings is null ? 0 : MonotonicClock.NowNs();
                RunOnce();
                var ended = MonotonicClock.NowNs();
                Latency.Record(ended - arrival);
                Interlocked.Increment(ref completed);
                timings?.Record(arrival, started, ended, launchedNs);
                arrival = next;
            }
        }
        finally
        {
            if (pending)
            {
                device.EndOperation();
            }
        }

        timings?.Save();
        launches?.Save();
    }

    private void RunGrid(IReadOnlyList<MicrobenchGroup> grid, PhaseRecorder? phases, CancellationToken cancellation)
    {
        var limitNs = spec.PointLimitMs * 1_000_000L;
        foreach (var group in grid)
        {
            if (cancellation.IsCancellationRequested)
            {
                return;
            }

            var op = group.Op.ToString().ToLowerInvariant();
            var kernel = MicrobenchKernel(group.Op, group.Bytes);
            device.Prepare([kernel]);
            var operationNs = long.MaxValue;
            for (var w = 0; w < Math.Max(1, spec.WarmupOperations); w++)
            {
                var start = MonotonicClock.NowNs();
                device.Launch(kernel);
                device.Synchronize();
                operationNs = Math.Min(operationNs, Math.Max(1, MonotonicClock.NowNs() - start));
            }

            phases?.Boundary(new PhaseSample { Name = "setup", Op = op, Bytes = group.Bytes, Operations = Math.Max(1, spec.WarmupOperations) });
            foreach (var iterations in group.Iterations)
            {
                if (cancellation.IsCancellationRequested)
                {
                    break;
                }

                // Judged from the fastest warm-up operation, each of which waited for its own completion:
                // launches that queue behind each other take no longer, so the phase stays within the
                // limit, and one warm-up the node preempted does not cut the phase short.
                var run = (int)Math.Clamp(limitNs / operationNs, 1, iterations);
                var start = MonotonicClock.NowNs();
                for (var i = 0; i < run; i++)
                {
                    device.Launch(kernel);
                }

                device.Synchronize();
                Latency.Record(MonotonicClock.NowNs() - start);
                Interlocked.Increment(ref completed);
                phases?.Boundary(new PhaseSample { Name = "steady", Op = op, Bytes = group.Bytes, Iterations = iterations, IterationsRun = run, Operations = 1 });
            }

            device.Release();
            phases?.Boundary(new PhaseSample { Name = cancellation.IsCancellationRequested ? "interrupted" : "teardown", Op = op, Bytes = group.Bytes });
        }
    }

    // One operation's kernels, up to their synchronise (the caller opens and closes the device's operation around it).
    private void RunOnce()
    {
        if (replay is not null)
        {
            Replay(replay.StepOf(replayed++));
            return;
        }

        if (spec.AllocatePerOperation)
        {
            device.Prepare(kernels);
        }

        for (var i = 0; i < kernels.Count; i++)
        {
            Launch(kernels[i], i);
        }

        if (recordLaunched)
        {
            launchedNs = MonotonicClock.NowNs();
        }

        Synchronize();
        if (spec.AllocatePerOperation)
        {
            device.Release();
        }
    }

    private void Launch(in KernelSpec kernel, int index)
    {
        if (launches is null)
        {
            device.Launch(kernel);
            return;
        }

        var called = MonotonicClock.NowNs();
        device.Launch(kernel);
        launches.Record(completed, index, called, MonotonicClock.NowNs()); // this thread counts completed after the operation
    }

    private void Synchronize()
    {
        if (launches is null)
        {
            device.Synchronize();
            return;
        }

        var called = MonotonicClock.NowNs();
        device.Synchronize();
        launches.Record(completed, SynchronizeIndex, called, MonotonicClock.NowNs());
    }

    // A recorded step: the host busy for each recorded gap (as the job's Python was), each launch as
    // the device launches, a wait where the job waited, the step's tail.
    private void Replay(ReplayStep step)
    {
        for (var k = 0; k < step.Kernels.Length; k++)
        {
            Busy(step.BeforeNs[k]);
            Launch(step.Kernels[k], k);
            if (step.SyncAfter[k])
            {
                Busy(step.SyncGapNs[k]);
                Synchronize();
            }
        }

        Busy(step.TailNs);
    }

    private static void Busy(long ns)
    {
        if (ns > 0)
        {
            MonotonicClock.SpinUntil(MonotonicClock.NowNs() + ns);
        }
    }
}
