namespace Contention.Grains;

/// <summary>Where a tenant's work runs on its node (written in lower case in mixes).</summary>
[GenerateSerializer]
public enum Isolation
{
    /// <summary>A worker process of its own, traced by pid.</summary>
    Process,

    /// <summary>A dedicated thread inside the silo.</summary>
    Thread,
}
