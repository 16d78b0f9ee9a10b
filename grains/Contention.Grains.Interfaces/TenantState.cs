namespace Contention.Grains;

/// <summary>Where a tenant is in its life.</summary>
[GenerateSerializer]
public enum TenantState
{
    /// <summary>Not started.</summary>
    Idle,

    /// <summary>Worker starting.</summary>
    Starting,

    /// <summary>Workload running.</summary>
    Running,

    /// <summary>Crashed; a restart is pending.</summary>
    Restarting,

    /// <summary>Stopped on request.</summary>
    Stopped,

    /// <summary>Crashed with no restarts left, or could not start.</summary>
    Failed,

    /// <summary>Its workload ended by itself (a microbenchmark grid walked); the worker idles until stopped.</summary>
    Finished,
}
