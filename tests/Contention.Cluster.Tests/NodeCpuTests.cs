using Contention.Tracer;

namespace Contention.Cluster.Tests;

/// <summary>The node's CPU time from /proc/stat: busy, all, and the part a hypervisor stole.</summary>
public class NodeCpuTests
{
    [Fact]
    public void Parse_SplitsBusyIdleAndSteal()
    {
        // user nice system idle iowait irq softirq steal guest guest_nice, in clock ticks
        var cpu = NodeCpu.Parse("cpu  100 10 40 800 20 5 5 20 0 0");

        Assert.Equal(180 * ProcTracer.TickSeconds, cpu.BusySeconds, 9);
        Assert.Equal(1000 * ProcTracer.TickSeconds, cpu.TotalSeconds, 9);
        Assert.Equal(20 * ProcTracer.TickSeconds, cpu.StealSeconds, 9);
    }

    [Fact]
    public void Difference_GivesTheIntervalsBusyAndStolenShares()
    {
        var earlier = NodeCpu.Parse("cpu  100 0 0 900 0 0 0 0 0 0");
        var later = NodeCpu.Parse("cpu  150 0 10 1000 0 0 0 40 0 0");

        var interval = later - earlier;

        Assert.Equal(100.0 / 200, interval.BusyFraction, 9);
        Assert.Equal(40.0 / 200, interval.StealFraction, 9);
        Assert.Equal(interval.StealSeconds * 2, (interval + interval).StealSeconds, 9);
    }

    [Fact]
    public void Parse_OldKernelWithoutASteal_Column_HasNoSteal() =>
        Assert.Equal(0, NodeCpu.Parse("cpu  100 0 0 900 0 0 0").StealSeconds);

    [Fact]
    public void Read_ThisMachine_StealIsPartOfBusy()
    {
        var cpu = NodeCpu.Read();

        Assert.InRange(cpu.StealSeconds, 0, cpu.BusySeconds);
        Assert.True(cpu.TotalSeconds > 0);
    }
}

/// <summary>The collector sums a tenant's node CPU time over its reports, stolen time included.</summary>
public class CollectorStealTests
{
    [Fact]
    public void Apply_TwoIntervals_TheAggregateHoldsTheirStolenTime()
    {
        var state = new Contention.Grains.Collector.CollectorState();
        foreach (var steal in new[] { 0.2, 0.6 })
        {
            state.Apply(new Contention.Grains.TenantDelta { Tenant = "t", Node = "n", Kind = Contention.Grains.TenantKind.Inference, Device = "sim:0", Phase = Contention.Grains.MeasurementPhase.Measure, IntervalSeconds = 0.5, NodeCpuBusySeconds = 4, NodeCpuSeconds = 8, NodeCpuStealSeconds = steal });
        }

        var tenant = Assert.Single(state.Snapshot("e").Tenants);

        Assert.Equal(0.8, tenant.NodeCpuStealSeconds, 9);
        Assert.Equal(16, tenant.NodeCpuSeconds, 9);
    }
}

/// <summary>The collector sums the batches a tenant's GPU time was estimated from.</summary>
public class CollectorTimedBatchesTests
{
    [Fact]
    public void Apply_Intervals_TheAggregateHoldsTheirTimedBatches_NullWhereNoneCarriedThem()
    {
        var state = new Contention.Grains.Collector.CollectorState();
        foreach (var (tenant, timed) in new[] { ("real", (long?)3), ("real", 4), ("modelled", null), ("modelled", null) })
        {
            state.Apply(new Contention.Grains.TenantDelta { Tenant = tenant, Node = "n", Kind = Contention.Grains.TenantKind.Inference, Device = "cuda:0", Phase = Contention.Grains.MeasurementPhase.Measure, IntervalSeconds = 0.5, GpuSeconds = 0.01, GpuTimedBatches = timed });
        }

        var tenants = state.Snapshot("e").Tenants;

        Assert.Equal(7, tenants.Single(t => t.Tenant == "real").GpuTimedBatches);
        Assert.Null(tenants.Single(t => t.Tenant == "modelled").GpuTimedBatches);
    }
}
