namespace Contention.Workloads.Arbiter;

/// <summary>One tenant's state in a GPU's arbiter, as the others read it.</summary>
/// <param name="Owner">The claim's token; 0 for a free slot.</param>
/// <param name="Pid">The owning process.</param>
/// <param name="Sensitive">Whether the tenant is latency-sensitive (a priority above 0), else best-effort.</param>
/// <param name="OpenSinceNs">A latency-sensitive tenant's open operation: when it began (CLOCK_MONOTONIC, ns); 0 while none is open.</param>
public readonly record struct ArbiterSlotState(long Owner, int Pid, bool Sensitive, long OpenSinceNs);

/// <summary>Why a best-effort launch may not go yet.</summary>
public enum ArbiterVerdict
{
    /// <summary>It may go.</summary>
    Go,

    /// <summary>A latency-sensitive tenant has an operation open.</summary>
    HeldBySensitive,

    /// <summary>Best-effort work let onto the GPU and predicted not yet done would exceed the bound with it.</summary>
    HeldByOutstanding,
}

/// <summary>
/// The real arbiter's decisions, on explicit time, as the modelled one
/// (<see cref="Sim.ArbiterScheduler"/>) takes them: a best-effort launch is held while a
/// latency-sensitive tenant has an operation open, and while the best-effort work let onto the GPU
/// and predicted not yet done, with this launch, would exceed the outstanding bound (a launch with
/// nothing outstanding always goes, however long it is). Best-effort work is accounted as one
/// predicted queue end for the whole GPU: each kernel let go adds its predicted duration after the
/// work let go before it (as time-slicing runs it; under MPS, where best-effort kernels may run
/// side by side, this counts them as longer than they are, erring on the latency-sensitive
/// side), so work of a tenant that died expires by itself and nothing needs to be retired; a
/// tenant whose work finished earlier than predicted takes its rest back when it synchronises.
/// </summary>
public static class ArbiterRules
{
    /// <summary>
    /// Whether a best-effort tenant may launch a kernel predicted to last
    /// <paramref name="predictedNs"/> at <paramref name="nowNs"/>, the GPU's best-effort work being
    /// predicted to end at <paramref name="queueEndNs"/>; and the slot that holds it when a
    /// latency-sensitive one does (else -1). With <paramref name="holdWhileOpen"/> false (the
    /// spatial arbiter) an open request holds nothing: only the bound does.
    /// </summary>
    public static (ArbiterVerdict Verdict, int Slot) Decide(ReadOnlySpan<ArbiterSlotState> slots, long queueEndNs, long nowNs, long predictedNs, long outstandingBoundNs, bool holdWhileOpen = true)
    {
        for (var i = 0; holdWhileOpen && i < slots.Length; i++)
        {
            if (slots[i] is { Owner: not 0, Sensitive: true, OpenSinceNs: not 0 })
            {
                return (ArbiterVerdict.HeldBySensitive, i);
            }
        }

        var outstanding = Outstanding(queueEndNs, nowNs);
        return outstanding > 0 && outstanding + predictedNs > outstandingBoundNs ? (ArbiterVerdict.HeldByOutstanding, -1) : (ArbiterVerdict.Go, -1);
    }

    /// <summary>Predicted work not yet done at <paramref name="nowNs"/> of a queue ending at <paramref name="queueEndNs"/>, ns.</summary>
    public static long Outstanding(long queueEndNs, long nowNs) => Math.Max(0, queueEndNs - nowNs);

    /// <summary>A queue's predicted end once a kernel of <paramref name="predictedNs"/> is let go at <paramref name="nowNs"/>: after its earlier work, or from now.</summary>
    public static long QueueEndAfter(long queueEndNs, long nowNs, long predictedNs) => Math.Max(queueEndNs, nowNs) + Math.Max(0, predictedNs);
}
