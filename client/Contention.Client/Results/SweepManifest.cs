namespace Contention.Client.Results;

/// <summary>
/// sweep.json: what a sweep is and how far it got. Rewritten after every run, so an interrupted
/// sweep resumes from it (<c>contention run MIX --out DIR</c> again) without repeating finished runs.
/// </summary>
public sealed record SweepManifest
{
    /// <summary>The contention version that wrote it.</summary>
    public required ToolInfo Tool { get; init; }

    /// <summary>The machine the client ran on.</summary>
    public required HostInfo Host { get; init; }

    /// <summary>The sweep's id; each run's experiment id is this plus the run's id.</summary>
    public required string Id { get; init; }

    /// <summary>The mix's name.</summary>
    public required string Name { get; init; }

    /// <summary>The mix file, its text and the command line's overrides.</summary>
    public required MixInfo Mix { get; init; }

    /// <summary>SHA-256 of what decides the runs (mix text, overrides, timing, tracer): a resumed sweep must match it.</summary>
    public required string Fingerprint { get; init; }

    /// <summary>Axis names, in order.</summary>
    public required IReadOnlyList<string> Axes { get; init; }

    /// <summary>Runs per point.</summary>
    public int Repetitions { get; init; }

    /// <summary>Every run, in the order they run.</summary>
    public required IReadOnlyList<SweepRun> Runs { get; init; }
}

/// <summary>One run of a sweep in sweep.json.</summary>
/// <param name="Id">e.g. <c>p007-r2</c>; its results are in <c>points/ID/</c>.</param>
/// <param name="Point">The point's place in the product, from 1.</param>
/// <param name="Repetition">From 1.</param>
/// <param name="Values">Axis to value.</param>
/// <param name="State">Pending, Completed, Failed, Interrupted, … (the experiment's final state).</param>
/// <param name="Experiment">Its experiment id, once started.</param>
/// <param name="Outcome">Each tenant's measured throughput and p99, once finished (<see cref="SweepFiles.Outcome"/>).</param>
/// <param name="Invalid">Why the run is not valid (<see cref="Validity"/>), once finished; empty when it is.</param>
public sealed record SweepRun(string Id, int Point, int Repetition, IReadOnlyDictionary<string, string> Values, string State, string? Experiment, string Outcome = "", IReadOnlyList<string>? Invalid = null);
