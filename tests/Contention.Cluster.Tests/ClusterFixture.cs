using Contention.Grains.Hosting;
using Contention.Grains.Node;
using Orleans.TestingHost;
using Prometheus;

namespace Contention.Cluster.Tests;

/// <summary>One in-process Orleans test cluster shared by every test in the collection; tests use fresh grain keys.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public TestCluster Cluster { get; private set; } = null!;

    public IGrainFactory Grains => Cluster.GrainFactory;

    /// <summary>The silo's services (its node tracer, devices).</summary>
    public IServiceProvider Services => ((InProcessSiloHandle)Cluster.Primary!).SiloHost.Services;

    public async Task InitializeAsync()
    {
        var builder = new TestClusterBuilder { Options = { InitialSilosCount = 1 } };
        builder.AddSiloBuilderConfigurator<NodeConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();

    private sealed class NodeConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder) =>
            siloBuilder.AddContentionNode(new NodeOptions { Name = "test-node", SimDevices = 1, DetectCuda = false, TracerIntervalMs = 200 }, new CollectorRegistry());
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterTests : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
