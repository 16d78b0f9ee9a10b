using System.Net;
using Contention.Grains.Hosting;
using Orleans.Configuration;
using Prometheus;
using StackExchange.Redis;

namespace Contention.Silo;

/// <summary>Builds a Contention node: an Orleans silo with its devices, tracer and <c>/metrics</c>.</summary>
public static partial class ContentionSilo
{
    /// <summary>Builds the host; call <c>StartAsync</c> on it to join the cluster.</summary>
    /// <param name="settings">Clustering, ports and node options.</param>
    /// <param name="minimumLogLevel">Console log level (Warning for the embedded silo of <c>contention run</c>).</param>
    /// <param name="registry">Metrics registry; the process default when null.</param>
    /// <param name="embedded">The silo runs inside a command that handles Ctrl+C itself.</param>
    /// <param name="logging">Further logging configuration (filters), applied last.</param>
    public static WebApplication Build(SiloSettings settings, LogLevel minimumLogLevel = LogLevel.Information, CollectorRegistry? registry = null, bool embedded = false, Action<ILoggingBuilder>? logging = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var invalid = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
        if (!System.ComponentModel.DataAnnotations.Validator.TryValidateObject(settings, new(settings), invalid, validateAllProperties: true))
        {
            throw new Microsoft.Extensions.Options.OptionsValidationException(nameof(SiloSettings), typeof(SiloSettings), invalid.Select(r => r.ErrorMessage ?? "invalid"));
        }

        // Resolved once (a host name is a DNS lookup): the ports are checked and bound on it.
        var listenOn = settings.UsesRedis ? settings.ResolveAdvertisedAddress() : IPAddress.Loopback;
        settings.CheckPortsFree(listenOn);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        // Logs go to stderr: stdout is for what the command prints (the run's table).
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(minimumLogLevel);
        builder.Logging.AddFilter("Orleans", minimumLogLevel < LogLevel.Warning ? LogLevel.Warning : minimumLogLevel);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("Polly", LogLevel.Warning);
        logging?.Invoke(builder.Logging);
        if (embedded)
        {
            builder.Services.AddSingleton<IHostLifetime, EmbeddedLifetime>();
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            if (settings.MetricsPort > 0)
            {
                kestrel.Listen(IPAddress.Parse(settings.MetricsBind), settings.MetricsPort);
            }

            if (settings.DashboardPort > 0)
            {
                kestrel.Listen(IPAddress.Parse(settings.DashboardBind), settings.DashboardPort);
            }
        });
        if (settings.MetricsPort == 0 && settings.DashboardPort == 0)
        {
            builder.WebHost.UseSetting(WebHostDefaults.ServerUrlsKey, "http://127.0.0.1:0");
        }

        builder.UseOrleans(silo =>
        {
            if (settings.UsesRedis)
            {
                silo.UseRedisClustering(options => options.ConfigurationOptions = ConfigurationOptions.Parse(settings.RedisConnection));
                silo.Configure<ClusterOptions>(options =>
                {
                    options.ClusterId = settings.ClusterId;
                    options.ServiceId = settings.ServiceId;
                });
                // Bound to the advertised address only (loopback by default), not every interface.
                silo.ConfigureEndpoints(listenOn, settings.SiloPort, settings.GatewayPort, listenOnAnyHostAddress: false);
            }
            else
            {
                silo.UseLocalhostClustering(settings.SiloPort, settings.GatewayPort, serviceId: settings.ServiceId, clusterId: settings.ClusterId);
            }

            if (settings.UsesRedis)
            {
                // The cluster a run this node starts for 'run --detach' joins.
                settings.Node.Cluster ??= settings.Cluster;
            }

            silo.AddContentionNode(settings.Node, registry);
            if (settings.DashboardPort > 0)
            {
                // Only where asked for: it profiles every grain call (a filter) and keeps history.
                Orleans.Dashboard.ServiceCollectionExtensions.AddDashboard(silo);
            }

            // The strongly consistent directory: when a node dies, the survivors' activations are
            // recovered into it, so a call to an experiment or tenant on a surviving node reaches
            // that activation instead of a new, empty one (which the default directory can make).
            // Orleans marks it for evaluation (ORLEANSEXP003); the node-loss tests hold it to this.
#pragma warning disable ORLEANSEXP003
            silo.AddDistributedGrainDirectory();
#pragma warning restore ORLEANSEXP003

            // A tenant's start waits for its worker to run (CUDA context, kernel compilation),
            // which can outlast Orleans' default 30 s response timeout on a loaded node.
            silo.Configure<SiloMessagingOptions>(options => options.ResponseTimeout = MessagingTimeout);
        });

        var app = builder.Build();
        if (settings.MetricsPort > 0)
        {
            app.UseHttpMetrics(o => o.ReduceStatusCodeCardinality());
            app.MapMetrics(registry: registry);
        }

        if (settings.DashboardPort > 0)
        {
            Orleans.Dashboard.ServiceCollectionExtensions.MapOrleansDashboard(app).RequireHost($"*:{settings.DashboardPort}");
        }

        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Contention.Silo");
            var metrics = settings.MetricsPort == 0 ? "off" : $"http://{settings.MetricsBind}:{settings.MetricsPort}/metrics";
            if (settings.DashboardPort > 0)
            {
                metrics += $", dashboard http://{settings.DashboardBind}:{settings.DashboardPort}/";
            }

            var devices = string.Join(",", app.Services.GetRequiredService<Contention.Grains.Node.NodeDevices>().Advertised);
            LogStarted(logger, settings.Node.Name, settings.Cluster, settings.SiloPort, settings.GatewayPort, metrics, devices);
            var node = settings.Node;
            LogNodeOptions(logger, node.SimDevices, node.SimProfile, node.SimSlots, node.SimPollMicroseconds, node.TracerIntervalMs, node.DetectCuda, node.WorkerPath.Length == 0 ? "this program" : node.WorkerPath, node.Ebpf);
        });
        return app;
    }

    /// <summary>How long a grain call may take; tenant starts wait for their workers.</summary>
    public static readonly TimeSpan MessagingTimeout = TimeSpan.FromMinutes(3);

    [LoggerMessage(Level = LogLevel.Information, Message = "node options: {SimDevices} sim device(s) of profile {Profile}, {Slots} slots each, poll {PollUs} us; tracer interval {TracerMs} ms; CUDA detection {DetectCuda}; worker {Worker}; eBPF {Ebpf}")]
    private static partial void LogNodeOptions(ILogger logger, int simDevices, string profile, int slots, int pollUs, int tracerMs, bool detectCuda, string worker, Contention.Grains.EbpfMode ebpf);

    [LoggerMessage(Level = LogLevel.Information, Message = "node {Node} up: cluster {Cluster}, silo port {SiloPort}, gateway {GatewayPort}, metrics {Metrics}, devices {Devices}")]
    private static partial void LogStarted(ILogger logger, string node, string cluster, int siloPort, int gatewayPort, string metrics, string devices);
}
