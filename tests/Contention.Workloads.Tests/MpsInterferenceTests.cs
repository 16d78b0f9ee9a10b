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

    [Theory]
    [InlineData(2.0, 1428)] // two dense kernels (two blocks a multiprocessor) at 0.7 of their speed: 1000 ns end at 1,428.6
    [InlineData(0.5, 1111)] // a dense kernel beside a sparse one (half a block a multiprocessor) at 0.9: 1,111.1
    public void AdvanceTo_DenseKernelsBesideEachOther_SlowByTheDenseInterference_BesideASparseOneByTheOther(double otherSpread, long lastBeforeEnd)
    {
        var gpu = new SpatialScheduler(2, 0, 0.1) { DenseInterference = 0.3 };
        gpu.Enqueue(0, new SimKernel(1000, 0.5, Spread: 2));
        gpu.Enqueue(1, new SimKernel(1000, 0.5, Spread: otherSpread));

        gpu.AdvanceTo(lastBeforeEnd);
        Assert.Equal((0, 0), (gpu.Completed(0), gpu.Completed(1)));
        gpu.AdvanceTo(lastBeforeEnd + 1);
        Assert.Equal((1, 1), (gpu.Completed(0), gpu.Completed(1)));
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
    public void FitMpsDenseInterference_SlowdownMadeWithAKnownInterference_FindsIt()
    {
        var profile = DeviceProfile.Load("h200");
        var step = ModelShapes.TrainingStep("resnet50", 16);
        var alone = Calibration.ModelledCoRunStepNs(profile, step, 1, 0);
        var two = Calibration.ModelledCoRunStepNs(profile, step, 2, 0.07);

        // Measured numbers in another scale (a GPU 10 % slower than the model) give the same fit.
        Assert.Equal(0.07, Calibration.FitMpsDenseInterference(profile, step, 1.1 * alone, 1.1 * two), 3);
    }

    [Fact]
    public void FitMpsDenseInterference_TheH200sTrainers_GiveTheShippedValue()
    {
        // The h200 profile's source: one and two ResNet-50 batch-32 trainers as MPS clients on the
        // H200, 75.8 and 120.5 ms a step (three: 172.9). The fit runs in the profile's MPS model,
        // so a change to that model that leaves the shipped value behind fails here (the 0.098 fitted
        // on 2026-12-01 gave 1.50x for two in the model of 2026-12-04).
        var profile = DeviceProfile.Load("h200");
        var step = ModelShapes.TrainingStep("resnet50", 32);
        var fitted = Calibration.FitMpsDenseInterference(profile, step, 75.8e6, 120.5e6);

        Assert.InRange(fitted, profile.MpsDenseInterference!.Value - 0.01, profile.MpsDenseInterference!.Value + 0.01);
        var alone = Calibration.ModelledCoRunStepNs(profile, step, 1, profile.MpsDenseInterference!.Value);
        Assert.InRange(Calibration.ModelledCoRunStepNs(profile, step, 3, profile.MpsDenseInterference!.Value) / alone / (172.9 / 75.8), 0.97, 1.03);
    }

    [Fact]
    public void FitMpsDenseInterference_MeasuredFasterThanTheModelWithout_IsZero()
    {
        var profile = DeviceProfile.Load("h200");
        IReadOnlyList<KernelSpec> step = ModelShapes.TrainingStep("resnet50", 16);

        Assert.Equal(0, Calibration.FitMpsDenseInterference(profile, step, 100e6, 110e6));
    }
    [Fact]
    public void FitMpsBlockContention_RatesMadeWithAKnownContention_FindsIt()
    {
        var profile = DeviceProfile.Load("h200");
        // Measured rates in another scale (a host 5 % slower than the model's) give the same fit.
        var rates = Calibration.MpsClientCounts.ToDictionary(n => n, n => 0.95 * Calibration.ModelledMpsClientRate(profile, n, 0.45));

        Assert.Equal(0.45, Calibration.FitMpsBlockContention(profile, rates), 2);
    }

    [Fact]
    public void FitMpsBlockContention_TheH200sMlpClients_GiveTheShippedValue()
    {
        // docs/results/h200/mps-clients: 1, 2, 4 and 8 closed-loop MLP batch-1 clients under MPS on
        // the H200, requests per second each; the shipped value was fitted to them by hand.
        var profile = DeviceProfile.Load("h200");
        var fitted = Calibration.FitMpsBlockContention(profile, new Dictionary<int, double> { [1] = 5502, [2] = 5341, [4] = 4317, [8] = 2981 });

        Assert.InRange(fitted, profile.MpsBlockContention - 0.03, profile.MpsBlockContention + 0.03);
        // Without contention eight clients would run 1.7x too fast.
        Assert.InRange(Calibration.ModelledMpsClientRate(profile, 8, 0) / Calibration.ModelledMpsClientRate(profile, 1, 0) / (2981.0 / 5502), 1.5, 1.9);
    }

    [Theory]
    [InlineData(new[] { 2, 4 }, new[] { 5000.0, 4000 })] // no rate for one client
    [InlineData(new[] { 1 }, new[] { 5000.0 })] // none for more
    [InlineData(new[] { 1, 2 }, new[] { 5000.0, 0 })] // a rate of 0
    public void FitMpsBlockContention_RatesThatCannotFit_SayWhatItNeeds(int[] counts, double[] rates)
    {
        var measured = counts.Zip(rates).ToDictionary(p => p.First, p => p.Second);

        var error = Assert.Throws<ArgumentException>(() => Calibration.FitMpsBlockContention(DeviceProfile.Load("h200"), measured));
        Assert.Contains("one client and with more, all above 0", error.Message, StringComparison.Ordinal);
    }
}
