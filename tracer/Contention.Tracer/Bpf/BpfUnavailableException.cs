namespace Contention.Tracer.Bpf;

/// <summary>The eBPF helper cannot run here; the message says why and what to do.</summary>
public sealed class BpfUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public BpfUnavailableException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public BpfUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public BpfUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
