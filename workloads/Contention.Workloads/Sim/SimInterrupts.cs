using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Contention.Workloads.Sim;

/// <summary>
/// The modelled GPU's completion interrupts (<see cref="SimGpuEngine"/>'s): each slot's FIFO, whose
/// writes' edges wake that tenant's driver event thread (<see cref="Devices.SimDriverEvents"/>),
/// and the interrupt thread (<c>sim-interrupts</c>), which passes each interrupt the engine raised
/// for one slot's wait on to every other slot's FIFO, as every process's <c>cuda-EvtHandlr</c> on
/// the H200 wakes to every process's blocking waits. Writing them all costs ~2 µs a woken thread,
/// so this thread does it, and the engine's thread wakes it only when it sleeps.
/// </summary>
internal sealed unsafe class SimInterrupts
{
    private readonly byte* basePtr;
    private readonly int[] fifoFds;
    private readonly long[] raisedBy; // the completion interrupts each slot's waits raised (the interrupt thread's to pass on)
    private readonly long[] passedBy; // the interrupt thread's: each slot's interrupts it has passed on
    private readonly int[] signalling; // per slot: 1 while a thread empties its full FIFO

    // [0]: the completion interrupts raised, a futex word the interrupt thread sleeps on (pinned:
    // the word's address must not move while a thread sleeps on it).
    private readonly int[] raised = GC.AllocateArray<int>(1, pinned: true);
    private int asleep;
    private volatile bool stopping;
    private volatile int slotsInUse;
    private Thread? thread;

    /// <summary>Interrupts for the channel at <paramref name="basePtr"/>, whose slots' FIFOs (open for writing) are <paramref name="fifoFds"/>.</summary>
    public SimInterrupts(byte* basePtr, int[] fifoFds)
    {
        this.basePtr = basePtr;
        this.fifoFds = fifoFds;
        raisedBy = new long[fifoFds.Length];
        passedBy = new long[fifoFds.Length];
        signalling = new int[fifoFds.Length];
    }

    /// <summary>The completion interrupts raised.</summary>
    public int Raised => Volatile.Read(ref raised[0]);

    /// <summary>How many slots the interrupts go to (one past the highest a tenant has had).</summary>
    public int SlotsInUse
    {
        get => slotsInUse;
        set => slotsInUse = value;
    }

    /// <summary>Starts the interrupt thread.</summary>
    public void Start()
    {
        thread = new Thread(Run) { IsBackground = true, Name = "sim-interrupts" };
        thread.Start();
    }

    /// <summary>Stops the interrupt thread (gone when it returns).</summary>
    public void Stop()
    {
        stopping = true;
        NativeMethods.FutexWake((int*)Unsafe.AsPointer(ref raised[0]));
        thread?.Join();
    }

    /// <summary>
    /// Raises the completion interrupt of a wait of <paramref name="slot"/>: counted in the
    /// channel's header, and passed on to every other slot by the interrupt thread (woken if it
    /// sleeps). The slot's own FIFO is the caller's to <see cref="Signal"/>.
    /// </summary>
    public void Raise(int slot)
    {
        Interlocked.Increment(ref *(int*)(basePtr + SimChannelLayout.InterruptsOffset));
        Volatile.Write(ref raisedBy[slot], raisedBy[slot] + 1);
        Interlocked.Increment(ref raised[0]);
        if (Volatile.Read(ref asleep) != 0)
        {
            NativeMethods.FutexWake((int*)Unsafe.AsPointer(ref raised[0]));
        }
    }

    /// <summary>
    /// Empties a slot's FIFO: a tenant that died between being signalled and reading leaves a byte
    /// behind, and the next tenant of the slot must not be woken by it.
    /// </summary>
    public void Drain(int slot)
    {
        if (NativeMethods.Ioctl(fifoFds[slot], NativeMethods.FionRead, out var available) == 0 && available > 0)
        {
            var buffer = stackalloc byte[available];
            _ = NativeMethods.Read(fifoFds[slot], buffer, available);
        }
    }

    /// <summary>
    /// One byte into a slot's FIFO: its reader waits for the writes (edge-triggered) and never
    /// reads, so a FIFO fills after 64 KiB of them. Full, it is emptied but for one byte (a write's
    /// edge not yet taken must still find it readable) and written again; one thread at a time
    /// empties it (the GPU thread and the interrupt thread both write).
    /// </summary>
    public void Signal(int slot)
    {
        byte signal = 1;
        var fd = fifoFds[slot];
        while (NativeMethods.Write(fd, &signal, 1) < 0 && Marshal.GetLastPInvokeError() == NativeMethods.EAgain)
        {
            if (Interlocked.CompareExchange(ref signalling[slot], 1, 0) != 0)
            {
                Thread.SpinWait(20);
                continue;
            }

            EmptyButOne(fd);
            Volatile.Write(ref signalling[slot], 0);
        }
    }

    private static void EmptyButOne(int fd)
    {
        if (NativeMethods.Ioctl(fd, NativeMethods.FionRead, out var available) != 0)
        {
            return;
        }

        var buffer = stackalloc byte[4096];
        for (var left = available - 1; left > 0;)
        {
            var read = (int)NativeMethods.Read(fd, buffer, Math.Min(left, 4096));
            if (read <= 0)
            {
                return;
            }

            left -= read;
        }
    }

    // The thread: passes the interrupts the engine raised on to the other slots' FIFOs,
    // one write a slot for all raised since its last pass by any other slot. Both sides store,
    // fence and then load (the engine the count then the flag, this thread the flag then the
    // count), so one always sees the other: a raised interrupt is never left with this thread
    // asleep. Without futexes it naps between looks.
    private void Run()
    {
        var word = (int*)Unsafe.AsPointer(ref raised[0]);
        var passed = Volatile.Read(ref raised[0]);
        while (!stopping)
        {
            var now = Volatile.Read(ref raised[0]);
            if (now == passed)
            {
                Interlocked.Exchange(ref asleep, 1);
                if (Volatile.Read(ref raised[0]) == passed && !NativeMethods.FutexWait(word, passed, 100_000_000))
                {
                    Thread.Sleep(1);
                }

                Interlocked.Exchange(ref asleep, 0);
                continue;
            }

            passed = now;
            var slots = SlotsInUse;
            var raisers = 0;
            var raiser = -1;
            for (var slot = 0; slot < slots; slot++)
            {
                var count = Volatile.Read(ref raisedBy[slot]);
                if (count != passedBy[slot])
                {
                    passedBy[slot] = count;
                    raisers++;
                    raiser = slot;
                }
            }

            for (var slot = 0; slot < slots && raisers > 0; slot++)
            {
                if (raisers > 1 || raiser != slot)
                {
                    Signal(slot);
                }
            }
        }
    }
}
