namespace Contention.Grains;

/// <summary>Where an experiment is.</summary>
[GenerateSerializer]
public enum ExperimentState
{
    /// <summary>Not started.</summary>
    Pending,

    /// <summary>Starting tenants.</summary>
    Starting,

    /// <summary>Tenants run; measurements are discarded.</summary>
    Warmup,

    /// <summary>Tenants run; measurements count.</summary>
    Measuring,

    /// <summary>Stopping tenants.</summary>
    Stopping,

    /// <summary>Finished as planned.</summary>
    Completed,

    /// <summary>Stopped early on request.</summary>
    Interrupted,

    /// <summary>Could not run (no tenant started).</summary>
    Failed,
}
