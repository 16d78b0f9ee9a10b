namespace Contention.Integration.Tests;

/// <summary>
/// Tests that start nodes and time how fast a run notices its cluster's death: on a
/// 2-core CI host they run alone, not beside the other integration tests, whose load would stretch
/// failure detection past any patience a test can have.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RunsAlone
{
    /// <summary>The collection's name.</summary>
    public const string Name = "alone";
}
