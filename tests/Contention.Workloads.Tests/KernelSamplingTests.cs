using Contention.Workloads.Devices;

namespace Contention.Workloads.Tests;

/// <summary>A window's GPU time rests on its own timed batches.</summary>
public class KernelSamplingTests
{
    [Fact]
    public void EstimateNs_WindowKernels_CountAtTheMeanPerKernelOfTheWindowsTimedBatches()
    {
        // Before: 8 kernels timed at 20 us each. In the window: 800 kernels, 16 timed at 50 us each.
        var before = new KernelSampling(Kernels: 100, TimedBatches: 1, TimedKernels: 8, TimedNs: 160_000);
        var after = new KernelSampling(Kernels: 900, TimedBatches: 3, TimedKernels: 24, TimedNs: 960_000);

        var window = after - before;

        Assert.Equal(new KernelSampling(800, 2, 16, 800_000), window);
        Assert.Equal(800 * 50_000.0, window.EstimateNs);
        Assert.Equal(after, before + window);
    }

    [Fact]
    public void EstimateNs_KernelsButNoneTimed_IsNotMeasured()
    {
        Assert.Null(new KernelSampling(Kernels: 8, TimedBatches: 0, TimedKernels: 0, TimedNs: 0).EstimateNs);
    }

    [Fact]
    public void EstimateNs_NoKernels_IsZero()
    {
        Assert.Equal(0, new KernelSampling(0, 0, 0, 0).EstimateNs);
    }
}
