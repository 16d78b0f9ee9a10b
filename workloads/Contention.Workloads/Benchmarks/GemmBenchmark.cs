using System.Diagnostics;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Contention.Workloads.Benchmarks;

/// <summary>One GEMM kernel variant on one shape.</summary>
/// <param name="Kernel">The kernel variant and the ILGPU optimisation level it was compiled at.</param>
/// <param name="M">Rows of A and C.</param>
/// <param name="N">Columns of B and C.</param>
/// <param name="K">The inner dimension.</param>
/// <param name="MedianMicroseconds">Median time of one GEMM (launch to completion).</param>
public sealed record GemmTiming(string Kernel, int M, int N, int K, double MedianMicroseconds)
{
    /// <summary>Achieved FP32 rate.</summary>
    public double TeraFlops => 2.0 * M * N * K / (MedianMicroseconds * 1e6);
}

/// <summary>Times the GEMM kernel variants on the shapes workloads use (ResNet-50 layers at batch 32 and 1, a square one).</summary>
public static class GemmBenchmark
{
    /// <summary>The shapes timed: square, then ResNet-50 implicit-GEMM layers at batch 32 and 1.</summary>
    public static IReadOnlyList<(int M, int N, int K)> Shapes { get; } =
    [
        (4096, 4096, 4096),
        (401_408, 64, 147),
        (100_352, 64, 576),
        (25_088, 128, 1152),
        (1568, 2048, 512),
        (12_544, 64, 147),
        (49, 512, 4608),
        (1, 1000, 2048),
        (147, 64, 401_408),
        (4608, 512, 1568),
    ];

    /// <summary>Runs every variant on every shape, median of <paramref name="repetitions"/>.</summary>
    public static IReadOnlyList<GemmTiming> Run(int device, int repetitions)
    {
        var timings = new List<GemmTiming>();
        foreach (var level in new[] { OptimizationLevel.O1 })
        {
            using var context = Context.Create(builder => builder.Cuda().Optimize(level));
            using var accelerator = context.CreateCudaAccelerator(device, CudaAcceleratorFlags.ScheduleSpin);
            using var stream = accelerator.CreateStream();
            var blocked = accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int, int, int, int>(Devices.CudaKernels.Gemm);
            var tiled = accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(Devices.CudaKernels.GemmTiled);
            var maxA = Shapes.Max(s => (long)s.M * s.K);
            var maxB = Shapes.Max(s => (long)s.K * s.N);
            var maxC = Shapes.Max(s => (long)s.M * s.N);
            using var a = accelerator.Allocate1D<float>(maxA);
            using var b = accelerator.Allocate1D<float>(maxB);
            using var c = accelerator.Allocate1D<float>(maxC);
            a.MemSetToZero(stream);
            b.MemSetToZero(stream);
            foreach (var (m, n, k) in Shapes)
            {
                var slice = Devices.CudaKernels.SliceK(m, n, k, accelerator.NumMultiprocessors);
                var blockedGrid = new KernelConfig(new Index3D((m + Devices.CudaKernels.Tile - 1) / Devices.CudaKernels.Tile, (n + Devices.CudaKernels.Tile - 1) / Devices.CudaKernels.Tile, (k + slice - 1) / slice), new Index3D(Devices.CudaKernels.GemmThreads, Devices.CudaKernels.GemmThreads, 1));
                var tiledGrid = new KernelConfig(new Index2D((m + Devices.CudaKernels.SimpleTile - 1) / Devices.CudaKernels.SimpleTile, (n + Devices.CudaKernels.SimpleTile - 1) / Devices.CudaKernels.SimpleTile), new Index2D(Devices.CudaKernels.SimpleTile, Devices.CudaKernels.SimpleTile));
                timings.Add(new GemmTiming($"register-blocked 64x64 split-K {level}", m, n, k, Median(() => blocked(stream, blockedGrid, a.View, b.View, c.View, m, n, k, slice, 0, 0, k), stream, repetitions)));
                timings.Add(new GemmTiming($"tiled 16x16 {level}", m, n, k, Median(() => tiled(stream, tiledGrid, a.View, b.View, c.View, m, n, k), stream, repetitions)));
            }
        }

        return timings;
    }

    private static double Median(Action launch, AcceleratorStream stream, int repetitions)
    {
        launch();
        stream.Synchronize();
        var samples = new double[repetitions];
        for (var r = 0; r < repetitions; r++)
        {
            var start = Stopwatch.GetTimestamp();
            launch();
            stream.Synchronize();
            samples[r] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        Array.Sort(samples);
        return samples[repetitions / 2];
    }
}
