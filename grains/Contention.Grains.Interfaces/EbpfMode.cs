namespace Contention.Grains;

/// <summary>What a node's eBPF tracer records (written in lower case on the command line, in configuration and in results).</summary>
public enum EbpfMode
{
    /// <summary>System calls with their time (sampled in threads making over 100,000 calls a second), ioctls, scheduling.</summary>
    Full,

    /// <summary>As <see cref="Full"/>, every call timed.</summary>
    Exact,

    /// <summary>No system-call time: no clock read per call, cheaper for the traced workers.</summary>
    Counts,

    /// <summary>No eBPF: /proc metrics only.</summary>
    Off,
}
