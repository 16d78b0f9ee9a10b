using System.CommandLine;
using Contention.Grains;
using Contention.Grains.Node;
using Contention.Silo;
using Microsoft.Extensions.Logging;

namespace Contention.Client.Commands;

/// <summary><c>contention silo</c>: runs one node of a cluster until stopped.</summary>
internal static class SiloCommand
{
    public static Command Create()
    {
        var cluster = new Option<string>("--cluster") { Description = "localhost (single node) or redis://HOST:PORT (membership for several nodes)", DefaultValueFactory = _ => "localhost" };
        var name = new Option<string>("--name") { Description = "the node's name in metrics and results", DefaultValueFactory = _ => Environment.MachineName };
        var siloPort = new Option<int>("--silo-port") { Description = "silo-to-silo port", DefaultValueFactory = _ => 11111 }.Within(1, 65535);
        var gatewayPort = new Option<int>("--gateway-port") { Description = "client gateway port", DefaultValueFactory = _ => 30000 }.Within(1, 65535);
        var advertise = new Option<string>("--advertise") { Description = "IP address other nodes reach this one at (Redis clusters); the silo and gateway ports listen on it only", DefaultValueFactory = _ => "127.0.0.1" };
        var metricsPort = new Option<int>("--metrics-port") { Description = "Prometheus /metrics port; 0 turns it off", DefaultValueFactory = _ => 9464 }.Within(0, 65535);
        var metricsBind = new Option<string>("--metrics-bind") { Description = "address /metrics binds to (0.0.0.0 to expose it)", DefaultValueFactory = _ => "127.0.0.1" };
        var dashboardPort = new Option<int>("--dashboard-port") { Description = "serve the Orleans Dashboard (silos, grains, calls) on this port; 0 (default) leaves it off", DefaultValueFactory = _ => 0 }.Within(0, 65535);
        var dashboardBind = new Option<string>("--dashboard-bind") { Description = "address the dashboard binds to (it has no authentication: 0.0.0.0 exposes it to every host that reaches this one)", DefaultValueFactory = _ => "127.0.0.1" };
        var runsDir = new Option<string?>("--runs-dir") { Description = "where runs handed to this node (run --detach) keep their mix, output and results (default ~/.local/share/contention/runs)" };
        var simDevices = new Option<int>("--sim-devices") { Description = "modelled GPUs this node offers (device: sim takes the first with a free slot)", DefaultValueFactory = _ => 1 }.Within(0, 64);
        var simSlots = new Option<int>("--sim-slots") { Description = "tenants each modelled GPU holds", DefaultValueFactory = _ => 32 }.Within(1, 1024);
        var simProfile = OptionChecks.SimProfile("device profile of the modelled GPUs");
        var retention = OptionChecks.MetricsRetention();
        var noCuda = new Option<bool>("--no-cuda") { Description = "do not look for CUDA devices" };
        var ebpf = new Option<string>("--ebpf") { Description = "the node's eBPF tracer: full (system-call time too, sampled in threads making over 100,000 calls/s), exact (every call timed), counts (cheaper: no clock read per call) or off", DefaultValueFactory = _ => "full" };
        ebpf.AcceptOnlyFromAmong([.. Words.All<EbpfMode>()]);
        var threadCalls = OptionChecks.ThreadCalls("the node's eBPF tracer");
        var ebpfTimeout = OptionChecks.EbpfTimeout("the node's eBPF tracer");
        var command = new Command("silo", "run a node (Orleans silo with devices, tracer and /metrics) until Ctrl+C")
        {
            cluster, name, siloPort, gatewayPort, advertise, metricsPort, metricsBind, dashboardPort, dashboardBind, runsDir, retention, simDevices, simSlots, simProfile, noCuda, ebpf, threadCalls, ebpfTimeout,
        };
        command.RefuseThreadCallsUntraced(threadCalls, ebpf);
        command.SetAction(async (parse, cancellation) =>
        {
            var settings = new SiloSettings
            {
                Cluster = parse.GetValue(cluster)!,
                SiloPort = parse.GetValue(siloPort),
                GatewayPort = parse.GetValue(gatewayPort),
                AdvertisedAddress = parse.GetValue(advertise)!,
                MetricsPort = parse.GetValue(metricsPort),
                MetricsBind = parse.GetValue(metricsBind)!,
                DashboardPort = parse.GetValue(dashboardPort),
                DashboardBind = parse.GetValue(dashboardBind)!,
                Node = new NodeOptions
                {
                    Name = parse.GetValue(name)!,
                    SimDevices = parse.GetValue(simDevices),
                    SimSlots = parse.GetValue(simSlots),
                    SimProfile = parse.GetValue(simProfile)!,
                    DetectCuda = !parse.GetValue(noCuda),
                    Ebpf = Words.Parse<EbpfMode>(parse.GetValue(ebpf)),
                    EbpfThreadCalls = parse.GetValue(threadCalls),
                    EbpfAnswerTimeoutSeconds = parse.Seconds(ebpfTimeout),
                    MetricsRetentionSeconds = parse.Seconds(retention),
                },
            };
            if (parse.GetValue(runsDir) is { } runs)
            {
                settings.Node.RunsDirectory = Path.GetFullPath(runs);
            }

            Microsoft.AspNetCore.Builder.WebApplication built;
            try
            {
                built = ContentionSilo.Build(settings, LogLevel.Information, embedded: true);
            }
            catch (ArgumentException ex)
            {
                Spectre.Console.AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {ex.Message}");
                return 2;
            }

            await using var app = built;
            await app.StartAsync(CancellationToken.None);
            try
            {
                await Task.Delay(Timeout.Infinite, cancellation);
            }
            catch (OperationCanceledException)
            {
            }

            await app.StopAsync(CancellationToken.None);
            return 0;
        });
        return command;
    }
}
