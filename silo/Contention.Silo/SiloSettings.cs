using System.ComponentModel.DataAnnotations;
using Contention.Grains.Node;

namespace Contention.Silo;

/// <summary>How a Contention silo joins its cluster and serves metrics.</summary>
public sealed class SiloSettings
{
    /// <summary>
    /// <c>localhost</c> (a single-node cluster in this process, the default) or a Redis
    /// connection string prefixed with <c>redis://</c> (membership for several silos).
    /// </summary>
    [Required] public string Cluster { get; set; } = "localhost";

    /// <summary>The Orleans cluster id.</summary>
    [Required] public string ClusterId { get; set; } = "contention";

    /// <summary>The Orleans service id.</summary>
    [Required] public string ServiceId { get; set; } = "contention";

    /// <summary>Silo-to-silo port.</summary>
    [Range(1, 65535)] public int SiloPort { get; set; } = 11111;

    /// <summary>Client gateway port.</summary>
    [Range(1, 65535)] public int GatewayPort { get; set; } = 30000;

    /// <summary>The IP address or host name other silos reach this one at (Redis clusters); loopback by default.</summary>
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    /// <summary>Port of the Prometheus <c>/metrics</c> endpoint; 0 turns it off.</summary>
    [Range(0, 65535)] public int MetricsPort { get; set; } = 9464;

    /// <summary>Address the metrics endpoint binds to: localhost unless set (e.g. 0.0.0.0 in a container).</summary>
    [Required] public string MetricsBind { get; set; } = "127.0.0.1";

    /// <summary>Port of the Orleans Dashboard (silos, grains, calls in a browser); 0 (the default) leaves it off, and its per-call profiling with it.</summary>
    [Range(0, 65535)] public int DashboardPort { get; set; }

    /// <summary>Address the dashboard binds to: localhost unless set (it has no authentication).</summary>
    [Required] public string DashboardBind { get; set; } = "127.0.0.1";

    /// <summary>The node's devices and tracer.</summary>
    public NodeOptions Node { get; set; } = new();

    /// <summary>The advertised address as an IPv4 address, resolving a host name (a container's service name).</summary>
    /// <exception cref="ArgumentException">The name resolves to no IPv4 address.</exception>
    public System.Net.IPAddress ResolveAdvertisedAddress()
    {
        if (System.Net.IPAddress.TryParse(AdvertisedAddress, out var address))
        {
            return address;
        }

        return System.Net.Dns.GetHostAddresses(AdvertisedAddress).FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
            ?? throw new ArgumentException($"--advertise {AdvertisedAddress}: the name has no IPv4 address; give this node's IP address");
    }

    /// <summary>Fails with the option to change when a port this node would listen on is taken.</summary>
    /// <exception cref="ArgumentException">A port is in use (or may not be bound) at its address.</exception>
    /// <param name="host">The address the silo and gateway listen on (the resolved advertised address, or loopback).</param>
    public void CheckPortsFree(System.Net.IPAddress host)
    {
        ArgumentNullException.ThrowIfNull(host);
        Check("--silo-port", host, SiloPort);
        Check("--gateway-port", host, GatewayPort);
        if (MetricsPort > 0)
        {
            var bind = System.Net.IPAddress.TryParse(MetricsBind, out var parsed) ? parsed : throw new ArgumentException($"--metrics-bind: expected an IP address such as 127.0.0.1 or 0.0.0.0, got '{MetricsBind}'");
            Check("--metrics-port", bind, MetricsPort);
        }

        if (DashboardPort > 0)
        {
            var bind = System.Net.IPAddress.TryParse(DashboardBind, out var parsed) ? parsed : throw new ArgumentException($"--dashboard-bind: expected an IP address such as 127.0.0.1 or 0.0.0.0, got '{DashboardBind}'");
            if (DashboardPort == MetricsPort)
            {
                throw new ArgumentException($"--dashboard-port {DashboardPort}: /metrics is served there; give the dashboard a port of its own");
            }

            Check("--dashboard-port", bind, DashboardPort);
        }

        static void Check(string option, System.Net.IPAddress address, int port)
        {
            using var probe = new System.Net.Sockets.Socket(address.AddressFamily, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            try
            {
                probe.Bind(new System.Net.IPEndPoint(address, port));
            }
            catch (System.Net.Sockets.SocketException ex)
            {
                throw new ArgumentException($"{option} {port}: cannot listen on {address}:{port} ({ex.Message}); choose a free port{(option == "--metrics-port" ? ", or 0 to turn /metrics off" : option == "--dashboard-port" ? ", or 0 to leave the dashboard off" : "")}");
            }
        }
    }

    /// <summary>Whether <see cref="Cluster"/> names a Redis membership store.</summary>
    public bool UsesRedis => Cluster.StartsWith("redis://", StringComparison.OrdinalIgnoreCase);

    /// <summary>The Redis connection string without the scheme.</summary>
    public string RedisConnection => UsesRedis ? Cluster["redis://".Length..] : "";
}
