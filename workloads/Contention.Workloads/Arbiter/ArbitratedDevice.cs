using Contention.Workloads.Devices;
using Contention.Workloads.Kernels;

namespace Contention.Workloads.Arbiter;

/// <summary>
/// A tenant's device with its GPU's arbiter in front (issue 13): a latency-sensitive tenant's
/// launches go straight to the device, and it marks its operations open and closed in the
/// arbiter; a best-effort tenant asks the arbiter before each launch (gating, no system call when
/// let go) and, when slicing is on (the arbiter's quantum above 0) and its device can, launches a
/// compute kernel predicted longer than the quantum as parts over disjoint ranges of its blocks,
/// each about a quantum long (no more than its waves), asking before each part — so a
/// latency-sensitive request that opens waits behind at most one part.
/// </summary>
public sealed class ArbitratedDevice : IComputeDevice
{
    private readonly IComputeDevice inner;
    private readonly ArbiterMember member;
    private readonly ArbiterGate gate;
    private readonly ISlicingDevice? slicing;
    private readonly ISlicingDevice? narrowing;
    private readonly long quantumNs;
    private readonly Dictionary<KernelSpec, int> maxParts = [];
    private readonly IPausingDevice? pausing;
    private readonly byte[] stopWordHandle = new byte[Devices.CudaDriver.IpcHandleBytes];
    private readonly bool streamGated;
    private readonly bool clearEachRequest;
    private readonly bool clearUnlessQueued;

    // Run when the arbiter holds one of this tenant's launches: a cuda device's kernel timer lets go
    // of a batch it holds on the GPU until its kernels are queued, or the kernels queued so far
    // would wait with the held launch (and the wait would spend the timer's budget).
    private readonly Action? releaseHold;
    private long nextArrivalNs = long.MaxValue;
    private readonly Timer? watchdog;
    private long pausedAtOwner;
    private long clearedOwner;
    private bool disposed;
    private bool stopSet;
    private long measuredNs;

    /// <summary>
    /// Puts <paramref name="gate"/>'s arbiter in front of <paramref name="inner"/> for a tenant; owns
    /// both. With <paramref name="pause"/> (default: <c>CONTENTION_PAUSE=1</c>) under the spatial
    /// arbiter and a device that can (<see cref="IPausingDevice"/>), a latency-sensitive tenant
    /// shares a stop word that its stream sets before the first kernel of each operation and clears
    /// after its last, and best-effort tenants' GEMMs pause while it is set — where the tenant is an
    /// MPS client (<paramref name="mps"/>; default: <c>CUDA_MPS_PIPE_DIRECTORY</c> is set). With
    /// <paramref name="streamGate"/> (default: <c>CONTENTION_PAUSE=stream</c>) instead, likewise, but
    /// the best-effort tenants' streams wait on the GPU before each kernel while the word is set
    /// (<see cref="IPausingDevice.WaitAt"/>), their kernels whole or in slices of the arbiter's
    /// quantum, and an open request holds none of their launches on the host; the service's stream
    /// clears its word when its operation ends (its queue empty), or with <paramref name="clearEachRequest"/>
    /// (default: <c>CONTENTION_PAUSE=stream-request</c>) after each request's last kernel, or with
    /// <paramref name="clearUnlessQueued"/> (default: <c>CONTENTION_PAUSE=stream-next</c>) after a
    /// request's last kernel unless the next request had arrived when it was queued (<see cref="NextArrival"/>); a watchdog looks every
    /// <paramref name="watchdogPeriod"/> (default <see cref="WatchdogPeriod"/>; infinite: never by
    /// itself) whether the word's publisher died (<see cref="WatchPublisher"/>). A sliced kernel's
    /// parts are predicted with <paramref name="partCostNs"/> for each part beyond the first (the
    /// GPU's cost of a part, <see cref="Sim.DeviceProfile.PartCostNs"/>; <see cref="PartsPriorNs"/>).
    /// </summary>
    public ArbitratedDevice(IComputeDevice inner, ArbiterGate gate, bool sensitive, DurationPredictor predictor, bool? pause = null, bool? mps = null, bool? streamGate = null, TimeSpan? watchdogPeriod = null, bool? clearEachRequest = null, bool? clearUnlessQueued = null, long partCostNs = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(partCostNs);
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(gate);
        ArgumentNullException.ThrowIfNull(predictor);
        this.inner = inner;
        releaseHold = inner is CudaDevice cuda ? cuda.ReleaseHeldBatch : null;
        this.gate = gate;
        Predictor = predictor;
        PartCostNs = partCostNs;
        member = gate.Join(sensitive);
        quantumNs = gate.QuantumNs;
        // Pauses are for MPS, where kernels of different tenants run side by side: time-sliced, a
        // paused kernel would keep its context's time slice and the service would wait for it all
        // the same. Asked for by the environment, they apply to MPS clients only.
        var streamAsked = (streamGate ?? KernelLaunches.RequestedStreamGate) && !gate.HoldsWhileOpen && inner is IPausingDevice;
        var asked = streamAsked || ((pause ?? KernelLaunches.RequestedPause) && !gate.HoldsWhileOpen && inner is IPausingDevice);
        var mpsClient = mps ?? !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CUDA_MPS_PIPE_DIRECTORY"));
        pausing = asked && mpsClient ? (IPausingDevice)inner : null;
        streamGated = pausing is not null && streamAsked;
        this.clearEachRequest = clearEachRequest ?? KernelLaunches.RequestedStreamClearEachRequest;
        this.clearUnlessQueued = clearUnlessQueued ?? KernelLaunches.RequestedStreamClearUnlessQueued;
        slicing = quantumNs > 0 && (gate.HoldsWhileOpen || streamGated) ? inner as ISlicingDevice : null;
        narrowing = gate.HoldsWhileOpen || streamGated ? null : inner as ISlicingDevice;
        if (pausing is not null && sensitive)
        {
            gate.PublishStopWord(member, pausing.ShareStopWord());
        }
        else if (streamGated)
        {
            pausing!.WaitAt([]);
            // A stream waiting at a word has no bound of its own: a publisher that died with its word
            // set would hold it for good, and the tenant's thread in its synchronise. The watchdog
            // frees a dead publisher's slot and clears its word from a stream of this tenant's own.
            var period = watchdogPeriod ?? WatchdogPeriod;
            watchdog = new Timer(_ => WatchPublisher(), null, period, period);
        }
        else if (pausing is not null)
        {
            pausing.PauseAt([]);
        }

        var role = sensitive ? "latency-sensitive" : "best-effort";
        var mechanism = streamGated && !sensitive
            ? "spatial with stream waits: this tenant's stream waits on the GPU while the latency-sensitive tenant's work is on it" + (slicing is null ? ", whole kernels" : $", kernels in slices of {quantumNs / 1000.0:0.#} us")
            : !gate.HoldsWhileOpen && pausing is not null
            ? "spatial with pauses: " + (sensitive ? "this tenant's stream sets the stop word while its work is on the GPU" : "persistent GEMMs and element-wise kernels go beside open requests and pause while the latency-sensitive tenant's work is on the GPU")
            : !gate.HoldsWhileOpen
            ? "spatial: " + (narrowing is null ? "gating; this device's kernels cannot be narrowed" : "narrow GEMMs and element-wise kernels go beside open requests")
            : quantumNs <= 0 ? "gating" : slicing is null ? "gating; this device's kernels cannot be sliced" : $"gating + slicing at {quantumNs / 1000.0:0.#} us";
        Description = $"{inner.Description}, arbiter ({mechanism}; {role}, slot {member.Slot}){(asked && !mpsClient ? "; pauses asked for, but this tenant is no MPS client (a paused kernel would keep its time slice): none pause" : "")}";
        measuredNs = inner.KernelNs ?? 0;
    }

    /// <summary>The device behind the arbiter.</summary>
    public IComputeDevice Inner => inner;

    /// <summary>The tenant's place in the arbiter (its counters).</summary>
    public ArbiterMember Member => member;

    /// <summary>The tenant's duration prediction.</summary>
    public DurationPredictor Predictor { get; }

    /// <summary>What each part of a sliced kernel beyond the first is predicted to add on the GPU (its prior), ns.</summary>
    public long PartCostNs { get; }

    /// <summary>
    /// What slicing a kernel whose prior is <paramref name="priorNs"/> into <paramref name="parts"/>
    /// adds to its prior: <paramref name="partCostNs"/> (at most half the kernel) for each part
    /// beyond the first — on the H200 a ResNet-50 step's parts cost 24 us each more than its whole
    /// kernels (docs/results/h200/arbiter, "Slicing over K"). Counted into the batch the predictor
    /// learns from, so its correction is the kernels' speed and not the slicing's cost: learnt
    /// from the parts' measured time against the whole kernels' prior, the cost raised every
    /// prediction (on the H200 by about 1.5x), the outstanding bound's count with it, and the
    /// parts the next kernels were cut into — whose costs raised it again.
    /// </summary>
    public static long PartsPriorNs(long priorNs, int parts, long partCostNs) =>
        parts <= 1 ? 0 : (parts - 1) * Math.Min(Math.Max(0, partCostNs), Math.Max(0, priorNs) / 2);

    /// <summary>Kernels launched in parts, and the parts they were launched as.</summary>
    public (long Kernels, long Parts) Sliced { get; private set; }

    /// <inheritdoc />
    public DeviceId Id => inner.Id;

    /// <inheritdoc />
    public string Description { get; }

    /// <inheritdoc />
    public SyncMode SyncMode => inner.SyncMode;

    /// <inheritdoc />
    public long? KernelNs => inner.KernelNs;

    /// <inheritdoc />
    public KernelSampling? Sampling => inner.Sampling;

    /// <inheritdoc />
    public void Prepare(IEnumerable<KernelSpec> kernels) => inner.Prepare(kernels);

    /// <inheritdoc />
    public void Release() => inner.Release();

    /// <inheritdoc />
    public void BeginOperation()
    {
        if (member.Sensitive)
        {
            member.Open();
        }
    }

    /// <inheritdoc />
    public void EndOperation()
    {
        if (member.Sensitive)
        {
            if (stopSet)
            {
                // Waited at on the GPU, the word stays set while the service's queue holds requests
                // (cleared at each synchronise, the trainers' slices slip in between queued requests:
                // on the H200 at half load its p99 was 2.6x alone so, 1.25x kept set until here); the
                // stream is idle here.
                pausing!.SetStopWord(false);
                stopSet = false;
            }

            member.Close();
        }
    }

    /// <inheritdoc />
    public void NextArrival(long arrivalNs)
    {
        nextArrivalNs = arrivalNs;
        inner.NextArrival(arrivalNs);
    }

    /// <inheritdoc />
    public void Launch(in KernelSpec kernel)
    {
        if (member.Sensitive)
        {
            if (pausing is not null && !stopSet)
            {
                pausing.SetStopWord(true);
                stopSet = true;
            }

            inner.Launch(kernel);
            return;
        }

        if (pausing is not null)
        {
            LookForStopWord();
        }

        var predicted = Predictor.Predict(kernel);
        if (narrowing is not null)
        {
            LaunchNarrow(kernel, predicted);
            return;
        }

        var parts = Parts(kernel, predicted);
        if (parts <= 1)
        {
            Admit(predicted);
            inner.Launch(kernel);
            return;
        }

        var cost = PartsPriorNs(Predictor.Prior(kernel), parts, PartCostNs);
        if (cost > 0)
        {
            // The parts' own cost, predicted as the kernels are (and learnt from with them).
            predicted += Predictor.PredictFrom(cost);
        }

        for (var part = 0; part < parts; part++)
        {
            // Each part's share of the prediction: the parts share the blocks as evenly as they can.
            Admit(((predicted * (part + 1)) / parts) - ((predicted * part) / parts));
            slicing!.LaunchPart(kernel, part, parts);
        }

        Sliced = (Sliced.Kernels + 1, Sliced.Parts + parts);
    }

    /// <inheritdoc />
    public void Synchronize()
    {
        if (stopSet && ClearsAtSynchronize())
        {
            // After the operation's last kernel on the stream: the best-effort GEMMs go on once it is done.
            pausing!.SetStopWord(false);
            stopSet = false;
        }

        inner.Synchronize();
        if (member.Sensitive)
        {
            return;
        }

        member.Drained();
        var now = inner.KernelNs ?? 0;
        Predictor.Observe(now - measuredNs);
        measuredNs = now;
    }

    // Whether the service's word is cleared after this synchronise's work: always for the pause in
    // the kernels; behind the stream gate per request, or unless the next request has arrived, else
    // only when its operation ends.
    private bool ClearsAtSynchronize() =>
        !(streamGated && member.Sensitive) || clearEachRequest || (clearUnlessQueued && nextArrivalNs > Sim.MonotonicClock.NowNs());

    // Asks the arbiter to let a launch go; waiting at the stop word on the GPU, nothing holds it on
    // the host (neither an open request nor the outstanding bound): it is counted only.
    private void Admit(long predictedNs)
    {
        if (streamGated)
        {
            member.Count(predictedNs);
        }
        else
        {
            member.Admit(predictedNs, narrow: false, releaseHold);
        }
    }

    // The spatial arbiter: a GEMM goes as narrow pieces, an element-wise kernel whole (its blocks
    // are short: they leave their places within microseconds), both beside open requests; a
    // reduction (its groups stay for the whole kernel) and copies are held while a request is open.
    private void LaunchNarrow(in KernelSpec kernel, long predicted)
    {
        if (KernelLaunches.RequestedReservedSms > 0 || pausing is not null)
        {
            // Experimental (issue 13): GEMMs keep off the reserved multiprocessors (the device launches
            // them so) and go beside open requests; element-wise kernels, which keep off them too but
            // share the memory's bandwidth, wait while a request is open — unless they pause while the
            // service's work is on the GPU (CONTENTION_PAUSE), as the GEMMs then do.
            member.Admit(predicted, narrow: kernel.Kind == KernelKind.Gemm || (pausing is not null && kernel.Kind == KernelKind.Elementwise), releaseHold);
            inner.Launch(kernel);
            return;
        }

        var pieces = kernel.Kind == KernelKind.Gemm ? Math.Max(1, narrowing!.NarrowParts(kernel)) : 1;
        var narrow = kernel.Kind is KernelKind.Gemm or KernelKind.Elementwise;
        if (pieces == 1)
        {
            member.Admit(predicted, narrow, releaseHold);
            inner.Launch(kernel);
            return;
        }

        for (var piece = 0; piece < pieces; piece++)
        {
            member.Admit(((predicted * (piece + 1)) / pieces) - ((predicted * piece) / pieces), narrow: true, releaseHold);
            narrowing!.LaunchNarrow(kernel, piece, pieces);
        }
    }

    // A best-effort tenant pausing: opens the stop word published now (or none, when its publisher
    // left or died) whenever it changed since the last launch; one read of the gate when it did not.
    private void LookForStopWord()
    {
        if (gate.StopWordOwner == Volatile.Read(ref pausedAtOwner))
        {
            return;
        }

        lock (stopWordHandle)
        {
            Volatile.Write(ref pausedAtOwner, gate.ReadStopWord(stopWordHandle));
            if (streamGated)
            {
                pausing!.WaitAt(pausedAtOwner == 0 ? [] : stopWordHandle);
            }
            else
            {
                pausing!.PauseAt(pausedAtOwner == 0 ? [] : stopWordHandle);
            }
        }
    }

    /// <summary>How often a best-effort tenant waiting at a stop word on its stream looks whether the word's publisher died.</summary>
    public static TimeSpan WatchdogPeriod { get; } = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// The watchdog's look (<see cref="WatchdogPeriod"/>), callable directly: when the word this
    /// tenant waits at belongs to a process that died, frees the dead's slots and clears the word
    /// from a stream of this tenant's own, so its stream, and every other waiting at it, goes on.
    /// Returns whether it cleared a word.
    /// </summary>
    public bool WatchPublisher()
    {
        try
        {
            var owner = Volatile.Read(ref pausedAtOwner);
            if (owner == 0 || owner == Volatile.Read(ref clearedOwner) || disposed)
            {
                return false;
            }

            // The publisher's process: its slot's while it holds one, else the token's.
            var states = gate.Read();
            var pid = ArbiterGate.TokenPid(owner);
            foreach (var state in states)
            {
                if (state.Owner == owner)
                {
                    pid = state.Pid;
                    break;
                }
            }

            if (ArbiterGate.ProcessAlive(pid))
            {
                return false;
            }

            lock (stopWordHandle)
            {
                if (disposed || owner != pausedAtOwner || owner == clearedOwner)
                {
                    return false;
                }

                // Cleared while still open here (once), then let go: the next launch opens the next
                // word, or none. Only a dead publisher's: one that left freed its word's memory.
                _ = gate.FreeDead(states);
                clearedOwner = owner;
                return pausing!.ClearWaitedWord();
            }
        }
        catch (InvalidOperationException)
        {
            // The driver refused; the next look tries again.
            return false;
        }
    }

    /// <summary>How many parts a best-effort kernel predicted at <paramref name="predictedNs"/> is launched as: ⌈predicted / quantum⌉, at most what the device allows.</summary>
    public int Parts(in KernelSpec kernel, long predictedNs)
    {
        if (slicing is null || predictedNs <= quantumNs)
        {
            return 1;
        }

        // What the device allows depends on the shape alone: asked once per shape.
        if (!maxParts.TryGetValue(kernel, out var most))
        {
            most = slicing.MaxParts(kernel);
            maxParts[kernel] = most;
        }

        return (int)Math.Min((predictedNs + quantumNs - 1) / quantumNs, most);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (watchdog is not null)
        {
            using var stopped = new ManualResetEvent(false);
            if (watchdog.Dispose(stopped))
            {
                stopped.WaitOne();
            }

            lock (stopWordHandle)
            {
                disposed = true;
            }
        }

        if (stopSet)
        {
            // Leaving between an operation's first kernel and its synchronise: the word is cleared
            // before its memory goes, or the trainers' streams would wait at it for good.
            try
            {
                pausing!.SetStopWord(false);
                inner.Synchronize();
            }
            catch (InvalidOperationException)
            {
                // The driver refused: the trainers' watchdogs cannot tell a live process's word
                // from a held one, so nothing more can be done here.
            }

            stopSet = false;
        }

        member.Dispose();
        gate.Dispose();
        inner.Dispose();
    }
}
