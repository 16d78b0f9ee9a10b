namespace Contention.Workloads.Tests;

/// <summary>Tests that change what the whole process sees (an environment variable): run after the others, one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RunsAlone
{
    /// <summary>The collection's name.</summary>
    public const string Name = "runs alone";
}
