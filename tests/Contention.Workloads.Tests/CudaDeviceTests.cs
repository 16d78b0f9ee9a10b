using Contention.Workloads.Checks;
using Contention.Workloads.Devices;

namespace Contention.Workloads.Tests;

[Trait("Category", "Gpu")]
public class CudaDeviceTests
{
    [GpuFact]
    public void Kernels_AllSyncModes_AgreeWithCpuDevice()
    {
        foreach (var sync in new[] { SyncMode.Spin, SyncMode.Yield, SyncMode.Block })
        {
            foreach (var pinned in new[] { true, false })
            {
                using var cuda = new CudaDevice(new DeviceOptions { Id = new DeviceId(DeviceKind.Cuda, 0), SyncMode = sync, PinnedHost = pinned });
                Assert.All(DeviceCheck.Run(cuda, $"{sync} pinned={pinned}"), r => Assert.True(r.Passed, $"{r.Case}: error {r.MaxRelativeError} > {r.Tolerance}"));
            }
        }
    }

    [GpuFact]
    public void Launch_ResNetTrainingStep_Completes()
    {
        using var cuda = new CudaDevice(new DeviceOptions { Id = new DeviceId(DeviceKind.Cuda, 0), SyncMode = SyncMode.Block });
        var step = Workloads.ModelShapes.TrainingStep("resnet50", 8);
        cuda.Prepare(step);

        foreach (var kernel in step)
        {
            cuda.Launch(kernel);
        }

        cuda.Synchronize();
    }

    [GpuFact]
    public void HighPriorityStream_ComputesAsTheCpuDeviceAndSaysItsPriority()
    {
        using var cuda = new CudaDevice(new DeviceOptions { Id = new DeviceId(DeviceKind.Cuda, 0), SyncMode = SyncMode.Spin, HighPriorityStream = true });

        Assert.Matches(@"stream priority -?\d+ of -?\d+\.\.-?\d+", cuda.Description);
        Assert.All(DeviceCheck.Run(cuda, "high-priority stream"), r => Assert.True(r.Passed, $"{r.Case}: error {r.MaxRelativeError} > {r.Tolerance}"));
    }

    [GpuFact]
    public void KernelNs_SampledWithinBudget_AgreesWithEveryKernelTimed()
    {
        var check = DeviceCheck.KernelTiming(new DeviceId(DeviceKind.Cuda, 0), SyncMode.Spin);

        Assert.True(check.Passed, $"{check.Case}: off by {check.MaxRelativeError:P0}");
    }

    [GpuFact]
    public void Sampling_EveryBatchTimed_CountsEveryKernelAndItsTimeInTheWindow()
    {
        var request = Contention.Workloads.Workloads.ModelShapes.InferenceRequest("mlp", 1);
        using var cuda = new CudaDevice(new DeviceOptions { Id = new DeviceId(DeviceKind.Cuda, 0), SyncMode = SyncMode.Spin, KernelTimingBudget = 1 });
        cuda.Prepare(request);
        for (var i = 0; i < 10; i++)
        {
            cuda.LaunchAndSynchronize(request);
        }

        var before = cuda.Sampling!.Value;
        var kernelNsBefore = cuda.KernelNs!.Value;
        for (var i = 0; i < 100; i++)
        {
            cuda.LaunchAndSynchronize(request);
        }

        var window = cuda.Sampling!.Value - before;

        Assert.Equal((100L, window.Kernels), (window.TimedBatches, window.TimedKernels));
        Assert.Equal(0, window.Kernels % 100);
        Assert.Equal(window.TimedNs, window.EstimateNs!.Value, 6);
        Assert.InRange(window.TimedNs / (double)(cuda.KernelNs!.Value - kernelNsBefore), 0.9, 1.1);
    }

    [GpuFact]
    public void KernelNs_AfterTheThreadSlept_IsTheKernelsOwnTime()
    {
        var check = DeviceCheck.KernelTimingAfterSleep(new DeviceId(DeviceKind.Cuda, 0), SyncMode.Block, TimeSpan.FromMilliseconds(20));

        Assert.True(check.Passed, $"{check.Case}: off by {check.MaxRelativeError:P0}");
    }

    [GpuFact]
    public void Launch_ReplayedKernels_LastTheirRecordedTimes()
    {
        // Busy stand-ins of 20 us to 2 ms, one wave and several, many short waves (merged), blockless:
        // each within 10 % (or 2 us) of its recorded time, timed by CUDA events.
        using var cuda = new CudaDevice(new DeviceOptions { Id = new DeviceId(DeviceKind.Cuda, 0), SyncMode = SyncMode.Block });
        Kernels.KernelSpec[] replayed = [Kernels.KernelSpec.Replay(20_000, 132, 256, 2), Kernels.KernelSpec.Replay(200_000, 264, 256, 2), Kernels.KernelSpec.Replay(2_000_000, 4_000, 128, 8), Kernels.KernelSpec.Replay(30_000, 20_000, 128, 8), Kernels.KernelSpec.Replay(50_000, 0, 0, 1)];
        cuda.Prepare(replayed);
        Assert.InRange(cuda.BusyFixedNs(), 0, 20_000);
        Assert.InRange(cuda.BusyWaveNs(), 0, 20_000);

        foreach (var kernel in replayed)
        {
            var measured = cuda.MeasureReplayNs(kernel, repetitions: 7);
            Assert.True(Math.Abs(measured - kernel.ReplayNs) <= Math.Max(2_000, kernel.ReplayNs / 10), $"{kernel}: {measured:0} ns for {kernel.ReplayNs} ns recorded");
        }
    }
}
