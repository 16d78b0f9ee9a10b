using Contention.Workloads.Benchmarks;
using Contention.Workloads.Kernels;
using Contention.Workloads.Sim;
using Contention.Workloads.Workloads;

namespace Contention.Workloads.Tests;

/// <summary>The MPS interference of the modelled GPU: the scheduler's rule on hand-computed timelines, and its fit.</summary>
public class MpsInterferenceTests
{
    [Fact]
    public void AdvanceTo_TwoHalfGpuKernelsWithInterference_EachRunsThatMuchSlower()
    {
        var gpu = new SpatialScheduler(2, 0, 0.2);
        gpu.Enqueue(0, new SimKernel(1000, 0.5));
        gpu.Enqueue(1, new SimKernel(1000, 0.5));

        // 1000 ns of work at 0.8 of the speed alone: both end at 1250.
        gpu.AdvanceTo(1249);
        Assert.Equal((0, 0), (gpu.Completed(0), gpu.Completed(1)));
        gpu.AdvanceTo(1250);
        Assert.Equal((1, 1), (gpu.Completed(0), gpu.Completed(1)));
    }

    [Fact]
    public void AdvanceTo_KernelAloneOrBesideACopy_RunsAtFullSpeed()
    {
        var gpu = new SpatialScheduler(2, 0, 0.2);
        gpu.Enqueue(0, new SimKernel(1000, 0.5));
        gpu.Enqueue(1, new SimKernel(400, 0));
        gpu.AdvanceTo(1000);

        Assert.Equal((1, 1), (gpu.Completed(0), gpu.Completed(1)));
        Assert.Equal((1000L, 400L), (gpu.LastCompletionNs(0), gpu.LastCompletionNs(1)));
    }

    [Fact]
    public void AdvanceTo_InterferenceEndsWithTheOtherKernel()
    {
        var gpu = new SpatialScheduler(2, 0, 0.5);
        gpu.Enqueue(0, new SimKernel(1000, 0.5));
        gpu.Enqueue(1, new SimKernel(200, 0.5));

        // Together at half speed: context 1's 200 ns end at 400, when context 0 has done 200 of
        // its 1000; the other 800 alone at full speed end at 1200.
        gpu.AdvanceTo(400);
        Assert.Equal(1, gpu.Completed(1));
        gpu.AdvanceTo(1199);
        Assert.Equal(0, gpu.Completed(0));
        gpu.AdvanceTo(1200);
        Assert.Equal(1, gpu.Completed(0));
    }

    [Fact]
    public void ModelledCoRunStepNs_OneClient_IsTheSumOfTheStepsKernels()
    {
        var profile = DeviceProfile.Load("h200");
        var step = ModelShapes.TrainingStep("resnet50", 32);
        var model = new CostModel(profile);

        Assert.Equal(step.Sum(k => (double)model.Kernel(k).DurationNs), Calibration.ModelledCoRunStepNs(profile, step, 1, 0.3));
    }

    [Fact]
    public void ModelledCoRunStepNs_TwoClients_SlowerWithInterferenceButFasterThanTakingTurns()
    {
        var profile = DeviceProfile.Load("h200");
        var step = ModelShapes.TrainingStep("resnet50", 32);
        var alone = Calibration.ModelledCoRunStepNs(profile, step, 1, 0);
        var two = Calibration.ModelledCoRunStepNs(profile, step, 2, 0);
        var twoInterfering = Calibration.ModelledCoRunStepNs(profile, step, 2, 0.1);

        Assert.InRange(two, alone, 2 * alone);
        Assert.True(twoInterfering > two, $"interference 0.1 left two clients' step at {twoInterfering} ns (none: {two})");
    }

    [Fact]
    public void FitMpsInterference_SlowdownMadeWithAKnownInterference_FindsIt()
    {
        var profile = DeviceProfile.Load("h200");
        var step = ModelShapes.TrainingStep("resnet50", 16);
        var alone = Calibration.ModelledCoRunStepNs(profile, step, 1, 0);
        var two = Calibration.ModelledCoRunStepNs(profile, step, 2, 0.07);

        // Measured numbers in another scale (a GPU 10 % slower than the model) give the same fit.
        Assert.Equal(0.07, Calibration.FitMpsInterference(profile, step, 1.1 * alone, 1.1 * two), 3);
    }

    [Fact]
    public void FitMpsInterference_MeasuredFasterThanTheModelWithout_IsZero()
    {
        var profile = DeviceProfile.Load("h200");
        IReadOnlyList<KernelSpec> step = ModelShapes.TrainingStep("resnet50", 16);

        Assert.Equal(0, Calibration.FitMpsInterference(profile, step, 100e6, 110e6));
    }
}
