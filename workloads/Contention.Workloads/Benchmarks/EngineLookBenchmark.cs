using System.Runtime.InteropServices;
using Contention.Workloads.Sim;

namespace Contention.Workloads.Benchmarks;

/// <summary>
/// The real-time modelled GPU's engine over a channel in this process's memory (no node, no
/// tenant processes): one look (<see cref="SimGpuEngine.Look"/>) with nothing launched, the
/// price of noticing a launch or publishing a completion, which a spinning tenant waits for half
/// of on average beyond its kernel. <c>bench/</c>'s <c>EngineLookBenchmarks</c> times it.
/// </summary>
public sealed unsafe class EngineLookBenchmark : IDisposable
{
    private readonly byte* memory;
    private readonly SimGpuEngine engine;

    /// <summary>
    /// A channel of <paramref name="slots"/> slots whose tenants have attached to the first
    /// <paramref name="attached"/> (each slot reset once, as a node does when a tenant attaches).
    /// </summary>
    public EngineLookBenchmark(int slots, int attached, GpuSharing sharing = GpuSharing.Timeslice)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(slots);
        ArgumentOutOfRangeException.ThrowIfNegative(attached);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(attached, slots);
        var bytes = (nuint)SimChannelLayout.FileBytes(slots);
        memory = (byte*)NativeMemory.AlignedAlloc(bytes, 4096);
        NativeMemory.Clear(memory, bytes);
        SimChannelLayout.Field(memory, SimChannelLayout.MagicOffset) = SimChannelLayout.Magic;
        SimChannelLayout.Field(memory, SimChannelLayout.SlotCountOffset) = slots;
        SimChannelLayout.Field(memory, SimChannelLayout.LeasedOffset) = attached;

        // No FIFOs: nobody blocks, so the engine never writes one (a reset's drain fails harmlessly on -1).
        engine = new SimGpuEngine(memory, [.. Enumerable.Repeat(-1, slots)], DeviceProfile.Load("h200"), 10_000, 0, spin: true);
        _ = engine.Look();
        for (var slot = 0; slot < attached; slot++)
        {
            Attach(slot, sharing);
        }

        if (engine.ScannedSlots != attached)
        {
            throw new InvalidOperationException($"the engine looks through {engine.ScannedSlots} slots, not the {attached} attached");
        }
    }

    /// <summary>How many slots a look reads (<see cref="SimGpuEngine.ScannedSlots"/>).</summary>
    public int ScannedSlots => engine.ScannedSlots;

    /// <summary>Resets <paramref name="slot"/> as a node does when a tenant attaches to it; the next look applies it (or this throws).</summary>
    public void Attach(int slot, GpuSharing sharing = GpuSharing.Timeslice)
    {
        var slotPtr = SimChannelLayout.Slot(memory, slot);
        var request = SimChannelLayout.Field(slotPtr, SimChannelLayout.ResetRequest) + 1;
        SimChannelLayout.RequestReset(memory, slot, request, SimContext.Default, sharing);
        _ = engine.Look();
        if (SimChannelLayout.Field(slotPtr, SimChannelLayout.ResetAck) != request)
        {
            throw new InvalidOperationException($"the engine did not apply the reset of slot {slot}");
        }
    }

    /// <summary>
    /// Launches a kernel of <paramref name="durationNs"/> into <paramref name="slot"/> as a tenant
    /// does and looks until it completed (at most a second); returns the slot's completed kernels.
    /// </summary>
    public long Launch(int slot, long durationNs)
    {
        var slotPtr = SimChannelLayout.Slot(memory, slot);
        var index = SimChannelLayout.Field(slotPtr, SimChannelLayout.SubmitHead);
        SimChannelLayout.WriteEntry(slotPtr, index, new SimKernel(durationNs));
        SimChannelLayout.Ring(slotPtr, index, MonotonicClock.NowNs());
        var giveUp = MonotonicClock.NowNs() + 1_000_000_000;
        while (Volatile.Read(ref SimChannelLayout.Field(slotPtr, SimChannelLayout.CompleteTail)) <= index && engine.Look() < giveUp)
        {
        }

        return Volatile.Read(ref SimChannelLayout.Field(slotPtr, SimChannelLayout.CompleteTail));
    }

    /// <summary>Looks <paramref name="count"/> times; returns the last time looked at (so the loop is not elided).</summary>
    public long Look(int count)
    {
        var last = 0L;
        for (var i = 0; i < count; i++)
        {
            last = engine.Look();
        }

        return last;
    }

    /// <inheritdoc />
    public void Dispose() => NativeMemory.AlignedFree(memory);
}
