namespace Contention.Tracer.Bpf;

/// <summary>What the eBPF helper measures; each step down costs the traced programs less (docs/tracer.md).</summary>
public enum BpfMode
{
    /// <summary>
    /// System calls with errors, time and latency histograms; ioctls; scheduling. Every call is
    /// counted; the time of every call is measured too, except in a thread making more than
    /// 100,000 calls a second, where one call in 16 at random is, weighted by 16.
    /// </summary>
    Full,

    /// <summary>As <see cref="Full"/> with the time of every call measured, however many.</summary>
    Exact,

    /// <summary>As <see cref="Full"/> but without system-call time: no clock read per call.</summary>
    Counts,

    /// <summary>Programs attached but doing nothing: the overhead benchmark's floor.</summary>
    Empty,
}
