namespace Contention.Workloads.Worker;

/// <summary>Where a worker's phase boundaries go: the node, which measures between them.</summary>
public interface IPhaseSink
{
    /// <summary>
    /// Hands over the phase that just ended and returns once the node has taken what it measures
    /// of it (for a traced worker, an eBPF snapshot). Called with the boundary held, on the thread
    /// that marks it.
    /// </summary>
    void Boundary(PhaseSample ended);
}
