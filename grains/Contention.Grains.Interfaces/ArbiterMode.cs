namespace Contention.Grains;

/// <summary>What a GPU's arbiter does over its sharing mode (written in lower case in mixes and results; issue 13).</summary>
[GenerateSerializer]
public enum ArbiterMode
{
    /// <summary>No arbiter: tenants launch straight onto the GPU.</summary>
    Off,

    /// <summary>
    /// Launch gating: best-effort tenants (priority 0) launch only while no latency-sensitive
    /// tenant (priority above 0) has a request open, and with at most the mix's
    /// <c>arbiter_outstanding</c> of predicted GPU time on the GPU.
    /// </summary>
    Gating,

    /// <summary>
    /// Gating, and best-effort tenants' kernels predicted longer than the mix's
    /// <c>arbiter_quantum</c> launched as slices over disjoint ranges of their blocks, so that a
    /// latency-sensitive request waits for about one slice at most.
    /// </summary>
    Slicing,

    /// <summary>
    /// Spatial sharing: best-effort GEMMs are launched narrow (pieces over ranges of their row
    /// blocks, at most two blocks per multiprocessor, leaving room on every multiprocessor for the
    /// latency-sensitive tenant's blocks) and, with element-wise kernels (whose blocks are short),
    /// are not held while a latency-sensitive request is open — only the mix's
    /// <c>arbiter_outstanding</c> bounds them; reductions and copies are held as under gating.
    /// Meant for MPS, where kernels of different tenants run side by side. Not sliced
    /// (<c>arbiter_quantum</c> does not apply).
    /// </summary>
    Spatial,
}
