using System.Runtime.InteropServices;
using Contention.Workloads.Sim;

namespace Contention.Workloads.Tests;

/// <summary>The real-time engine over a channel in this process's memory, stepped look by look, with a tenant's side written by hand.</summary>
public sealed unsafe class SimGpuEngineTests : IDisposable
{
    private readonly byte* memory;
    private readonly byte* slotPtr;
    private readonly SimGpuEngine engine;

    public SimGpuEngineTests()
    {
        var bytes = (nuint)SimChannelLayout.FileBytes(1);
        memory = (byte*)NativeMemory.AlignedAlloc(bytes, 4096);
        NativeMemory.Clear(memory, bytes);
        SimChannelLayout.Field(memory, SimChannelLayout.MagicOffset) = SimChannelLayout.Magic;
        SimChannelLayout.Field(memory, SimChannelLayout.SlotCountOffset) = 1;
        SimChannelLayout.Field(memory, SimChannelLayout.LeasedOffset) = 1;

        // No FIFO: the engine's wake-up writes fail harmlessly on -1; the interrupts are counted all the same.
        engine = new SimGpuEngine(memory, [-1], DeviceProfile.Load("h200") with { LaunchCpuNs = 0 }, 10_000, 0, spin: true);
        slotPtr = SimChannelLayout.Slot(memory, 0);
        SimChannelLayout.RequestReset(memory, 0, 1, SimContext.Default, GpuSharing.Timeslice);
        _ = engine.Look();
        Assert.Equal(1, SimChannelLayout.Field(slotPtr, SimChannelLayout.ResetAck));
    }

    [Fact]
    public void Wake_ATenantWokenAheadThatSleepsAgainOnTheSameWork_RaisesOneInterruptForTheWait()
    {
        // A blocked wait at its end: one interrupt.
        var first = Launch(2_000_000);
        Block(first, leadNs: 0);
        LookUntil(() => Tail() >= first && SimChannelLayout.Field(slotPtr, SimChannelLayout.WaitTarget) == 0);
        Assert.Equal(0, SimChannelLayout.Field(slotPtr, SimChannelLayout.WaitTarget));
        Assert.Equal(1, engine.InterruptsRaised);

        // A tenant that asks to be woken 199 ms ahead of a 200 ms kernel: woken ahead (the wait
        // taken, one interrupt), it finds its work not done and sleeps again on the same target, to
        // be woken at the end: still one interrupt for the one wait. (The kernel is long so that
        // this thread, descheduled on a busy machine, still looks well before its end.)
        var second = Launch(200_000_000);
        Block(second, leadNs: 199_000_000);
        LookUntil(() => SimChannelLayout.Field(slotPtr, SimChannelLayout.WaitTarget) == 0);
        Assert.True(Tail() < second, "woken ahead of its kernel's end");
        Assert.Equal(2, engine.InterruptsRaised);
        Block(second, leadNs: 0);
        LookUntil(() => Tail() >= second && SimChannelLayout.Field(slotPtr, SimChannelLayout.WaitTarget) == 0);
        Assert.Equal(2, engine.InterruptsRaised);

        // A wait that never blocked (its work done when it looked): no interrupt.
        var third = Launch(1_000);
        LookUntil(() => Tail() >= third);
        Assert.Equal(2, engine.InterruptsRaised);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(300_000)]
    public void Wake_ABlockedTenant_IsWokenItsLeadBeforeItsWaitIsToReturn_TheCompletionPlusItsRoundTrip(long leadNs)
    {
        // A 2 ms kernel's wait, its round trip drawn at 0.5, a 50 µs idle extra: due back at the
        // completion plus the h200 profile's blocking round trip for a 2 ms wait at that draw
        // plus 50 µs. Without a lead the GPU thread wakes it then, with one (a lead longer than
        // the round trip: from the kernel's predicted end) that much before; the wake's stamp is
        // when it was due (this engine spins, so it is never late).
        const double Draw = 0.5;
        const long IdleNs = 50_000;
        var called = MonotonicClock.NowNs();
        var target = Launch(2_000_000);
        Block(target, leadNs, called, Draw, IdleNs);
        LookUntil(() => SimChannelLayout.Field(slotPtr, SimChannelLayout.WaitTarget) == 0);
        var wokenAt = SimChannelLayout.Field(slotPtr, SimChannelLayout.WokenAtNs);
        LookUntil(() => Tail() >= target);

        var completed = SimChannelLayout.Field(slotPtr, SimChannelLayout.CompletedAtNs);
        var roundTrip = new RoundTripCurve(DeviceProfile.Load("h200"), Devices.SyncMode.Block).Ns(completed - called, Draw);
        Assert.InRange(roundTrip, 1_000, leadNs == 0 ? long.MaxValue : leadNs - IdleNs - 1);
        Assert.Equal(completed + roundTrip + IdleNs - leadNs, wokenAt);
        Assert.Equal(1, engine.InterruptsRaised);
    }

    [Fact]
    public void WakeTimings_EachWakesReckonedEndBesideTheModelledEnd_ZeroWhereWokenFromTheCompletion()
    {
        var directory = Directory.CreateTempSubdirectory("contention-wakes-").FullName;
        try
        {
            // A second engine over the same channel, its wakes recorded.
            var recorded = new SimGpuEngine(memory, [-1], DeviceProfile.Load("h200") with { LaunchCpuNs = 0 }, 10_000, 0, spin: true)
            {
                WakeTimings = HostTimings.Into(directory, "wake", SimGpuEngine.WakeColumns, 16),
            };
            SimChannelLayout.RequestReset(memory, 0, 2, SimContext.Default, GpuSharing.Timeslice);
            _ = recorded.Look();

            // A 200 ms kernel alone, a 100 ms lead: woken ahead from its predicted end (alone,
            // time-sliced: exact). Long, so that this thread, descheduled on a busy machine, still
            // looks before the kernel's end.
            var first = Launch(200_000_000);
            Block(first, leadNs: 100_000_000);
            LookUntil(recorded, () => Tail() >= first && SimChannelLayout.Field(slotPtr, SimChannelLayout.WaitTarget) == 0);
            var firstEnd = SimChannelLayout.Field(slotPtr, SimChannelLayout.CompletedAtNs);

            // No lead: woken from its completion.
            var second = Launch(1_000_000);
            Block(second, leadNs: 0);
            LookUntil(recorded, () => Tail() >= second && SimChannelLayout.Field(slotPtr, SimChannelLayout.WaitTarget) == 0);
            var secondEnd = SimChannelLayout.Field(slotPtr, SimChannelLayout.CompletedAtNs);

            var lines = File.ReadAllLines(recorded.WakeTimings!.Save());
            Assert.Equal("slot,due_ns,reckoned_end_ns,end_ns,lead_ns", lines[0]);
            var rows = lines.Skip(1).Select(l => l.Split(',').Select(long.Parse).ToArray()).ToList();
            Assert.Equal(2, rows.Count);
            Assert.Equal([0, firstEnd, firstEnd, 100_000_000], rows[0].Where((_, i) => i != 1));
            Assert.InRange(rows[0][1], firstEnd - 100_000_000, firstEnd);
            Assert.Equal([0, 0, secondEnd, 0], rows[1].Where((_, i) => i != 1));
            Assert.InRange(rows[1][1], secondEnd, long.MaxValue);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Wake_UnderMpsBesideANeighbour_PredictedAtTheSlowdownItsKernelsHad()
    {
        // Two MPS slots: slot 1 a long kernel on half the multiprocessors, slot 0 four 20 ms kernels
        // on the other half, slowed beside it (long, so that this thread, descheduled on a busy
        // machine, still looks before the first of them ends). Its first wait is predicted before any of its
        // kernels ended (the rest at their times alone: early); its second from the slowdown the
        // first ones had (the model's end, to rounding). The lead is long, so each tenant is woken
        // from the prediction as soon as all its kernels have reached the model.
        var bytes = (nuint)SimChannelLayout.FileBytes(2);
        var channel = (byte*)NativeMemory.AlignedAlloc(bytes, 4096);
        var directory = Directory.CreateTempSubdirectory("contention-wakes-").FullName;
        try
        {
            NativeMemory.Clear(channel, bytes);
            SimChannelLayout.Field(channel, SimChannelLayout.MagicOffset) = SimChannelLayout.Magic;
            SimChannelLayout.Field(channel, SimChannelLayout.SlotCountOffset) = 2;
            SimChannelLayout.Field(channel, SimChannelLayout.LeasedOffset) = 2;
            var mps = new SimGpuEngine(channel, [-1, -1], DeviceProfile.Load("h200") with { LaunchCpuNs = 0 }, 10_000, 0, spin: true)
            {
                WakeTimings = HostTimings.Into(directory, "wake", SimGpuEngine.WakeColumns, 16),
            };
            SimChannelLayout.RequestReset(channel, 0, 1, SimContext.Default, GpuSharing.Mps);
            SimChannelLayout.RequestReset(channel, 1, 1, SimContext.Default, GpuSharing.Mps);
            _ = mps.Look();
            var service = SimChannelLayout.Slot(channel, 0);
            var neighbour = SimChannelLayout.Slot(channel, 1);
            _ = LaunchOn(neighbour, new SimKernel(10_000_000_000, 0.5));
            _ = mps.Look();

            for (var wait = 0; wait < 2; wait++)
            {
                var target = 0L;
                for (var i = 0; i < 4; i++)
                {
                    target = LaunchOn(service, new SimKernel(20_000_000, 0.5));
                }

                BlockOn(service, target, leadNs: 1_000_000_000);
                LookUntil(mps, () => Volatile.Read(ref SimChannelLayout.Field(service, SimChannelLayout.CompleteTail)) >= target);
            }

            var rows = File.ReadAllLines(mps.WakeTimings!.Save()).Skip(1).Select(l => l.Split(',').Select(long.Parse).ToArray()).ToList();
            Assert.Equal(2, rows.Count);
            Assert.All(rows, r => Assert.NotEqual(0, r[2])); // both woken from a prediction
            var (firstEarly, secondEarly) = (rows[0][3] - rows[0][2], rows[1][3] - rows[1][2]);
            Assert.True(firstEarly > 1_000_000, $"the first wait's prediction (times alone) only {firstEarly} ns early: the slowed kernels' 60 ms of rest counted as alone should be");
            Assert.InRange(secondEarly, -10, 10);
        }
        finally
        {
            NativeMemory.AlignedFree(channel);
            Directory.Delete(directory, recursive: true);
        }
    }

    public void Dispose() => NativeMemory.AlignedFree(memory);

    private static long LaunchOn(byte* slot, in SimKernel kernel)
    {
        var index = SimChannelLayout.Field(slot, SimChannelLayout.SubmitHead);
        SimChannelLayout.WriteEntry(slot, index, kernel);
        SimChannelLayout.Ring(slot, index, MonotonicClock.NowNs());
        return index + 1;
    }

    private static void BlockOn(byte* slot, long target, long leadNs)
    {
        Volatile.Write(ref SimChannelLayout.Field(slot, SimChannelLayout.WakeLeadNs), leadNs);
        SimChannelLayout.Field(slot, SimChannelLayout.WaitCalledNs) = MonotonicClock.NowNs();
        SimChannelLayout.Field(slot, SimChannelLayout.WaitDraw) = BitConverter.DoubleToInt64Bits(0.5);
        SimChannelLayout.Field(slot, SimChannelLayout.WaitIdleNs) = 0;
        Interlocked.Exchange(ref SimChannelLayout.Field(slot, SimChannelLayout.WaitTarget), target);
    }

    private long Tail() => Volatile.Read(ref SimChannelLayout.Field(slotPtr, SimChannelLayout.CompleteTail));

    // Launches a kernel as a tenant does; returns the wait target that covers it.
    private long Launch(long durationNs)
    {
        var index = SimChannelLayout.Field(slotPtr, SimChannelLayout.SubmitHead);
        SimChannelLayout.WriteEntry(slotPtr, index, new SimKernel(durationNs));
        SimChannelLayout.Ring(slotPtr, index, MonotonicClock.NowNs());
        return index + 1;
    }

    // Publishes a blocking wait for target, as SimDevice does before it sleeps.
    private void Block(long target, long leadNs, long calledNs = 0, double draw = 0.5, long idleNs = 0)
    {
        Volatile.Write(ref SimChannelLayout.Field(slotPtr, SimChannelLayout.WakeLeadNs), leadNs);
        SimChannelLayout.Field(slotPtr, SimChannelLayout.WaitCalledNs) = calledNs == 0 ? MonotonicClock.NowNs() : calledNs;
        SimChannelLayout.Field(slotPtr, SimChannelLayout.WaitDraw) = BitConverter.DoubleToInt64Bits(draw);
        SimChannelLayout.Field(slotPtr, SimChannelLayout.WaitIdleNs) = idleNs;
        Interlocked.Exchange(ref SimChannelLayout.Field(slotPtr, SimChannelLayout.WaitTarget), target);
    }

    private void LookUntil(Func<bool> done) => LookUntil(engine, done);

    private static void LookUntil(SimGpuEngine engine, Func<bool> done)
    {
        var giveUp = MonotonicClock.NowNs() + 5_000_000_000;
        while (!done())
        {
            Assert.True(engine.Look() < giveUp, "the engine did not get there within 5 s");
        }
    }
}
