using Contention.Grains;
using Contention.Grains.Node;
using Contention.Tracer.Bpf;
using Contention.Tracer.Trace;

namespace Contention.Cluster.Tests;

/// <summary>
/// <see cref="TenantMeasurement.TakeThreadCalls"/> on explicit snapshots: a phase's calls per
/// thread span the same snapshots as the tenant's own counters, in whatever order the tracer's
/// ticks and phase flushes take them.
/// </summary>
public class TenantMeasurementThreadCallsTests
{
    private const int Pid = 4242;

    [Fact]
    public void TakeThreadCalls_TicksAndABoundaryInOrder_EachPhaseCountsFromItsBoundary()
    {
        var measurement = new TenantMeasurement();
        Take(measurement, Snapshot(1, 10), MeasurementPhase.Warmup);
        Take(measurement, Snapshot(2, 30), MeasurementPhase.Warmup);
        Take(measurement, Snapshot(3, 50), MeasurementPhase.Warmup, boundary: true);
        Take(measurement, Snapshot(4, 80), MeasurementPhase.Measure);
        Take(measurement, Snapshot(5, 100), MeasurementPhase.Measure);

        Assert.Equal((50L, 50L), (Calls(measurement, MeasurementPhase.Warmup), Calls(measurement, MeasurementPhase.Measure)));
    }

    [Fact]
    public void TakeThreadCalls_BoundaryWhoseSnapshotATickOvertook_NextPhaseCountsFromTheNewestSnapshot()
    {
        // A tick took snapshot 3 (reported as warm-up: the tenant's counters of warm-up reach it)
        // before the boundary's flush, whose snapshot 2 is older: the measured phase starts at 3.
        var measurement = new TenantMeasurement();
        Take(measurement, Snapshot(1, 10), MeasurementPhase.Warmup);
        Take(measurement, Snapshot(3, 50), MeasurementPhase.Warmup);
        Take(measurement, Snapshot(2, 30), MeasurementPhase.Warmup, boundary: true);
        Assert.Equal(50, Calls(measurement, MeasurementPhase.Warmup));

        // A tick older still, now in the measured phase, changes nothing.
        Take(measurement, Snapshot(2, 30), MeasurementPhase.Measure);
        Assert.Equal(0, Calls(measurement, MeasurementPhase.Measure));
        Take(measurement, Snapshot(5, 100), MeasurementPhase.Measure);

        Assert.Equal((50L, 50L), (Calls(measurement, MeasurementPhase.Warmup), Calls(measurement, MeasurementPhase.Measure)));
    }

    [Fact]
    public void TakeThreadCalls_BoundaryOnTheSnapshotATickTook_MovesThePhasesStart()
    {
        var measurement = new TenantMeasurement();
        Take(measurement, Snapshot(1, 10), MeasurementPhase.Warmup);
        Take(measurement, Snapshot(2, 30), MeasurementPhase.Warmup);
        Take(measurement, Snapshot(2, 30), MeasurementPhase.Warmup, boundary: true);
        Take(measurement, Snapshot(4, 70), MeasurementPhase.Measure);

        Assert.Equal((30L, 40L), (Calls(measurement, MeasurementPhase.Warmup), Calls(measurement, MeasurementPhase.Measure)));
    }

    // The worker's main thread made `calls` getppid calls by snapshot `sequence`.
    private static BpfSnapshot Snapshot(long sequence, long calls) =>
        new(sequence, sequence * 1_000_000, [], [], [], [], [], new BpfDrops(0, 0, 0, 0, 0), [new ThreadCallCounters(Pid, Pid, Pid, 110, calls, 0, calls)]);

    private static void Take(TenantMeasurement measurement, BpfSnapshot snapshot, MeasurementPhase phase, bool boundary = false) =>
        measurement.TakeThreadCalls(Pid, snapshot, phase, boundary, (now, since) =>
            [.. TraceSummary.ThreadCallsOf(now, Pid, since, () => "other").Select(c => new ThreadSyscallCount(phase, c.Tid, c.Name, c.Syscall, c.Category, c.Count, c.Seconds, c.TimedCalls))]);

    private static long Calls(TenantMeasurement measurement, MeasurementPhase phase) =>
        measurement.ThreadCalls.Where(c => c.Phase == phase).Sum(c => c.Count);
}
