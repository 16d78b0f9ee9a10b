using System.Diagnostics;
using Contention.Workloads.Devices;
using Contention.Workloads.Kernels;
using Contention.Workloads.Sim;

namespace Contention.Workloads.Benchmarks;

/// <summary>What <see cref="Calibration"/> measured on a real GPU.</summary>
/// <param name="GemmFlopsPerSecond">FP32 rate of a 4096³ GEMM through the cuda device.</param>
/// <param name="StreamBytesPerSecond">Traffic rate of a 64M-element element-wise kernel.</param>
/// <param name="HostToDeviceBytesPerSecond">Pinned host-to-device copy rate, 256 MiB.</param>
/// <param name="DeviceToHostBytesPerSecond">Pinned device-to-host copy rate, 256 MiB.</param>
/// <param name="KernelOverheadNs">GPU time per back-to-back tiny kernel.</param>
/// <param name="LaunchCpuNs">CPU time of one launch call (no synchronise).</param>
/// <param name="TrainingStepNs">A ResNet-50 training step at batch 32 through the cuda device.</param>
/// <param name="GemmEfficiencyFitted">
/// The GEMM efficiency at which the cost model reproduces <paramref name="TrainingStepNs"/>: the
/// workload's GEMMs (thin implicit-GEMM convolutions, deep weight gradients) run below the
/// 4096³ rate, and the model should predict the workload, not the best case.
/// </param>
public sealed record CalibrationResult(double GemmFlopsPerSecond, double StreamBytesPerSecond, double HostToDeviceBytesPerSecond, double DeviceToHostBytesPerSecond, double KernelOverheadNs, double LaunchCpuNs, double TrainingStepNs, double GemmEfficiencyFitted)
{
    /// <summary>A profile with <paramref name="baseline"/>'s peaks and these measured efficiencies and costs.</summary>
    public DeviceProfile ApplyTo(DeviceProfile baseline, string hardware)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        return baseline with
        {
            // Named after the GPU measured (its description up to the first parenthesis), not the baseline.
            Name = $"{hardware.Split(" (", 2)[0]} (modelled, calibrated)",
            GemmEfficiency = Math.Round(Math.Clamp(GemmEfficiencyFitted, 0.001, 1), 4),
            MemoryEfficiency = Math.Round(Math.Clamp(StreamBytesPerSecond / baseline.MemoryBytesPerSecond, 0.001, 1), 4),
            HostToDevicePinnedBytesPerSecond = Math.Round(HostToDeviceBytesPerSecond / 1e6) * 1e6,
            DeviceToHostPinnedBytesPerSecond = Math.Round(DeviceToHostBytesPerSecond / 1e6) * 1e6,
            KernelOverheadNs = (long)Math.Round(KernelOverheadNs),
            LaunchCpuNs = (long)Math.Round(LaunchCpuNs),
            Source = $"{baseline.Source}; calibrated by 'contention bench calibrate' on {hardware} ({DateTime.UtcNow:yyyy-MM-dd}): memory efficiency, copy rates, kernel overhead (an upper bound: back-to-back tiny kernels are launch-bound) and launch CPU cost measured; GEMM efficiency fitted to a ResNet-50 batch-32 training step of {TrainingStepNs / 1e6:0.0} ms (a 4096^3 GEMM alone reaches {GemmFlopsPerSecond / 1e12:0.00} TFLOP/s)",
        };
    }
}

/// <summary>Measures the cost model's parameters through the cuda device itself, so the modelled GPU matches what tenants see.</summary>
public static class Calibration
{
    /// <summary>Runs every measurement on <paramref name="device"/> (median of several repetitions each).</summary>
    public static CalibrationResult Run(IComputeDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        var gemm = KernelSpec.Gemm(4096, 4096, 4096);
        var stream = KernelSpec.Elementwise(64L << 20);
        var toDevice = KernelSpec.CopyToDevice(64L << 20);
        var toHost = KernelSpec.CopyToHost(64L << 20);
        var tiny = KernelSpec.Elementwise(1);
        device.Prepare([gemm, stream, toDevice, tiny]);

        var gemmNs = Median(() => Repeat(device, gemm, 5)) / 5;
        var streamNs = Median(() => Repeat(device, stream, 10)) / 10;
        var toDeviceNs = Median(() => Repeat(device, toDevice, 5)) / 5;
        var toHostNs = Median(() => Repeat(device, toHost, 5)) / 5;
        var tinyNs = Median(() => Repeat(device, tiny, 10_000)) / 10_000;
        var launchNs = Median(() =>
        {
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < 1000; i++)
            {
                device.Launch(tiny);
            }

            var elapsed = Stopwatch.GetElapsedTime(start).TotalNanoseconds;
            device.Synchronize();
            return elapsed;
        }) / 1000;
        var step = Workloads.ModelShapes.TrainingStep("resnet50", 32);
        device.Prepare(step);
        var stepNs = Median(() =>
        {
            var start = Stopwatch.GetTimestamp();
            foreach (var kernel in step)
            {
                device.Launch(kernel);
            }

            device.Synchronize();
            return Stopwatch.GetElapsedTime(start).TotalNanoseconds;
        });
        var peak = DeviceProfile.Load("h100").Fp32FlopsPerSecond;
        var measured = new CalibrationResult(gemm.Flops / gemmNs * 1e9, stream.Bytes / streamNs * 1e9, toDevice.Bytes / toDeviceNs * 1e9, toHost.Bytes / toHostNs * 1e9, tinyNs, launchNs, stepNs, gemm.Flops / gemmNs * 1e9 / peak);
        return measured with { GemmEfficiencyFitted = FitGemmEfficiency(measured, step, peak) };
    }

    /// <summary>
    /// The GEMM efficiency at which the cost model's time for <paramref name="step"/> equals the
    /// measured step: the non-GEMM kernels are costed with the measured rates, the rest of the
    /// step is GEMM time.
    /// </summary>
    public static double FitGemmEfficiency(CalibrationResult measured, IReadOnlyList<KernelSpec> step, double peakFlops)
    {
        ArgumentNullException.ThrowIfNull(measured);
        ArgumentNullException.ThrowIfNull(step);
        var profile = measured.ApplyTo(DeviceProfile.Load("h100") with { Fp32FlopsPerSecond = peakFlops }, "fit");
        var model = new CostModel(profile);
        var other = step.Where(k => k.Kind != KernelKind.Gemm).Sum(k => (double)model.DurationNs(k));
        var gemms = step.Where(k => k.Kind == KernelKind.Gemm).ToList();
        var gemmTime = measured.TrainingStepNs - other - (gemms.Count * (double)profile.KernelOverheadNs);
        var flops = gemms.Sum(k => k.Flops);
        return gemmTime <= 0 ? measured.GemmEfficiencyFitted : flops / (peakFlops * gemmTime / 1e9);
    }

    /// <summary>Batch sizes whose kernels calibration times: inference requests and training steps of every shipped model.</summary>
    public static IReadOnlyList<int> InferenceBatches { get; } = [1, 2, 4, 8, 16, 32, 64];

    /// <inheritdoc cref="InferenceBatches"/>
    public static IReadOnlyList<int> TrainingBatches { get; } = [8, 16, 32, 64];

    /// <summary>Every distinct compute kernel of the shipped models' inference requests and training steps at the calibrated batch sizes.</summary>
    public static IReadOnlyList<KernelSpec> ModelKernels() =>
        Workloads.ModelShapes.Names
            .SelectMany(model => InferenceBatches.SelectMany(b => Workloads.ModelShapes.InferenceRequest(model, b))
                .Concat(TrainingBatches.SelectMany(b => Workloads.ModelShapes.TrainingStep(model, b))))
            .Where(k => k.Kind is KernelKind.Gemm or KernelKind.Elementwise or KernelKind.Reduce)
            .Distinct()
            .ToList();

    /// <summary>Times each of <paramref name="kernels"/> on <paramref name="device"/> (<see cref="CudaDevice.MeasureKernelNs"/>, median of <paramref name="repetitions"/>).</summary>
    public static IReadOnlyList<MeasuredKernel> KernelTimes(CudaDevice device, IReadOnlyList<KernelSpec> kernels, int repetitions = 9, int launches = 1)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(kernels);
        device.Prepare([.. kernels, CudaDevice.Spacer]);
        foreach (var kernel in kernels.DistinctBy(k => k.Kind))
        {
            // The first launches of each kernel compile and load it.
            _ = device.MeasureKernelNs(kernel, 1);
        }

        return kernels.Select(k => MeasuredKernel.Of(k, (long)Math.Round(device.MeasureKernelNs(k, repetitions, launches)))).ToList();
    }

    private static double Repeat(IComputeDevice device, KernelSpec kernel, int count)
    {
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < count; i++)
        {
            device.Launch(kernel);
        }

        device.Synchronize();
        return Stopwatch.GetElapsedTime(start).TotalNanoseconds;
    }

    private static double Median(Func<double> measure)
    {
        _ = measure();
        var samples = Enumerable.Range(0, 7).Select(_ => measure()).Order().ToArray();
        return samples[samples.Length / 2];
    }
}
