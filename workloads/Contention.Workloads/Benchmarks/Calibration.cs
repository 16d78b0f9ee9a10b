using System.Diagnostics;
using Contention.Workloads.Devices;
using Contention.Workloads.Kernels;
using Contention.Workloads.Sim;

namespace Contention.Workloads.Benchmarks;

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

    /// <summary>The sleep lengths <see cref="WakeUpLateness"/> measures, ns: a fast service's gaps between requests to a slow one's.</summary>
    public static IReadOnlyList<long> WakeUpSleeps { get; } = [50_000, 200_000, 1_000_000, 5_000_000, 20_000_000, 100_000_000];

    /// <summary>How many processes <c>bench calibrate --wake-ups-only</c> has sleep at once by default: one service, a few, a node's worth and more.</summary>
    public static IReadOnlyList<int> WakeUpSleepers { get; } = [1, 4, 16, 32];

    /// <summary>
    /// One sleeper of a wake-up measurement, on the calling thread: for each of
    /// <paramref name="sleeps"/> (ns) in turn, a first sleep of <paramref name="offset"/> (0 to 1)
    /// of the length, so that several sleepers' deadlines spread over it as independent services'
    /// arrivals do, then sleeps to an absolute deadline that far ahead (1 µs timer slack, as an
    /// open-loop tenant's thread), again and again for about <paramref name="secondsPerPoint"/> (at
    /// least 50 times); returns each wake-up's lateness after its deadline, ns, per length.
    /// </summary>
    public static long[][] WakeUpLateness(IReadOnlyList<long> sleeps, double secondsPerPoint, double offset, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(sleeps);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(secondsPerPoint);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        NativeMethods.UsePreciseTimers();
        var result = new long[sleeps.Count][];
        for (var s = 0; s < sleeps.Count; s++)
        {
            var sleepNs = sleeps[s];
            var iterations = (int)Math.Clamp(secondsPerPoint * 1e9 / sleepNs, 50, 4000);
            var late = new List<long>(iterations);
            NativeMethods.SleepUntil(MonotonicClock.NowNs() + (long)(offset * sleepNs));
            for (var i = 0; i < iterations && !cancellation.IsCancellationRequested; i++)
            {
                var deadline = MonotonicClock.NowNs() + sleepNs;
                NativeMethods.SleepUntil(deadline);
                late.Add(MonotonicClock.NowNs() - deadline);
            }

            result[s] = [.. late];
        }

        return result;
    }

    /// <summary>
    /// The wake-up points of <paramref name="sleepers"/> sleepers' lateness
    /// (<see cref="WakeUpLateness"/>, one array per sleeper, each with one list per length of
    /// <paramref name="sleeps"/>): per length the mean and spread over all of them.
    /// </summary>
    /// <exception cref="ArgumentException">A sleeper's lists do not match the lengths, or a length has fewer than two wake-ups.</exception>
    public static IReadOnlyList<MeasuredWakeUp> WakeUpPoints(IReadOnlyList<long> sleeps, IReadOnlyList<long[][]> lateness, int sleepers)
    {
        ArgumentNullException.ThrowIfNull(sleeps);
        ArgumentNullException.ThrowIfNull(lateness);
        if (lateness.Any(l => l.Length != sleeps.Count))
        {
            throw new ArgumentException($"each sleeper gives one list per sleep length ({sleeps.Count})", nameof(lateness));
        }

        return [.. sleeps.Select((sleepNs, s) =>
        {
            var all = lateness.SelectMany(l => l[s]).ToList();
            return new MeasuredWakeUp(sleepNs, (long)Math.Round(all.Average(v => (double)v)), RoundTripSpread.Measure(all), sleepers);
        })];
    }

    /// <summary>
    /// Measures the host's round trips through the driver in every sync mode on CUDA device
    /// <paramref name="ordinal"/>: a tiny kernel's launch + synchronise, 4 KiB copies each way
    /// (page-locked) + synchronise, and a batch-1 and a batch-32 MLP request (the shipped model's
    /// copies and kernels) + synchronise, each the median over repetitions of the mean of a loop.
    /// <paramref name="profile"/> supplies the launch CPU time and copy rates the fit subtracts.
    /// </summary>
    public static RoundTripResult RoundTrips(int ordinal, DeviceProfile profile, GpuSharing sharing = GpuSharing.Timeslice, int loops = 200)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var toDevice = KernelSpec.CopyToDevice(1024);
        var toHost = KernelSpec.CopyToHost(1024);
        var request = Workloads.ModelShapes.InferenceRequest("mlp", 1);
        var request32 = Workloads.ModelShapes.InferenceRequest("mlp", 32);
        var compute = request.Where(k => k.Kind is not (KernelKind.CopyToDevice or KernelKind.CopyToHost)).ToList();
        var waits = WaitKernels.Select(n => KernelSpec.Elementwise(n)).ToList();
        double[] waitGpuNs;
        using (var timing = new CudaDevice(new DeviceOptions { Id = new DeviceId(DeviceKind.Cuda, ordinal), SyncMode = SyncMode.Spin, TimeKernels = false }))
        {
            timing.Prepare([.. waits, CudaDevice.Spacer]);
            _ = timing.MeasureKernelNs(waits[0], 1);
            waitGpuNs = [.. waits.Select(k => timing.MeasureKernelNs(k, 9, 8))];
        }

        List<(string Name, IReadOnlyList<KernelSpec> Kernels)> sequences = [.. waits.Select((k, i) => (WaitName(i), (IReadOnlyList<KernelSpec>)[k]))];
        sequences.AddRange(
        [
            (ToDevice, [toDevice]),
            (ToHost, [toHost]),
            (MlpKernels, compute),
            (MlpInputAndKernels, [toDevice, .. compute]),
            (MlpKernelsAndOutput, [.. compute, toHost]),
            (MlpRequest, request),
            (Mlp32Request, request32),
        ]);
        var modes = new List<ModeRoundTrips>();
        var iterationNs = new List<long>(8 * loops);
        foreach (var mode in Enum.GetValues<SyncMode>())
        {
            using var device = new CudaDevice(new DeviceOptions { Id = new DeviceId(DeviceKind.Cuda, ordinal), SyncMode = mode, TimeKernels = false });
            device.Prepare([.. waits, toDevice, toHost, .. request, .. request32]);

            // A tenant's device times a sample of its kernels for its GPU time (KernelTimer): the
            // same request through such a device shows what that costs a light service, and
            // through one that times every kernel what the events themselves cost.
            using var timed = new CudaDevice(new DeviceOptions { Id = new DeviceId(DeviceKind.Cuda, ordinal), SyncMode = mode });
            timed.Prepare(request);
            using var everyKernel = new CudaDevice(new DeviceOptions { Id = new DeviceId(DeviceKind.Cuda, ordinal), SyncMode = mode, KernelTimingBudget = 1 });
            everyKernel.Prepare(request);
            var times = new List<SequenceTime>();
            foreach (var (name, kernels, on) in sequences.Select(s => (s.Name, s.Kernels, (IComputeDevice)device)).Append((MlpRequestTimed, request, timed)).Append((MlpRequestEveryKernelTimed, request, everyKernel)))
            {
                long sleeps = 0;
                var iterations = 0;
                var calls = 0;
                iterationNs.Clear();
                var ns = Median(() =>
                {
                    // The first call warms up: neither its sleeps nor its iterations count.
                    var counted = calls++ > 0;
                    var before = ThreadSwitches();
                    var start = Stopwatch.GetTimestamp();
                    var last = start;
                    for (var i = 0; i < loops; i++)
                    {
                        foreach (var kernel in kernels)
                        {
                            on.Launch(kernel);
                        }

                        on.Synchronize();
                        var now = Stopwatch.GetTimestamp();
                        if (counted)
                        {
                            iterationNs.Add((long)Stopwatch.GetElapsedTime(last, now).TotalNanoseconds);
                        }

                        last = now;
                    }

                    if (counted)
                    {
                        sleeps += ThreadSwitches() - before;
                        iterations += loops;
                    }

                    return Stopwatch.GetElapsedTime(start, last).TotalNanoseconds / loops;
                });
                var sorted = iterationNs.Order().ToArray();
                times.Add(new SequenceTime(name, ns, sleeps / (double)iterations, sorted[(sorted.Length - 1) / 2], sorted[(int)Math.Ceiling(0.99 * sorted.Length) - 1], [.. iterationNs]));
            }

            modes.Add(new ModeRoundTrips(mode, times));
        }

        var model = new CostModel(profile);
        return new RoundTripResult(profile.LaunchCpuNs, waitGpuNs, modes, compute.Sum(k => (double)model.DurationNs(k)), toDevice.Bytes / profile.HostToDevicePinnedBytesPerSecond * 1e9, toHost.Bytes / profile.DeviceToHostPinnedBytesPerSecond * 1e9, sharing);
    }

    /// <summary>
    /// The modelled step time of <paramref name="clients"/> MPS clients each running training
    /// steps of <paramref name="step"/> back to back on <paramref name="profile"/>'s GPU, with
    /// dense kernels beside other clients' dense kernels slowed by <paramref name="interference"/>
    /// (<see cref="DeviceProfile.MpsDenseInterference"/>), in virtual time: the median over
    /// clients and over their steps after the first (the host's launches and synchronise between
    /// steps, tens of microseconds against tens of milliseconds, are left out), ns. The GPU is the
    /// profile's own MPS model (<see cref="GpuSchedulers.Create"/>: its interference for the other
    /// pairs, block contention, dense crowding, staggered blocks and cold starts), so the fit
    /// holds for the model that runs: until 2026-12-04 it was a bare spatial scheduler with one
    /// interference for every pair, which the profile's later MPS rules left behind (the h200's
    /// 0.098, fitted so on 2026-12-01, gave two trainers 1.50x one in the model, 1.59x measured).
    /// </summary>
    public static double ModelledCoRunStepNs(DeviceProfile profile, IReadOnlyList<KernelSpec> step, int clients, double interference, int steps = 6)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(step);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(clients);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 2);
        var model = new CostModel(profile);
        var kernels = step.Select(k => model.Kernel(k)).ToArray();
        var gpu = GpuSchedulers.Create(profile with { MpsDenseInterference = interference }, GpuSharing.Mps, clients, 0);
        for (var c = 0; c < clients; c++)
        {
            for (var i = 0; i < steps; i++)
            {
                foreach (var kernel in kernels)
                {
                    gpu.Enqueue(c, kernel);
                }
            }
        }

        var ends = new List<long>[clients];
        for (var c = 0; c < clients; c++)
        {
            ends[c] = [0];
        }

        while (gpu.NextEventNs() is var next && next != long.MaxValue)
        {
            gpu.AdvanceTo(next);
            for (var c = 0; c < clients; c++)
            {
                if (gpu.Completed(c) >= ends[c].Count * (long)kernels.Length && ends[c].Count <= steps)
                {
                    ends[c].Add(gpu.LastCompletionNs(c));
                }
            }
        }

        var times = ends.SelectMany(e => e.Zip(e.Skip(1), (a, b) => (double)(b - a)).Skip(1)).Order().ToArray();
        return times[times.Length / 2];
    }

    /// <summary>
    /// The MPS interference between dense kernels (<see cref="DeviceProfile.MpsDenseInterference"/>)
    /// at which the model slows a training step of two clients at once against one alone as
    /// measured (<paramref name="twoClientsNs"/> over <paramref name="aloneNs"/>), by bisection
    /// over 0 to 0.9; 0 when the model without it is already as slow.
    /// </summary>
    public static double FitMpsDenseInterference(DeviceProfile profile, IReadOnlyList<KernelSpec> step, double aloneNs, double twoClientsNs)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(aloneNs);
        var target = twoClientsNs / aloneNs;
        var alone = ModelledCoRunStepNs(profile, step, 1, 0);
        double Slowdown(double interference) => ModelledCoRunStepNs(profile, step, 2, interference) / alone;
        if (Slowdown(0) >= target)
        {
            return 0;
        }

        double low = 0, high = 0.9;
        if (Slowdown(high) <= target)
        {
            return high;
        }

        for (var i = 0; i < 30; i++)
        {
            var mid = (low + high) / 2;
            if (Slowdown(mid) < target)
            {
                low = mid;
            }
            else
            {
                high = mid;
            }
        }

        return (low + high) / 2;
    }

    /// <summary>The client counts whose MLP requests under MPS fit <see cref="DeviceProfile.MpsBlockContention"/> (<see cref="FitMpsBlockContention"/>).</summary>
    public static IReadOnlyList<int> MpsClientCounts { get; } = [1, 2, 4, 8];

    /// <summary>What an MPS client of the block-contention probe runs per operation: an MLP batch-1 request (its input copy, kernels and output copy).</summary>
    public static IReadOnlyList<KernelSpec> MpsClientOperation { get; } = Workloads.ModelShapes.InferenceRequest("mlp", 1);

    /// <summary>
    /// The modelled requests per second of each of <paramref name="clients"/> closed-loop MLP
    /// batch-1 clients (spin) sharing <paramref name="profile"/>'s GPU by MPS with
    /// <see cref="DeviceProfile.MpsBlockContention"/> <paramref name="contention"/>, in virtual time
    /// (50 ms of warm-up, a 300 ms window; the tenants' own seeds): the median over the clients.
    /// </summary>
    public static double ModelledMpsClientRate(DeviceProfile profile, int clients, double contention)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(clients);
        const long warmupNs = 50_000_000, windowNs = 300_000_000;
        var tenants = Enumerable.Range(0, clients)
            .Select(i => new VirtualTenant($"mlp-{i}", new Workloads.WorkloadSpec { Kind = Workloads.WorkloadKind.Inference, Model = "mlp", BatchSize = 1, Seed = i + 1 }, SyncMode.Spin, SimContext.Default))
            .ToList();
        var gpu = new VirtualGpu(profile with { MpsBlockContention = contention }, GpuSharing.Mps, tenants);
        gpu.Measure(warmupNs, windowNs);
        var rates = Enumerable.Range(0, clients).Select(i => gpu.Result(i).Completed / (windowNs / 1e9)).Order().ToArray();
        return rates[rates.Length / 2];
    }

    /// <summary>
    /// The <see cref="DeviceProfile.MpsBlockContention"/> (0 to 2) at which the model's slowdown of
    /// closed-loop MLP batch-1 MPS clients best matches <paramref name="measuredRates"/> (client
    /// count → each client's requests per second, one client included): least squares of the log
    /// of modelled over measured slowdown, each count's rate over one client's, over the counts
    /// above one. Slowdowns, not rates: the host's share of a request, which the contention does
    /// not touch, then cancels. A grid of 0.05, then golden-section search around its best point.
    /// </summary>
    /// <exception cref="ArgumentException">No rate for one client, none for more, or a rate not above 0.</exception>
    public static double FitMpsBlockContention(DeviceProfile profile, IReadOnlyDictionary<int, double> measuredRates)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(measuredRates);
        if (!measuredRates.TryGetValue(1, out var alone) || measuredRates.Count < 2 || measuredRates.Values.Any(r => !(r > 0)))
        {
            throw new ArgumentException("the fit needs each client's requests per second with one client and with more, all above 0", nameof(measuredRates));
        }

        var counts = measuredRates.Keys.Where(n => n > 1).Order().ToArray();
        var modelledAlone = ModelledMpsClientRate(profile, 1, 0);
        double Error(double contention) => counts.Sum(n =>
        {
            var modelled = ModelledMpsClientRate(profile, n, contention) / modelledAlone;
            var measured = measuredRates[n] / alone;
            return Math.Pow(Math.Log(modelled / measured), 2);
        });

        const double step = 0.05, top = 2;
        var (best, bestError) = Enumerable.Range(0, (int)(top / step) + 1).Select(i => (C: i * step, E: Error(i * step))).MinBy(p => p.E);
        double low = Math.Max(0, best - step), high = Math.Min(top, best + step);
        var golden = (Math.Sqrt(5) - 1) / 2;
        var a = high - (golden * (high - low));
        var b = low + (golden * (high - low));
        double errorA = Error(a), errorB = Error(b);
        for (var i = 0; i < 12; i++)
        {
            if (errorA <= errorB)
            {
                (high, b, errorB) = (b, a, errorA);
                a = high - (golden * (high - low));
                errorA = Error(a);
            }
            else
            {
                (low, a, errorA) = (a, b, errorB);
                b = low + (golden * (high - low));
                errorB = Error(b);
            }
        }

        var fitted = (low + high) / 2;
        return Error(fitted) <= bestError ? fitted : best;
    }

    /// <summary>What a time-slicing probe launches per operation: one element-wise kernel over 4 KiB (as <c>mixes/validation/timeslice-probes.yaml</c>).</summary>
    public static IReadOnlyList<KernelSpec> ProbeOperation { get; } = [Workloads.WorkloadRunner.MicrobenchKernel(Workloads.MicrobenchOp.Elementwise, 4096)];

    /// <summary>What the spinner launches per operation: 20 element-wise kernels over 1 GiB, each filling the GPU for a few hundred microseconds.</summary>
    public static IReadOnlyList<KernelSpec> SpinnerOperation { get; } = [.. Enumerable.Repeat(Workloads.WorkloadRunner.MicrobenchKernel(Workloads.MicrobenchOp.Elementwise, 1L << 30), 20)];

    /// <summary>Elements of the element-wise kernels whose launch + synchronise measures the round trip at growing wait lengths (on an H200 about 2 us to 0.5 ms of GPU time).</summary>
    public static IReadOnlyList<long> WaitKernels { get; } = [1, 1L << 16, 1L << 19, 1L << 21, 1L << 23, 1L << 24, 1L << 25, 1L << 27];

    /// <summary>The sequence name of wait kernel <paramref name="index"/>.</summary>
    public static string WaitName(int index) => $"wait kernel {WaitKernels[index]}";

    /// <summary>Names of the other sequences <see cref="RoundTrips"/> times.</summary>
    public const string ToDevice = "copy H2D 4 KiB", ToHost = "copy D2H 4 KiB", MlpKernels = "MLP b1 kernels", MlpInputAndKernels = "MLP b1 input + kernels", MlpKernelsAndOutput = "MLP b1 kernels + output", MlpRequest = "MLP b1 request", Mlp32Request = "MLP b32 request", MlpRequestTimed = "MLP b1 request, as a tenant times it", MlpRequestEveryKernelTimed = "MLP b1 request, every kernel timed";

    private static long ThreadSwitches() => NativeMethods.Usage(NativeMethods.RusageThread).VoluntarySwitches;

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
