using Contention.Workloads.Benchmarks;
using Contention.Workloads.Devices;
using Contention.Workloads.Kernels;

namespace Contention.Workloads.Tests;

/// <summary>The launch-queue measurement of <c>bench calibrate</c>, on a device that holds launches as a driver does, on its own clock.</summary>
public class LaunchQueueProbeTests
{
    [Fact]
    public void FirstHeld_TheLaunchesBeforeTheFirstOverTheBound_OrNone()
    {
        Assert.Equal(3, LaunchQueueProbe.FirstHeld([4_000, 3_000, 900_000, 2_000_000, 3_000], 1_000_000));
        Assert.Equal(0, LaunchQueueProbe.FirstHeld([5_000_000], 1_000_000));
        Assert.Null(LaunchQueueProbe.FirstHeld([4_000, 1_000_000], 1_000_000)); // at the bound: not held
    }

    [Theory]
    [InlineData(7)]
    [InlineData(320)]
    public void Measure_ADriverHoldingLaunchesWhileDepthKernelsWaitToStart_FindsTheDepthEachRepetition(int depth)
    {
        var device = new QueueingDevice(depth, headNs: 100_000_000, tinyNs: 2_000, launchNs: 3_000);

        var depths = LaunchQueueProbe.Measure(device, LaunchQueueProbe.Head, LaunchQueueProbe.Tiny[0], repetitions: 3, clockNs: () => device.NowNs);

        Assert.Equal([depth, depth, depth], depths);
        Assert.Equal(depth, LaunchQueueProbe.Depth(depths));
        Assert.Equal(0, device.Outstanding); // each repetition synchronised before the next
    }

    [Fact]
    public void Measure_TheLongKernelEndsBeforeTheQueueFills_NoneHeld_AndNoDepth()
    {
        // 2,000 launches of 3 us each take 6 ms: a 5 ms head kernel ends first, and the tiny
        // kernels (2 us) start as fast as they come.
        var device = new QueueingDevice(2_000, headNs: 5_000_000, tinyNs: 2_000, launchNs: 3_000);

        var depths = LaunchQueueProbe.Measure(device, LaunchQueueProbe.Head, LaunchQueueProbe.Tiny[0], repetitions: 2, launches: 2_500, clockNs: () => device.NowNs);

        Assert.Equal([null, null], depths);
        Assert.Null(LaunchQueueProbe.Depth(depths));
    }

    [Fact]
    public void LaunchesMemsetFirst_The512GemmOnAnH200SplitsK_TheTinyOnesDoNot()
    {
        // 512^3 is 8 x 8 row and column blocks of 64: 64 blocks, two K slices wanted for 2 x 132
        // multiprocessors' worth, and K allows two of 256; 32^3 is one block whose K allows one.
        Assert.True(CudaKernels.LaunchesMemsetFirst(LaunchQueueProbe.Tiny[2], 132));
        Assert.False(CudaKernels.LaunchesMemsetFirst(LaunchQueueProbe.Tiny[1], 132));
        Assert.False(CudaKernels.LaunchesMemsetFirst(LaunchQueueProbe.Tiny[0], 132));
        Assert.False(CudaKernels.LaunchesMemsetFirst(LaunchQueueProbe.Tiny[2], 32)); // 64 blocks already fill 2 x 32
    }

    [Fact]
    public void Depth_TheMedianOfThoseSeen()
    {
        Assert.Equal(320, LaunchQueueProbe.Depth([318, null, 320, 321]));
        Assert.Equal(5, LaunchQueueProbe.Depth([5]));
    }

    /// <summary>
    /// One stream on a clock of its own: a launch takes launchNs, or, while depth launched kernels
    /// wait to start, until the running kernel ends (the next then starts). The first kernel
    /// after a synchronise is the long one (headNs), the rest tiny (tinyNs).
    /// </summary>
    private sealed class QueueingDevice(int depth, long headNs, long tinyNs, long launchNs) : IComputeDevice
    {
        private readonly Queue<long> waiting = new(); // durations of kernels launched, not started
        private long runningEndNs = -1;
        private bool synchronised = true;

        public long NowNs { get; private set; } = 1_000_000;

        public int Outstanding => waiting.Count + (runningEndNs >= 0 ? 1 : 0);

        public DeviceId Id => new(DeviceKind.Cpu, 0);

        public string Description => "a queueing device";

        public SyncMode SyncMode => SyncMode.Spin;

        public long? KernelNs => null;

        public void Prepare(IEnumerable<KernelSpec> kernels)
        {
        }

        public void Release()
        {
        }

        public void Launch(in KernelSpec kernel)
        {
            RunTo(NowNs);
            while (waiting.Count >= depth)
            {
                RunTo(runningEndNs); // held until the running kernel ends and the next starts
            }

            waiting.Enqueue(synchronised ? headNs : tinyNs);
            synchronised = false;
            RunTo(NowNs);
            NowNs += launchNs;
        }

        public void Synchronize()
        {
            while (Outstanding > 0)
            {
                RunTo(Math.Max(NowNs, runningEndNs));
            }

            synchronised = true;
        }

        public void Dispose()
        {
        }

        // Kernels end and start up to atNs; the clock moves there.
        private void RunTo(long atNs)
        {
            NowNs = Math.Max(NowNs, atNs);
            while (true)
            {
                if (runningEndNs >= 0 && runningEndNs <= NowNs)
                {
                    var endedNs = runningEndNs;
                    runningEndNs = waiting.Count > 0 ? endedNs + waiting.Dequeue() : -1;
                    continue;
                }

                if (runningEndNs < 0 && waiting.Count > 0)
                {
                    runningEndNs = NowNs + waiting.Dequeue();
                    continue;
                }

                return;
            }
        }
    }
}
