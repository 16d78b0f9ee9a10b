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
        LookUntil(() => Tail() >= first);
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

    public void Dispose() => NativeMemory.AlignedFree(memory);

    private long Tail() => Volatile.Read(ref SimChannelLayout.Field(slotPtr, SimChannelLayout.CompleteTail));

    // Launches a kernel as a tenant does; returns the wait target that covers it.
    private long Launch(long durationNs)
    {
        var index = SimChannelLayout.Field(slotPtr, SimChannelLayout.SubmitHead);
        SimChannelLayout.WriteEntry(slotPtr, index, new SimKernel(durationNs));
        SimChannelLayout.Ring(slotPtr, index, MonotonicClock.NowNs());
        return index + 1;
    }

    // Publishes a blocking wait for target, as SimDevice does before it sleeps on its FIFO.
    private void Block(long target, long leadNs)
    {
        Volatile.Write(ref SimChannelLayout.Field(slotPtr, SimChannelLayout.WakeLeadNs), leadNs);
        Interlocked.Exchange(ref SimChannelLayout.Field(slotPtr, SimChannelLayout.WaitTarget), target);
    }

    private void LookUntil(Func<bool> done)
    {
        var giveUp = MonotonicClock.NowNs() + 5_000_000_000;
        while (!done())
        {
            Assert.True(engine.Look() < giveUp, "the engine did not get there within 5 s");
        }
    }
}
