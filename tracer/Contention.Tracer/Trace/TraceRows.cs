namespace Contention.Tracer.Trace;

/// <summary>Which of a process's calls a summary counts, as to held phase boundaries.</summary>
public enum TraceRows
{
    /// <summary>Every call.</summary>
    All,

    /// <summary>Calls made outside held phase boundaries: the phases' own calls.</summary>
    Workload,

    /// <summary>Calls made while a phase boundary was held (the node's handshake with the tenant).</summary>
    Held,
}
