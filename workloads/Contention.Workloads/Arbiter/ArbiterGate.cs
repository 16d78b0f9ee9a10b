using System.IO.MemoryMappedFiles;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Contention.Workloads.Arbiter;

/// <summary>
/// A GPU's arbiter (issue 13): a small shared-memory file the node creates per GPU, in which each
/// tenant of the GPU claims a slot and says what it does — a latency-sensitive tenant when it has
/// an operation open — and best-effort tenants keep the predicted end of the work they let onto
/// the GPU; through which a best-effort tenant decides, before each launch, whether it may launch now
/// (<see cref="ArbiterRules"/>). Nothing runs between the tenants: each reads the count of open
/// requests (and, while one is open, the others' slots) and decides for itself, with plain loads and stores (no system call while it is let go; a held
/// launch spins, then sleeps on a futex in the file until whatever held it changes — a request
/// closing, work taken back, the arbiter stopping — or until the work let go before it is
/// predicted to have drained enough; those who change it wake the sleepers with one system call,
/// and only when there are any). A slot whose process died is freed by the
/// first tenant it holds up for longer than <see cref="LeaseNs"/> (its process no longer
/// answers <c>kill(pid, 0)</c>, or is a zombie), so a tenant killed with an operation open stalls the others for
/// at most that long; best-effort work a killed tenant let go expires when it was predicted to.
/// </summary>
public sealed unsafe partial class ArbiterGate : IDisposable
{
    /// <summary>How long a held launch may wait before the tenants holding it up are checked for life, ns.</summary>
    public const long LeaseNs = 20_000_000;

    /// <summary>How long a held launch spins before it sleeps between looks, ns.</summary>
    public const long SpinNs = 50_000;

    /// <summary>How long a held launch sleeps between looks once it stopped spinning, where futexes are not to be had (neither x64 nor arm64), ns.</summary>
    public const long NapNs = 20_000;

    private const long Magic = 0x5241_4254_4E43_0003; // "CNTBAR" + version 3 (the stop word's handle)
    private const int HeaderBytes = 256;
    private const int SlotBytes = 128;

    // Header (the node's): magic, slot count, outstanding bound, slice quantum; stop; the
    // best-effort tenants' shared line: the predicted end of their work let go.
    private const int SlotCountOffset = 8;
    private const int OutstandingOffset = 16;
    private const int QuantumOffset = 24;
    private const int OpenGoesOffset = 32; // 1: an open request holds no best-effort launch (the spatial arbiter)
    private const int StopOffset = 64;
    private const int WakeOffset = 72; // a 32-bit futex word: bumped by every change a held launch waits for
    private const int WaitersOffset = 80; // held launches asleep on it
    private const int QueueEndOffset = 96;
    private const int OpenCountOffset = 104; // slots with a latency-sensitive request open: a best-effort launch reads this word, not every slot, while it is 0
    private const int StopWordOwnerOffset = 128; // the owner token of the slot that published a stop word (0: none), written last
    private const int StopWordSlotOffset = 136; // that slot
    private const int StopWordHandleOffset = 144; // its CUDA IPC handle, 64 bytes
    private const int StopWordHandleBytes = 64;

    // Slot (its tenant's line): owner token, pid, sensitive, open since.
    private const int OwnerOffset = 0;
    private const int PidOffset = 8;
    private const int SensitiveOffset = 16;
    private const int OpenOffset = 24;

    private static long claims;
    private readonly MemoryMappedFile file;
    private readonly MemoryMappedViewAccessor view;
    private readonly byte* basePtr;

    private ArbiterGate(string path, FileMode mode, long bytes)
    {
        Path = path;
        file = MemoryMappedFile.CreateFromFile(path, mode, null, bytes, MemoryMappedFileAccess.ReadWrite);
        view = file.CreateViewAccessor(0, bytes, MemoryMappedFileAccess.ReadWrite);
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref basePtr);
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>How many tenants the GPU's arbiter has room for.</summary>
    public int Slots => (int)Field(basePtr, SlotCountOffset);

    /// <summary>The most predicted best-effort GPU time let onto the GPU and not yet done, ns.</summary>
    public long OutstandingNs => Field(basePtr, OutstandingOffset);

    /// <summary>A best-effort kernel predicted longer than this is launched in slices of about this length, ns; 0: no slicing.</summary>
    public long QuantumNs => Field(basePtr, QuantumOffset);

    /// <summary>Whether a latency-sensitive tenant's open request holds best-effort launches (else only the outstanding bound does: the spatial arbiter).</summary>
    public bool HoldsWhileOpen => Field(basePtr, OpenGoesOffset) == 0;

    /// <summary>Whether the node let every launch go (its experiment ended).</summary>
    public bool Stopped => Volatile.Read(ref Field(basePtr, StopOffset)) != 0;

    /// <summary>
    /// Creates (or recreates) the arbiter file of a GPU with room for <paramref name="slots"/>
    /// tenants; with <paramref name="holdWhileOpen"/> false, best-effort launches are bounded by
    /// the outstanding work alone, a latency-sensitive request being open or not.
    /// </summary>
    public static ArbiterGate Create(string path, int slots, long outstandingNs, long quantumNs, bool holdWhileOpen = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(slots);
        ArgumentOutOfRangeException.ThrowIfNegative(outstandingNs);
        ArgumentOutOfRangeException.ThrowIfNegative(quantumNs);
        File.Delete(path);
        var gate = new ArbiterGate(path, FileMode.CreateNew, HeaderBytes + ((long)slots * SlotBytes));
        new Span<byte>(gate.basePtr, HeaderBytes + (slots * SlotBytes)).Clear();
        Field(gate.basePtr, SlotCountOffset) = slots;
        Field(gate.basePtr, OutstandingOffset) = outstandingNs;
        Field(gate.basePtr, QuantumOffset) = quantumNs;
        Field(gate.basePtr, OpenGoesOffset) = holdWhileOpen ? 0 : 1;
        Volatile.Write(ref Field(gate.basePtr, 0), Magic);
        return gate;
    }

    /// <summary>Opens the arbiter file a node created.</summary>
    /// <exception cref="InvalidOperationException">The file is not an arbiter's (of this version).</exception>
    public static ArbiterGate Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"the GPU's arbiter file {path} does not exist: the node creates it for the GPU when a tenant asks for arbiter: gating or slicing");
        }

        var length = new FileInfo(path).Length;
        if (length < HeaderBytes)
        {
            throw new InvalidOperationException($"{path} is not a GPU arbiter's file ({length} bytes)");
        }

        var gate = new ArbiterGate(path, FileMode.Open, length);
        if (Volatile.Read(ref Field(gate.basePtr, 0)) != Magic || HeaderBytes + (gate.Slots * (long)SlotBytes) > length)
        {
            gate.Dispose();
            throw new InvalidOperationException($"{path} is not a GPU arbiter's file of this version (expected magic {Magic:x})");
        }

        return gate;
    }

    /// <summary>Lets every held launch go from now on (the node, when its experiment ends).</summary>
    public void Stop()
    {
        Volatile.Write(ref Field(basePtr, StopOffset), 1);
        Wake();
    }

    /// <summary>The slots as they are now.</summary>
    public ArbiterSlotState[] Read()
    {
        var states = new ArbiterSlotState[Slots];
        ReadInto(states);
        return states;
    }

    /// <summary>
    /// Claims a free slot for a tenant of this process (a slot whose process died counts as free).
    /// </summary>
    /// <exception cref="InvalidOperationException">Every slot is taken by a live tenant.</exception>
    public ArbiterMember Join(bool sensitive) => Join(sensitive, null);

    /// <summary>
    /// <see cref="Join(bool)"/>, the tenant's launches bounded by its own queue of predicted work
    /// (<paramref name="queuePerTenant"/>; null: <see cref="ArbiterMember.RequestedQueuePerTenant"/>) or the GPU's.
    /// </summary>
    public ArbiterMember Join(bool sensitive, bool? queuePerTenant)
    {
        var token = ((long)Environment.ProcessId << 24) | (Interlocked.Increment(ref claims) & 0xFF_FFFF);
        for (var pass = 0; pass < 2; pass++)
        {
            for (var i = 0; i < Slots; i++)
            {
                var slot = SlotPtr(i);
                ref var owner = ref Field(slot, OwnerOffset);
                var current = Volatile.Read(ref owner);
                if (current != 0 && (pass == 0 || ProcessAlive((int)Field(slot, PidOffset))))
                {
                    continue;
                }

                if (Interlocked.CompareExchange(ref owner, token, current) != current)
                {
                    continue;
                }

                Field(slot, PidOffset) = Environment.ProcessId;
                ClearOpen(slot);
                Volatile.Write(ref Field(slot, SensitiveOffset), sensitive ? 1 : 0);
                return new ArbiterMember(this, i, token, sensitive, queuePerTenant);
            }
        }

        throw new InvalidOperationException($"the GPU's arbiter ({Path}) has room for {Slots} tenants and all are taken by live processes: give the node more slots per GPU or fewer tenants");
    }

    /// <summary>
    /// Frees the slots of tenants whose processes died among <paramref name="states"/> (as read);
    /// returns how many it freed. A slot is freed only if it still has the owner read.
    /// </summary>
    public int FreeDead(ReadOnlySpan<ArbiterSlotState> states)
    {
        var freed = 0;
        for (var i = 0; i < states.Length; i++)
        {
            var state = states[i];
            if (state.Owner == 0 || ProcessAlive(state.Pid))
            {
                continue;
            }

            var slot = SlotPtr(i);
            ClearOpen(slot);
            if (Interlocked.CompareExchange(ref Field(slot, OwnerOffset), 0, state.Owner) == state.Owner)
            {
                freed++;
            }
        }

        if (freed > 0)
        {
            Wake();
        }

        return freed;
    }

    /// <summary>
    /// Whether process <paramref name="pid"/> runs: it answers <c>kill(pid, 0)</c> (or exists and
    /// belongs to another user) and is not a zombie — a process that exited and that its parent has
    /// not reaped yet still answers, but holds nothing.
    /// </summary>
    public static bool ProcessAlive(int pid)
    {
        const int ENoSuchProcess = 3;
        if (pid <= 0 || (Kill(pid, 0) != 0 && Marshal.GetLastPInvokeError() == ENoSuchProcess))
        {
            return false;
        }

        try
        {
            // /proc/PID/stat: "pid (comm) S ...", the state after the last ')'.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var close = stat.LastIndexOf(')');
            return close < 0 || close + 2 >= stat.Length || stat[close + 2] is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return true;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        view.SafeMemoryMappedViewHandle.ReleasePointer();
        view.Dispose();
        file.Dispose();
    }

    internal void ReadInto(Span<ArbiterSlotState> states)
    {
        for (var i = 0; i < states.Length; i++)
        {
            var slot = SlotPtr(i);
            var owner = Volatile.Read(ref Field(slot, OwnerOffset));
            states[i] = owner == 0
                ? default
                : new ArbiterSlotState(owner, (int)Field(slot, PidOffset), Volatile.Read(ref Field(slot, SensitiveOffset)) != 0, Volatile.Read(ref Field(slot, OpenOffset)));
        }
    }

    // Tests: a slot as a process other than this one left it.
    internal void SetPid(int slot, int pid) => Volatile.Write(ref Field(SlotPtr(slot), PidOffset), pid);

    internal void SetOpen(int slot, long sinceNs)
    {
        var was = Interlocked.Exchange(ref Field(SlotPtr(slot), OpenOffset), sinceNs);
        if (was == 0 && sinceNs != 0)
        {
            Interlocked.Increment(ref Field(basePtr, OpenCountOffset));
        }
        else if (was != 0 && sinceNs == 0)
        {
            Interlocked.Decrement(ref Field(basePtr, OpenCountOffset));
        }

        if (sinceNs == 0)
        {
            Wake();
        }
    }

    /// <summary>How many latency-sensitive tenants have a request open (0: a best-effort launch need not read the slots).</summary>
    internal long OpenRequests => Volatile.Read(ref Field(basePtr, OpenCountOffset));

    // Closes a slot's open request, if any, keeping the count of open ones; whether one was open.
    private bool ClearOpen(byte* slot)
    {
        if (Interlocked.Exchange(ref Field(slot, OpenOffset), 0) == 0)
        {
            return false;
        }

        Interlocked.Decrement(ref Field(basePtr, OpenCountOffset));
        return true;
    }

    /// <summary>
    /// A held launch is about to sleep: returns the wake word's value, to be passed to
    /// <see cref="Sleep"/> after the caller has looked again at what holds it (a change after this
    /// call makes that sleep return at once); <see cref="EndSleep"/> after.
    /// </summary>
    internal int BeginSleep()
    {
        var word = Volatile.Read(ref WakeWord);
        Interlocked.Increment(ref Field(basePtr, WaitersOffset));
        return word;
    }

    internal void EndSleep() => Interlocked.Decrement(ref Field(basePtr, WaitersOffset));

    /// <summary>Sleeps until the wake word is no longer <paramref name="word"/> or <paramref name="timeoutNs"/> passed (or a signal); without futexes, naps <see cref="NapNs"/>.</summary>
    internal void Sleep(int word, long timeoutNs)
    {
        if (!Sim.NativeMethods.FutexWait((int*)(basePtr + WakeOffset), word, Math.Max(1_000, timeoutNs)))
        {
            Workloads.PreciseSleep.Until(Sim.MonotonicClock.NowNs() + Math.Min(NapNs, timeoutNs), CancellationToken.None);
        }
    }

    /// <summary>Wakes every held launch asleep on this GPU's arbiter (one system call, and none when nobody sleeps).</summary>
    internal void Wake()
    {
        Interlocked.Increment(ref WakeWord);
        if (Volatile.Read(ref Field(basePtr, WaitersOffset)) > 0)
        {
            Sim.NativeMethods.FutexWake((int*)(basePtr + WakeOffset));
        }
    }

    /// <summary>How many times the wake word was bumped (tests).</summary>
    internal int WakeCount => Volatile.Read(ref WakeWord);

    private ref int WakeWord => ref Unsafe.AsRef<int>(basePtr + WakeOffset);

    /// <summary>The predicted end of the best-effort work let onto the GPU (CLOCK_MONOTONIC, ns).</summary>
    internal long QueueEnd => Volatile.Read(ref Field(basePtr, QueueEndOffset));

    // Adds a kernel let go at nowNs to the GPU's best-effort queue; returns the kernel's predicted end.
    internal long Enqueue(long nowNs, long predictedNs)
    {
        ref var end = ref Field(basePtr, QueueEndOffset);
        while (true)
        {
            var current = Volatile.Read(ref end);
            var next = ArbiterRules.QueueEndAfter(current, nowNs, predictedNs);
            if (Interlocked.CompareExchange(ref end, next, current) == current)
            {
                return next;
            }
        }
    }

    // Takes back restNs of predicted work that finished early (never before nowNs).
    internal void TakeBack(long nowNs, long restNs)
    {
        ref var end = ref Field(basePtr, QueueEndOffset);
        while (restNs > 0)
        {
            var current = Volatile.Read(ref end);
            var next = Math.Max(nowNs, current - restNs);
            if (next >= current)
            {
                return;
            }

            if (Interlocked.CompareExchange(ref end, next, current) == current)
            {
                Wake();
                return;
            }
        }
    }

    /// <summary>
    /// Publishes <paramref name="member"/>'s stop word (<see cref="Devices.IPausingDevice"/>): its
    /// IPC handle, for the best-effort tenants to open; it stands until the member leaves (or its
    /// process dies and its slot is freed).
    /// </summary>
    internal void PublishStopWord(ArbiterMember member, ReadOnlySpan<byte> handle)
    {
        if (handle.Length != StopWordHandleBytes)
        {
            throw new ArgumentException($"a stop word's handle is {StopWordHandleBytes} bytes, not {handle.Length}", nameof(handle));
        }

        Volatile.Write(ref Field(basePtr, StopWordOwnerOffset), 0);
        Field(basePtr, StopWordSlotOffset) = member.Slot;
        handle.CopyTo(new Span<byte>(basePtr + StopWordHandleOffset, StopWordHandleBytes));
        Volatile.Write(ref Field(basePtr, StopWordOwnerOffset), member.Token);
    }

    /// <summary>The owner token of the stop word published now; 0 when there is none, or its publisher's slot no longer holds it (it left, or died and was freed).</summary>
    internal long StopWordOwner
    {
        get
        {
            var owner = Volatile.Read(ref Field(basePtr, StopWordOwnerOffset));
            var slot = (int)Volatile.Read(ref Field(basePtr, StopWordSlotOffset));
            return owner != 0 && slot >= 0 && slot < Slots && Volatile.Read(ref Field(SlotPtr(slot), OwnerOffset)) == owner ? owner : 0;
        }
    }

    /// <summary>Copies the published stop word's handle into <paramref name="handle"/> (64 bytes); its owner token, 0 for none (the handle then cleared).</summary>
    internal long ReadStopWord(Span<byte> handle)
    {
        while (true)
        {
            var owner = StopWordOwner;
            if (owner == 0)
            {
                handle.Clear();
                return 0;
            }

            new ReadOnlySpan<byte>(basePtr + StopWordHandleOffset, StopWordHandleBytes).CopyTo(handle);
            if (Volatile.Read(ref Field(basePtr, StopWordOwnerOffset)) == owner)
            {
                return owner;
            }
        }
    }

    /// <summary>The process a member's token (<see cref="ArbiterMember.Token"/>) belongs to.</summary>
    internal static int TokenPid(long token) => (int)(token >> 24);

    internal void Leave(int slot, long token)
    {
        Interlocked.CompareExchange(ref Field(basePtr, StopWordOwnerOffset), 0, token);
        var ptr = SlotPtr(slot);
        var open = ClearOpen(ptr);
        Interlocked.CompareExchange(ref Field(ptr, OwnerOffset), 0, token);
        if (open)
        {
            Wake();
        }
    }

    private byte* SlotPtr(int slot) => basePtr + HeaderBytes + ((long)slot * SlotBytes);

    private static ref long Field(byte* ptr, int offset) => ref Unsafe.AsRef<long>(ptr + offset);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
