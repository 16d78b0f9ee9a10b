using Contention.Tracer.Trace;

namespace Contention.Client.Results;

/// <summary>trace.json: what <c>contention trace</c> saw of one command, with the envelope a run's results have.</summary>
public sealed record TraceDocument
{
    /// <summary>Format identifier, bumped on incompatible changes.</summary>
    public string Schema { get; init; } = "contention.trace/1";

    public required ToolInfo Tool { get; init; }

    public required HostInfo Host { get; init; }

    /// <summary>The command line traced.</summary>
    public required IReadOnlyList<string> Command { get; init; }

    /// <summary>Its exit status (128 + N when signal N ended it).</summary>
    public int ExitCode { get; init; }

    public DateTimeOffset StartedUtc { get; init; }

    public double WallSeconds { get; init; }

    /// <summary>full, counts, "unavailable: WHY" when eBPF could not run, or "failed: WHY" when the helper died (the phases are then empty).</summary>
    public string Tracer { get; init; } = "";

    /// <summary>The NVIDIA driver loaded, if any (/proc/driver/nvidia/version), so ioctls can be decoded again.</summary>
    public string? NvidiaDriver { get; init; }

    /// <summary>Seconds after start where start-up ends and the steady state begins, when split.</summary>
    public double? SplitAtSeconds { get; init; }

    /// <summary><c>all</c>, and <c>startup</c> / <c>steady</c> when split.</summary>
    public List<TracePhase> Phases { get; init; } = [];

    /// <summary>Events the tracer could not count (never silently dropped).</summary>
    public string Dropped { get; init; } = "";
}

/// <summary>One interval of a trace.</summary>
/// <param name="Phase">all, startup or steady.</param>
/// <param name="Seconds">Its length.</param>
/// <param name="Summary">What was seen in it.</param>
public sealed record TracePhase(string Phase, double Seconds, TraceSummary Summary);
