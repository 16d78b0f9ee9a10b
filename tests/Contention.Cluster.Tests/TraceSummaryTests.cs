using Contention.Tracer;
using Contention.Tracer.Bpf;
using Contention.Tracer.Nvidia;
using Contention.Tracer.Trace;

namespace Contention.Cluster.Tests;

public class TraceSummaryTests
{
    private static readonly NvidiaDevices Devices = NvidiaDevices.Parse("Character devices:\n195 nvidia\n238 nvidia-uvm\n");

    [Fact]
    public void Of_IoctlsOnNvidiaAndOtherDevices_SplitIntoGpuDriverAndOtherIoctl()
    {
        var snapshot = BpfSnapshotParser.Parse([
            "sys 7 0 16 10 4 1000 9 -",
            "sys 7 0 202 5 0 500 5 -",
            "ioctl 7 0 195:255 0xc020462a 0x2a 32 0x20800110 4 0 400 4",
            "ioctl 7 0 238:0 0x22 0x0 0 - 2 0 200 2",
            // One TCGETS still in flight: counted on entry by sys, not yet by the ioctl table.
            "ioctl 7 0 1:3 0x5401 0x0 0 - 3 3 300 3",
            "sys 8 0 16 99 0 1 99 -",
        ]);

        var summary = TraceSummary.Of(snapshot, 7, Devices);

        var gpu = Assert.Single(summary.Syscalls, s => s.Category == SyscallCategories.GpuDriver);
        var other = Assert.Single(summary.Syscalls, s => s.Category == SyscallCategories.OtherIoctl);
        Assert.Equal(("ioctl", 6L, 0L, 6L), (gpu.Name, gpu.Count, gpu.Errors, gpu.TimedCalls));
        // The call in flight is counted but not yet timed.
        Assert.Equal((4L, 4L, 3L), (other.Count, other.Errors, other.TimedCalls));
        Assert.Equal(600e-9, gpu.Seconds, 12);
        Assert.Equal(15, summary.TotalCalls);
        Assert.Equal(5, summary.Categories.Single(c => c.Category == SyscallCategories.SyncWait).Count);
        Assert.Equal(["NV_ESC_RM_CONTROL NV2080_CTRL_CMD_GPU_GET_NAME_STRING", "TCGETS", "UVM_FREE"], summary.Ioctls.Select(i => i.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Of_RowsAskedFor_SumsOrSplitsTheHeldRow()
    {
        var before = BpfSnapshotParser.Parse(["sys 7 0 202 5 0 500 5 -", "sys 7 1 202 2 0 200 2 -"]);
        var now = BpfSnapshotParser.Parse(["sys 7 0 202 9 0 900 9 -", "sys 7 1 202 3 0 300 3 -", "sys 7 1 1 4 0 40 4 -"]);

        var all = TraceSummary.Of(now, 7, Devices, before);
        var workload = TraceSummary.Of(now, 7, Devices, before, TraceRows.Workload);
        var held = TraceSummary.Of(now, 7, Devices, before, TraceRows.Held);

        Assert.Equal([("futex", 5L), ("write", 4L)], all.Syscalls.Select(s => (s.Name, s.Count)));
        Assert.Equal([("futex", 4L)], workload.Syscalls.Select(s => (s.Name, s.Count)));
        Assert.Equal([("write", 4L), ("futex", 1L)], held.Syscalls.Select(s => (s.Name, s.Count)));
        Assert.Equal(500e-9, all.Syscalls[0].Seconds, 12);
    }

    [Fact]
    public void Of_SinceEarlierSnapshot_CountsOnlyTheDifference()
    {
        var before = BpfSnapshotParser.Parse(["sys 7 0 202 5 0 500 5 3:5", "thread 7 7 7 2 0 100 10 1 worker", "runq 7 1 10 3:1"]);
        var now = BpfSnapshotParser.Parse(["sys 7 0 202 12 1 900 8 3:12", "sys 7 0 0 2 0 20 2 -", "thread 7 7 7 5 1 400 30 3 worker", "runq 7 3 30 3:3"]);

        var summary = TraceSummary.Of(now, 7, Devices, before);

        Assert.Equal([("futex", 7L, 1L, 3L), ("read", 2L, 0L, 2L)], summary.Syscalls.Select(s => (s.Name, s.Count, s.Errors, s.TimedCalls)));
        var thread = Assert.Single(summary.Threads);
        Assert.Equal((3L, 1L), (thread.Voluntary, thread.Involuntary));
        Assert.Equal(300e-9, thread.OffCpuSeconds, 12);
        Assert.Equal(2, summary.RunQueueHistogram[3]);
        Assert.Equal(20e-9, summary.RunQueueSeconds, 12);
    }
}
