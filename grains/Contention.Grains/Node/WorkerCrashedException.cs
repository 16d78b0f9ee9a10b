namespace Contention.Grains.Node;

/// <summary>A tenant worker ended without being asked to.</summary>
public sealed class WorkerCrashedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public WorkerCrashedException(int exitCode, string message)
        : base(message) => ExitCode = exitCode;

    /// <summary>Creates the exception.</summary>
    public WorkerCrashedException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public WorkerCrashedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public WorkerCrashedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The worker's exit status (-1 if it never started).</summary>
    public int ExitCode { get; } = -1;
}
