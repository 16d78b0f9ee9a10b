namespace Contention.Tracer.Bpf;

/// <summary>What the eBPF helper measures; each step down costs the traced programs less (docs/tracer.md).</summary>
public enum BpfMode
{
    /// <summary>System calls with errors, time and latency histograms; ioctls; scheduling.</summary>
    Full,

    /// <summary>As <see cref="Full"/> but without system-call time: no clock read per call.</summary>
    Counts,

    /// <summary>Programs attached but doing nothing: the overhead benchmark's floor.</summary>
    Empty,
}
