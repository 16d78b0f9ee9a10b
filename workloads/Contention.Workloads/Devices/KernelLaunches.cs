using Contention.Workloads.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace Contention.Workloads.Devices;

/// <summary>
/// The compute kernels of <see cref="CudaKernels"/> loaded on one ILGPU accelerator (a CUDA GPU,
/// or the CPU emulator in tests), launched whole or in parts over disjoint ranges of their blocks
/// (kernel slicing): a GEMM's parts are ranges of its row blocks (every column block and K slice
/// of each) when it runs in several waves, else ranges of K (<see cref="GemmSlicing"/>), an
/// element-wise kernel's and a reduction's ranges of their elements in whole groups' worth. The
/// parts of a kernel compute what the whole one does.
/// </summary>
internal sealed class KernelLaunches
{
    private readonly Accelerator accelerator;
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int, int, int, int> gemm;
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int, ArrayView<int>, int, ArrayView<int>, long, int, int> gemmAvoiding;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int> elementwise;
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, ArrayView<int>, int, ArrayView<int>, long, int> elementwiseAvoiding;
    private MemoryBuffer1D<int, Stride1D.Dense>? counters;
    private readonly int avoidingCounters;
    private int nextCounter;
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, int> reduce;
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<long>, long> busy;
    private readonly Dictionary<int, int> busyResident = [];
    private readonly int gemmBlocksPerMultiprocessor;
    private readonly int gemmAvoidingBlocksPerMultiprocessor;

    /// <summary>Elements of an element-wise kernel's part, in multiples of this (a group of threads).</summary>
    public const int ElementwiseChunk = 256;

    public KernelLaunches(Accelerator accelerator, int avoidingCounters = AvoidingCounters)
    {
        this.accelerator = accelerator;
        this.avoidingCounters = avoidingCounters;
        gemm = accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int, int, int, int>(CudaKernels.Gemm);
        gemmAvoiding = accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int, ArrayView<int>, int, ArrayView<int>, long, int, int>(CudaKernels.GemmAvoiding);
        elementwiseAvoiding = accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, ArrayView<int>, int, ArrayView<int>, long, int>(CudaKernels.ElementwiseAvoiding);
        elementwise = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(CudaKernels.Elementwise);
        reduce = accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, int>(CudaKernels.Reduce);
        busy = accelerator.LoadKernel<ArrayView<long>, long>(CudaKernels.Busy);
        ReduceGroups = accelerator.NumMultiprocessors * 4;
        gemmBlocksPerMultiprocessor = Math.Max(1, accelerator.EstimateMaxActiveGroupsPerMultiprocessor(KernelUtil.GetKernel(gemm), CudaKernels.GemmThreads * CudaKernels.GemmThreads));
        gemmAvoidingBlocksPerMultiprocessor = Math.Max(1, accelerator.EstimateMaxActiveGroupsPerMultiprocessor(KernelUtil.GetKernel(gemmAvoiding), CudaKernels.GemmThreads * CudaKernels.GemmThreads));
    }

    /// <summary>Groups of a reduction's launch: four per multiprocessor, grid-strided.</summary>
    public int ReduceGroups { get; }

    /// <summary>How many blocks of the GEMM kernel one multiprocessor holds at once (the driver's occupancy estimate).</summary>
    public int GemmBlocksPerMultiprocessor => gemmBlocksPerMultiprocessor;

    /// <summary>How many groups of <see cref="CudaKernels.GemmAvoiding"/> one multiprocessor holds at once (its own occupancy estimate: its grid).</summary>
    public int GemmAvoidingBlocksPerMultiprocessor => gemmAvoidingBlocksPerMultiprocessor;

    /// <summary>
    /// The most parts a compute kernel is worth launching as: a GEMM's as <see cref="GemmSlicing.MaxParts"/>
    /// (its waves over row blocks, or its depth over K); an element-wise kernel's no more than its
    /// waves of blocks (a part shorter than a wave lasts as long, on fewer multiprocessors); for a
    /// reduction (one wave, grid-strided), as many parts as leave each thread an element.
    /// </summary>
    public int MaxParts(in KernelSpec kernel)
    {
        var sms = (long)accelerator.NumMultiprocessors;
        switch (kernel.Kind)
        {
            case KernelKind.Gemm:
                return GemmSlicing.MaxParts(kernel.M, kernel.N, kernel.K, accelerator.NumMultiprocessors, gemmBlocksPerMultiprocessor);
            case KernelKind.Elementwise:
                var perWave = sms * accelerator.MaxNumThreadsPerMultiprocessor;
                return (int)Math.Min(KernelParts.MaxParts(kernel.Elements, ElementwiseChunk), Math.Max(1, (kernel.Elements + perWave - 1) / perWave));
            case KernelKind.Reduce:
                return KernelParts.MaxParts(kernel.Elements, (long)ReduceGroups * CudaKernels.ReduceGroup);
            default:
                return 1;
        }
    }

    /// <summary>
    /// C[m, n] = A·B, or part <paramref name="part"/> of <paramref name="parts"/> of it: its rows
    /// (whole row blocks; with split K, the part's rows of C are zeroed first, on the stream) when
    /// the parts fit in its waves (<see cref="GemmSlicing.ByRows"/>), else its products over a range
    /// of K for all of C, in as many blocks as the whole kernel (<see cref="GemmSlicing.DepthSlice"/>),
    /// adding into C (the first part zeroes C).
    /// </summary>
    public void Gemm(AcceleratorStream stream, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int m, int n, int k, int part = 0, int parts = 1)
    {
        var sms = accelerator.NumMultiprocessors;
        var group = new Index3D(CudaKernels.GemmThreads, CudaKernels.GemmThreads, 1);
        if (parts > 1 && !GemmSlicing.ByRows(parts, m, n, k, sms, gemmBlocksPerMultiprocessor))
        {
            if (part == 0)
            {
                c.SubView(0, (long)m * n).MemSetToZero(stream);
            }

            var (kFrom, kTo) = GemmSlicing.DepthRange(k, part, parts);
            if (kFrom == kTo)
            {
                return;
            }

            var depthSlice = GemmSlicing.DepthSlice(m, n, k, kTo - kFrom, sms);
            var depthGrid = new Index3D((int)GemmSlicing.RowBlocks(m), GemmSlicing.ColumnBlocks(n), (kTo - kFrom + depthSlice - 1) / depthSlice);
            gemm(stream, new KernelConfig(depthGrid, group), a, b, c, m, n, k, depthSlice, 0, kFrom, kTo);
            return;
        }

        GemmRows(stream, a, b, c, m, n, k, part, parts, CudaKernels.SliceK(m, n, k, sms));
    }

    /// <summary>
    /// Experimental (issue 13): how many multiprocessors a best-effort tenant's kernels keep off,
    /// from <c>CONTENTION_RESERVE_SMS</c> in the process's environment (0: none).
    /// </summary>
    public static int RequestedReservedSms { get; } = int.TryParse(Environment.GetEnvironmentVariable("CONTENTION_RESERVE_SMS"), out var reserved) ? Math.Max(0, reserved) : 0;

    /// <summary>
    /// Experimental (issue 13): how many multiprocessors a latency-sensitive tenant's GEMMs and
    /// element-wise kernels keep to — the first N, those <c>CONTENTION_RESERVE_SMS</c> keeps the
    /// best-effort tenants off — from <c>CONTENTION_SERVICE_SMS</c> in the process's environment
    /// (0: every multiprocessor, its kernels launched as plain grids).
    /// </summary>
    public static int RequestedServiceSms { get; } = int.TryParse(Environment.GetEnvironmentVariable("CONTENTION_SERVICE_SMS"), out var kept) ? Math.Max(0, kept) : 0;

    /// <summary>
    /// Experimental (issue 13): under the spatial arbiter, a best-effort tenant's GEMMs and
    /// element-wise kernels are persistent, leave one group's place free on every multiprocessor,
    /// and pause while the latency-sensitive tenant's work is on the GPU (<see cref="IPausingDevice"/>;
    /// one latency-sensitive tenant a GPU: the last to join is the one whose word counts), from
    /// <c>CONTENTION_PAUSE=1</c> in the process's environment.
    /// </summary>
    public static bool RequestedPause { get; } = Environment.GetEnvironmentVariable("CONTENTION_PAUSE") == "1";

    /// <summary>
    /// Experimental (issue 13): under the spatial arbiter, a best-effort tenant's stream waits on the
    /// GPU before each of its kernels and copies while the latency-sensitive tenant's stop word is set
    /// (<see cref="IPausingDevice.WaitAt"/>): its kernels launch as ever, whole or in the arbiter's
    /// slices, and its host queues on; from <c>CONTENTION_PAUSE=stream</c> (the service's word set until
    /// its queue is empty) or <c>CONTENTION_PAUSE=stream-request</c> (cleared after each request's last
    /// kernel, <see cref="RequestedStreamClearEachRequest"/>) in the process's environment.
    /// </summary>
    public static bool RequestedStreamGate { get; } = Environment.GetEnvironmentVariable("CONTENTION_PAUSE") is "stream" or "stream-request" or "stream-next";

    /// <summary>With <see cref="RequestedStreamGate"/>: the service's stream clears its word after each request's last kernel (<c>CONTENTION_PAUSE=stream-request</c>), not when its queue is empty.</summary>
    public static bool RequestedStreamClearEachRequest { get; } = Environment.GetEnvironmentVariable("CONTENTION_PAUSE") == "stream-request";

    /// <summary>
    /// With <see cref="RequestedStreamGate"/>: the service's stream clears its word after a request's
    /// last kernel when its next request has not arrived by the time that work is queued, else keeps
    /// it set (<c>CONTENTION_PAUSE=stream-next</c>; <see cref="IComputeDevice.NextArrival"/>).
    /// </summary>
    public static bool RequestedStreamClearUnlessQueued { get; } = Environment.GetEnvironmentVariable("CONTENTION_PAUSE") == "stream-next";

    /// <summary>Counters of <see cref="GemmAvoiding"/>'s and <see cref="ElementwiseAvoiding"/>'s launches: each launch takes the next, the ring zeroed (on the stream, after the launches before) when it comes round.</summary>
    public const int AvoidingCounters = 4096;

    /// <summary>
    /// How many looks at its stop word a paused GEMM group takes before it goes on regardless: each
    /// look naps 1 us and reads device memory (about 1.5 us on an H200 in all), so ~30 ms: longer than any
    /// request of a latency-sensitive tenant, short enough that one which died with the word set
    /// (or a word never cleared) costs the others little.
    /// </summary>
    public const int PauseLooksAtMost = 20_000;

    /// <summary>How many tiles per group <see cref="GemmAvoiding"/> cuts a GEMM's K into, by default (measured on the H200: <c>bench gemm</c>).</summary>
    public const int PersistentTilesPerGroup = 4;

    /// <summary>
    /// C[m, n] = A·B by groups that keep to the multiprocessors of <paramref name="smRange"/> and
    /// take tiles from a counter (<see cref="CudaKernels.GemmAvoiding"/>).
    /// K is cut into slices (added into C, zeroed first on the stream) until there are about
    /// <paramref name="tilesPerGroup"/> tiles for every group the other multiprocessors hold at
    /// once, so the groups that stay share the work out among them; the grid is the tiles plus the
    /// groups the multiprocessors outside the range hold (those leave), no more than the GPU holds at once.
    /// </summary>
    public void GemmAvoiding(AcceleratorStream stream, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int m, int n, int k, SmRange smRange, int tilesPerGroup = PersistentTilesPerGroup) =>
        GemmPausable(stream, a, b, c, m, n, k, smRange, default, 0, tilesPerGroup);

    /// <summary>
    /// <see cref="GemmAvoiding"/> whose groups pause in place while a stop word is not 0:
    /// <paramref name="stop"/>[0] where it has an element, else the word at the device address
    /// <paramref name="stopAddress"/> (host memory mapped for the device), looked at every
    /// <paramref name="lookSteps"/> steps of K, for at most <paramref name="maxLooks"/> looks a pause;
    /// <paramref name="keepFree"/> of the groups a multiprocessor holds left to other kernels (a
    /// paused group keeps its place: another tenant's blocks need their own).
    /// </summary>
    public void GemmPausable(AcceleratorStream stream, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int m, int n, int k, SmRange smRange, ArrayView<int> stop, long stopAddress, int tilesPerGroup = PersistentTilesPerGroup, int lookSteps = CudaKernels.StopLookSteps, int maxLooks = PauseLooksAtMost, int keepFree = 0)
    {
        var sms = accelerator.NumMultiprocessors;
        var reserved = OutsideOf(smRange);
        var (slice, groups) = PersistentGemm(m, n, k, sms, Math.Max(1, gemmAvoidingBlocksPerMultiprocessor - keepFree), reserved, tilesPerGroup);
        if ((k + slice - 1) / slice > 1)
        {
            c.SubView(0, (long)m * n).MemSetToZero(stream);
        }

        var counter = NextCounter(stream);
        gemmAvoiding(stream, new KernelConfig(new Index3D(groups, 1, 1), new Index3D(CudaKernels.GemmThreads, CudaKernels.GemmThreads, 1)), a, b, c, m, n, k, slice, counter, smRange.Packed, StopOrNone(stop, counter), stopAddress, Math.Max(1, lookSteps), maxLooks);
    }

    /// <summary>
    /// <paramref name="stop"/> where it has a word, else an empty view of <paramref name="some"/>'s
    /// buffer: a kernel's "no stop word". ILGPU's CUDA launcher takes each view's address from its
    /// buffer and fails on a view of none (<c>default</c>); its CPU emulator does not, so only a
    /// GPU showed it.
    /// </summary>
    public static ArrayView<int> StopOrNone(ArrayView<int> stop, ArrayView<int> some) => stop.Length > 0 ? stop : some.SubView(0, 0);

    /// <summary>
    /// <see cref="GemmAvoiding"/>'s K slice and grid on a GPU of <paramref name="multiprocessors"/>
    /// holding <paramref name="resident"/> groups each, <paramref name="reserved"/> of them kept off.
    /// </summary>
    public static (int Slice, int Groups) PersistentGemm(int m, int n, int k, int multiprocessors, int resident, int reserved, int tilesPerGroup)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tilesPerGroup, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(resident, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(reserved);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(reserved, multiprocessors);
        var slice = CudaKernels.SliceKAtMost(m, n, k, (long)resident * (multiprocessors - reserved) * tilesPerGroup);

        // Launched with more groups than tiles, the groups that reached the counter first took the
        // tiles crowded onto fewer multiprocessors than a plain grid spreads its blocks over: small
        // GEMMs ran 1.55-1.64x slower on the H200 (bench gemm, 2026-12-03).
        var tiles = GemmSlicing.RowBlocks(m) * GemmSlicing.ColumnBlocks(n) * ((k + slice - 1) / slice);
        return (slice, (int)Math.Min((long)resident * multiprocessors, tiles + ((long)resident * reserved)));
    }

    /// <summary>
    /// An element-wise kernel over <paramref name="count"/> elements by as many groups of 256 as
    /// the GPU holds at once (less <paramref name="keepFree"/> a multiprocessor), none staying on
    /// a multiprocessor outside <paramref name="smRange"/>, each waiting before a
    /// chunk while a stop word is set: <paramref name="stop"/>[0] where it has an element, else
    /// the word at <paramref name="stopAddress"/> (0: none; <see cref="CudaKernels.ElementwiseAvoiding"/>).
    /// </summary>
    public void ElementwiseAvoiding(AcceleratorStream stream, ArrayView<float> x, ArrayView<float> y, ArrayView<float> z, int count, int op, SmRange smRange, ArrayView<int> stop = default, long stopAddress = 0, int maxLooks = PauseLooksAtMost, int keepFree = 0)
    {
        const int group = 256;
        var resident = Math.Max(1, (accelerator.MaxNumThreadsPerMultiprocessor / group) - keepFree);
        var groups = (int)Math.Min(accelerator.NumMultiprocessors * (long)resident, Math.Max(1, (count + CudaKernels.AvoidingChunk - 1) / CudaKernels.AvoidingChunk) + (OutsideOf(smRange) * 8L));
        var counter = NextCounter(stream);
        elementwiseAvoiding(stream, new KernelConfig(groups, group), x, y, z, count, op, counter, smRange.Packed, StopOrNone(stop, counter), stopAddress, maxLooks);
    }

    // How many of the GPU's multiprocessors lie outside the range; at least one must lie inside.
    private int OutsideOf(SmRange smRange)
    {
        var sms = accelerator.NumMultiprocessors;
        var outside = smRange.OutsideOf(sms);
        return outside < sms ? outside : throw new ArgumentOutOfRangeException(nameof(smRange), smRange, $"none of the GPU's {sms} multiprocessors is in the range");
    }

    // The next launch's tile counter (zero), the ring zeroed on the stream when it comes round.
    private ArrayView<int> NextCounter(AcceleratorStream stream)
    {
        if (counters is null)
        {
            counters = accelerator.Allocate1D<int>(avoidingCounters);
            counters.View.MemSetToZero(stream);
        }
        else if (nextCounter == avoidingCounters)
        {
            counters.View.MemSetToZero(stream);
            nextCounter = 0;
        }

        return counters.View.SubView(nextCounter++, 1);
    }

    /// <summary>The pieces a GEMM is launched narrow as (<see cref="GemmSlicing.Narrow"/>); 1 for any other kernel (an element-wise kernel's blocks are short, a reduction is not narrowed).</summary>
    public int NarrowParts(in KernelSpec kernel) =>
        kernel.Kind == KernelKind.Gemm ? GemmSlicing.Narrow(kernel.M, kernel.N, kernel.K, accelerator.NumMultiprocessors).Pieces : 1;

    /// <summary>Piece <paramref name="piece"/> of <paramref name="pieces"/> of a GEMM launched narrow (<see cref="GemmSlicing.Narrow"/>): its range of row blocks, K in the plan's slices.</summary>
    public void GemmNarrow(AcceleratorStream stream, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int m, int n, int k, int piece, int pieces)
    {
        var (planned, slice) = GemmSlicing.Narrow(m, n, k, accelerator.NumMultiprocessors);
        GemmRows(stream, a, b, c, m, n, k, piece, Math.Min(pieces, planned), slice);
    }

    // Part of parts over ranges of the row blocks, K in slices slice deep (adding into C, whose rows are zeroed first, when more than one).
    private void GemmRows(AcceleratorStream stream, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int m, int n, int k, int part, int parts, int slice)
    {
        var group = new Index3D(CudaKernels.GemmThreads, CudaKernels.GemmThreads, 1);
        var (from, to) = KernelParts.Range(GemmSlicing.RowBlocks(m), part, parts);
        if (from == to)
        {
            return;
        }

        var slices = (k + slice - 1) / slice;
        if (slices > 1)
        {
            var firstRow = from * CudaKernels.Tile;
            var endRow = Math.Min(m, to * CudaKernels.Tile);
            c.SubView(firstRow * n, (endRow - firstRow) * n).MemSetToZero(stream);
        }

        var grid = new Index3D((int)(to - from), GemmSlicing.ColumnBlocks(n), slices);
        gemm(stream, new KernelConfig(grid, group), a, b, c, m, n, k, slice, (int)from, 0, k);
    }

    /// <summary>
    /// The blocks of the busy kernel (<see cref="CudaKernels.Busy"/>) of <paramref name="threads"/>
    /// threads one multiprocessor holds at once (the driver's occupancy estimate; few registers, no
    /// shared memory: the threads set it).
    /// </summary>
    public int BusyResident(int threads)
    {
        if (!busyResident.TryGetValue(threads, out var resident))
        {
            busyResident[threads] = resident = Math.Max(1, accelerator.EstimateMaxActiveGroupsPerMultiprocessor(KernelUtil.GetKernel(busy), threads));
        }

        return resident;
    }

    /// <summary>
    /// A replayed kernel (<see cref="KernelSpec.Replay"/>): its recorded blocks of its recorded
    /// threads (a blockless copy or memset: one block of one warp), each busy-waiting (its first thread; the others at a barrier) long enough
    /// that the launch lasts the recorded time less <paramref name="fixedNs"/> (what a busy kernel
    /// takes beyond its waits: launch and block scheduling, calibrated on the GPU) and less
    /// <paramref name="waveNs"/> for each wave after the first (starting a wave, calibrated too) —
    /// the time over the waves the busy kernel runs in, which may be fewer than the recorded
    /// kernel's (it holds more blocks a multiprocessor: the recorded kernel's registers and shared
    /// memory are not reproduced; and waves shorter than <see cref="MinWaveNs"/> are merged,
    /// <see cref="BusyShape"/>). Writes the last wait to <paramref name="sink"/>[0].
    /// </summary>
    public void Busy(AcceleratorStream stream, ArrayView<long> sink, in KernelSpec kernel, long fixedNs, long waveNs = 0)
    {
        var (blocks, threads) = kernel.M > 0 && kernel.N > 0 ? (kernel.M, Math.Min(kernel.N, accelerator.MaxNumThreadsPerGroup)) : (1, 32);
        var (launched, waves) = BusyShape(blocks, threads, kernel.ReplayNs - fixedNs);
        busy(stream, new KernelConfig(new Index1D((int)launched), new Index1D(threads)), sink, Math.Max(0, kernel.ReplayNs - fixedNs - ((waves - 1) * waveNs)) / waves);
    }

    /// <summary>The busy kernel as given: <paramref name="blocks"/> blocks of <paramref name="threads"/> threads, each waiting <paramref name="spinNs"/> (calibrations).</summary>
    public void BusyBlocks(AcceleratorStream stream, ArrayView<long> sink, int blocks, int threads, long spinNs) =>
        busy(stream, new KernelConfig(new Index1D(blocks), new Index1D(threads)), sink, spinNs);

    /// <summary>The shortest wave a busy stand-in is given, ns: starting a wave costs the GPU microseconds (<c>CudaDevice.BusyWaveNs</c>), so a recorded kernel of many short waves is played in fewer, longer ones.</summary>
    public const long MinWaveNs = 20_000;

    /// <summary>
    /// The blocks a busy stand-in of <paramref name="blocks"/> blocks of <paramref name="threads"/>
    /// threads waiting <paramref name="ns"/> in all launches, and the waves they run in: as recorded,
    /// unless the waves would be shorter than <see cref="MinWaveNs"/>; then as many whole waves of
    /// the GPU as that allows (at least one), which hold every multiprocessor as the recorded
    /// kernel's waves did, for the same time.
    /// </summary>
    public (long Blocks, long Waves) BusyShape(long blocks, int threads, long ns)
    {
        var waves = BusyWaves(blocks, threads);
        var most = Math.Max(1, ns / MinWaveNs);
        return waves <= most ? (blocks, waves) : (most * BusyResident(threads) * accelerator.NumMultiprocessors, most);
    }

    /// <summary>The waves <paramref name="blocks"/> blocks of the busy kernel of <paramref name="threads"/> threads run in on this GPU.</summary>
    public long BusyWaves(long blocks, int threads)
    {
        var slots = (long)BusyResident(threads) * accelerator.NumMultiprocessors;
        return Math.Max(1, (blocks + slots - 1) / slots);
    }

    /// <summary>z = f(x, y) over <paramref name="count"/> elements, or over part <paramref name="part"/> of <paramref name="parts"/> of them.</summary>
    public void Elementwise(AcceleratorStream stream, ArrayView<float> x, ArrayView<float> y, ArrayView<float> z, int count, int op, int part = 0, int parts = 1)
    {
        var (from, to) = KernelParts.Range(count, part, parts, ElementwiseChunk);
        if (from < to)
        {
            elementwise(stream, (int)(to - from), x, y, z, op, (int)from);
        }
    }

    /// <summary>
    /// result[0] = the sum of x's first <paramref name="count"/> elements; in parts, part
    /// <paramref name="part"/> adds its range's sum (part 0 zeroes the result first).
    /// </summary>
    public void Reduce(AcceleratorStream stream, ArrayView<float> x, ArrayView<float> result, int count, int part = 0, int parts = 1)
    {
        if (part == 0)
        {
            result.MemSetToZero(stream);
        }

        var (from, to) = KernelParts.Range(count, part, parts, (long)ReduceGroups * CudaKernels.ReduceGroup);
        if (from < to)
        {
            reduce(stream, new KernelConfig(ReduceGroups, CudaKernels.ReduceGroup), x.SubView(from, to - from), result, (int)(to - from));
        }
    }
}
