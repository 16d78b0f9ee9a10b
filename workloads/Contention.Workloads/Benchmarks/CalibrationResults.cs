using Contention.Workloads.Devices;
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

/// <summary>One launch sequence's round trip: launch its operations, synchronise; loop mean, median of repetitions.</summary>
/// <param name="Name">What was launched.</param>
/// <param name="Ns">Time per launch sequence + synchronise.</param>
/// <param name="SleepsPerIteration">The thread's voluntary context switches per iteration (getrusage): how often it slept.</param>
/// <param name="P50Ns">The median of the single iterations' times over all repetitions.</param>
/// <param name="P99Ns">Their 99th percentile: what a tenant's tail would show of the sequence alone.</param>
/// <param name="IterationsNs">Every counted iteration's time, in the order they ran, ns (empty where not kept).</param>
public sealed record SequenceTime(string Name, double Ns, double SleepsPerIteration, double P50Ns = 0, double P99Ns = 0, IReadOnlyList<long>? IterationsNs = null);

/// <summary>One sync mode's measured round trips.</summary>
/// <param name="Mode">How the synchronising thread waited.</param>
/// <param name="Sequences">
/// One element-wise kernel of each of <see cref="Calibration.WaitKernels"/> sizes, <see cref="Calibration.ToDevice"/>
/// and <see cref="Calibration.ToHost"/> (4 KiB page-locked copies), and a batch-1 MLP inference
/// request in parts: its compute kernels alone, with the input copy, with the output copy, whole,
/// a batch-32 MLP request (<see cref="Calibration.Mlp32Request"/>), and the batch-1 request whole again as a tenant runs it, with a sample of its kernels timed (<see cref="Calibration.MlpRequestTimed"/>),
/// and with every kernel timed (<see cref="Calibration.MlpRequestEveryKernelTimed"/>).
/// </param>
public sealed record ModeRoundTrips(SyncMode Mode, IReadOnlyList<SequenceTime> Sequences)
{
    /// <summary>The sequence named <paramref name="name"/>.</summary>
    public SequenceTime this[string name] => Sequences.Single(s => s.Name == name);
}

/// <summary>
/// What <see cref="Calibration.RoundTrips"/> measured, and the profile values fitted from it: per
/// sync mode the round trip beyond launch CPU and kernel GPU time at several wait lengths, and
/// the copies' fixed cost beyond the round trip and their transfer time.
/// </summary>
/// <param name="LaunchCpuNs">The profile's launch CPU time, subtracted.</param>
/// <param name="WaitGpuNs">GPU time of each of <see cref="Calibration.WaitKernels"/> (CUDA events around back-to-back launches).</param>
/// <param name="Modes">Measurements per sync mode.</param>
/// <param name="MlpKernelNs">The profile's GPU time of the MLP request's compute kernels.</param>
/// <param name="ToDeviceTransferNs">The profile's transfer time of 4 KiB host to device.</param>
/// <param name="ToHostTransferNs">The profile's transfer time of 4 KiB device to host.</param>
/// <param name="Sharing">How the measuring process shared the GPU (<see cref="GpuSharing.Mps"/>: as a client of an MPS daemon).</param>
public sealed record RoundTripResult(double LaunchCpuNs, IReadOnlyList<double> WaitGpuNs, IReadOnlyList<ModeRoundTrips> Modes, double MlpKernelNs, double ToDeviceTransferNs, double ToHostTransferNs, GpuSharing Sharing = GpuSharing.Timeslice)
{
    /// <summary>
    /// The fitted round trips: per mode and wait kernel, the loop time less launch CPU and GPU
    /// time (never below 0), with the single iterations' spread around their mean where they were kept.
    /// </summary>
    public IReadOnlyList<MeasuredRoundTrip> Points =>
        [.. Modes.SelectMany(m => WaitGpuNs.Select((gpu, i) =>
        {
            var sequence = m[Calibration.WaitName(i)];
            var spread = sequence.IterationsNs is { Count: >= 2 } iterations ? RoundTripSpread.Measure(iterations) : null;
            return new MeasuredRoundTrip(m.Mode, (long)Math.Round(gpu), (long)Math.Round(Math.Max(0, sequence.Ns - LaunchCpuNs - gpu)), Sharing, spread);
        }))];

    /// <summary>The fitted round trip of <paramref name="mode"/> after waiting <paramref name="waitNs"/>, ns.</summary>
    public double RoundTripNs(SyncMode mode, double waitNs) =>
        new RoundTripCurve(new DeviceProfile { RoundTrips = Points }, mode, Sharing).Ns((long)Math.Round(waitNs));

    /// <summary>A copy's fixed cost: the median over modes and directions of a copy's round trip less the mode's shortest round trip, the launch and the transfer, ns (never below 0).</summary>
    public double CopyLatencyNs
    {
        get
        {
            var samples = Modes.SelectMany(m => new[]
            {
                m[Calibration.ToDevice].Ns - LaunchCpuNs - RoundTripNs(m.Mode, 0) - ToDeviceTransferNs,
                m[Calibration.ToHost].Ns - LaunchCpuNs - RoundTripNs(m.Mode, 0) - ToHostTransferNs,
            }).Order().ToArray();
            return Math.Max(0, (samples[(samples.Length - 1) / 2] + samples[samples.Length / 2]) / 2);
        }
    }

    /// <summary>
    /// What the fitted profile predicts for a batch-1 MLP request alone in <paramref name="mode"/>,
    /// ns: ten launches (the input copy, eight kernels, the output copy), the GPU's copies and
    /// kernels from the first launch on, then the round trip for the time the synchronise waited —
    /// the check printed beside the measured request.
    /// </summary>
    public double PredictedMlpRequestNs(SyncMode mode)
    {
        var gpuEnd = LaunchCpuNs + CopyLatencyNs + ToDeviceTransferNs + MlpKernelNs + CopyLatencyNs + ToHostTransferNs;
        var called = 10 * LaunchCpuNs;
        return gpuEnd <= called ? called : gpuEnd + RoundTripNs(mode, gpuEnd - called);
    }

    // How many single iterations each point's spread was measured from.
    private string Spreads =>
        Points.All(p => p.Spread is not null)
            ? $"; each with the spread of its single iterations around their mean (at least {Modes.SelectMany(m => WaitGpuNs.Select((_, i) => m[Calibration.WaitName(i)].IterationsNs!.Count)).Min()} per point)"
            : "";

    private string WithCopyLatency(string source, bool mps) =>
        mps ? source : new DeviceProfile { Source = source }.SourceWith("copy latency", $"copy latency {CopyLatencyNs / 1e3:0.0} us (4 KiB page-locked copies each way, less launch, round trip and transfer)");

    /// <summary>
    /// <paramref name="baseline"/> with the fitted round trips (replacing its points of the same
    /// sharing mode) and, measured alone, the copy latency.
    /// </summary>
    public DeviceProfile ApplyTo(DeviceProfile baseline, string hardware)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        var text = string.Join("; ", Modes.Select(m => $"{m.Mode.ToString().ToLowerInvariant()} {string.Join(", ", Points.Where(p => p.Sync == m.Mode).Select(p => $"{p.Ns / 1e3:0.0}"))} us"));
        var mps = Sharing == GpuSharing.Mps;
        return baseline with
        {
            RoundTrips = [.. baseline.RoundTrips.Where(p => p.Sharing != Sharing), .. Points],
            CopyLatencyNs = mps ? baseline.CopyLatencyNs : (long)Math.Round(CopyLatencyNs),
            Source = WithCopyLatency(baseline.SourceWith(mps ? "round trips of an MPS client" : "round trips measured", $"round trips{(mps ? " of an MPS client" : "")} measured by 'contention bench calibrate --round-trips-only{(mps ? " --mps" : "")}' on {hardware} ({DateTime.UtcNow:yyyy-MM-dd}): launch + synchronise of one element-wise kernel of {string.Join(", ", WaitGpuNs.Select(w => $"{w / 1e3:0.0}"))} us GPU time, less launch CPU and GPU time ({text}){Spreads}"), mps),
        };
    }
}

/// <summary>
/// What the time-slicing probes measured (<c>bench calibrate --time-slicing</c>): a probe process
/// launches one tiny kernel and synchronises, closed loop; a spinner launches GPU-filling kernels
/// so that its queue never runs dry.
/// </summary>
/// <param name="ProbeAloneNs">The probe's median operation alone.</param>
/// <param name="TwoProbesNs">The median operation of each of two probes at once (they alternate, each waiting one switch from the other's idle context).</param>
/// <param name="BesideSpinnerNs">The probe's median operation beside the spinner.</param>
/// <param name="SpinnerShare">The spinner's operations per second beside the probe over alone: its share of the GPU.</param>
public sealed record TimeSliceProbes(double ProbeAloneNs, double TwoProbesNs, double BesideSpinnerNs, double SpinnerShare)
{
    /// <summary>The cost of switching from a context whose queue ran dry: two probes' operation is two switches and two operations alone.</summary>
    public double IdleSwitchNs => (TwoProbesNs / 2) - ProbeAloneNs;

    /// <summary>The time slice: beside the probe the spinner runs a slice of every probe cycle, so the slice is its share of that cycle.</summary>
    public double SliceNs => SpinnerShare * BesideSpinnerNs;

    /// <summary>The cost of preempting a busy context: the probe's cycle beside the spinner less an idle switch, its own operation and the slice.</summary>
    public double SwitchNs => BesideSpinnerNs - IdleSwitchNs - ProbeAloneNs - SliceNs;

    /// <summary>Why these numbers show no time-slicing (each derived value must be positive); null when they do.</summary>
    public string? Problem =>
        IdleSwitchNs <= 0 || SliceNs <= 0 || SwitchNs <= 0 || SpinnerShare is <= 0 or >= 1
            ? $"the probes show no time-slicing (idle switch {IdleSwitchNs / 1e3:0.0} us, slice {SliceNs / 1e3:0.0} us, switch {SwitchNs / 1e3:0.0} us, spinner share {SpinnerShare:0.000}): is the GPU shared by MPS, or busy with other work?"
            : null;

    /// <summary><paramref name="baseline"/> with the fitted slice and switch costs, saying where they come from.</summary>
    public DeviceProfile ApplyTo(DeviceProfile baseline, string hardware)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        if (Problem is { } problem)
        {
            throw new InvalidOperationException(problem);
        }

        return baseline with
        {
            TimesliceNs = (long)Math.Round(SliceNs),
            ContextSwitchNs = (long)Math.Round(SwitchNs),
            IdleSwitchNs = (long)Math.Round(IdleSwitchNs),
            Source = baseline.SourceWith("time-slicing", $"time-slicing measured by 'contention bench calibrate --time-slicing' on {hardware} ({DateTime.UtcNow:yyyy-MM-dd}): a 4 KiB probe alone {ProbeAloneNs / 1e3:0.0} us, two at once {TwoProbesNs / 1e3:0.0} us, beside a spinner {BesideSpinnerNs / 1e3:0.0} us with the spinner keeping {SpinnerShare:P1} of the GPU: slice {SliceNs / 1e6:0.000} ms, {SwitchNs / 1e3:0} us preempting a busy context, {IdleSwitchNs / 1e3:0} us switching from an idle one"),
        };
    }
}
