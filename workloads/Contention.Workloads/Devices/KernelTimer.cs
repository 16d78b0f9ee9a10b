using System.Diagnostics;
using System.Runtime.CompilerServices;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Contention.Workloads.Devices;

/// <summary>
/// A tenant's GPU time on a real GPU: CUDA events recorded on its stream just before and just
/// after each compute kernel, read after the stream is synchronised. Timing is not free: each
/// event costs host time on the tenant's thread (which the tracer would see) and, on the GPU, a
/// timestamp between the kernels that holds up the next one. On the H200 the events around the
/// eight kernels of a batch-1 MLP request made it 27-38 µs (15 %) slower in every sync mode
/// (`contention bench calibrate --round-trips-only`, rows "MLP b1 request" and "every kernel
/// timed"). Timed as often as their host time alone allowed (1 %, before), they cost that service
/// 3-5 % of its throughput on the same host and gave it a tail. So a batch of launches (up to the
/// next synchronisation) is timed only while the timer's cost so far (its host time plus
/// <see cref="EventGpuNs"/> per event) stays within <see cref="Budget"/> of the time the tenant
/// has spent in its batches (first launch to synchronise; an open-loop service's idle gaps earn
/// nothing, so a light service is not timed more often than a busy one); its first batch is never
/// timed (it runs cold). <see cref="EstimateNs"/>, the running figure, counts each batch's kernels
/// at the mean time per kernel of the latest <see cref="RecentBatches"/> timed batches;
/// <see cref="Sampling"/> gives the counts from which a window's GPU time rests on that window's
/// own timed batches (<see cref="KernelSampling.EstimateNs"/>), which is what a phase reports.
/// With the hold's cost counted, a batch-1 MLP service at 200 requests/s had no request timed in
/// a 5 s phase on the H200, a ResNet-50 trainer 2-3 steps: a tenant's <c>gpu_timing</c> raises
/// the budget where its GPU time matters more than the hold's delay to the timed batches.
/// </summary>
/// <remarks>
/// What events measure: from the moment the stream reaches the event before a kernel to the
/// moment the kernel ends. On a GPU that waits for the host, that includes the time the launch
/// after the event takes to reach it: an open-loop service's request, launched by a thread that
/// just woke, starved the GPU between its kernels, and its eight MLP kernels measured 229-292 µs
/// on the H200 against 176 back to back (1.3x time-sliced, 1.6x under MPS; 2026-12-04). So a timed
/// batch holds its stream (<c>cuStreamWaitValue32</c> on a word of mapped host memory) until its
/// first <see cref="HeldKernels"/> kernels and their events are queued, or it is synchronised,
/// whichever comes first, and its kernels then run back to back: the estimate is the kernels'
/// own time, as the modelled GPU's is. The hold delays that batch by up to the host's time to
/// queue them, which counts against the budget. Still included: under time-slicing any time the
/// context is switched out in the middle of a kernel, and a kernel past the first
/// <see cref="HeldKernels"/> that the host launches more slowly than the GPU runs them. Where
/// the driver refuses the wait the batches run unheld (<see cref="Holds"/> is false).
/// </remarks>
internal sealed unsafe class KernelTimer : IDisposable
{
    /// <summary>The most the timer may cost, as a fraction of the tenant's wall time.</summary>
    public const double Budget = 0.001;

    /// <summary>What one event is charged for the GPU time it holds up the stream, ns: the low end of the H200's 27-38 µs for the 16 events of a batch-1 MLP request.</summary>
    public const long EventGpuNs = 1_750;

    /// <summary>How many of the latest timed batches the estimate's mean time per kernel comes from.</summary>
    public const int RecentBatches = 8;

    /// <summary>How many kernels a timed batch's hold waits for before the stream may run (all of a batch-1 MLP request's eight); a long batch's later kernels run as they come.</summary>
    public const int HeldKernels = 16;

    private readonly Accelerator accelerator;
    private readonly IntPtr streamPtr;
    private readonly double budget;
    private readonly List<(IntPtr Begin, IntPtr End)> events = [];
    private readonly (long Ns, int Kernels)[] recent = new (long, int)[RecentBatches];
    private long batchStartTicks;
    private long busyTicks;
    private int recorded;
    private bool batchOpen;
    private bool timing;
    private long costTicks;
    private long kernels;
    private long timedBatches;
    private readonly Lock samplingLock = new();
    private KernelSampling sampling;
    private long estimateNs;
    private double estimated;
    private long estimatedKernels;
    private IntPtr holdWord;
    private ulong holdAddress;
    private uint holdTicket;
    private bool holding;
    private int heldKernels;
    private long holdStartTicks;

    /// <summary>
    /// Times kernels on <paramref name="stream"/> (a CUDA stream) through a pool of events made
    /// once and recorded again and again, within <paramref name="budget"/> (at 1 or more, every
    /// kernel); each timed batch held until its kernels are queued unless <paramref name="hold"/> is false.
    /// </summary>
    public KernelTimer(Accelerator accelerator, CudaStream stream, double budget = Budget, bool hold = true)
    {
        this.accelerator = accelerator;
        streamPtr = stream.StreamPtr;
        this.budget = budget;
        Holds = hold && MapHoldWord();
    }

    /// <summary>The estimate of the kernels' GPU time up to the latest <see cref="Collect"/>, ns.</summary>
    public long EstimateNs => Volatile.Read(ref estimateNs);

    /// <summary>Whether timed batches are held until their kernels are queued (the driver gave a mapped host word and took the wait on it).</summary>
    public bool Holds { get; private set; }

    /// <summary>The kernels, timed batches, their kernels and time up to the latest <see cref="Collect"/>, as one consistent set (read from other threads).</summary>
    public KernelSampling Sampling
    {
        get
        {
            lock (samplingLock)
            {
                return sampling;
            }
        }
    }

    /// <summary>The latest timed batch as its events measured it, null before the first.</summary>
    public TimedBatch? LastBatch { get; private set; }

    /// <summary>Call just before a compute kernel's launch; returns whether it is timed (pass it to <see cref="End"/>).</summary>
    public bool Begin()
    {
        kernels++;
        if (!batchOpen)
        {
            batchOpen = true;
            batchStartTicks = Stopwatch.GetTimestamp();

            // The first batch is never timed: it runs cold (the module's first launch, empty
            // caches), many times slower than the rest, and would stand for them all.
            timing = busyTicks > 0 && (budget >= 1 || costTicks <= budget * busyTicks);
        }

        if (!timing)
        {
            // An untimed launch reads no clock.
            return false;
        }

        if (recorded == events.Count)
        {
            // Made once for the tenant's life: not charged to the budget.
            events.Add((Create(), Create()));
        }

        var before = Stopwatch.GetTimestamp();
        if (recorded == 0)
        {
            Hold(before);
        }

        Check(CudaAPI.CurrentAPI.RecordEvent(events[recorded].Begin, streamPtr));
        costTicks += Stopwatch.GetTimestamp() - before + EventTicks;
        return true;
    }

    /// <summary>Call just after the launch whose <see cref="Begin"/> returned <paramref name="timed"/>.</summary>
    public void End(bool timed)
    {
        if (!timed)
        {
            return;
        }

        var before = Stopwatch.GetTimestamp();
        Check(CudaAPI.CurrentAPI.RecordEvent(events[recorded++].End, streamPtr));
        costTicks += Stopwatch.GetTimestamp() - before + EventTicks;
        if (holding && ++heldKernels >= HeldKernels)
        {
            Release();
        }
    }

    /// <summary>
    /// Lets the stream run the held batch's kernels queued so far. The device calls it before
    /// anything that waits for the stream or queues other work on it (synchronising, copies,
    /// disposal): a held stream would never drain.
    /// </summary>
    public void Release()
    {
        if (!holding)
        {
            return;
        }

        holding = false;
        Volatile.Write(ref Unsafe.AsRef<uint>((void*)holdWord), holdTicket);
        Interlocked.MemoryBarrier();

        // The GPU waited from the hold on, at most: the tenant's batch was that much later.
        costTicks += Stopwatch.GetTimestamp() - holdStartTicks;
    }

    /// <summary>Call once the stream is synchronised: reads the batch's events and updates the estimate.</summary>
    public void Collect()
    {
        if (batchOpen)
        {
            busyTicks += Stopwatch.GetTimestamp() - batchStartTicks;
        }

        batchOpen = false;
        var timed = default(KernelSampling);
        if (recorded > 0)
        {
            var before = Stopwatch.GetTimestamp();
            long batchNs = 0;
            for (var i = 0; i < recorded; i++)
            {
                Check(CudaAPI.CurrentAPI.ElapsedTime(out var ms, events[i].Begin, events[i].End));
                batchNs += (long)Math.Round(ms * 1e6);
            }

            // The batch replaces the oldest of the recent timed batches.
            var slot = (int)(timedBatches % recent.Length);
            timedBatches++;
            recent[slot] = (batchNs, recorded);
            Check(CudaAPI.CurrentAPI.ElapsedTime(out var spanMs, events[0].Begin, events[recorded - 1].End));
            LastBatch = new TimedBatch(timedBatches, recorded, batchNs, (long)Math.Round(spanMs * 1e6));
            timed = new KernelSampling(0, 1, recorded, batchNs);
            recorded = 0;
            costTicks += Stopwatch.GetTimestamp() - before;
        }

        lock (samplingLock)
        {
            sampling = (sampling with { Kernels = kernels }) + timed;
        }

        // Every batch adds its kernels at the mean time per kernel of the recent timed batches: the
        // estimate grows with the work done, batch by batch, never goes back (reports take
        // differences), and follows a change in the tenant's kernel times within a few samples.
        if (timedBatches > 0)
        {
            double ns = 0, count = 0;
            for (var i = 0; i < Math.Min(timedBatches, recent.Length); i++)
            {
                ns += recent[i].Ns;
                count += recent[i].Kernels;
            }

            estimated += (kernels - estimatedKernels) * (ns / count);
            estimatedKernels = kernels;
            Volatile.Write(ref estimateNs, (long)Math.Round(estimated));
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Release();
        foreach (var (begin, end) in events)
        {
            _ = CudaAPI.CurrentAPI.DestroyEvent(begin);
            _ = CudaAPI.CurrentAPI.DestroyEvent(end);
        }

        events.Clear();
        if (holdWord != IntPtr.Zero)
        {
            using var binding = accelerator.BindScoped();
            _ = CudaDriver.FreeHost(holdWord);
            holdWord = IntPtr.Zero;
            holdAddress = 0;
            Holds = false;
        }
    }

    // Queues on the stream a wait for the next ticket at the hold word: what follows runs once Release writes it.
    private void Hold(long now)
    {
        if (!Holds)
        {
            return;
        }

        var queued = CudaDriver.StreamWaitValue32(streamPtr, holdAddress, unchecked(holdTicket + 1), CudaDriver.StreamWaitValueGreaterOrEqual);
        if (queued != 0)
        {
            // Stream memory operations refused (a driver or GPU without them): time unheld from now on.
            Holds = false;
            return;
        }

        holdTicket = unchecked(holdTicket + 1);
        holding = true;
        heldKernels = 0;
        holdStartTicks = now;
    }

    // A 32-bit word of mapped page-locked host memory (the tickets written so far, 0 at first) and its device address; false where the driver refuses.
    private bool MapHoldWord()
    {
        using var binding = accelerator.BindScoped();
        if (CudaDriver.HostAlloc(out holdWord, 64, CudaDriver.HostAllocDeviceMap) != 0)
        {
            holdWord = IntPtr.Zero;
            return false;
        }

        Volatile.Write(ref Unsafe.AsRef<uint>((void*)holdWord), 0u);
        if (CudaDriver.HostGetDevicePointer(out holdAddress, holdWord, 0) != 0)
        {
            _ = CudaDriver.FreeHost(holdWord);
            holdWord = IntPtr.Zero;
            return false;
        }

        return true;
    }

    private IntPtr Create()
    {
        // Events belong to the context current when they are made: the accelerator's.
        using var binding = accelerator.BindScoped();
        Check(CudaAPI.CurrentAPI.CreateEvent(out var handle, CudaEventFlags.CU_EVENT_DEFAULT));
        return handle;
    }

    private static readonly long EventTicks = (long)Math.Round(EventGpuNs * Stopwatch.Frequency / 1e9);

    private static void Check(CudaError error)
    {
        if (error != CudaError.CUDA_SUCCESS)
        {
            throw new InvalidOperationException($"timing a kernel with CUDA events failed: {error}");
        }
    }
}
