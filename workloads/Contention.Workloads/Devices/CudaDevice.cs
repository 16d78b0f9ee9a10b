using System.Runtime.InteropServices;
using Contention.Workloads.Kernels;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Contention.Workloads.Devices;

/// <summary>
/// A real NVIDIA GPU through ILGPU. One instance owns one CUDA context, created with the
/// scheduling flag of its <see cref="SyncMode"/>, and one stream; host buffers are either
/// page-locked (registered with the driver, so copies are asynchronous DMA) or pageable
/// (the driver stages them and the copy holds the host thread).
/// </summary>
public sealed unsafe class CudaDevice : IDataDevice, ISlicingDevice, IPausingDevice, IBatchTiming
{
    private readonly SmRange smRange = SmRange.All;
    private MemoryBuffer1D<int, Stride1D.Dense>? stopWord;
    private ulong pauseAddress;
    private bool pausable;
    private bool streamGated;
    private IntPtr clearingStream;
    private readonly Lock wordLock = new();
    private readonly Context context;
    private readonly CudaAccelerator accelerator;
    private readonly AcceleratorStream stream;
    private readonly bool pinned;
    private readonly KernelLaunches kernels;
    private readonly KernelTimer? timer;
    private WorkspaceSize size;
    private MemoryBuffer1D<float, Stride1D.Dense>? a;
    private MemoryBuffer1D<float, Stride1D.Dense>? b;
    private MemoryBuffer1D<float, Stride1D.Dense>? c;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> scalar;
    private readonly MemoryBuffer1D<long, Stride1D.Dense> sink;
    private long busyFixedNs = -1;
    private long busyWaveNs = -1;
    private float* host;
    private PageLockScope<float>? hostLock;

    /// <summary>Opens CUDA device <c>options.Id.Index</c>.</summary>
    /// <exception cref="InvalidOperationException">No such CUDA device is present.</exception>
    public CudaDevice(DeviceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        SyncMode = options.SyncMode;
        pinned = options.PinnedHost;
        context = Context.Create(builder => builder.Cuda().Profiling());
        var devices = context.GetCudaDevices();
        var ordinal = options.CudaOrdinal ?? options.Id.Index;
        if (ordinal >= devices.Count)
        {
            context.Dispose();
            throw new InvalidOperationException($"cuda:{options.Id.Index} is not present: ILGPU found {devices.Count} CUDA device(s); check the driver (nvidia-smi) or use device sim");
        }

        var flags = options.SyncMode switch
        {
            SyncMode.Spin => CudaAcceleratorFlags.ScheduleSpin,
            SyncMode.Yield => CudaAcceleratorFlags.ScheduleYield,
            _ => CudaAcceleratorFlags.ScheduleBlockingSync,
        };
        accelerator = context.CreateCudaAccelerator(ordinal, flags);
        var streamNote = "";
        if (options.HighPriorityStream)
        {
            (stream, streamNote) = PriorityStream(accelerator);
        }
        else
        {
            stream = accelerator.CreateStream();
        }

        timer = options.TimeKernels ? new KernelTimer(accelerator, (CudaStream)stream, options.KernelTimingBudget, options.HoldTimedBatches) : null;
        kernels = new KernelLaunches(accelerator);
        // Experimental (issue 13): a best-effort tenant's GEMMs and element-wise kernels keep off the
        // first N multiprocessors (CONTENTION_RESERVE_SMS), a latency-sensitive one's keep to the
        // first N (CONTENTION_SERVICE_SMS).
        var sms = accelerator.NumMultiprocessors;
        var kept = options.HighPriorityStream ? KernelLaunches.RequestedServiceSms : KernelLaunches.RequestedReservedSms;
        var range = kept <= 0 ? SmRange.All : options.HighPriorityStream ? SmRange.First(Math.Min(kept, sms)) : SmRange.AfterFirst(Math.Min(kept, sms - 1));
        if (range.OutsideOf(sms) > 0)
        {
            smRange = range;
            streamNote += $", GEMMs and element-wise kernels persistent on {smRange.Describe(sms)} only";
        }

        scalar = accelerator.Allocate1D<float>(1);
        sink = accelerator.Allocate1D<long>(1);
        Id = options.Id;
        Description = $"{accelerator.Name} (ILGPU CUDA, sync {options.SyncMode.ToString().ToLowerInvariant()}, {(pinned ? "pinned" : "pageable")} host memory{streamNote})";
    }

    /// <summary>
    /// A stream with the context's greatest priority, and a note for the description; a stream of
    /// default priority, saying why, when the driver will not make one. Stream priorities order
    /// pending blocks within a context only: they do not reach another process's kernels.
    /// </summary>
    private static (AcceleratorStream Stream, string Note) PriorityStream(CudaAccelerator accelerator)
    {
        using var binding = accelerator.BindScoped();
        var range = CudaDriver.GetStreamPriorityRange(out var least, out var greatest);
        if (range != 0)
        {
            return (accelerator.CreateStream(), $", default stream priority: the driver gave no priority range (error {range})");
        }

        var created = CudaDriver.CreateStreamWithPriority(out var handle, CudaDriver.NonBlocking, greatest);
        return created == 0
            ? (accelerator.CreateStream(handle, true), $", stream priority {greatest} of {least}..{greatest}")
            : (accelerator.CreateStream(), $", default stream priority: the driver made no stream of priority {greatest} (error {created})");
    }

    /// <summary>How many CUDA devices ILGPU finds; 0 when the driver or libcuda is missing.</summary>
    public static int CountDevices()
    {
        try
        {
            using var probe = Context.Create(builder => builder.Cuda());
            return probe.GetCudaDevices().Count;
        }
        catch (Exception ex) when (ex is DllNotFoundException or TypeInitializationException or InvalidOperationException or NotSupportedException or CudaException)
        {
            return 0;
        }
    }

    /// <inheritdoc />
    public DeviceId Id { get; }

    /// <inheritdoc />
    public string Description { get; }

    /// <inheritdoc />
    public SyncMode SyncMode { get; }

    /// <inheritdoc />
    /// <remarks>Estimated from CUDA events around a sample of the kernels (<see cref="KernelTimer"/>).</remarks>
    public long? KernelNs => timer?.EstimateNs;

    /// <inheritdoc />
    public KernelSampling? Sampling => timer?.Sampling;

    /// <summary>Lets the stream run a timed batch the kernel timer holds until its kernels are queued (<see cref="KernelTimer.Release"/>): called on the tenant's thread before something else holds its next launch (an arbiter).</summary>
    internal void ReleaseHeldBatch() => timer?.Release();

    /// <inheritdoc />
    TimedBatch? IBatchTiming.LastTimedBatch => timer?.LastBatch;

    /// <inheritdoc />
    public void Prepare(IEnumerable<KernelSpec> kernels)
    {
        var list = kernels as IReadOnlyCollection<KernelSpec> ?? [.. kernels];
        var need = WorkspaceSize.For(list);
        if (a is not null && size.Covers(need))
        {
            return;
        }

        size = size.Union(need);
        a?.Dispose();
        b?.Dispose();
        c?.Dispose();
        a = Filled(size.A, 0.5f);
        b = Filled(size.B, 0.25f);
        c = accelerator.Allocate1D<float>(size.C);
        AllocateHost(size.Host);
        timer?.Release();
        accelerator.Synchronize();
        if (busyFixedNs < 0 && list.Any(k => k.Kind == KernelKind.Replay))
        {
            busyFixedNs = BusyFixedNs();
            busyWaveNs = BusyWaveNs();
        }
    }

    /// <summary>
    /// What a replayed kernel's stand-in takes beyond its waits on this GPU, ns: the median GPU time
    /// of a busy kernel of one warp that does not wait, launched back to back (launch and block
    /// scheduling). Each replayed kernel waits that much less than its recorded time.
    /// </summary>
    public long BusyFixedNs()
    {
        // Behind a 200 us busy kernel, 16 that do not wait; the median of 9.
        var none = KernelSpec.Replay(1, 1, 32, 1);
        return (long)Math.Round(MedianBetweenMarkers(9, 16, () => kernels.Busy(stream, sink.View, BusySpacer, 0), () => kernels.Busy(stream, sink.View, none, 0)));
    }

    /// <summary>
    /// What each wave of a replayed kernel's stand-in after the first costs beyond its waits on this
    /// GPU, ns: the GPU time of a busy kernel of 9 waves of 256-thread blocks that do not wait less
    /// that of 1 wave, over 8 (medians of 9, launched back to back behind a 200 µs busy kernel).
    /// </summary>
    public long BusyWaveNs()
    {
        var slots = kernels.BusyResident(256) * accelerator.NumMultiprocessors;
        var oneNs = MedianBetweenMarkers(9, 8, () => kernels.Busy(stream, sink.View, BusySpacer, 0), () => kernels.BusyBlocks(stream, sink.View, slots, 256, 0));
        var nineNs = MedianBetweenMarkers(9, 8, () => kernels.Busy(stream, sink.View, BusySpacer, 0), () => kernels.BusyBlocks(stream, sink.View, 9 * slots, 256, 0));
        return Math.Max(0, (long)Math.Round((nineNs - oneNs) / 8));
    }

    /// <summary>The busy stand-ins' calibration on this GPU (ns beyond the waits per kernel and per wave after the first); -1 before a replayed kernel was prepared.</summary>
    public (long FixedNs, long WaveNs) BusyCalibration => (busyFixedNs, busyWaveNs);

    // What replay measurements queue first: a busy kernel of one warp waiting 200 us.
    private static readonly KernelSpec BusySpacer = KernelSpec.Replay(200_000, 1, 32, 1);

    /// <inheritdoc />
    public void Release()
    {
        Synchronize();
        a?.Dispose();
        b?.Dispose();
        c?.Dispose();
        a = b = c = null;
        FreeHost();
        size = default;
    }

    /// <inheritdoc />
    public void Launch(in KernelSpec kernel)
    {
        if (a is null || b is null || c is null)
        {
            throw new InvalidOperationException("Prepare the device with the workload's kernels before launching");
        }

        WaitForWord();

        if (kernel.Kind is KernelKind.Gemm or KernelKind.Elementwise or KernelKind.Reduce or KernelKind.Replay)
        {
            var timed = timer?.Begin() ?? false;
            LaunchCompute(kernel, a, b, c);
            timer?.End(timed);
            return;
        }

        // Copies are not timed and wait behind no hold.
        timer?.Release();
        switch (kernel.Kind)
        {
            case KernelKind.CopyToDevice:
                a.AsContiguous().SubView(0, kernel.Elements).CopyFromCPUUnsafeAsync(stream, ref host[0], kernel.Elements);
                break;
            case KernelKind.CopyToHost:
                a.AsContiguous().SubView(0, kernel.Elements).CopyToCPUUnsafeAsync(stream, ref host[0], kernel.Elements);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kernel), kernel.Kind, "unknown kernel kind");
        }
    }

    /// <inheritdoc />
    public void Synchronize()
    {
        DrainStream();
        timer?.Collect();
    }

    // Waits for the stream, the kernel timer's hold released first (a held stream never drains).
    private void DrainStream()
    {
        timer?.Release();
        stream.Synchronize();
    }

    /// <summary>
    /// The GPU time of one compute kernel as a workload launches it, ns: the median over
    /// <paramref name="repetitions"/> of CUDA events just before and after <paramref name="launches"/>
    /// launches of it (divided by their count), queued behind a spacer kernel that keeps the GPU
    /// busy meanwhile, so the time is the kernels' own and not the launches' way to the GPU. One
    /// launch runs with the L2 cache cold (the spacer streams through it); several mostly warm.
    /// Prepare the device with the kernel and <see cref="Spacer"/> first.
    /// </summary>
    public double MeasureKernelNs(in KernelSpec kernel, int repetitions, int launches = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(launches);
        if (a is null || b is null || c is null)
        {
            throw new InvalidOperationException("Prepare the device with the kernel and the spacer before measuring");
        }

        var (measured, ahead) = (kernel, Spacer);
        return MedianBetweenMarkers(repetitions, launches, () => LaunchCompute(ahead, a, b, c), () => LaunchCompute(measured, a, b, c));
    }

    // The median over repetitions of the GPU time per launch of launches launches queued behind
    // what ahead queues (so the host is ahead of the GPU), between two profiling markers, ns.
    private double MedianBetweenMarkers(int repetitions, int launches, Action ahead, Action launch)
    {
        var samples = new double[repetitions];
        for (var i = 0; i < repetitions; i++)
        {
            ahead();
            using var begin = stream.AddProfilingMarker();
            for (var l = 0; l < launches; l++)
            {
                launch();
            }

            using var end = stream.AddProfilingMarker();
            DrainStream();
            samples[i] = (end - begin).Ticks * 100.0 / launches;
        }

        Array.Sort(samples);
        return samples[repetitions / 2];
    }

    /// <summary>The GPU time of a replayed kernel's stand-in (<see cref="KernelSpec.Replay"/>), ns: the median of <paramref name="repetitions"/>, each behind a 200 µs busy kernel, between CUDA events.</summary>
    public double MeasureReplayNs(in KernelSpec kernel, int repetitions)
    {
        if (kernel.Kind != KernelKind.Replay)
        {
            throw new ArgumentException("a replayed kernel (KernelSpec.Replay)", nameof(kernel));
        }

        var replayed = kernel;
        return MedianBetweenMarkers(repetitions, 1, () => kernels.Busy(stream, sink.View, BusySpacer, 0), () => kernels.Busy(stream, sink.View, replayed, Math.Max(0, busyFixedNs), Math.Max(0, busyWaveNs)));
    }

    /// <summary>
    /// How many blocks of the GEMM kernel one multiprocessor holds at once: the driver's
    /// occupancy estimate for the compiled kernel's registers and shared memory at its block size.
    /// </summary>
    public int GemmBlocksPerMultiprocessor => kernels.GemmBlocksPerMultiprocessor;

    /// <summary>Whether this device launches <paramref name="kernel"/>, whole, as a memset and a kernel (<see cref="CudaKernels.LaunchesMemsetFirst"/>).</summary>
    public bool LaunchesMemsetFirst(in KernelSpec kernel) => CudaKernels.LaunchesMemsetFirst(kernel, accelerator.NumMultiprocessors);

    /// <summary>The kernel <see cref="MeasureKernelNs"/> queues first: an element-wise pass over 64 Mi elements (about 0.3 ms on an H200).</summary>
    public static KernelSpec Spacer { get; } = KernelSpec.Elementwise(64L << 20, ElementwiseOp.Add);

    private void LaunchCompute(in KernelSpec kernel, MemoryBuffer1D<float, Stride1D.Dense> a, MemoryBuffer1D<float, Stride1D.Dense> b, MemoryBuffer1D<float, Stride1D.Dense> c, int part = 0, int parts = 1)
    {
        switch (kernel.Kind)
        {
            case KernelKind.Gemm when (!smRange.IsAll || pausable) && parts == 1:
                kernels.GemmPausable(stream, a.View, b.View, c.View, kernel.M, kernel.N, kernel.K, smRange, default, (long)pauseAddress, keepFree: pausable ? 1 : 0);
                break;
            case KernelKind.Gemm:
                kernels.Gemm(stream, a.View, b.View, c.View, kernel.M, kernel.N, kernel.K, part, parts);
                break;
            case KernelKind.Elementwise when (!smRange.IsAll || pausable) && parts == 1:
                kernels.ElementwiseAvoiding(stream, a.View, b.View, c.View, (int)kernel.Elements, (int)kernel.Op, smRange, default, (long)pauseAddress, keepFree: pausable ? 1 : 0);
                break;
            case KernelKind.Elementwise:
                kernels.Elementwise(stream, a.View, b.View, c.View, (int)kernel.Elements, (int)kernel.Op, part, parts);
                break;
            case KernelKind.Reduce:
                kernels.Reduce(stream, a.View, scalar.View, (int)kernel.Elements, part, parts);
                break;
            case KernelKind.Replay:
                kernels.Busy(stream, sink.View, kernel, Math.Max(0, busyFixedNs), Math.Max(0, busyWaveNs));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kernel), kernel.Kind, "not a compute kernel");
        }
    }

    /// <inheritdoc />
    public int MaxParts(in KernelSpec kernel) => kernels.MaxParts(kernel);

    /// <inheritdoc />
    public byte[] ShareStopWord()
    {
        using var binding = accelerator.BindScoped();
        if (stopWord is null)
        {
            stopWord = accelerator.Allocate1D<int>(1);
            stopWord.MemSetToZero(stream);
            DrainStream();
        }

        var exported = CudaDriver.IpcGetMemHandle(out var handle, StopWordAddress);
        if (exported != 0)
        {
            throw new InvalidOperationException($"the driver would not export the stop word for other processes (cuIpcGetMemHandle: error {exported})");
        }

        return ((ReadOnlySpan<byte>)handle).ToArray();
    }

    /// <inheritdoc />
    public void SetStopWord(bool stopped)
    {
        if (stopWord is null)
        {
            throw new InvalidOperationException("this tenant shared no stop word (ShareStopWord)");
        }

        var written = CudaDriver.StreamWriteValue32(((CudaStream)stream).StreamPtr, StopWordAddress, stopped ? 1u : 0u, 0);
        if (written != 0)
        {
            throw new InvalidOperationException($"the driver would not queue the stop word's write on the stream (cuStreamWriteValue32: error {written}); stream memory operations may be off on this GPU or driver");
        }
    }

    /// <inheritdoc />
    public void PauseAt(ReadOnlySpan<byte> handle)
    {
        pausable = true;
        OpenWord(handle);
    }

    /// <inheritdoc />
    public void WaitAt(ReadOnlySpan<byte> handle)
    {
        streamGated = true;
        OpenWord(handle);
    }

    /// <inheritdoc />
    public bool ClearWaitedWord()
    {
        lock (wordLock)
        {
            if (pauseAddress == 0)
            {
                return false;
            }

            using var binding = accelerator.BindScoped();
            if (clearingStream == IntPtr.Zero)
            {
                // A stream of its own, not waiting for the legacy stream: the tenant's stream stands
                // at the word's wait, and the write must not queue behind it.
                var created = CudaDriver.CreateStream(out clearingStream, CudaDriver.NonBlocking);
                if (created != 0)
                {
                    clearingStream = IntPtr.Zero;
                    throw new InvalidOperationException($"the driver would not create a stream to clear the stop word (cuStreamCreate: error {created})");
                }
            }

            var written = CudaDriver.StreamWriteValue32(clearingStream, pauseAddress, 0, 0);
            var done = written == 0 ? CudaDriver.SynchronizeStream(clearingStream) : written;
            return done == 0 ? true : throw new InvalidOperationException($"the driver would not clear the stop word (cuStreamWriteValue32 / cuStreamSynchronize: error {done})");
        }
    }

    // The stream waits, on the GPU, until the word it waits at is clear (WaitAt); nothing without one.
    private void WaitForWord()
    {
        if (!streamGated || pauseAddress == 0)
        {
            return;
        }

        var queued = CudaDriver.StreamWaitValue32(((CudaStream)stream).StreamPtr, pauseAddress, 0, CudaDriver.StreamWaitValueEqual);
        if (queued != 0)
        {
            throw new InvalidOperationException($"the driver would not queue the wait at the stop word on the stream (cuStreamWaitValue32: error {queued}); stream memory operations may be off on this GPU or driver");
        }
    }

    // Opens another process's stop word (closing the one before); an empty handle: none.
    private void OpenWord(ReadOnlySpan<byte> handle)
    {
        lock (wordLock)
        {
            using var binding = accelerator.BindScoped();
            if (pauseAddress != 0)
            {
                _ = CudaDriver.IpcCloseMemHandle(pauseAddress);
                pauseAddress = 0;
            }

            if (handle.IsEmpty)
            {
                return;
            }

            if (handle.Length != CudaDriver.IpcHandleBytes)
            {
                throw new ArgumentException($"a CUDA IPC handle is {CudaDriver.IpcHandleBytes} bytes, not {handle.Length}", nameof(handle));
            }

            var ipc = default(CudaDriver.IpcMemHandle);
            handle.CopyTo(ipc);
            var opened = CudaDriver.IpcOpenMemHandle(out var address, ipc, CudaDriver.IpcLazyEnablePeerAccess);
            if (opened != 0)
            {
                throw new InvalidOperationException($"the driver would not open the latency-sensitive tenant's stop word (cuIpcOpenMemHandle: error {opened}); CUDA IPC needs both processes on one GPU, as MPS clients of one server or neither");
            }

            pauseAddress = address;
        }
    }

    private ulong StopWordAddress => (ulong)((ArrayView<int>)stopWord!.View).LoadEffectiveAddressAsPtr().ToInt64();

    /// <inheritdoc />
    /// <remarks>Each part is timed (or not) as a kernel of its own.</remarks>
    public void LaunchPart(in KernelSpec kernel, int part, int parts)
    {
        if (parts == 1 || kernel.Kind is not (KernelKind.Gemm or KernelKind.Elementwise or KernelKind.Reduce))
        {
            Launch(kernel);
            return;
        }

        if (a is null || b is null || c is null)
        {
            throw new InvalidOperationException("Prepare the device with the workload's kernels before launching");
        }

        WaitForWord();
        var timed = timer?.Begin() ?? false;
        LaunchCompute(kernel, a, b, c, part, parts);
        timer?.End(timed);
    }

    /// <inheritdoc />
    /// <remarks>A GEMM's pieces over ranges of its row blocks (<see cref="GemmSlicing.Narrow"/>), at most two blocks per multiprocessor where a row block allows.</remarks>
    public int NarrowParts(in KernelSpec kernel) => kernels.NarrowParts(kernel);

    /// <inheritdoc />
    /// <remarks>Each piece is timed (or not) as a kernel of its own.</remarks>
    public void LaunchNarrow(in KernelSpec kernel, int piece, int pieces)
    {
        if (pieces == 1 || kernel.Kind != KernelKind.Gemm)
        {
            Launch(kernel);
            return;
        }

        if (a is null || b is null || c is null)
        {
            throw new InvalidOperationException("Prepare the device with the workload's kernels before launching");
        }

        var timed = timer?.Begin() ?? false;
        kernels.GemmNarrow(stream, a.View, b.View, c.View, kernel.M, kernel.N, kernel.K, piece, pieces);
        timer?.End(timed);
    }

    /// <inheritdoc />
    public float[] Gemm(float[] a, float[] b, int m, int n, int k)
    {
        using var da = accelerator.Allocate1D(a);
        using var db = accelerator.Allocate1D(b);
        using var dc = accelerator.Allocate1D<float>((long)m * n);
        kernels.Gemm(stream, da.View, db.View, dc.View, m, n, k);
        DrainStream();
        return dc.GetAsArray1D();
    }

    /// <inheritdoc />
    public float[] Elementwise(ElementwiseOp op, float[] x, float[] y)
    {
        ArgumentNullException.ThrowIfNull(x);
        using var dx = accelerator.Allocate1D(x);
        using var dy = accelerator.Allocate1D(y);
        using var dz = accelerator.Allocate1D<float>(x.Length);
        kernels.Elementwise(stream, dx.View, dy.View, dz.View, x.Length, (int)op);
        DrainStream();
        return dz.GetAsArray1D();
    }

    /// <inheritdoc />
    public float Reduce(float[] x)
    {
        ArgumentNullException.ThrowIfNull(x);
        using var dx = accelerator.Allocate1D(x);
        kernels.Reduce(stream, dx.View, scalar.View, x.Length);
        DrainStream();
        return scalar.GetAsArray1D()[0];
    }

    /// <inheritdoc />
    public float[] RoundTrip(float[] x)
    {
        ArgumentNullException.ThrowIfNull(x);
        Prepare([KernelSpec.CopyToDevice(x.Length)]);
        new Span<float>(host, x.Length).Clear();
        x.CopyTo(new Span<float>(host, x.Length));
        Launch(KernelSpec.CopyToDevice(x.Length));

        // From pinned memory the copy is asynchronous DMA: the host buffer may be reused only
        // after the stream has drained.
        DrainStream();
        new Span<float>(host, x.Length).Clear();
        Launch(KernelSpec.CopyToHost(x.Length));
        DrainStream();
        return new Span<float>(host, x.Length).ToArray();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        // A held stream would keep freeing the buffers (which waits for the device) from returning.
        timer?.Release();
        if (pauseAddress != 0)
        {
            _ = CudaDriver.IpcCloseMemHandle(pauseAddress);
        }

        if (clearingStream != IntPtr.Zero)
        {
            _ = CudaDriver.DestroyStream(clearingStream);
        }

        stopWord?.Dispose();
        a?.Dispose();
        b?.Dispose();
        c?.Dispose();
        scalar.Dispose();
        sink.Dispose();
        FreeHost();
        timer?.Dispose();
        stream.Dispose();
        accelerator.Dispose();
        context.Dispose();
    }

    private MemoryBuffer1D<float, Stride1D.Dense> Filled(long length, float value)
    {
        var buffer = accelerator.Allocate1D<float>(length);
        var fill = new float[Math.Min(length, 1 << 20)];
        Array.Fill(fill, value);
        for (long offset = 0; offset < length; offset += fill.Length)
        {
            var count = Math.Min(fill.Length, length - offset);
            buffer.View.SubView(offset, count).CopyFromCPU(ref fill[0], count);
        }

        return buffer;
    }

    private void AllocateHost(long length)
    {
        FreeHost();
        var bytes = (nuint)(length * sizeof(float));
        host = (float*)NativeMemory.AlignedAlloc(bytes, 4096);
        new Span<float>(host, checked((int)length)).Fill(1f);
        if (pinned)
        {
            hostLock = accelerator.CreatePageLockFromPinned<float>((IntPtr)host, length);
        }
    }

    private void FreeHost()
    {
        hostLock?.Dispose();
        hostLock = null;
        if (host is not null)
        {
            NativeMemory.AlignedFree(host);
            host = null;
        }
    }
}
