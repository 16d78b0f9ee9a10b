using Contention.Workloads.Benchmarks;
using Contention.Workloads.Sim;
using Contention.Workloads.Workloads;

namespace Contention.Workloads.Tests;

public class CalibrationTests
{
    [Theory]
    [InlineData(0.05)]
    [InlineData(0.2)]
    [InlineData(0.6)]
    public void FitGemmEfficiency_StepTimedByTheModel_RecoversTheEfficiency(double efficiency)
    {
        var step = ModelShapes.TrainingStep("resnet50", 32);
        var measured = new CalibrationResult(1e13, 2.5e12, 5e10, 5e10, 2000, 3000, 0, 0);
        var profile = measured.ApplyTo(DeviceProfile.Load("h100"), "test") with { GemmEfficiency = efficiency };
        var model = new CostModel(profile);
        var stepNs = step.Sum(k => (double)model.DurationNs(k));

        var fitted = Calibration.FitGemmEfficiency(measured with { TrainingStepNs = stepNs }, step, profile.Fp32FlopsPerSecond);

        // Memory-bound GEMMs keep the fit from being exact; it stays within 5 %.
        Assert.InRange(fitted, efficiency * 0.95, efficiency * 1.05);
    }

    [Fact]
    public void ApplyTo_Measurements_EndUpInTheProfileWithTheirSource()
    {
        var measured = new CalibrationResult(1.366e13, 2.474e12, 5.49e10, 5.5e10, 3678, 3635, 1.87e8, 0.2);

        var profile = measured.ApplyTo(DeviceProfile.Load("h100"), "NVIDIA H100 (ILGPU CUDA, sync spin, pinned host memory)");

        Assert.Equal("NVIDIA H100 (modelled, calibrated)", profile.Name);
        Assert.Equal(0.2, profile.GemmEfficiency);
        Assert.Equal(0.7385, profile.MemoryEfficiency, 3);
        Assert.Equal(5.49e10, profile.HostToDevicePinnedBytesPerSecond);
        Assert.Equal(3635, profile.LaunchCpuNs);
        Assert.Contains("NVIDIA H100", profile.Source, StringComparison.Ordinal);
        Assert.Contains("187.0 ms", profile.Source, StringComparison.Ordinal);
    }
}
