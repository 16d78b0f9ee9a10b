using Contention.Workloads.Kernels;
using Contention.Workloads.Sim;

namespace Contention.Workloads.Tests;

public class CostModelTests
{
    private static readonly DeviceProfile Profile = new()
    {
        Name = "test",
        Fp32FlopsPerSecond = 1e12,
        GemmEfficiency = 0.5,
        MemoryBytesPerSecond = 1e11,
        MemoryEfficiency = 0.8,
        HostToDevicePinnedBytesPerSecond = 1e10,
        DeviceToHostPinnedBytesPerSecond = 2e10,
        CopyLatencyNs = 1000,
        KernelOverheadNs = 2000,
        TimesliceNs = 2_000_000,
        ContextSwitchNs = 200_000,
    };

    [Fact]
    public void DurationNs_ComputeBoundGemm_IsFlopsOverAchievableRatePlusOverhead()
    {
        var model = new CostModel(Profile);

        // 2·1024³ FLOP at 0.5 TFLOP/s = 4,294,967 ns; its 12 MiB of traffic would take 157,286 ns.
        var ns = model.DurationNs(KernelSpec.Gemm(1024, 1024, 1024));

        Assert.Equal(2000 + 4_294_967, ns);
    }

    [Fact]
    public void Kernel_BandwidthShare_IsTheTrafficsTimeOverTheKernelsDuration()
    {
        var model = new CostModel(Profile);

        // 1M elements: 150,000 ns of traffic at 80 GB/s in 152,000 ns; 1,024 elements: 153.6 ns in
        // 2,154 ns (the fixed cost is most of it), not the whole bandwidth.
        Assert.Equal(150_000 / 152_000.0, model.Kernel(KernelSpec.Elementwise(1_000_000)).BandwidthShare, 4);
        Assert.Equal(153.6 / 2_154, model.Kernel(KernelSpec.Elementwise(1_024)).BandwidthShare, 3);
        Assert.Equal(1, model.BandwidthShare(1e9, 1));
        Assert.Equal(0, model.BandwidthShare(1e9, 0));
    }

    [Fact]
    public void Kernel_TwoSmallKernelsOfTwoMpsClients_RunSideBySideAtFullSpeed()
    {
        // Two 4 KiB element-wise kernels, a microsecond and a half each, mostly fixed cost: under
        // MPS (no interference here) both end when one alone would, where counting each as using
        // the whole bandwidth had them share it and take twice as long.
        var kernel = new CostModel(Profile).Kernel(KernelSpec.Elementwise(1_024));
        var gpu = new SpatialScheduler(2);
        gpu.Enqueue(0, kernel);
        gpu.Enqueue(1, kernel);

        gpu.AdvanceTo(kernel.DurationNs);

        Assert.Equal((1, 1), (gpu.Completed(0), gpu.Completed(1)));
    }

    [Fact]
    public void Kernel_GemmOfSixWavesAndAFifth_CarriesItsOccupancyAndItsLastWavesShare()
    {
        // 4096³ on the H200: 64 x 64 tiles of 64 = 4,096 blocks, 5 to a multiprocessor, 660 at once:
        // 6 whole waves and 136 blocks, 136/660 of the room in the last, one block a multiprocessor.
        var kernel = new CostModel(DeviceProfile.Load("h200")).Kernel(KernelSpec.Gemm(4096, 4096, 4096));

        Assert.Equal(5, kernel.BlocksPerMultiprocessor);
        Assert.Equal(4096 / 660.0, kernel.ExactWaves, 9);
        Assert.Equal(136 / 660.0, kernel.TailShare, 9);
        Assert.Equal(136 / 132.0, kernel.TailSpread, 9);
        Assert.True(kernel.HasTail);
        Assert.Equal(kernel.DurationNs / 7, kernel.WaveNs);
    }

    [Fact]
    public void RooflineNs_UntimedGemm_TakesTheEfficiencyOfTheTimedGemmsNearestInShape()
    {
        // Five large GEMMs timed at 0.4 of the 1 TFLOP/s peak and five small ones at 0.05 (each
        // time the fixed 2,000 ns plus its FLOPs at that rate): an untimed GEMM among the large ones
        // runs at 0.4, one among the small ones at 0.05, where the profile's one efficiency says 0.5.
        static MeasuredKernel Timed(int m, int n, int k, double efficiency) =>
            MeasuredKernel.Of(KernelSpec.Gemm(m, n, k), 2000 + (long)Math.Round(KernelSpec.Gemm(m, n, k).Flops / (1000 * efficiency)));
        var timed = Enumerable.Range(0, 5).Select(i => Timed(2048, 2048, 2048 + (64 * i), 0.4))
            .Concat(Enumerable.Range(0, 5).Select(i => Timed(64, 64, 64 + (16 * i), 0.05))).ToList();
        var model = new CostModel(Profile with { KernelTimes = [.. timed] });
        var large = KernelSpec.Gemm(2048, 2048, 2400);
        var small = KernelSpec.Gemm(64, 64, 200);

        Assert.Equal(0.4, model.GemmEfficiency(large), 4);
        Assert.Equal(0.05, model.GemmEfficiency(small), 4);
        Assert.InRange(model.RooflineNs(large) - (2000 + (long)Math.Round(large.Flops / 400)), -1, 1);
        Assert.InRange(model.RooflineNs(small) - (2000 + (long)Math.Round(small.Flops / 50)), -1, 1);

        // Fewer timed GEMMs than it takes: the profile's efficiency.
        var few = new CostModel(Profile with { KernelTimes = [.. timed.Take(CostModel.NearestGemms - 1)] });
        Assert.Equal(0.5, few.GemmEfficiency(large));
        Assert.InRange(few.RooflineNs(large) - (2000 + (long)Math.Round(large.Flops / 500)), -1, 1);
    }

    [Fact]
    public void RooflineNs_ShippedH200_PredictsEachTimedGemmFromTheOthersBetterThanOneEfficiency()
    {
        // Each of the 280 timed GEMMs (the shipped models' 270 and, since session 36, ten square
        // ones of 256³ to 8192³) predicted from the others, against the profile's one efficiency
        // (fitted to a ResNet-50 training step); and a 4096³ GEMM, which the calibration timed at
        // 13.72 TFLOP/s (10.02 ms), from the table without it.
        var profile = DeviceProfile.Load("h200");
        var gemms = profile.KernelTimes.Where(k => k.Spec.Kind == KernelKind.Gemm).ToList();
        var one = new CostModel(profile with { KernelTimes = [] });
        double nearestError = 0, oneError = 0;
        foreach (var gemm in gemms)
        {
            var others = new CostModel(profile with { KernelTimes = [.. profile.KernelTimes.Where(k => k != gemm)] });
            nearestError += Math.Abs(Math.Log(others.RooflineNs(gemm.Spec) / (double)gemm.Ns));
            oneError += Math.Abs(Math.Log(one.RooflineNs(gemm.Spec) / (double)gemm.Ns));
        }

        Assert.Equal(280, gemms.Count);
        Assert.InRange(Math.Exp(nearestError / gemms.Count), 1, 1.10);
        Assert.InRange(Math.Exp(oneError / gemms.Count), 1.35, 1.45);
        var big = KernelSpec.Gemm(4096, 4096, 4096);
        Assert.Equal("table", new CostModel(profile).Basis(big));
        var without = new CostModel(profile with { KernelTimes = [.. profile.KernelTimes.Where(k => k.Spec != big)] });
        Assert.Equal("nearest GEMMs", without.Basis(big));
        Assert.InRange(without.RooflineNs(big) / (big.Flops / 13.72e3), 1, 1.06);
        Assert.InRange(one.RooflineNs(big) / (big.Flops / 13.72e3), 1.2, 1.3);
    }

    [Fact]
    public void DurationNs_Elementwise_IsMemoryBound()
    {
        var model = new CostModel(Profile);

        // 1M elements × 12 bytes at 80 GB/s = 150,000 ns (the 1M FLOP would take 1,000 ns).
        Assert.Equal(2000 + 150_000, model.DurationNs(KernelSpec.Elementwise(1_000_000)));
    }

    [Fact]
    public void DurationNs_UntimedElementwise_InterpolatesTheTimedSizesOnLogScales()
    {
        // Timed: 1,000 elements in 2,000 ns (Add and Multiply, 1,900 and 2,100: their median),
        // 100,000 in 20,000 ns, 1,000,000 in 400,000 ns.
        var model = new CostModel(Profile with
        {
            KernelTimes =
            [
                MeasuredKernel.Of(KernelSpec.Elementwise(1_000, ElementwiseOp.Add), 1_900),
                MeasuredKernel.Of(KernelSpec.Elementwise(1_000, ElementwiseOp.Multiply), 2_100),
                MeasuredKernel.Of(KernelSpec.Elementwise(100_000, ElementwiseOp.Add), 20_000),
                MeasuredKernel.Of(KernelSpec.Elementwise(1_000_000, ElementwiseOp.Add), 400_000),
                MeasuredKernel.Of(KernelSpec.Gemm(64, 64, 64), 9_000),
            ],
        });

        // 10,000 is halfway between 1,000 and 100,000 on a log scale: sqrt(2,000 × 20,000).
        Assert.Equal(6_325, model.DurationNs(KernelSpec.Elementwise(10_000, ElementwiseOp.AddRelu)));
        // Below the smallest size its time; above the largest its time per element.
        Assert.Equal(2_000, model.DurationNs(KernelSpec.Elementwise(10)));
        Assert.Equal(800_000, model.DurationNs(KernelSpec.Elementwise(2_000_000)));
        // A timed kernel keeps its own time; a reduction and a GEMM stay on the roofline.
        Assert.Equal(1_900, model.DurationNs(KernelSpec.Elementwise(1_000, ElementwiseOp.Add)));
        Assert.Equal(2000 + 50_000, model.DurationNs(KernelSpec.Reduce(1_000_000)));
        Assert.Null(new CostModel(Profile).TimedElementwiseNs(10_000));
        Assert.Equal(
            ["element-wise sizes", "table", "roofline", "roofline"],
            [model.Basis(KernelSpec.Elementwise(10_000)), model.Basis(KernelSpec.Elementwise(1_000, ElementwiseOp.Add)), model.Basis(KernelSpec.Reduce(1_000)), new CostModel(Profile).Basis(KernelSpec.Elementwise(10_000))]);
    }

    [Fact]
    public void DurationNs_ShippedH200_PredictsEachTimedElementwiseSizeFromTheOthersBetterThanTheRoofline()
    {
        // Each timed size of the H200's element-wise kernels (the shipped models', 1,000 to 51M
        // elements) predicted from the other sizes (1.015x, geometric mean of the ratios' size),
        // against the roofline (1.62x), which charges each the fixed cost a lone tiny kernel's
        // launches measured and the memory's rate to kernels that run from the L2 cache.
        var profile = DeviceProfile.Load("h200");
        var sizes = profile.KernelTimes.Where(k => k.Kind == KernelKind.Elementwise).GroupBy(k => k.Elements).ToList();
        var roofline = new CostModel(profile with { KernelTimes = [] });
        double interpolatedError = 0, rooflineError = 0;
        var inner = 0;
        foreach (var size in sizes)
        {
            var others = new CostModel(profile with { KernelTimes = [.. profile.KernelTimes.Where(k => k.Kind != KernelKind.Elementwise || k.Elements != size.Key)] });
            var spec = KernelSpec.Elementwise(size.Key);
            var real = size.Average(k => (double)k.Ns);
            if (size.Key > sizes.Min(s => s.Key) && size.Key < sizes.Max(s => s.Key))
            {
                inner++;
                interpolatedError += Math.Abs(Math.Log(others.DurationNs(spec) / real));
                rooflineError += Math.Abs(Math.Log(roofline.DurationNs(spec) / real));
            }
        }

        Assert.True(inner >= 30, $"{inner} inner sizes");
        Assert.InRange(Math.Exp(interpolatedError / inner), 1, 1.03);
        Assert.InRange(Math.Exp(rooflineError / inner), 1.5, 1.75);
        // The 16 MiB element-wise kernel the validation suite's spinner passes over again and again:
        // about 6 µs on the H200 (its steps), where the roofline takes 9.7.
        var spinner = Workloads.WorkloadRunner.MicrobenchKernel(Workloads.MicrobenchOp.Elementwise, 16L << 20);
        Assert.InRange(new CostModel(profile).DurationNs(spinner), 5_500, 6_200);
        Assert.InRange(roofline.DurationNs(spinner), 9_500, 10_000);
    }

    [Fact]
    public void DurationNs_Copies_UseTheirDirectionsBusRate()
    {
        var model = new CostModel(Profile);

        Assert.Equal(1000 + 400_000, model.DurationNs(KernelSpec.CopyToDevice(1_000_000)));
        Assert.Equal(1000 + 200_000, model.DurationNs(KernelSpec.CopyToHost(1_000_000)));
    }

    [Fact]
    public void Load_ShippedH100_HasMeasuredTimeslicing()
    {
        var profile = DeviceProfile.Load("h100");

        Assert.Equal(2_060_000, profile.TimesliceNs);
        Assert.Contains("calibrated", profile.Source, StringComparison.Ordinal);
        Assert.Equal(190_000, profile.ContextSwitchNs);
    }

    [Fact]
    public void Load_ShippedH200_HasItsCalibrationAndProbedTimeslicing()
    {
        var profile = DeviceProfile.Load("h200");

        Assert.Equal("NVIDIA H200 (modelled)", profile.Name);
        // Calibrated with the time-slicing probes on the H200 (2.06 ms, 215-220 and 128-129 us in two
        // calibrations), each value saying so; every round trip with its measured spread.
        Assert.InRange(profile.TimesliceNs, 2_000_000, 2_100_000);
        Assert.InRange(profile.ContextSwitchNs, 200_000, 240_000);
        Assert.InRange(profile.IdleSwitchNs, 110_000, 150_000);
        Assert.Contains("time-slicing measured by 'contention bench calibrate --time-slicing'", profile.Source, StringComparison.Ordinal);
        Assert.All(profile.RoundTrips, p => Assert.Equal(RoundTripSpread.Probabilities.Count, p.Spread?.Count));
        // Element-wise 2,753 GB/s measured against the 4.8 TB/s peak.
        Assert.Equal(2753, profile.MemoryBytesPerSecond * profile.MemoryEfficiency / 1e9, 0);
        Assert.Contains(DeviceProfile.BuiltInNames, n => n == "h200");
    }

    [Fact]
    public void Load_UnknownName_SaysWhatToGive()
    {
        var error = Assert.Throws<ArgumentException>(() => DeviceProfile.Load("a100-nonexistent"));

        Assert.Contains("h100", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_InvalidFile_NamesTheBadField()
    {
        var path = Path.GetTempFileName();
        File.WriteAllText(path, """{ "name": "bad", "fp32FlopsPerSecond": 1e12, "gemmEfficiency": 3 }""");
        try
        {
            var error = Assert.Throws<ArgumentException>(() => DeviceProfile.Load(path));
            Assert.Contains("GemmEfficiency", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void DurationNs_KernelTheProfileTimed_IsTheMeasuredTimeAndOthersTheRoofline()
    {
        var timed = KernelSpec.Gemm(1, 1024, 1024);
        var model = new CostModel(Profile with { KernelTimes = [MeasuredKernel.Of(timed, 55_300)] });

        Assert.True(model.IsMeasured(timed));
        Assert.Equal(55_300, model.DurationNs(timed));
        Assert.Equal(model.RooflineNs(KernelSpec.Gemm(2, 1024, 1024)), model.DurationNs(KernelSpec.Gemm(2, 1024, 1024)));
        Assert.False(model.IsMeasured(KernelSpec.Elementwise(1024, ElementwiseOp.Multiply)));
    }

    [Fact]
    public void KernelTimes_ShippedH200Profile_CoverEveryKernelOfTheShippedModelsAtTheCalibratedBatches()
    {
        var model = new CostModel(DeviceProfile.Load("h200"));

        var missing = Benchmarks.Calibration.ModelKernels().Where(k => !model.IsMeasured(k)).ToList();

        Assert.Empty(missing);
        Assert.Empty(new CostModel(DeviceProfile.Load("h100")).Profile.KernelTimes);
    }

    [Fact]
    public void KernelTimes_WrittenAndReadBack_KeepKindOpAndTime()
    {
        var profile = Profile with { KernelTimes = [MeasuredKernel.Of(KernelSpec.Elementwise(4096, ElementwiseOp.Multiply), 4250)] };
        var path = Path.Combine(Path.GetTempPath(), $"profile-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, System.Text.Json.JsonSerializer.Serialize(profile, DeviceProfileJson.Default.DeviceProfile));
        try
        {
            var text = File.ReadAllText(path);
            Assert.Contains("\"Multiply\"", text, StringComparison.Ordinal);
            Assert.DoesNotContain("\"spec\"", text, StringComparison.Ordinal);
            var read = DeviceProfile.Load(path);
            Assert.Equal(profile.KernelTimes, read.KernelTimes);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
