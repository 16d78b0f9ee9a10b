using System.Diagnostics;
using System.Runtime.InteropServices;
using Contention.Workloads.Devices;
using Contention.Workloads.Kernels;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;

namespace Contention.Workloads.Tests;

/// <summary>
/// The cuda device's kernels run here on ILGPU's CPU accelerator (an emulator: slow, but it
/// honours groups, shared memory and barriers), so their indexing is checked without a GPU.
/// </summary>
public sealed class CudaKernelsTests : IDisposable
{
    // 32 threads per warp x 8 warps: groups of 256 threads, as the GPU kernels use.
    private readonly Context context = Context.Create(builder => builder.CPU(new CPUDevice(32, 8, 1)));
    private readonly CPUAccelerator accelerator;

    public CudaKernelsTests() => accelerator = context.CreateCPUAccelerator(0);

    [Theory]
    [InlineData(1, 1, 1, 0)]
    [InlineData(70, 130, 37, 0)]
    [InlineData(64, 64, 16, 0)]
    [InlineData(129, 65, 17, 0)]
    [InlineData(70, 30, 1000, 256)]
    [InlineData(5, 3, 777, 16)]
    public void Gemm_RaggedShapesWithAndWithoutSplitK_MatchesReference(int m, int n, int k, int kSlice)
    {
        var slice = kSlice == 0 ? k : kSlice;
        var slices = (k + slice - 1) / slice;
        var gemm = accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int, int, int, int>(CudaKernels.Gemm);
        var grid = new Index3D((m + CudaKernels.Tile - 1) / CudaKernels.Tile, (n + CudaKernels.Tile - 1) / CudaKernels.Tile, slices);
        var config = new KernelConfig(grid, new Index3D(CudaKernels.GemmThreads, CudaKernels.GemmThreads, 1));

        AssertGemm(m, n, k, (a, b, c) => gemm(accelerator.DefaultStream, config, a, b, c, m, n, k, slice, 0, 0, k));
    }

    [Theory]
    [InlineData(70, 130, 37)]
    [InlineData(17, 16, 33)]
    public void GemmTiled_RaggedShapes_MatchesReference(int m, int n, int k)
    {
        var gemm = accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(CudaKernels.GemmTiled);
        var grid = new Index2D((m + CudaKernels.SimpleTile - 1) / CudaKernels.SimpleTile, (n + CudaKernels.SimpleTile - 1) / CudaKernels.SimpleTile);
        var config = new KernelConfig(grid, new Index2D(CudaKernels.SimpleTile, CudaKernels.SimpleTile));

        AssertGemm(m, n, k, (a, b, c) => gemm(accelerator.DefaultStream, config, a, b, c, m, n, k));
    }

    [Theory]
    [InlineData(147, 64, 401_408, 132, 4576)] // 3 groups: 88 slices for 264 groups
    [InlineData(4096, 4096, 4096, 132, 4096)] // 4,096 groups already: no split
    [InlineData(49, 512, 4608, 132, 256)] // 8 groups: 18 slices, each the minimum 256 deep
    public void SliceK_FewGroupsDeepK_SplitsToFillTheGpu(int m, int n, int k, int multiprocessors, int expected) =>
        Assert.Equal(expected, CudaKernels.SliceK(m, n, k, multiprocessors));

    [Fact]
    public void Reduce_OddCount_MatchesSum()
    {
        var x = CpuDeviceTests.Random(new Random(2), 10_007);
        var reduce = accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, int>(CudaKernels.Reduce);
        using var dx = accelerator.Allocate1D(x);
        using var result = accelerator.Allocate1D<float>(1);
        result.MemSetToZero();

        reduce(accelerator.DefaultStream, new KernelConfig(3, CudaKernels.ReduceGroup), dx.View, result.View, x.Length);
        accelerator.Synchronize();

        Assert.Equal(x.Sum(v => (double)v), result.GetAsArray1D()[0], 1e-2);
    }

    [Theory]
    [InlineData(200, 70, 50, 3)] // 4 row blocks in 3 parts: 2, 1, 1
    [InlineData(129, 65, 17, 3)] // 3 row blocks, the last one row: a part each
    [InlineData(300, 30, 40, 2)]
    public void Gemm_InParts_ComputesEveryOutputOnceAsTheWholeKernel(int m, int n, int k, int parts)
    {
        // The parts write C where it holds NaN: an output no part computes stays NaN.
        var kernels = new KernelLaunches(accelerator);
        var (a, b) = (CpuDeviceTests.Random(new Random(m + n), m * k), CpuDeviceTests.Random(new Random(k), k * n));
        var whole = RunGemm(a, b, m, n, k, (da, db, dc) => kernels.Gemm(accelerator.DefaultStream, da, db, dc, m, n, k));
        var sliced = RunGemm(a, b, m, n, k, (da, db, dc) =>
        {
            for (var part = 0; part < parts; part++)
            {
                kernels.Gemm(accelerator.DefaultStream, da, db, dc, m, n, k, part, parts);
            }
        });

        Assert.Equal(whole, sliced);
        Assert.DoesNotContain(sliced, float.IsNaN);
    }

    [Fact]
    public void Gemm_SplitKInParts_ZeroesEachPartsRowsOnceAndAddsEverySlice()
    {
        // Split K (its slices add into C atomically): a part that zeroed another's rows, or ran
        // twice, or left one out would be off by whole products, far beyond float rounding.
        // Four emulated multiprocessors, so that four row blocks are few enough to split K.
        const int m = 200, n = 20, k = 3000;
        using var wide = Context.Create(builder => builder.CPU(new CPUDevice(32, 8, 4)));
        using var four = wide.CreateCPUAccelerator(0);
        var kernels = new KernelLaunches(four);
        Assert.True(CudaKernels.SliceK(m, n, k, four.NumMultiprocessors) < k, "the shape must split K on this accelerator");
        var (a, b) = (CpuDeviceTests.Random(new Random(5), m * k), CpuDeviceTests.Random(new Random(6), k * n));
        var expected = Reference.Gemm(a, b, m, n, k);
        using var da = four.Allocate1D(a);
        using var db = four.Allocate1D(b);
        using var dc = four.Allocate1D(Enumerable.Repeat(float.NaN, m * n).ToArray());
        for (var part = 0; part < 3; part++)
        {
            kernels.Gemm(four.DefaultStream, da.View, db.View, dc.View, m, n, k, part, 3);
        }

        four.Synchronize();
        var sliced = dc.GetAsArray1D();

        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - sliced[i]) <= 1e-3 * Math.Max(1, Math.Abs(expected[i])), $"C[{i}] = {sliced[i]}, expected {expected[i]}");
        }
    }

    [Theory]
    [InlineData(70, 30, 1000, 3)] // one wave of 2 blocks: 7 ranges of K at most
    [InlineData(5, 3, 777, 6)] // ragged K: the last range shorter
    [InlineData(129, 65, 300, 4)] // 3 row blocks: more parts than rows
    [InlineData(70, 30, 1000, 80)] // more parts than K steps: the later parts are empty
    public void Gemm_InPartsOverItsDepth_AddsEveryProductOnceIntoC(int m, int n, int k, int parts)
    {
        // One emulated multiprocessor holds every block here: one wave, so parts go over K. C
        // starts as NaN: the first part must zero all of it, every part add its range's products.
        var kernels = new KernelLaunches(accelerator);
        Assert.False(GemmSlicing.ByRows(parts, m, n, k, accelerator.NumMultiprocessors, kernels.GemmBlocksPerMultiprocessor), "the shape must be sliced over K here");
        var (a, b) = (CpuDeviceTests.Random(new Random(m + k), m * k), CpuDeviceTests.Random(new Random(n + k), k * n));
        var expected = Reference.Gemm(a, b, m, n, k);
        var sliced = RunGemm(a, b, m, n, k, (da, db, dc) =>
        {
            for (var part = 0; part < parts; part++)
            {
                kernels.Gemm(accelerator.DefaultStream, da, db, dc, m, n, k, part, parts);
            }
        });

        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - sliced[i]) <= 1e-3 * Math.Max(1, Math.Abs(expected[i])), $"C[{i}] = {sliced[i]}, expected {expected[i]}");
        }
    }

    [Theory]
    [InlineData(1152, 128, 25088, 1, 196)] // a ResNet-50 weight gradient on the H200: one wave, 196 ranges of K
    [InlineData(100_352, 64, 576, 3, 4)] // a first-stage forward GEMM: 1,568 row blocks in 3 waves, 4 ranges of K
    [InlineData(100_352, 64, 64, 3, 3)] // too shallow to cut along K
    public void GemmSlicing_OnTheH200_RowsWhereTheWavesAreElseDepth(int m, int n, int k, long alongRows, int maxParts)
    {
        Assert.Equal(alongRows, GemmSlicing.AlongRows(m, n, k, 132, 5));
        Assert.Equal(maxParts, GemmSlicing.MaxParts(m, n, k, 132, 5));
        Assert.Equal(alongRows >= 2, GemmSlicing.ByRows(2, m, n, k, 132, 5));
        Assert.False(GemmSlicing.ByRows((int)alongRows + 1, m, n, k, 132, 5));
    }

    [Theory]
    [InlineData(1152, 128, 25088, 19)] // split K 8 ways whole: each part 8 slices of its range
    [InlineData(4608, 512, 1568, 12)] // not split whole: each part one slice, all of its tiles
    [InlineData(147, 64, 401_408, 50)] // 88 slices whole, each part's range 8,016-8,032 deep
    public void GemmSlicing_APartOverKHasTheWholeKernelsBlocks(int m, int n, int k, int parts)
    {
        var tiles = GemmSlicing.RowBlocks(m) * GemmSlicing.ColumnBlocks(n);
        var whole = GemmSlicing.Blocks(m, n, k, 132);
        for (var part = 0; part < parts; part++)
        {
            var (from, to) = GemmSlicing.DepthRange(k, part, parts);
            var slice = GemmSlicing.DepthSlice(m, n, k, to - from, 132);
            Assert.Equal(0, slice % CudaKernels.TileK);
            // As many, or a few fewer where whole K steps round the slices up (147 x 64: 84 of 88).
            Assert.InRange(tiles * ((to - from + slice - 1) / slice), whole * 9 / 10, whole);
        }
    }

    [Theory]
    [InlineData(100_352, 64, 576, 6)] // 1,568 row blocks of one column block: 264 a piece
    [InlineData(1152, 128, 25088, 2)] // 18 x 2 tiles in 8 slices (288 blocks): 16 row blocks a piece
    [InlineData(4608, 512, 1568, 3)] // 72 x 8 tiles, not split: 33 row blocks a piece
    [InlineData(147, 64, 401_408, 1)] // 3 tiles in 88 slices: 264 blocks, narrow as it is
    [InlineData(130, 19_200, 64, 3)] // 300 column blocks: one row block a piece, wider than the bound
    public void GemmSlicing_Narrow_PiecesOfAtMostTwoBlocksPerMultiprocessor(int m, int n, int k, int pieces)
    {
        var (planned, slice) = GemmSlicing.Narrow(m, n, k, 132);
        Assert.Equal(pieces, planned);
        Assert.Equal(0, slice % CudaKernels.TileK);
        var columns = GemmSlicing.ColumnBlocks(n);
        var rows = 0L;
        for (var piece = 0; piece < planned; piece++)
        {
            var (from, to) = KernelParts.Range(GemmSlicing.RowBlocks(m), piece, planned);
            rows += to - from;
            var blocks = (to - from) * columns * ((k + slice - 1) / slice);
            Assert.True(blocks <= GemmSlicing.NarrowBlocks(132) || (to - from == 1 && columns > GemmSlicing.NarrowBlocks(132)), $"piece {piece}: {blocks} blocks");
        }

        Assert.Equal(GemmSlicing.RowBlocks(m), rows);
    }

    [Theory]
    [InlineData(600, 20, 300)] // 10 row blocks, not split: 2 pieces of at most 8 blocks
    [InlineData(300, 20, 3000)] // 5 row blocks in 2 slices: 2 pieces, each zeroing its rows and adding both slices
    [InlineData(130, 640, 100)] // 10 column blocks, wider than 8: a row block a piece, in one slice
    public void Gemm_Narrow_ComputesCAsTheWholeKernel(int m, int n, int k)
    {
        // Four emulated multiprocessors: a narrow piece holds at most 8 blocks. C starts as NaN.
        using var wide = Context.Create(builder => builder.CPU(new CPUDevice(32, 8, 4)));
        using var four = wide.CreateCPUAccelerator(0);
        var kernels = new KernelLaunches(four);
        var pieces = kernels.NarrowParts(KernelSpec.Gemm(m, n, k));
        Assert.True(pieces > 1, "the shape must be narrowed on this accelerator");
        var (a, b) = (CpuDeviceTests.Random(new Random(m), m * k), CpuDeviceTests.Random(new Random(n), k * n));
        var expected = Reference.Gemm(a, b, m, n, k);
        using var da = four.Allocate1D(a);
        using var db = four.Allocate1D(b);
        using var dc = four.Allocate1D(Enumerable.Repeat(float.NaN, m * n).ToArray());
        for (var piece = 0; piece < pieces; piece++)
        {
            kernels.GemmNarrow(four.DefaultStream, da.View, db.View, dc.View, m, n, k, piece, pieces);
        }

        four.Synchronize();
        var narrow = dc.GetAsArray1D();
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - narrow[i]) <= 1e-3 * Math.Max(1, Math.Abs(expected[i])), $"C[{i}] = {narrow[i]}, expected {expected[i]}");
        }
    }

    [Theory]
    [InlineData(12_544, 64, 147, 0)] // 196 tiles, K too shallow to cut: 196 groups, not the 660 the H200 holds
    [InlineData(12_544, 64, 147, 32)] // and the 160 groups the reserved multiprocessors hold, which leave
    [InlineData(147, 64, 401_408, 1)] // a weight gradient: K cut into 217 slices, 651 tiles for the 655 groups that stay
    [InlineData(4096, 4096, 4096, 32)] // 4,096 tiles already: one slice, every group the GPU holds
    public void PersistentGemm_GridCoversTheTilesAndTheGroupsThatLeave_NoMoreThanTheGpuHolds(int m, int n, int k, int reserved)
    {
        // An H200: 132 multiprocessors holding 5 groups each (bench gemm's estimate).
        const int sms = 132;
        const int resident = 5;
        var (slice, groups) = KernelLaunches.PersistentGemm(m, n, k, sms, resident, reserved, tilesPerGroup: 1);
        var slices = (k + slice - 1) / slice;
        var tiles = GemmSlicing.RowBlocks(m) * GemmSlicing.ColumnBlocks(n) * slices;
        Assert.Equal(0, slice % CudaKernels.TileK);
        Assert.True(slices == 1 || slice >= 256, $"slice {slice} of K {k}");
        Assert.Equal(Math.Min(sms * resident, tiles + (reserved * resident)), groups);
        var staying = resident * (sms - reserved);
        Assert.True(slices == 1 || tiles <= staying, $"{tiles} tiles for {staying} groups that stay");
        if (k == 401_408)
        {
            Assert.Equal(217, slices);
            Assert.Equal(651 + 5, groups);
        }

        // Four tiles a group: K cut finer (where it is deep enough), never fewer slices.
        var (finer, _) = KernelLaunches.PersistentGemm(m, n, k, sms, resident, reserved, tilesPerGroup: 4);
        Assert.True((k + finer - 1) / finer >= slices);
        Assert.Throws<ArgumentOutOfRangeException>(() => KernelLaunches.PersistentGemm(m, n, k, sms, resident, sms, 1));
    }

    [Theory]
    [InlineData(600, 20, 300)] // 10 row blocks, one slice
    [InlineData(70, 130, 5000)] // 2 x 3 blocks, K in several slices added into C
    [InlineData(1, 128, 2048)] // a batch-1 layer, K in slices
    public void GemmAvoiding_TilesTakenFromTheCounter_ComputeCAsTheWholeKernelLaunchAfterLaunch(int m, int n, int k)
    {
        // Four emulated multiprocessors; C starts as NaN; the next launches (the next counters)
        // compute the same, the last after the ring of three counters came round.
        using var g = new EmulatedGemm(m, n, k);
        var (four, kernels, expected, da, db, dc) = (g.Four, g.Kernels, g.Expected, g.A, g.B, g.C);
        foreach (var launches in new[] { 1, 3 })
        {
            dc.View.CopyFromCPU(Enumerable.Repeat(float.NaN, m * n).ToArray());
            for (var i = 0; i < launches; i++)
            {
                // No block knows its multiprocessor on the emulator: none keeps off any. The second
                // launch of three cuts K for four tiles a group (tenants'), the others for one; it
                // keeps to the first two multiprocessors (a service's), the others off them.
                kernels.GemmAvoiding(four.DefaultStream, da.View, db.View, dc.View, m, n, k, i == 1 ? SmRange.First(2) : SmRange.AfterFirst(2), tilesPerGroup: i == 1 ? 4 : 1);
                four.Synchronize();
                var c = dc.GetAsArray1D();
                for (var j = 0; j < expected.Length; j++)
                {
                    Assert.True(Math.Abs(expected[j] - c[j]) <= 1e-3 * Math.Max(1, Math.Abs(expected[j])), $"launch {i}: C[{j}] = {c[j]}, expected {expected[j]}");
                }
            }
        }
    }

    [Fact]
    public void PersistentKernels_ARangeHoldingNoneOfTheGpusMultiprocessors_AreRefused()
    {
        // Four emulated multiprocessors: every group would leave, and C would never be written.
        using var g = new EmulatedGemm(70, 130, 300);
        var outside = Assert.Throws<ArgumentOutOfRangeException>(() => g.Kernels.GemmAvoiding(g.Four.DefaultStream, g.A.View, g.B.View, g.C.View, 70, 130, 300, SmRange.AfterFirst(4)));
        Assert.Contains("none of the GPU's 4 multiprocessors", outside.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => g.Kernels.ElementwiseAvoiding(g.Four.DefaultStream, g.A.View, g.B.View, g.C.View, 100, 0, new SmRange(8, 16)));
    }

    [Fact]
    public async Task GemmPausable_StopWordSet_GroupsWaitInPlaceUntilItClears_ThenComputeCAsTheWholeKernel()
    {
        // 130 x 70 x 300: 3 x 2 tiles, K in 19 steps (the groups look at steps 0, 4, 8, 12, 16).
        // With the word 0 it runs through; set before the launch and cleared by another thread
        // three times the kernel's own time later, no group may finish before, and C is then the
        // whole GEMM's. The looks are not bounded here (on the emulator they take no time:
        // the bound's own test is below).
        const int m = 130, n = 70, k = 300;
        using var g = new EmulatedGemm(m, n, k);
        var (four, kernels, expected, da, db, dc) = (g.Four, g.Kernels, g.Expected, g.A, g.B, g.C);
        using var stop = four.Allocate1D(new[] { 0 });

        // The word 0: it runs through (timed, so the pause below is longer than the whole kernel).
        var through = Stopwatch.GetTimestamp();
        kernels.GemmPausable(four.DefaultStream, da.View, db.View, dc.View, m, n, k, SmRange.All, stop.View, stopAddress: 0, maxLooks: int.MaxValue);
        four.Synchronize();
        var kernelMs = Stopwatch.GetElapsedTime(through).TotalMilliseconds;
        AssertEqual(expected, dc.GetAsArray1D());

        dc.View.CopyFromCPU(Enumerable.Repeat(float.NaN, m * n).ToArray());
        Marshal.WriteInt32(stop.NativePtr, 1);
        var pauseMs = (int)Math.Max(300, 3 * kernelMs);
        var clearedAt = 0L;
        var start = Stopwatch.GetTimestamp();
        var clearer = Task.Run(async () =>
        {
            await Task.Delay(pauseMs);
            clearedAt = Stopwatch.GetTimestamp();
            Marshal.WriteInt32(stop.NativePtr, 0);
        });
        kernels.GemmPausable(four.DefaultStream, da.View, db.View, dc.View, m, n, k, SmRange.All, stop.View, stopAddress: 0, maxLooks: int.MaxValue);
        four.Synchronize();
        var finished = Stopwatch.GetTimestamp();
        await clearer;
        Assert.True(clearedAt > 0 && finished >= clearedAt, $"the kernel ({kernelMs:F0} ms unpaused) finished {Stopwatch.GetElapsedTime(start, finished).TotalMilliseconds:F0} ms after its launch, before its stop word was cleared at {pauseMs} ms");
        AssertEqual(expected, dc.GetAsArray1D());
    }

    [Fact]
    public async Task GemmPausable_StopWordNeverCleared_GroupsGoOnAfterTheirLooks_AndComputeC()
    {
        // A latency-sensitive tenant killed with its word set must not hold the GEMMs for ever:
        // after maxLooks looks in one pause a group goes on. Without the bound this never returns.
        const int m = 130, n = 70, k = 300;
        using var g = new EmulatedGemm(m, n, k);
        using var stop = g.Four.Allocate1D(new[] { 1 });

        var run = Task.Run(() =>
        {
            g.Kernels.GemmPausable(g.Four.DefaultStream, g.A.View, g.B.View, g.C.View, m, n, k, SmRange.All, stop.View, stopAddress: 0, maxLooks: 3);
            g.Four.Synchronize();
        });

        Assert.True(await Task.WhenAny(run, Task.Delay(TimeSpan.FromMinutes(5))) == run, "the GEMM never finished with its stop word left set");
        await run;
        AssertEqual(g.Expected, g.C.GetAsArray1D());
    }

    [Fact]
    public void StopOrNone_NoStopWord_IsAnEmptyViewOfABuffer_SoTheCudaLauncherCanTakeItsAddress()
    {
        // ILGPU's CUDA launcher reads each view's address from its buffer: a default view threw
        // there on the H200 (the CPU emulator passes views as they are).
        using var context = Context.Create(builder => builder.CPU());
        using var accelerator = context.CreateCPUAccelerator(0);
        using var buffer = accelerator.Allocate1D<int>(4);
        ArrayView<int> words = buffer.View;

        var none = KernelLaunches.StopOrNone(default, words);
        var word = KernelLaunches.StopOrNone(words.SubView(2, 1), words);

        Assert.Equal(0, none.Length);
        Assert.Equal(words.LoadEffectiveAddressAsPtr(), none.LoadEffectiveAddressAsPtr());
        Assert.Equal(1, word.Length);
        Assert.Equal(words.SubView(2, 1).LoadEffectiveAddressAsPtr(), word.LoadEffectiveAddressAsPtr());
        Assert.Throws<NullReferenceException>(() => default(ArrayView<int>).LoadEffectiveAddressAsPtr());
    }

    // A GEMM's inputs (C NaN) on four emulated multiprocessors, with its expected C.
    private sealed class EmulatedGemm : IDisposable
    {
        private readonly Context context = Context.Create(builder => builder.CPU(new CPUDevice(32, 8, 4)));

        public EmulatedGemm(int m, int n, int k)
        {
            Four = context.CreateCPUAccelerator(0);
            Kernels = new KernelLaunches(Four, avoidingCounters: 3);
            var (a, b) = (CpuDeviceTests.Random(new Random(m), m * k), CpuDeviceTests.Random(new Random(n), k * n));
            Expected = Reference.Gemm(a, b, m, n, k);
            A = Four.Allocate1D(a);
            B = Four.Allocate1D(b);
            C = Four.Allocate1D(Enumerable.Repeat(float.NaN, m * n).ToArray());
        }

        public Accelerator Four { get; }

        public KernelLaunches Kernels { get; }

        public float[] Expected { get; }

        public MemoryBuffer1D<float, Stride1D.Dense> A { get; }

        public MemoryBuffer1D<float, Stride1D.Dense> B { get; }

        public MemoryBuffer1D<float, Stride1D.Dense> C { get; }

        public void Dispose()
        {
            A.Dispose();
            B.Dispose();
            C.Dispose();
            Four.Dispose();
            context.Dispose();
        }
    }

    private static void AssertEqual(float[] expected, float[] c)
    {
        for (var j = 0; j < expected.Length; j++)
        {
            Assert.True(Math.Abs(expected[j] - c[j]) <= 1e-3 * Math.Max(1, Math.Abs(expected[j])), $"C[{j}] = {c[j]}, expected {expected[j]}");
        }
    }

    [Theory]
    [InlineData(10_000, 0)] // three chunks and a ragged end
    [InlineData(4_096, 1)] // one whole chunk
    public void ElementwiseAvoiding_ChunksTakenFromTheCounter_WriteEveryElementAsTheWholeKernel(int count, int op)
    {
        // Four emulated multiprocessors: the ranges below hold some of them (no group leaves on the emulator).
        using var wide = Context.Create(builder => builder.CPU(new CPUDevice(32, 8, 4)));
        using var accelerator = wide.CreateCPUAccelerator(0);
        var kernels = new KernelLaunches(accelerator, avoidingCounters: 3);
        var random = new Random(count);
        var (x, y) = (CpuDeviceTests.Random(random, count + 10), CpuDeviceTests.Random(random, count + 10));
        using var dx = accelerator.Allocate1D(x);
        using var dy = accelerator.Allocate1D(y);
        using var dz = accelerator.Allocate1D<float>(count + 10);
        foreach (var launches in new[] { 1, 3 })
        {
            for (var i = 0; i < launches; i++)
            {
                dz.View.CopyFromCPU(Enumerable.Repeat(float.NaN, count + 10).ToArray());
                kernels.ElementwiseAvoiding(accelerator.DefaultStream, dx.View, dy.View, dz.View, count, op, i == 1 ? SmRange.First(2) : SmRange.AfterFirst(2));
                accelerator.Synchronize();
                var z = dz.GetAsArray1D();
                for (var e = 0; e < count; e++)
                {
                    var s = x[e] + y[e];
                    Assert.Equal(op switch { 0 => s, 1 => x[e] * y[e], _ => Math.Max(0f, s) }, z[e]);
                }

                Assert.All(z.Skip(count), v => Assert.True(float.IsNaN(v))); // nothing past count
            }
        }
    }

    [Fact]
    public async Task ElementwiseAvoiding_StopWordSet_NoChunkIsWrittenUntilItClears_ThenEveryElement()
    {
        // Each group waits before its chunk while the word is set: nothing of z is written before
        // another thread clears it; then all of it. With the word never cleared, the looks end it.
        const int count = 10_000;
        var kernels = new KernelLaunches(accelerator, avoidingCounters: 3);
        var random = new Random(count);
        var (x, y) = (CpuDeviceTests.Random(random, count), CpuDeviceTests.Random(random, count));
        using var dx = accelerator.Allocate1D(x);
        using var dy = accelerator.Allocate1D(y);
        using var dz = accelerator.Allocate1D<float>(count);
        using var stop = accelerator.Allocate1D(new[] { 1 });
        dz.View.CopyFromCPU(Enumerable.Repeat(float.NaN, count).ToArray());

        var cleared = 0L;
        var clearer = Task.Run(async () =>
        {
            await Task.Delay(300);
            var written = new float[count];
            Marshal.Copy(dz.NativePtr, written, 0, count); // the emulator's memory, read while its kernel waits (no synchronise)
            Assert.All(written, v => Assert.True(float.IsNaN(v), "a chunk was written while the stop word was set"));
            cleared = Stopwatch.GetTimestamp();
            Marshal.WriteInt32(stop.NativePtr, 0);
        });
        kernels.ElementwiseAvoiding(accelerator.DefaultStream, dx.View, dy.View, dz.View, count, 0, SmRange.All, stop.View, maxLooks: int.MaxValue);
        accelerator.Synchronize();
        var finished = Stopwatch.GetTimestamp();
        await clearer;

        Assert.True(cleared > 0 && finished >= cleared, "the kernel finished before its stop word was cleared");
        Assert.Equal(x.Zip(y, (a, b) => a + b), dz.GetAsArray1D());

        Marshal.WriteInt32(stop.NativePtr, 1);
        kernels.ElementwiseAvoiding(accelerator.DefaultStream, dx.View, dy.View, dz.View, count, 1, SmRange.All, stop.View, maxLooks: 3);
        accelerator.Synchronize();
        Assert.Equal(x.Zip(y, (a, b) => a * b), dz.GetAsArray1D());
    }

    [Fact]
    public void GemmSlicing_DepthRanges_CoverKOnceInWholeSteps()
    {
        const int k = 25088, parts = 19;
        var ranges = Enumerable.Range(0, parts).Select(p => GemmSlicing.DepthRange(k, p, parts)).ToArray();

        Assert.Equal(0, ranges[0].From);
        Assert.Equal(k, ranges[^1].To);
        Assert.All(ranges.Zip(ranges.Skip(1)), pair => Assert.Equal(pair.First.To, pair.Second.From));
        Assert.All(ranges, r => Assert.Equal(0, r.From % CudaKernels.TileK));
        Assert.InRange(ranges.Max(r => r.To - r.From) - ranges.Min(r => r.To - r.From), 0, CudaKernels.TileK);
    }

    [Theory]
    [InlineData(10_007, 7)]
    [InlineData(256, 2)] // one chunk: the second part is empty
    [InlineData(1_000, 4)]
    public void Elementwise_InParts_WritesEveryElementOnceAsTheWholeKernel(int count, int parts)
    {
        var kernels = new KernelLaunches(accelerator);
        var x = CpuDeviceTests.Random(new Random(count), count);
        var y = CpuDeviceTests.Random(new Random(count + 1), count);
        using var dx = accelerator.Allocate1D(x);
        using var dy = accelerator.Allocate1D(y);
        using var dz = accelerator.Allocate1D(Enumerable.Repeat(float.NaN, count + 64).ToArray());

        for (var part = 0; part < parts; part++)
        {
            kernels.Elementwise(accelerator.DefaultStream, dx.View, dy.View, dz.View, count, (int)Kernels.ElementwiseOp.AddRelu, part, parts);
        }

        accelerator.Synchronize();
        var z = dz.GetAsArray1D();
        Assert.Equal(x.Zip(y, (p, q) => Math.Max(0f, p + q)), z.Take(count));
        Assert.All(z.Skip(count), v => Assert.True(float.IsNaN(v), "a part wrote beyond the kernel's elements"));
    }

    [Theory]
    [InlineData(100_003, 5)]
    [InlineData(3_000, 3)] // fewer chunks than parts: the later parts are empty
    public void Reduce_InParts_SumsEveryElementOnce(int count, int parts)
    {
        // Ones sum exactly in float up to 2^24: an element summed twice or not at all shows.
        var kernels = new KernelLaunches(accelerator);
        using var dx = accelerator.Allocate1D(Enumerable.Repeat(1f, count + 100).ToArray());
        using var result = accelerator.Allocate1D(new[] { 12345f });

        for (var part = 0; part < parts; part++)
        {
            kernels.Reduce(accelerator.DefaultStream, dx.View, result.View, count, part, parts);
        }

        accelerator.Synchronize();
        Assert.Equal(count, result.GetAsArray1D()[0]);
    }

    [Fact]
    public void MaxParts_CopiesAndSingleWaveKernels_AreOnePart_LongerOnesMore()
    {
        var kernels = new KernelLaunches(accelerator);

        Assert.Equal(1, kernels.MaxParts(Kernels.KernelSpec.CopyToDevice(1 << 20)));
        Assert.Equal(1, kernels.MaxParts(Kernels.KernelSpec.Elementwise(100)));
        Assert.True(kernels.MaxParts(Kernels.KernelSpec.Elementwise(1 << 20)) > 1);
        Assert.True(kernels.MaxParts(Kernels.KernelSpec.Gemm(4096, 64, 64)) > 1);
        Assert.True(kernels.MaxParts(Kernels.KernelSpec.Reduce(1 << 20)) > 1);
    }

    private float[] RunGemm(float[] a, float[] b, int m, int n, int k, Action<ArrayView<float>, ArrayView<float>, ArrayView<float>> launch)
    {
        using var da = accelerator.Allocate1D(a);
        using var db = accelerator.Allocate1D(b);
        using var dc = accelerator.Allocate1D(Enumerable.Repeat(float.NaN, m * n).ToArray());
        launch(da.View, db.View, dc.View);
        accelerator.Synchronize();
        return dc.GetAsArray1D();
    }

    [Theory]
    // One wave of the emulator's busy kernel, two, three; a blockless copy (one warp).
    [InlineData(1, 256)]
    [InlineData(9, 128)]
    [InlineData(40, 64)]
    [InlineData(0, 0)]
    public void Busy_ReplayedKernel_WaitsItsTimeLessTheFixedCostOverItsWaves(int blocks, int threads)
    {
        var kernels = new KernelLaunches(accelerator);
        using var sink = accelerator.Allocate1D<long>(1);
        var kernel = Kernels.KernelSpec.Replay(1_000_000, blocks, threads, 2);
        var waves = blocks == 0 ? 1 : kernels.BusyWaves(blocks, threads);
        Assert.True(blocks < 9 || waves > 1, $"{blocks} blocks of {threads} threads in one wave: the case tests nothing");

        kernels.Busy(accelerator.DefaultStream, sink.View, kernel, fixedNs: 4_000, waveNs: 1_000);
        accelerator.Synchronize();

        Assert.Equal((1_000_000 - 4_000 - ((waves - 1) * 1_000)) / waves, sink.GetAsArray1D()[0]);
    }

    [Fact]
    public void BusyShape_WavesShorterThanTheLeast_MergedIntoWholeWavesOfTheGpu()
    {
        var kernels = new KernelLaunches(accelerator);
        var slots = kernels.BusyResident(64) * accelerator.NumMultiprocessors;
        var blocks = 6L * slots;

        // Six waves of 1 ms each stay six; of 10 µs each (60 µs) they become 3 whole waves of 20 µs; 15 µs in all: one.
        Assert.Equal((blocks, 6L), kernels.BusyShape(blocks, 64, 6_000_000));
        Assert.Equal((3L * slots, 3L), kernels.BusyShape(blocks, 64, 60_000));
        Assert.Equal((slots, 1L), kernels.BusyShape(blocks, 64, 15_000));
        Assert.Equal((1L, 1L), kernels.BusyShape(1, 64, 1_000));

        using var sink = accelerator.Allocate1D<long>(1);
        kernels.Busy(accelerator.DefaultStream, sink.View, Kernels.KernelSpec.Replay(64_000, blocks, 64, 2), fixedNs: 4_000, waveNs: 1_000);
        accelerator.Synchronize();
        Assert.Equal((64_000 - 4_000 - (2 * 1_000)) / 3, sink.GetAsArray1D()[0]);
    }

    private void AssertGemm(int m, int n, int k, Action<ArrayView<float>, ArrayView<float>, ArrayView<float>> launch)
    {
        var random = new Random((m * 31) + (n * 7) + k);
        var a = CpuDeviceTests.Random(random, m * k);
        var b = CpuDeviceTests.Random(random, k * n);
        using var da = accelerator.Allocate1D(a);
        using var db = accelerator.Allocate1D(b);
        using var dc = accelerator.Allocate1D<float>(m * n);
        dc.MemSetToZero();

        launch(da.View, db.View, dc.View);
        accelerator.Synchronize();

        var expected = Reference.Gemm(a, b, m, n, k);
        var actual = dc.GetAsArray1D();
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4 * Math.Max(1, Math.Abs(expected[i])), $"C[{i}] = {actual[i]}, expected {expected[i]}");
        }
    }

    public void Dispose()
    {
        accelerator.Dispose();
        context.Dispose();
    }
}
