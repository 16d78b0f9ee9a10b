namespace Contention.Client.Analysis;

/// <summary>What the Phase-1 analysis found: start-up footprint, steady state, invariance, divergence.</summary>
public sealed record Phase1Result
{
    /// <summary>Execution models, cpu first.</summary>
    public required IReadOnlyList<string> Execs { get; init; }

    /// <summary>Categories with any call in the data, in <see cref="Contention.Tracer.SyscallCategories.All"/> order.</summary>
    public required IReadOnlyList<string> Categories { get; init; }

    /// <summary>Runs (fresh worker processes) analysed.</summary>
    public int Runs { get; init; }

    /// <summary>Steady phases analysed, and how many of them the point's time limit cut.</summary>
    public int SteadyPhases { get; init; }

    /// <summary>Steady phases with fewer launches than asked.</summary>
    public int CutPhases { get; init; }

    /// <summary>Start-up (the init phase of each fresh process) by execution model and category.</summary>
    public required IReadOnlyList<FootprintRow> Startup { get; init; }

    /// <summary>Start-up wall time, CPU split and context switches by execution model (medians over runs).</summary>
    public required IReadOnlyList<StartupOsRow> StartupOs { get; init; }

    /// <summary>Steady phases by execution model and category.</summary>
    public required IReadOnlyList<SteadyRow> Steady { get; init; }

    /// <summary>Slopes along bytes and iterations by execution model and category (and "all").</summary>
    public required IReadOnlyList<InvarianceRow> Invariance { get; init; }

    /// <summary>Each other execution model against cpu, by category.</summary>
    public required IReadOnlyList<DivergenceRow> Divergence { get; init; }

    /// <summary>The most frequent system calls of steady phases, by execution model.</summary>
    public IReadOnlyList<TopSyscallRow> TopSyscalls { get; init; } = [];

    /// <summary>Calls (all categories) per steady phase against bytes, by execution model.</summary>
    public required IReadOnlyList<CurvePoint> BytesCurve { get; init; }

    /// <summary>Calls (all categories) per steady phase against launches asked, by execution model.</summary>
    public required IReadOnlyList<CurvePoint> IterationsCurve { get; init; }

    /// <summary>The findings paragraph, generated from the numbers above.</summary>
    public required string Findings { get; init; }
}

/// <summary>Calls of one category in the start-up phase: median, least and most over fresh processes.</summary>
public sealed record FootprintRow(string Exec, string Category, double Median, long Min, long Max, int Runs);

/// <summary>Start-up of one execution model: medians over fresh processes.</summary>
public sealed record StartupOsRow(string Exec, double WallSeconds, double UserSeconds, double SystemSeconds, double VoluntarySwitches, double InvoluntarySwitches, double Calls, int Runs);

/// <summary>Calls of one category per steady phase (mean with its bootstrap 95% interval) and per launch (median), and seconds in them per steady phase (mean).</summary>
public sealed record SteadyRow(string Exec, string Category, double MeanPerPhase, double Low, double High, double MedianPerIteration, int Phases, double MeanSecondsPerPhase = 0);

/// <summary>How one category's steady-state count changes along the grid's axes.</summary>
public sealed record InvarianceRow(string Exec, string Category, SlopeEstimate Bytes, SlopeEstimate Iterations, int Phases);

/// <summary>One category, another execution model against cpu: mean calls per steady phase and start-up median of each; the difference with its 95% interval.</summary>
public sealed record DivergenceRow(string Category, string Exec, double CpuSteady, double ExecSteady, double Difference, double Low, double High, double CpuStartup, double ExecStartup);

/// <summary>One system call in steady phases: mean per phase, per second of phase wall time, and the share of phases that made it.</summary>
public sealed record TopSyscallRow(string Exec, string Syscall, double MeanPerPhase, double PerSecond, double PhasesWithCall);

/// <summary>Mean calls per steady phase at one axis value, with its bootstrap 95% interval.</summary>
public sealed record CurvePoint(string Exec, double X, double Mean, double Low, double High, int Phases);
