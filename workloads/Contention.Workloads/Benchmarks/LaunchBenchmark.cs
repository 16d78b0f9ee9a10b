using System.Diagnostics;
using Contention.Workloads.Devices;
using Contention.Workloads.Kernels;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Contention.Workloads.Benchmarks;

/// <summary>Per-launch times of one side of the launch benchmark, microseconds per launch + synchronise.</summary>
/// <param name="Name">bare ILGPU or Contention cuda device.</param>
/// <param name="Samples">One value per repetition.</param>
public sealed record LaunchSeries(string Name, IReadOnlyList<double> Samples)
{
    /// <summary>The median.</summary>
    public double Median => Percentile(50);

    /// <summary>A percentile by linear interpolation.</summary>
    public double Percentile(double p)
    {
        var sorted = Samples.Order().ToArray();
        var rank = p / 100 * (sorted.Length - 1);
        var low = (int)Math.Floor(rank);
        var high = (int)Math.Ceiling(rank);
        return sorted[low] + ((sorted[high] - sorted[low]) * (rank - low));
    }
}

/// <summary>
/// Launch + synchronise of a small element-wise kernel, through a bare ILGPU loop (the baseline)
/// and through <see cref="Devices.CudaDevice"/>, in one process, repetitions interleaved so drift in
/// clocks or temperature hits both sides alike.
/// </summary>
public static class LaunchBenchmark
{
    /// <summary>Runs the comparison; returns (baseline, ours).</summary>
    public static (LaunchSeries Baseline, LaunchSeries Ours) Run(int device, SyncMode sync, int elements, int launches, int repetitions)
    {
        using var context = Context.Create(builder => builder.Cuda());
        var flags = sync switch
        {
            SyncMode.Spin => CudaAcceleratorFlags.ScheduleSpin,
            SyncMode.Yield => CudaAcceleratorFlags.ScheduleYield,
            _ => CudaAcceleratorFlags.ScheduleBlockingSync,
        };
        using var accelerator = context.CreateCudaAccelerator(device, flags);
        using var stream = accelerator.CreateStream();
        var kernel = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(CudaKernels.Elementwise);
        using var x = accelerator.Allocate1D<float>(elements);
        using var y = accelerator.Allocate1D<float>(elements);
        using var z = accelerator.Allocate1D<float>(elements);

        using var ours = new Devices.CudaDevice(new DeviceOptions { Id = new DeviceId(DeviceKind.Cuda, device), SyncMode = sync });
        var spec = KernelSpec.Elementwise(elements, ElementwiseOp.AddRelu);
        ours.Prepare([spec]);

        void Bare()
        {
            for (var i = 0; i < launches; i++)
            {
                kernel(stream, elements, x.View, y.View, z.View, (int)ElementwiseOp.AddRelu);
                stream.Synchronize();
            }
        }

        void Ours()
        {
            for (var i = 0; i < launches; i++)
            {
                ours.Launch(spec);
                ours.Synchronize();
            }
        }

        // Warm up: JIT, PTX compilation and the driver's first-launch work.
        Bare();
        Ours();
        var baseline = new List<double>();
        var measured = new List<double>();
        for (var r = 0; r < repetitions; r++)
        {
            baseline.Add(Time(Bare, launches));
            measured.Add(Time(Ours, launches));
        }

        return (new LaunchSeries("bare ILGPU loop", baseline), new LaunchSeries("Contention cuda device", measured));
    }

    private static double Time(Action action, int launches)
    {
        var start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start).TotalMicroseconds / launches;
    }
}
