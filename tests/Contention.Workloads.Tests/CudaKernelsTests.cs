using Contention.Workloads.Devices;
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
        var gemm = accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int>(CudaKernels.Gemm);
        var grid = new Index3D((m + CudaKernels.Tile - 1) / CudaKernels.Tile, (n + CudaKernels.Tile - 1) / CudaKernels.Tile, slices);
        var config = new KernelConfig(grid, new Index3D(CudaKernels.GemmThreads, CudaKernels.GemmThreads, 1));

        AssertGemm(m, n, k, (a, b, c) => gemm(accelerator.DefaultStream, config, a, b, c, m, n, k, slice));
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
