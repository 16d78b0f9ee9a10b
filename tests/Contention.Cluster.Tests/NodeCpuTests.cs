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

/// <summary>The collector sums the batches a tenant's GPU time was estimated from, and a phase's GPU time rests on the phase's own.</summary>
public class CollectorTimedBatchesTests
{
    [Fact]
    public void Apply_Intervals_TheAggregateHoldsTheirTimedBatches_NullWhereNoneCarriedThem()
    {
        var state = new Contention.Grains.Collector.CollectorState();
        foreach (var (tenant, timed) in new[] { ("real", (long?)3), ("real", 4), ("modelled", null), ("modelled", null) })
        {
            state.Apply(Delta(tenant, Contention.Grains.MeasurementPhase.Measure, 0.01, timed, kernels: 80, timedKernels: 8 * timed, timedSeconds: 0.0001 * timed));
        }

        var tenants = state.Snapshot("e").Tenants;

        Assert.Equal(7, tenants.Single(t => t.Tenant == "real").GpuTimedBatches);
        Assert.Null(tenants.Single(t => t.Tenant == "modelled").GpuTimedBatches);
        Assert.Equal(0.02, tenants.Single(t => t.Tenant == "modelled").GpuSeconds!.Value, 12);
    }

    [Fact]
    public void Snapshot_SampledGpuTime_IsThePhasesKernelsAtItsOwnTimedBatchesMean_NotTheRunningEstimate()
    {
        // Warm-up: 1,000 kernels timed at 20 us. Measured: 2,000 kernels, two intervals, 16 timed at
        // 50 us each; the running estimate still leans on the warm-up's mean (21 us a kernel).
        var state = new Contention.Grains.Collector.CollectorState();
        state.Apply(Delta("svc", Contention.Grains.MeasurementPhase.Warmup, 0.02, 2, kernels: 1_000, timedKernels: 16, timedSeconds: 16 * 20e-6));
        state.Apply(Delta("svc", Contention.Grains.MeasurementPhase.Measure, 0.021, 0, kernels: 1_000, timedKernels: 0, timedSeconds: 0));
        state.Apply(Delta("svc", Contention.Grains.MeasurementPhase.Measure, 0.021, 2, kernels: 1_000, timedKernels: 16, timedSeconds: 16 * 50e-6));

        var measured = state.Snapshot("e").Tenants.Single(t => t.Phase == Contention.Grains.MeasurementPhase.Measure);

        Assert.Equal(2_000 * 50e-6, measured.GpuSeconds!.Value, 9);
        Assert.Equal(2, measured.GpuTimedBatches);
    }

    [Fact]
    public void Snapshot_SampledPhaseWithKernelsButNoneTimed_HasNoGpuTime()
    {
        var state = new Contention.Grains.Collector.CollectorState();
        state.Apply(Delta("svc", Contention.Grains.MeasurementPhase.Warmup, 0.02, 2, kernels: 1_000, timedKernels: 16, timedSeconds: 16 * 20e-6));
        state.Apply(Delta("svc", Contention.Grains.MeasurementPhase.Measure, 0.02, 0, kernels: 1_000, timedKernels: 0, timedSeconds: 0));
        state.Apply(Delta("idle", Contention.Grains.MeasurementPhase.Measure, 0, 0, kernels: 0, timedKernels: 0, timedSeconds: 0));

        var tenants = state.Snapshot("e").Tenants.Where(t => t.Phase == Contention.Grains.MeasurementPhase.Measure).ToList();

        Assert.Equal((null, 0L), (tenants.Single(t => t.Tenant == "svc").GpuSeconds, tenants.Single(t => t.Tenant == "svc").GpuTimedBatches));
        Assert.Equal(0, tenants.Single(t => t.Tenant == "idle").GpuSeconds);
    }

    [Fact]
    public void Snapshot_ArbiterCorrection_IsThePhasesLastReported_ZeroWhereNoneWas()
    {
        var state = new Contention.Grains.Collector.CollectorState();
        state.Apply(Delta("train", Contention.Grains.MeasurementPhase.Warmup, 0.02, null, 0, null, null) with { ArbiterCorrection = 2.5 });
        state.Apply(Delta("train", Contention.Grains.MeasurementPhase.Measure, 0.02, null, 0, null, null) with { ArbiterCorrection = 1.8 });
        state.Apply(Delta("train", Contention.Grains.MeasurementPhase.Measure, 0.02, null, 0, null, null) with { ArbiterCorrection = 1.4 });
        state.Apply(Delta("train", Contention.Grains.MeasurementPhase.Measure, 0.02, null, 0, null, null));
        state.Apply(Delta("svc", Contention.Grains.MeasurementPhase.Measure, 0.02, null, 0, null, null));

        var tenants = state.Snapshot("e").Tenants;

        Assert.Equal(2.5, tenants.Single(t => t.Tenant == "train" && t.Phase == Contention.Grains.MeasurementPhase.Warmup).ArbiterCorrection);
        Assert.Equal(1.4, tenants.Single(t => t.Tenant == "train" && t.Phase == Contention.Grains.MeasurementPhase.Measure).ArbiterCorrection);
        Assert.Equal(0, tenants.Single(t => t.Tenant == "svc").ArbiterCorrection);
    }

    private static Contention.Grains.TenantDelta Delta(string tenant, Contention.Grains.MeasurementPhase phase, double gpuSeconds, long? timed, long kernels, long? timedKernels, double? timedSeconds) => new()
    {
        Tenant = tenant,
        Node = "n",
        Kind = Contention.Grains.TenantKind.Inference,
        Device = "cuda:0",
        Phase = phase,
        IntervalSeconds = 0.5,
        GpuSeconds = gpuSeconds,
        GpuTimedBatches = timed,
        GpuKernels = timed is null ? null : kernels,
        GpuTimedKernels = timed is null ? null : timedKernels,
        GpuTimedSeconds = timed is null ? null : timedSeconds,
    };
}
