using System.Diagnostics;
using System.Runtime.InteropServices;
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
/// <remarks>An element-wise kernel's timing has its element count as <paramref name="M"/> and N = K = 0.</remarks>
public sealed record GemmTiming(string Kernel, int M, int N, int K, double MedianMicroseconds)
{
    /// <summary>Achieved FP32 rate (0 for an element-wise kernel).</summary>
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

    /// <summary>Element counts of the element-wise kernels timed: ResNet-50's activations at batch 32 (64 x 112², 256 x 56², 2,048 x 7²).</summary>
    public static IReadOnlyList<int> ElementwiseCounts { get; } = [32 * 64 * 112 * 112, 32 * 256 * 56 * 56, 32 * 2048 * 7 * 7];

    /// <summary>How many multiprocessors the persistent kernels are timed keeping off (issue 13's <c>CONTENTION_RESERVE_SMS</c>).</summary>
    public static IReadOnlyList<int> Reserved { get; } = [0, 1, 32];

    /// <summary>
    /// Where a pausable persistent GEMM's stop word is timed (1 SM kept off), and every how many
    /// steps of K its groups look: page-locked host memory mapped for the GPU (another process can
    /// write it, but each look crosses PCIe: 14-26x slower on the H200, 2026-12-03), or the GPU's
    /// own memory (a volatile load, or an atomic).
    /// </summary>
    public static IReadOnlyList<(StopWord Word, int LookSteps)> TrialStopWords { get; } = [(StopWord.MappedHost, 4), (StopWord.DeviceLoad, 4), (StopWord.DeviceLoad, 16), (StopWord.DeviceAtomic, 4)];

    /// <summary>Where a trial's stop word is, and how it is read.</summary>
    public enum StopWord
    {
        /// <summary>Page-locked host memory mapped for the GPU, a volatile load.</summary>
        MappedHost,

        /// <summary>The GPU's memory, a volatile load at its address.</summary>
        DeviceLoad,

        /// <summary>The GPU's memory, an atomic on a view of it.</summary>
        DeviceAtomic,
    }

    /// <summary>How a trial's stop word reads in its rows.</summary>
    public static string Describe(StopWord word) => word switch
    {
        StopWord.MappedHost => "mapped host word",
        StopWord.DeviceLoad => "device word, volatile load",
        _ => "device word, atomic",
    };

    /// <summary>The occupancy estimates of the GEMM kernels as tenants launch them: plain and persistent groups per multiprocessor, on the device the last <see cref="Run"/> timed.</summary>
    public static (int Plain, int Persistent) GroupsPerMultiprocessor { get; private set; }

    /// <summary>
    /// Runs every variant on every shape, median of <paramref name="repetitions"/>: the GEMM kernels
    /// as compiled, and as tenants launch them (<see cref="Devices.KernelLaunches"/>) — the plain
    /// grid, and the persistent groups that take tiles from a counter keeping off
    /// <see cref="Reserved"/> multiprocessors — and the element-wise kernel plain and persistent.
    /// </summary>
    public static IReadOnlyList<GemmTiming> Run(int device, int repetitions)
    {
        var timings = new List<GemmTiming>();
        try
        {
            Measure(device, repetitions, timings);
        }
        catch (Exception error) when (Said(error))
        {
            throw;
        }

        return timings;
    }

    // What went wrong, on standard error before the accelerator's disposal runs (ILGPU's can throw
    // one of its own once a launch failed, hiding the first); false: the exception goes on.
    private static bool Said(Exception error)
    {
        Console.Error.WriteLine($"bench gemm: {error}");
        return false;
    }

    private static void Measure(int device, int repetitions, List<GemmTiming> timings)
    {
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
            var launches = new Devices.KernelLaunches(accelerator);
            accelerator.Bind();
            var stopAddress = MappedStopWord(out var stopWord);
            using var deviceWord = accelerator.Allocate1D<int>(1);
            deviceWord.MemSetToZero(stream);
            var deviceAddress = ((ArrayView<int>)deviceWord.View).LoadEffectiveAddressAsPtr().ToInt64();
            void Pausable((StopWord Word, int LookSteps) trial, int m, int n, int k) => launches.GemmPausable(stream, a.View, b.View, c.View, m, n, k, Devices.SmRange.AfterFirst(1), trial.Word == StopWord.DeviceAtomic ? deviceWord.View : default,
                trial.Word switch { StopWord.MappedHost => stopAddress, StopWord.DeviceLoad => deviceAddress, _ => 0 }, lookSteps: trial.LookSteps);
            GroupsPerMultiprocessor = (launches.GemmBlocksPerMultiprocessor, launches.GemmAvoidingBlocksPerMultiprocessor);
            foreach (var (m, n, k) in Shapes)
            {
                var slice = Devices.CudaKernels.SliceK(m, n, k, accelerator.NumMultiprocessors);
                var blockedGrid = new KernelConfig(new Index3D((m + Devices.CudaKernels.Tile - 1) / Devices.CudaKernels.Tile, (n + Devices.CudaKernels.Tile - 1) / Devices.CudaKernels.Tile, (k + slice - 1) / slice), new Index3D(Devices.CudaKernels.GemmThreads, Devices.CudaKernels.GemmThreads, 1));
                var tiledGrid = new KernelConfig(new Index2D((m + Devices.CudaKernels.SimpleTile - 1) / Devices.CudaKernels.SimpleTile, (n + Devices.CudaKernels.SimpleTile - 1) / Devices.CudaKernels.SimpleTile), new Index2D(Devices.CudaKernels.SimpleTile, Devices.CudaKernels.SimpleTile));
                timings.Add(new GemmTiming($"register-blocked 64x64 split-K {level}", m, n, k, Median(() => blocked(stream, blockedGrid, a.View, b.View, c.View, m, n, k, slice, 0, 0, k), stream, repetitions)));
                timings.Add(new GemmTiming($"tiled 16x16 {level}", m, n, k, Median(() => tiled(stream, tiledGrid, a.View, b.View, c.View, m, n, k), stream, repetitions)));
                timings.Add(new GemmTiming($"as launched: plain grid {level}", m, n, k, Median(() => launches.Gemm(stream, a.View, b.View, c.View, m, n, k), stream, repetitions)));
                foreach (var reserved in Reserved)
                {
                    timings.Add(new GemmTiming($"as launched: persistent, {reserved} SMs kept off {level}", m, n, k, Median(() => launches.GemmAvoiding(stream, a.View, b.View, c.View, m, n, k, Devices.SmRange.AfterFirst(reserved)), stream, repetitions)));
                }

                foreach (var trial in TrialStopWords.Where(t => stopAddress != 0 || t.Word != StopWord.MappedHost))
                {
                    timings.Add(new GemmTiming($"trial: persistent looking at a {Describe(trial.Word)} every {trial.LookSteps} steps, 1 SM kept off {level}", m, n, k, Median(() => Pausable(trial, m, n, k), stream, repetitions)));
                }
            }

            // The pause: the word set from this thread (the host word) or by a copy on another stream (the device word).
            using var other = accelerator.CreateStream();
            var paused = new List<(StopWord, double, double)>();
            if (stopAddress != 0)
            {
                var (alone, held) = TimePause(() => Pausable((StopWord.MappedHost, Devices.CudaKernels.StopLookSteps), PauseSize, PauseSize, PauseSize), stream, value => Marshal.WriteInt32(stopWord, value));
                paused.Add((StopWord.MappedHost, alone, held));
                _ = Devices.CudaDriver.FreeHost(stopWord);
            }

            var (deviceAlone, deviceHeld) = TimePause(() => Pausable((StopWord.DeviceLoad, Devices.CudaKernels.StopLookSteps), PauseSize, PauseSize, PauseSize), stream, value =>
            {
                deviceWord.View.CopyFromCPU(other, [value]);
                other.Synchronize();
            });
            paused.Add((StopWord.DeviceLoad, deviceAlone, deviceHeld));
            Paused = paused;

            foreach (var count in ElementwiseCounts)
            {
                timings.Add(new GemmTiming($"element-wise: plain grid {level}", count, 0, 0, Median(() => launches.Elementwise(stream, a.View, b.View, c.View, count, 0), stream, repetitions)));
                foreach (var reserved in Reserved)
                {
                    timings.Add(new GemmTiming($"element-wise: persistent, {reserved} SMs kept off {level}", count, 0, 0, Median(() => launches.ElementwiseAvoiding(stream, a.View, b.View, c.View, count, 0, Devices.SmRange.AfterFirst(reserved)), stream, repetitions)));
                }

                timings.Add(new GemmTiming($"trial: element-wise persistent looking at a device word, volatile load, each chunk, 1 SM kept off {level}", count, 0, 0, Median(() => launches.ElementwiseAvoiding(stream, a.View, b.View, c.View, count, 0, Devices.SmRange.AfterFirst(1), default, deviceAddress), stream, repetitions)));
            }
        }
    }

    /// <summary>
    /// The pauses of the last <see cref="Run"/>: a <see cref="PauseSize"/>³ persistent GEMM (1 SM
    /// kept off) looking at each stop word every 4 steps, alone and with the word set for
    /// <see cref="PauseMs"/> 2 ms after its launch, ms (medians of 5).
    /// </summary>
    public static IReadOnlyList<(StopWord Word, double AloneMs, double PausedMs)> Paused { get; private set; } = [];

    /// <summary>M = N = K of the GEMM <see cref="Paused"/> times.</summary>
    public const int PauseSize = 4096;

    /// <summary>How long <see cref="Paused"/>'s host thread holds the word set, ms.</summary>
    public const int PauseMs = 20;

    // A 32-bit word of mapped page-locked host memory (0), its device address; 0 where the driver refuses.
    private static long MappedStopWord(out IntPtr word)
    {
        word = IntPtr.Zero;
        if (Devices.CudaDriver.HostAlloc(out word, 64, Devices.CudaDriver.HostAllocDeviceMap) != 0)
        {
            return 0;
        }

        Marshal.WriteInt32(word, 0);
        if (Devices.CudaDriver.HostGetDevicePointer(out var device, word, 0) != 0)
        {
            _ = Devices.CudaDriver.FreeHost(word);
            word = IntPtr.Zero;
            return 0;
        }

        return (long)device;
    }

    // The launch alone, then with the word set 2 ms after it for PauseMs (median of 5 each), ms.
    private static (double, double) TimePause(Action launch, AcceleratorStream stream, Action<int> set)
    {
        var alone = Median(launch, stream, 5);
        var paused = new double[5];
        for (var r = 0; r < paused.Length; r++)
        {
            var start = Stopwatch.GetTimestamp();
            launch();
            Thread.Sleep(2);
            set(1);
            Thread.Sleep(PauseMs);
            set(0);
            stream.Synchronize();
            paused[r] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        Array.Sort(paused);
        return (alone / 1000, paused[paused.Length / 2]);
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
