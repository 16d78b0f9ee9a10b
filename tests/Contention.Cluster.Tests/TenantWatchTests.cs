using Contention.Grains;
using Contention.Grains.Tenants;

namespace Contention.Cluster.Tests;

/// <summary>What a running tenant's node concludes from one answer of its experiment (<see cref="TenantGrain.Verdict"/>).</summary>
public class TenantWatchTests
{
    [Theory]
    [InlineData(ExperimentState.Measuring, false, false, null)]
    [InlineData(ExperimentState.Starting, true, true, null)]
    [InlineData(ExperimentState.Completed, false, false, "its experiment ended (Completed) without stopping it")]
    [InlineData(ExperimentState.Interrupted, true, false, "its experiment ended (Interrupted) without stopping it")]
    [InlineData(ExperimentState.Pending, true, false, "its experiment was lost with the node that ran it")]
    // Killed before the watch saw it run, then reactivated empty elsewhere: lost all the same
    // (a CI run of NodeLossTests kept its workers for 5 minutes without this).
    [InlineData(ExperimentState.Pending, false, true, "its experiment was lost with the node that ran it")]
    // A tenant started without an experiment (tests): no verdict from one answer.
    [InlineData(ExperimentState.Pending, false, false, null)]
    public void Verdict_OneAnswer_StopsTheTenantOnlyForAnEndedOrLostExperiment(ExperimentState state, bool seenRunning, bool contactLost, string? expected)
    {
        var progress = new ExperimentProgress("e", state, 1, 10, [], null, null, null);

        Assert.Equal(expected, TenantGrain.Verdict(progress, seenRunning, contactLost));
    }
}
