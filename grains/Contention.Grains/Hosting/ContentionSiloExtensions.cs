using Contention.Grains.Collector;
using Contention.Grains.Node;
using Contention.Grains.Placement;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Prometheus;

namespace Contention.Grains.Hosting;

/// <summary>Makes a silo a Contention node: devices, device placement, node tracer, collector metrics.</summary>
public static class ContentionSiloExtensions
{
    /// <summary>
    /// Adds this node's devices (probing CUDA and starting modelled GPUs now, so they can be
    /// advertised in silo metadata), the tracer and the metrics.
    /// </summary>
    /// <param name="builder">The silo.</param>
    /// <param name="options">The node's options (validated here).</param>
    /// <param name="registry">Where metrics go; the process default when null.</param>
    public static ISiloBuilder AddContentionNode(this ISiloBuilder builder, NodeOptions options, CollectorRegistry? registry = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        var validation = new DataAnnotationValidateOptions<NodeOptions>(Options.DefaultName).Validate(Options.DefaultName, options);
        if (validation.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(NodeOptions), validation.Failures);
        }

        var devices = new NodeDevices(options);
        builder.UseSiloMetadata(new Dictionary<string, string>
        {
            [DeviceRequirement.MetadataKey] = string.Join(",", devices.Advertised),
            [DeviceRequirement.NodeKey] = options.Name,
            [DeviceRequirement.SimSlotsKey] = options.SimSlots.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        builder.AddPlacementDirector<DevicePlacementStrategy, DevicePlacementDirector>();
        builder.AddContentionSimulation();
        builder.Services.AddSingleton(Options.Create(options));
        // A factory, not an instance: the container disposes what factories return (the modelled
        // GPUs' threads, shared-memory files and FIFOs), never a ready-made instance.
        builder.Services.AddSingleton(_ => devices);
        builder.Services.AddSingleton(new ContentionMetrics(registry ?? Metrics.DefaultRegistry, TimeSpan.FromSeconds(options.MetricsRetentionSeconds)));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<NodeBpf>();
        builder.Services.AddSingleton<NodeTracer>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<NodeTracer>());
        builder.Services.AddSingleton<NodeContext>();
        builder.Services.AddHostedService<ClusterView>();
        return builder;
    }

    /// <summary>
    /// Lets a silo host groups of a virtual-time simulation (<see cref="ISimNodeGrain"/>): their
    /// placement, spread over the cluster's silos. Part of every Contention node; alone, a silo
    /// that simulates and runs nothing for real.
    /// </summary>
    public static ISiloBuilder AddContentionSimulation(this ISiloBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddPlacementDirector<SpreadPlacementStrategy, SpreadPlacementDirector>();
        return builder;
    }
}
