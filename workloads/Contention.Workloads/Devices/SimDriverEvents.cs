using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Contention.Workloads.Sim;

namespace Contention.Workloads.Devices;

/// <summary>
/// A tenant of the modelled GPU's driver event thread (<c>sim-EvtHandlr</c>, like the CUDA
/// driver's <c>cuda-EvtHandlr</c>) and the tenant thread's side of a blocking wait, making the
/// driver's calls on the driver's threads as measured on the H200 with <c>--thread-calls</c>: the
/// tenant thread writes one byte to this thread's pipe and sleeps on a futex; this thread wakes in
/// <c>epoll_wait</c> to the write, reads it, waits again for the GPU's interrupt (a write to the
/// slot's FIFO, whose edges it waits for and never reads) and wakes the tenant thread with a futex
/// once the GPU thread has taken the wait (<see cref="SimGpuEngine"/>). It wakes to every completion
/// interrupt, whichever tenant's wait raised it (<see cref="Wakes"/>).
/// </summary>
internal sealed unsafe class SimDriverEvents : IDisposable
{
    private readonly byte* headerPtr;
    private readonly byte* slotPtr;
    private readonly int fifoFd; // the slot's FIFO, never read: its writes' edges wake the event thread
    private readonly int requestRead; // the tenant thread's requests to its event thread (a pipe)
    private readonly int requestWrite;
    private readonly int epollFd; // the event thread's: the requests (level) and the FIFO (edges)
    private readonly int[] wakeWord = GC.AllocateArray<int>(1, pinned: true); // the tenant thread's futex
    private readonly Thread thread;
    private long waitingFor; // the wait target the tenant thread sleeps on (0: none), for the event thread to wake
    private volatile bool closing;
    private long wakes;
    private long interruptsSeen;

    /// <summary>Starts the event thread of the slot at <paramref name="slotPtr"/> of the channel at <paramref name="headerPtr"/>, whose FIFO is <paramref name="fifoPath"/>.</summary>
    /// <exception cref="IOException">The FIFO, the pipe or the epoll set could not be had.</exception>
    public SimDriverEvents(byte* headerPtr, byte* slotPtr, string fifoPath)
    {
        this.headerPtr = headerPtr;
        this.slotPtr = slotPtr;
        (fifoFd, requestRead, requestWrite, epollFd) = Open(fifoPath);
        thread = new Thread(Run) { IsBackground = true, Name = "sim-EvtHandlr" };
        thread.Start();
    }

    /// <summary>How long a blocked tenant thread sleeps before it looks whether its wake was lost, ns.</summary>
    private const long LostWakeNs = 1_000_000_000;

    private const ulong RequestEvent = 1;
    private const ulong InterruptEvent = 2;

    // The slot's FIFO (read end, never read), the request pipe and the event thread's epoll set.
    private static (int Fifo, int RequestRead, int RequestWrite, int Epoll) Open(string fifoPath)
    {
        var fifo = NativeMethods.Open(fifoPath, NativeMethods.ORdOnly | NativeMethods.ONonblock | NativeMethods.OCloExec);
        if (fifo < 0)
        {
            throw new IOException($"failed to open {fifoPath}: errno {Marshal.GetLastPInvokeError()}");
        }

        var pipe = stackalloc int[2];
        if (NativeMethods.Pipe2(pipe, NativeMethods.ONonblock | NativeMethods.OCloExec) != 0)
        {
            var error = Marshal.GetLastPInvokeError();
            _ = NativeMethods.Close(fifo);
            throw new IOException($"failed to create the driver event thread's pipe: errno {error}");
        }

        var epoll = NativeMethods.EpollCreate1(NativeMethods.OCloExec);
        if (epoll < 0
            || NativeMethods.EpollAdd(epoll, pipe[0], NativeMethods.EpollIn, RequestEvent) != 0
            || NativeMethods.EpollAdd(epoll, fifo, NativeMethods.EpollIn | NativeMethods.EpollEdge, InterruptEvent) != 0)
        {
            var error = Marshal.GetLastPInvokeError();
            foreach (var fd in new[] { fifo, pipe[0], pipe[1], epoll })
            {
                _ = fd >= 0 ? NativeMethods.Close(fd) : 0;
            }

            throw new IOException($"failed to set up the driver event thread's epoll set (the modelled GPU needs Linux): errno {error}");
        }

        return (fifo, pipe[0], pipe[1], epoll);
    }

    /// <summary>
    /// Times the event thread woke to the GPU's completion interrupts (each a voluntary context
    /// switch; interrupts raised while it was awake are taken in one wake-up).
    /// The interrupts are every tenant's blocking waits the GPU thread woke, this one's included:
    /// on the H200 each process's <c>cuda-EvtHandlr</c> woke about once for every blocking wait of
    /// any process on the GPU and once more for each of its own (spinning and yielding waits raise
    /// none: ~70 wake-ups a run whatever their number), as this one does: for each of its own
    /// waits the tenant thread's request wakes it too, which this count leaves out.
    /// </summary>
    public long Wakes => Interlocked.Read(ref wakes);

    /// <summary>The GPU's completion interrupts the driver event thread has seen since it started.</summary>
    public long InterruptsSeen => Interlocked.Read(ref interruptsSeen);

    // The thread: asleep in epoll_wait until the tenant thread asks it to watch a wait (a byte on
    // the request pipe, read) or the GPU raises an interrupt (an edge of the slot's FIFO: the GPU
    // thread's for this slot's wait, the interrupt thread's for another's); then, if the GPU has
    // taken the tenant thread's wait (it clears the wait's target before it writes), wakes that thread.
    private void Run()
    {
        var interrupts = (int*)(headerPtr + SimChannelLayout.InterruptsOffset);
        var seen = Volatile.Read(ref *interrupts);
        var word = (int*)Unsafe.AsPointer(ref wakeWord[0]);
        var buffer = stackalloc byte[64];
        while (!closing)
        {
            var events = NativeMethods.EpollWait(epollFd, -1);
            if (events < 0)
            {
                if (Marshal.GetLastPInvokeError() == NativeMethods.EIntr)
                {
                    continue;
                }

                return;
            }

            if ((events & (long)RequestEvent) != 0)
            {
                _ = NativeMethods.Read(requestRead, buffer, 64);
            }

            var now = Volatile.Read(ref *interrupts);
            if ((events & (long)InterruptEvent) != 0 && now != seen)
            {
                Interlocked.Increment(ref wakes);
                Interlocked.Add(ref interruptsSeen, unchecked((uint)(now - seen)));
                seen = now;
            }

            var target = Volatile.Read(ref waitingFor);
            if (target != 0 && TakeWake(target))
            {
                Interlocked.Increment(ref *word);
                NativeMethods.FutexWake(word);
            }
        }
    }

    // Whether this caller takes the wake of the tenant thread's wait for target: the GPU has taken
    // the wait (it clears its target before it wakes) and no one else took the wake first.
    private bool TakeWake(long target) =>
        Volatile.Read(ref SimChannelLayout.Field(slotPtr, SimChannelLayout.WaitTarget)) != target
        && Interlocked.CompareExchange(ref waitingFor, 0, target) == target;

    /// <summary>
    /// The tenant thread's side of a blocking wait, as the CUDA driver's: one write to its event
    /// thread, then asleep on a futex until that thread wakes it. Asleep again on the same wait
    /// (woken ahead of work that proved later: the model's own doing, which the driver never
    /// does), it does not write again: its event thread still watches the wait. A wake lost (none
    /// is, but a blocked tenant must never hang) is taken after <see cref="LostWakeNs"/> once the GPU has
    /// taken the wait.
    /// </summary>
    public void Sleep(long target, bool tellEventThread)
    {
        var word = (int*)Unsafe.AsPointer(ref wakeWord[0]);
        var sequence = Volatile.Read(ref *word);
        Volatile.Write(ref waitingFor, target);
        if (tellEventThread)
        {
            byte signal = 1;
            _ = NativeMethods.Write(requestWrite, &signal, 1);
        }
        else if (TakeWake(target))
        {
            // Taken by the GPU before the event thread could know this thread sleeps on it (no
            // write wakes it to look again): this thread's own wake.
            return;
        }

        while (Volatile.Read(ref *word) == sequence)
        {
            if (!NativeMethods.FutexWait(word, sequence, LostWakeNs))
            {
                Thread.Yield(); // no futexes to be had: the event thread's wake is the word alone
                continue;
            }

            if (Volatile.Read(ref *word) == sequence
                && MonotonicClock.NowNs() - Volatile.Read(ref SimChannelLayout.Field(slotPtr, SimChannelLayout.WokenAtNs)) >= LostWakeNs
                && TakeWake(target))
            {
                return;
            }
        }
    }

    /// <summary>Stops the event thread (woken and gone before it returns) and closes its descriptors.</summary>
    public void Dispose()
    {
        if (!closing)
        {
            closing = true;
            byte signal = 0;
            _ = NativeMethods.Write(requestWrite, &signal, 1);
            thread.Join();
        }

        foreach (var fd in new[] { epollFd, requestRead, requestWrite, fifoFd })
        {
            _ = NativeMethods.Close(fd);
        }
    }
}
