using Contention.Grains;
using Contention.Grains.Node;
using Contention.Silo;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Contention.Integration.Tests;

/// <summary>An embedded silo serving /metrics (its own registry), running one experiment, for Prometheus to scrape.</summary>
internal sealed class MetricsSilo : IAsyncDisposable
{
    private readonly WebApplication host;

    private MetricsSilo(WebApplication host, int metricsPort, string experiment)
    {
        this.host = host;
        MetricsPort = metricsPort;
        Experiment = experiment;
    }

    public int MetricsPort { get; }

    public string Experiment { get; }

    public IGrainFactory Grains => host.Services.GetRequiredService<IGrainFactory>();

    /// <summary>Starts a node named <paramref name="node"/> and an experiment of <paramref name="tenants"/> (given the experiment id) that runs for 5 minutes.</summary>
    public static async Task<MetricsSilo> StartAsync(string node, string prefix, Func<string, TenantSpec[]> tenants)
    {
        // A port free when asked for may be taken (another process's outgoing connection) before the
        // silo binds it: such a start is retried on fresh ports, a few times.
        for (var attempt = 1; ; attempt++)
        {
            var settings = new SiloSettings
            {
                SiloPort = FreePort.Next(),
                GatewayPort = FreePort.Next(),
                MetricsPort = FreePort.Next(),
                Node = new NodeOptions { Name = node, DetectCuda = false, TracerIntervalMs = 250 },
            };
            var host = ContentionSilo.Build(settings, LogLevel.Warning, new CollectorRegistry(), embedded: true);
            try
            {
                await host.StartAsync();
            }
            catch (IOException error) when (attempt < 3 && error.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
            {
                await host.DisposeAsync();
                continue;
            }

            return await StartExperimentAsync(host, settings, prefix, tenants);
        }
    }

    private static async Task<MetricsSilo> StartExperimentAsync(WebApplication host, SiloSettings settings, string prefix, Func<string, TenantSpec[]> tenants)
    {
        var experiment = $"{prefix}-{Guid.NewGuid():N}"[..13];
        var silo = new MetricsSilo(host, settings.MetricsPort, experiment);
        await silo.Run.StartAsync(new ExperimentPlan(prefix, tenants(experiment), 0, 300));
        return silo;
    }

    public IExperimentGrain Run => Grains.GetGrain<IExperimentGrain>(Experiment);

    public async ValueTask DisposeAsync()
    {
        await Run.StopAsync("test done");
        await host.DisposeAsync();
    }
}
