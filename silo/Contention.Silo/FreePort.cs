using System.Net;
using System.Net.Sockets;

namespace Contention.Silo;

/// <summary>Finds unused loopback TCP ports, so an embedded silo never collides with a running one.</summary>
public static class FreePort
{
    /// <summary>A port free at the time of the call.</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
