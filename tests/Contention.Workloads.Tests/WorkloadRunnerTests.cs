using Contention.Workloads.Devices;
using Contention.Workloads.Kernels;
using Contention.Workloads.Workloads;

namespace Contention.Workloads.Tests;

/// <summary>What a workload asks of its device: allocations, launches, synchronisations, in order.</summary>
public class WorkloadRunnerTests
{
    [Fact]
    public void Run_AllocatePerOperation_PreparesAndReleasesAroundEveryOperation()
    {
        var device = new RecordingDevice(stopAfterSynchronizations: 3);
        var runner = new WorkloadRunner(device, new WorkloadSpec { Kind = WorkloadKind.Microbench, Op = MicrobenchOp.Copy, Bytes = 4096, Iterations = 2, AllocatePerOperation = true });

        runner.Run(device.Stop);

        Assert.Equal(string.Concat(Enumerable.Repeat("P L L S R ", 3)).TrimEnd(), string.Join(' ', device.Calls));
    }

    [Fact]
    public void Run_Reuse_PreparesOnceBeforeTheFirstOperation()
    {
        var device = new RecordingDevice(stopAfterSynchronizations: 3);
        var runner = new WorkloadRunner(device, new WorkloadSpec { Kind = WorkloadKind.Microbench, Op = MicrobenchOp.Copy, Bytes = 4096, Iterations = 2 });

        runner.Run(device.Stop);

        Assert.Equal("P L L S L L S L L S", string.Join(' ', device.Calls));
        Assert.Equal(3, runner.Completed);
    }

    [Fact]
    public void Run_Grid_WalksEveryPointThenReturns()
    {
        var device = new RecordingDevice(stopAfterSynchronizations: int.MaxValue);
        var runner = new WorkloadRunner(device, new WorkloadSpec { Kind = WorkloadKind.Microbench, Grid = [new MicrobenchGroup(MicrobenchOp.Copy, 4096, [1, 3])], WarmupOperations = 1 });

        runner.Run(CancellationToken.None);

        // Setup: allocate, one warm-up operation; steady: 1 launch, then 3; teardown: release.
        Assert.Equal("P L S L S L L L S R", string.Join(' ', device.Calls));
        Assert.True(runner.Finite);
    }

    /// <summary>Records calls as letters: P(repare), L(aunch), S(ynchronize), R(elease); cancels after some synchronisations.</summary>
    private sealed class RecordingDevice(int stopAfterSynchronizations) : IComputeDevice
    {
        private readonly CancellationTokenSource stop = new();
        private int synchronizations;

        public List<string> Calls { get; } = [];

        public CancellationToken Stop => stop.Token;

        public DeviceId Id => DeviceId.Parse("cpu");

        public string Description => "recording";

        public SyncMode SyncMode => SyncMode.Spin;

        public long? KernelNs => null;

        public void Prepare(IEnumerable<KernelSpec> kernels) => Calls.Add("P");

        public void Release() => Calls.Add("R");

        public void Launch(in KernelSpec kernel) => Calls.Add("L");

        public void Synchronize()
        {
            Calls.Add("S");
            if (++synchronizations == stopAfterSynchronizations)
            {
                stop.Cancel();
            }
        }

        public void Dispose() => stop.Dispose();
    }
}
