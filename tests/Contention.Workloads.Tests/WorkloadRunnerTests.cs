using Contention.Workloads.Devices;
using Contention.Workloads.Kernels;
using Contention.Workloads.Workloads;

namespace Contention.Workloads.Tests;

/// <summary>What a workload asks of its device: allocations, launches, synchronisations, in order.</summary>
// Alone: one test sets the host-timings variable, which every recorder in the process reads.
[Collection(RunsAlone.Name)]
public class WorkloadRunnerTests
{
    [Fact]
    public void Run_OpenLoopWithHostTimings_EachRequestsArrivalStartEndAndWhenItsLastLaunchReturned()
    {
        // Each synchronise takes 5 ms: the wait begins at the last launch and lasts that long.
        var lines = RunWithHostTimings(
            new RecordingDevice(stopAfterSynchronizations: 3, synchronizeMs: 5),
            new WorkloadSpec { Kind = WorkloadKind.Inference, Model = "mlp", BatchSize = 1, RatePerSecond = 100, Seed = 1 },
            "request");
        Assert.Equal("arrival_ns,started_ns,ended_ns,launched_ns", lines[0]);
        var rows = lines.Skip(1).Where(l => !l.StartsWith('#')).Select(l => l.Split(',').Select(long.Parse).ToArray()).ToList();
        Assert.Equal(3, rows.Count);
        Assert.All(rows, r =>
        {
            Assert.InRange(r[1], r[0], r[3]);
            Assert.InRange(r[2] - r[3], 5_000_000, long.MaxValue);
        });
    }

    [Fact]
    public void Run_ClosedLoopWithHostTimings_EachLaunchAndSynchroniseInItsOperationInOrder_AHeldLaunchShowsItsHold()
    {
        // Three launches an operation, the second held 3 ms (as a driver holds a launch while its
        // queue is full), each synchronise 5 ms.
        var lines = RunWithHostTimings(
            new RecordingDevice(stopAfterSynchronizations: 3, synchronizeMs: 5) { HoldLaunchAt = 1, HoldMs = 3 },
            new WorkloadSpec { Kind = WorkloadKind.Microbench, Op = MicrobenchOp.Copy, Bytes = 4096, Iterations = 3 },
            "launch");
        Assert.Equal("operation,index,called_ns,returned_ns", lines[0]);
        var rows = lines.Skip(1).Select(l => l.Split(',').Select(long.Parse).ToArray()).ToList();
        Assert.Equal(
            [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2],
            rows.Select(r => r[0]));
        Assert.Equal(
            [0, 1, 2, WorkloadRunner.SynchronizeIndex, 0, 1, 2, WorkloadRunner.SynchronizeIndex, 0, 1, 2, WorkloadRunner.SynchronizeIndex],
            rows.Select(r => r[1]));
        for (var i = 0; i < rows.Count; i++)
        {
            Assert.InRange(rows[i][3], rows[i][2], long.MaxValue);
            Assert.InRange(rows[i][2], i == 0 ? 0 : rows[i - 1][3], long.MaxValue);
        }

        Assert.All(rows.Where(r => r[1] == 1), r => Assert.InRange(r[3] - r[2], 3_000_000, long.MaxValue));
        Assert.All(rows.Where(r => r[1] == WorkloadRunner.SynchronizeIndex), r => Assert.InRange(r[3] - r[2], 5_000_000, long.MaxValue));
    }

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

    [Fact]
    public void StartPauseNs_UniformOverTheOperationFromTheSeed()
    {
        // Within [0, operation), the same for the same seed, spread over the operation by seed.
        var pauses = Enumerable.Range(1, 2000).Select(seed => WorkloadRunner.StartPauseNs(seed, 100_000_000)).ToList();
        Assert.All(pauses, p => Assert.InRange(p, 0, 99_999_999));
        Assert.Equal(pauses[41], WorkloadRunner.StartPauseNs(42, 100_000_000));
        Assert.Equal(0, WorkloadRunner.StartPauseNs(42, 0));
        for (var decile = 0; decile < 10; decile++)
        {
            Assert.InRange(pauses.Count(p => p / 10_000_000 == decile), 140, 260);
        }
    }

    [Fact]
    public void Run_ClosedLoop_SleepsTheStartPauseAfterTheSecondOperationOnly()
    {
        // Operations of ~20 ms (the synchronise sleeps): between the second's end and the third's
        // first launch the thread sleeps the pause of its seed and that operation's length. A seed
        // whose pause is at least half the operation, so no scheduling delay could stand in for it.
        var seed = Enumerable.Range(1, 100).First(s => WorkloadRunner.StartPauseNs(s, 20_000_000) > 10_000_000);
        var device = new RecordingDevice(stopAfterSynchronizations: 4, synchronizeMs: 20);
        var runner = new WorkloadRunner(device, new WorkloadSpec { Kind = WorkloadKind.Microbench, Op = MicrobenchOp.Copy, Bytes = 4096, Iterations = 1, Seed = seed });

        runner.Run(device.Stop);

        Assert.Equal("P L S L S L S L S", string.Join(' ', device.Calls));
        var times = device.Times;
        var second = times[4] - times[3];
        var gap = times[5] - times[4];
        Assert.True(gap >= WorkloadRunner.StartPauseNs(seed, second) * 0.95, $"{gap} ns between the second operation's end and the third's start; the pause is {WorkloadRunner.StartPauseNs(seed, second)} ns");
    }

    [Fact]
    public void Run_OpenLoopBehind_KeepsTheOperationOpenWhileRequestsAreQueued()
    {
        // Requests every 1 ms on average, each taking 5 ms: from the first arrival on, the next one
        // is always due when a request ends, so the service's operation (what a GPU arbiter holds
        // best-effort launches for) opens once and closes when the run stops — never in between,
        // where an arbiter would let a best-effort kernel go ahead of the queued request.
        var device = new RecordingDevice(stopAfterSynchronizations: 6, synchronizeMs: 5) { RecordsOperations = true };
        var runner = new WorkloadRunner(device, new WorkloadSpec { Kind = WorkloadKind.Inference, Model = "mlp", BatchSize = 1, RatePerSecond = 1_000, Seed = 3 });

        runner.Run(device.Stop);

        var calls = device.Calls.Where(c => c is "B" or "E" or "S").ToList();
        Assert.Equal("B S S S S S S E", string.Join(' ', calls));
    }

    [Fact]
    public void Run_OpenLoopIdle_ClosesTheOperationBetweenRequests()
    {
        // Requests every 500 ms on average, each taking no time, from a seed whose first gaps are
        // all at least 250 ms (so no stall of a loaded host queues one behind another: 30 ms gaps
        // were not enough on a busy CI host): the queue empties after each, so each request opens
        // and closes its own operation (best-effort work may go in the gaps).
        var seed = Enumerable.Range(1, 10_000).First(s =>
        {
            var random = new Random(s);
            return Enumerable.Range(0, 5).All(_ => WorkloadRunner.NextGapNs(random, 500e6) >= 250_000_000);
        });
        var device = new RecordingDevice(stopAfterSynchronizations: 4) { RecordsOperations = true };
        var runner = new WorkloadRunner(device, new WorkloadSpec { Kind = WorkloadKind.Inference, Model = "mlp", BatchSize = 1, RatePerSecond = 2, Seed = seed });

        runner.Run(device.Stop);

        var calls = string.Join(' ', device.Calls.Where(c => c is "B" or "E" or "S"));
        Assert.Equal("B S E B S E B S E B S E", calls);
    }

    [Fact]
    public void Run_ClosedLoop_OpensAndClosesEachOperation()
    {
        var device = new RecordingDevice(stopAfterSynchronizations: 3) { RecordsOperations = true };
        var runner = new WorkloadRunner(device, new WorkloadSpec { Kind = WorkloadKind.Microbench, Op = MicrobenchOp.Copy, Bytes = 4096, Iterations = 1 });

        runner.Run(device.Stop);

        Assert.Equal("P B L S E B L S E B L S E", string.Join(' ', device.Calls));
    }

    // Runs spec on device with the host-timings diagnostic on; returns the lines of its one file named name-*.csv.
    private static string[] RunWithHostTimings(RecordingDevice device, WorkloadSpec spec, string name)
    {
        var directory = Directory.CreateTempSubdirectory("contention-timings-").FullName;
        Environment.SetEnvironmentVariable(Contention.Workloads.Sim.HostTimings.Variable, directory);
        try
        {
            using (device)
            {
                new WorkloadRunner(device, spec).Run(device.Stop);
            }

            return File.ReadAllLines(Directory.GetFiles(directory, $"{name}-*.csv").Single());
        }
        finally
        {
            Environment.SetEnvironmentVariable(Contention.Workloads.Sim.HostTimings.Variable, null);
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Records calls as letters: P(repare), L(aunch), S(ynchronize), R(elease), and with RecordsOperations B(egin) and E(nd) of operations; cancels after some synchronisations.</summary>
    private sealed class RecordingDevice(int stopAfterSynchronizations, int synchronizeMs = 0) : IComputeDevice
    {
        private readonly CancellationTokenSource stop = new();
        private int synchronizations;
        private int launchesSinceSync;

        public List<string> Calls { get; } = [];

        // When each call returned, ns on the monotonic clock.
        public List<long> Times { get; } = [];

        public CancellationToken Stop => stop.Token;

        public bool RecordsOperations { get; init; }

        public DeviceId Id => DeviceId.Parse("cpu");

        public string Description => "recording";

        public SyncMode SyncMode => SyncMode.Spin;

        public long? KernelNs => null;

        public void Prepare(IEnumerable<KernelSpec> kernels) => Record("P");

        public void Release() => Record("R");

        // The launch at this place in its operation (counted from the last synchronise) is held HoldMs.
        public int HoldLaunchAt { get; init; } = -1;

        public int HoldMs { get; init; }

        public void Launch(in KernelSpec kernel)
        {
            if (launchesSinceSync++ == HoldLaunchAt)
            {
                Thread.Sleep(HoldMs);
            }

            Record("L");
        }

        public void BeginOperation()
        {
            if (RecordsOperations)
            {
                Record("B");
            }
        }

        public void EndOperation()
        {
            if (RecordsOperations)
            {
                Record("E");
            }
        }

        public void Synchronize()
        {
            if (synchronizeMs > 0)
            {
                Thread.Sleep(synchronizeMs);
            }

            Record("S");
            launchesSinceSync = 0;
            if (++synchronizations == stopAfterSynchronizations)
            {
                stop.Cancel();
            }
        }

        public void Dispose() => stop.Dispose();

        private void Record(string call)
        {
            Calls.Add(call);
            Times.Add(Contention.Workloads.Sim.MonotonicClock.NowNs());
        }
    }
}
