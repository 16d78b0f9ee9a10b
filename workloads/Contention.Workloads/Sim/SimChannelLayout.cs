using System.Runtime.CompilerServices;

namespace Contention.Workloads.Sim;

/// <summary>
/// Byte layout of a modelled GPU's shared-memory file. A slot is one tenant's context: the
/// tenant writes kernels (duration, launch time, the shares of the GPU they take) into its ring and bumps <see cref="SubmitHead"/> (a plain
/// store, as a CUDA launch is a doorbell write with no system call); the GPU thread publishes
/// <see cref="ConsumedHead"/>, <see cref="StartedHead"/> and <see cref="CompleteTail"/>. Fields written by different
/// processes sit on different cache lines.
/// </summary>
internal static unsafe class SimChannelLayout
{
    public const long Magic = 0x4D49_5354_4E43_000F; // "CNTSIM" + version 15
    public const int HeaderBytes = 256;
    public const int RingSize = 1024;
    public const int EntryBytes = 64;
    public const int SlotBytes = 256 + (RingSize * EntryBytes);

    // Header
    public const int MagicOffset = 0;
    public const int SlotCountOffset = 8;

    // Header: GPU-written line (the engine's counters)
    public const int SwitchesOffset = 64;
    public const int LateNsOffset = 72;
    public const int LongestLateNsOffset = 80;

    // When the GPU last became idle (the latest completion with nothing queued or running), 0 while busy.
    public const int IdleSinceOffset = 88;

    // The GPU's completion interrupts: a 32-bit count the GPU thread bumps for each blocking wait it
    // woke, before it writes the waiting slot's FIFO (its interrupt thread then writes every other
    // slot's: each tenant's driver event thread, SimDevice, wakes to every such interrupt, as each
    // process's CUDA event thread does).
    public const int InterruptsOffset = 96;

    // Header: node-written line
    public const int StopOffset = 128;
    public const int LeasedOffset = 136;

    // Header: bumped by the node after each slot's reset request, so the engine looks through the
    // slots for resets only when one was asked for.
    public const int ResetsRequestedOffset = 144;

    // Header: GPU-written line of its own, read by the node alone: when the engine last looked at
    // the channel (the node's watchdog kills an engine that stops looking).
    public const int LookedAtOffset = 192;

    // Slot: tenant-written line
    public const int SubmitHead = 0;
    public const int WaitTarget = 8;

    // How long before the time it is to return a blocked tenant asks to be woken (0: at that time).
    public const int WakeLeadNs = 16;

    // A blocked tenant's wait: when it called, the uniform draw of its round trip (a double's
    // bits) and the extra of a wait whose first kernel found the GPU idle, ns. The GPU thread
    // reckons from them when the wait is to return (its completion plus the profiled round trip
    // and that extra, as the tenant does) and wakes the tenant the lead before it.
    public const int WaitCalledNs = 24;
    public const int WaitDraw = 32;
    public const int WaitIdleNs = 40;

    // Slot: GPU-written line
    public const int ConsumedHead = 64;
    public const int CompleteTail = 72;
    public const int BusyNs = 80;
    public const int CompletedAtNs = 88;
    public const int KernelNs = 96;

    // When the GPU thread last woke the slot's blocked tenant (which measures its own wake-up latency).
    public const int WokenAtNs = 104;

    // How many of the slot's kernels have started running (IGpuScheduler.Started): the tenant holds
    // a launch while DeviceProfile.LaunchQueueDepth others wait to start, as the driver does.
    public const int StartedHead = 112;

    // Slot: node-written line (a reset the GPU applies: the tenant's context and the GPU's sharing)
    public const int ResetRequest = 128;
    public const int ResetPriority = 136;
    public const int ResetGpuShare = 144;
    public const int ResetSharing = 152;

    // Slot: GPU-written acknowledgement of the latest reset applied
    public const int ResetAck = 192;

    // Bytes of a slot the GPU clears on a reset: the tenant's and its own lines.
    public const int ResetClearBytes = 128;

    // Ring of (durationNs, submitTimestampNs, smShare, bandwidthShare, waveNs, spread, wholeNs, blocksPerMultiprocessor)
    public const int RingOffset = 256;

    public static long FileBytes(int slots) => HeaderBytes + ((long)slots * SlotBytes);

    public static byte* Slot(byte* basePtr, int slot) => basePtr + HeaderBytes + ((long)slot * SlotBytes);

    public static ref long Field(byte* slotPtr, int offset) => ref Unsafe.AsRef<long>(slotPtr + offset);

    public static ref double DoubleField(byte* slotPtr, int offset) => ref Unsafe.AsRef<double>(slotPtr + offset);

    public static ref long EntryDuration(byte* slotPtr, long index) => ref Unsafe.AsRef<long>(slotPtr + RingOffset + ((index % RingSize) * EntryBytes));

    public static ref long EntryTimestamp(byte* slotPtr, long index) => ref Unsafe.AsRef<long>(slotPtr + RingOffset + ((index % RingSize) * EntryBytes) + 8);

    public static ref double EntrySmShare(byte* slotPtr, long index) => ref Unsafe.AsRef<double>(slotPtr + RingOffset + ((index % RingSize) * EntryBytes) + 16);

    public static ref double EntryBandwidthShare(byte* slotPtr, long index) => ref Unsafe.AsRef<double>(slotPtr + RingOffset + ((index % RingSize) * EntryBytes) + 24);

    public static ref long EntryWaveNs(byte* slotPtr, long index) => ref Unsafe.AsRef<long>(slotPtr + RingOffset + ((index % RingSize) * EntryBytes) + 32);

    public static ref double EntrySpread(byte* slotPtr, long index) => ref Unsafe.AsRef<double>(slotPtr + RingOffset + ((index % RingSize) * EntryBytes) + 40);

    public static ref long EntryWholeNs(byte* slotPtr, long index) => ref Unsafe.AsRef<long>(slotPtr + RingOffset + ((index % RingSize) * EntryBytes) + 48);

    public static ref double EntryBlocksPerMultiprocessor(byte* slotPtr, long index) => ref Unsafe.AsRef<double>(slotPtr + RingOffset + ((index % RingSize) * EntryBytes) + 56);

    // A tenant's side: the kernel into entry index, all but its launch time (written when it is
    // handed over, with SubmitHead).
    public static void WriteEntry(byte* slotPtr, long index, in SimKernel kernel)
    {
        EntryDuration(slotPtr, index) = kernel.DurationNs;
        EntrySmShare(slotPtr, index) = kernel.SmShare;
        EntryBandwidthShare(slotPtr, index) = kernel.BandwidthShare;
        EntryWaveNs(slotPtr, index) = kernel.WaveNs;
        EntrySpread(slotPtr, index) = kernel.Spread;
        EntryWholeNs(slotPtr, index) = kernel.WholeNs;
        EntryBlocksPerMultiprocessor(slotPtr, index) = kernel.BlocksPerMultiprocessor;
    }

    // A tenant's side: entry index launched at timestampNs, handed to the GPU.
    public static void Ring(byte* slotPtr, long index, long timestampNs)
    {
        EntryTimestamp(slotPtr, index) = timestampNs;
        Volatile.Write(ref Field(slotPtr, SubmitHead), index + 1);
    }

    // The GPU's side: the kernel of entry index.
    public static SimKernel ReadEntry(byte* slotPtr, long index) =>
        new(EntryDuration(slotPtr, index), EntrySmShare(slotPtr, index), EntryBandwidthShare(slotPtr, index), EntryWaveNs(slotPtr, index), EntrySpread(slotPtr, index), WholeNs: EntryWholeNs(slotPtr, index), BlocksPerMultiprocessor: EntryBlocksPerMultiprocessor(slotPtr, index));

    // The node's side: asks the engine for reset number request of slot (the tenant's context and
    // the GPU's sharing), counted in the header so the engine looks through the slots for it.
    public static void RequestReset(byte* basePtr, int slot, long request, SimContext context, GpuSharing mode)
    {
        var slotPtr = Slot(basePtr, slot);
        Field(slotPtr, ResetPriority) = context.Priority;
        DoubleField(slotPtr, ResetGpuShare) = context.GpuShare;
        Field(slotPtr, ResetSharing) = (long)mode;
        Volatile.Write(ref Field(slotPtr, ResetRequest), request);
        Interlocked.Increment(ref Field(basePtr, ResetsRequestedOffset));
    }
}
