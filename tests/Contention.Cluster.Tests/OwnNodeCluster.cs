using System.Text.Json;
using Contention.Grains.Hosting;
using Contention.Grains.Node;
using Orleans.TestingHost;
using Prometheus;

namespace Contention.Cluster.Tests;

/// <summary>
/// A test cluster of one node of its own, for tests that break part of their node (its eBPF
/// helper, a modelled GPU's engine, a worker) and so cannot share <see cref="ClusterFixture"/>'s.
/// </summary>
public abstract class OwnNodeCluster : IAsyncLifetime
{
    private const string NodeKey = "ContentionTestNode";

    /// <summary>The cluster.</summary>
    protected TestCluster Cluster { get; private set; } = null!;

    /// <summary>The node's services (its devices, tracer, eBPF helper).</summary>
    protected IServiceProvider Services => ((InProcessSiloHandle)Cluster.Primary!).SiloHost.Services;

    /// <summary>The node's options.</summary>
    protected abstract NodeOptions Node { get; }

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        var builder = new TestClusterBuilder { Options = { InitialSilosCount = 1 } };
        // The silo is configured by type: its options travel in the cluster's configuration.
        builder.Properties[NodeKey] = JsonSerializer.Serialize(Node);
        builder.AddSiloBuilderConfigurator<Configurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    /// <inheritdoc />
    public async Task DisposeAsync() => await Cluster.DisposeAsync();

    private sealed class Configurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder) =>
            siloBuilder.AddContentionNode(JsonSerializer.Deserialize<NodeOptions>(siloBuilder.Configuration[NodeKey]!)!, new CollectorRegistry());
    }
}
