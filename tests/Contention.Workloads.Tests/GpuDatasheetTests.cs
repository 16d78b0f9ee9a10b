using Contention.Workloads.Kernels;
using Contention.Workloads.Sim;
using Contention.Workloads.Workloads;

namespace Contention.Workloads.Tests;

public class GpuDatasheetTests
{
    private static readonly DeviceProfile H200 = DeviceProfile.Load("h200");

    [Fact]
    public void Load_DatasheetName_ScalesTheCalibratedProfileAndSaysSo()
    {
        var t4 = DeviceProfile.Load("T4");

        Assert.Equal("NVIDIA T4 (modelled, scaled from NVIDIA H200)", t4.Name);
        Assert.Equal((8.1e12, 320e9, 40), (t4.Fp32FlopsPerSecond, t4.MemoryBytesPerSecond, t4.Multiprocessors));
        Assert.Equal(H200.KernelTimes.Count, t4.KernelTimes.Count);
        Assert.Equal((H200.LaunchCpuNs, H200.TimesliceNs, H200.MpsInterference), (t4.LaunchCpuNs, t4.TimesliceNs, t4.MpsInterference));
        Assert.StartsWith("scaled from the calibrated 'NVIDIA H200 (modelled)' by the datasheet peaks of the NVIDIA T4", t4.Source, StringComparison.Ordinal);
        Assert.Contains("assumed, not measured on this GPU", t4.Source, StringComparison.Ordinal);
        Assert.All(GpuDatasheet.Known, d => Assert.Contains(d.Name, DeviceProfile.BuiltInNames));

        // The host link: PCIe 3.0 at the H200's measured share of its PCIe 5.0 link.
        Assert.Equal(15.75e9 * (H200.HostToDevicePinnedBytesPerSecond + H200.DeviceToHostPinnedBytesPerSecond) / 2 / 63e9, t4.HostToDevicePinnedBytesPerSecond, 1e3);
    }

    [Theory]
    [InlineData(10_000, 8_000, 40_000, 42_000)] // beyond the roofline: 2 us kept, the roofline part scaled
    [InlineData(5_000, 100, 1_500, 6_400)] // a tiny kernel, mostly latency: barely slower
    [InlineData(900, 1_000, 3_000, 2_700)] // below its roofline (cached): in proportion
    public void ScaleMeasured_SplitsRooflineFromTheRest(long measured, long from, long to, long expected) =>
        Assert.Equal(expected, DeviceProfile.ScaleMeasured(measured, from, to));

    [Fact]
    public void ScaledTo_MeasuredKernels_ScaleTheirRooflinePartByTheirBound()
    {
        var v100 = DeviceProfile.Load("v100m32");
        var from = new CostModel(H200);
        var to = new CostModel(v100);

        // A large element-wise kernel is memory-bound: it slows by the bandwidth ratio (4.8 / 0.9 TB/s).
        var stream = H200.KernelTimes.Select(k => k.Spec).Where(k => k.Kind == KernelKind.Elementwise).MaxBy(k => k.Elements);
        Assert.True(from.IsMeasured(stream) && to.IsMeasured(stream));
        Assert.InRange(to.DurationNs(stream) / (double)from.DurationNs(stream), 0.9 * 4.8e12 / 900e9, 1.01 * 4.8e12 / 900e9);

        // The largest GEMM is compute-bound: it slows by the FP32 ratio (67 / 15.7 TFLOP/s).
        var gemm = H200.KernelTimes.Select(k => k.Spec).Where(k => k.Kind == KernelKind.Gemm).MaxBy(k => k.Flops);
        Assert.InRange(to.DurationNs(gemm) / (double)from.DurationNs(gemm), 0.95 * 67e12 / 15.7e12, 1.01 * 67e12 / 15.7e12);

        // Each measured kernel keeps what it took beyond its roofline (latency, occupancy).
        var roofFrom = new CostModel(H200 with { KernelTimes = [] });
        var roofTo = new CostModel(v100 with { KernelTimes = [] });
        Assert.All(H200.KernelTimes.Where(k => k.Ns >= roofFrom.RooflineNs(k.Spec)), k => Assert.Equal(k.Ns - roofFrom.RooflineNs(k.Spec), to.DurationNs(k.Spec) - roofTo.RooflineNs(k.Spec)));

        // A ResNet-50 batch-32 training step: slower on the older GPU by less than its FP32 ratio bounds.
        var step = ModelShapes.TrainingStep("resnet50", 32);
        var ratio = step.Sum(k => (double)to.DurationNs(k)) / step.Sum(k => (double)from.DurationNs(k));
        Assert.InRange(ratio, 3, 67e12 / 15.7e12 * 1.2);
    }
}
