using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace Contention.Grains.Hosting;

/// <summary>
/// Logs this node's view of the cluster whenever it changes: which nodes are up with the
/// devices they advertise (once their metadata has reached this node, which is when it can
/// place tenants on them), and which left. Operators read it to know when a cluster is ready.
/// </summary>
internal sealed partial class ClusterView(IClusterMembershipService membership, ISiloMetadataCache metadata, ILogger<ClusterView> logger) : BackgroundService
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(1);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var known = new SortedDictionary<string, string>(StringComparer.Ordinal);
        using var timer = new PeriodicTimer(Period);
        try
        {
            do
            {
                var now = new SortedDictionary<string, string>(StringComparer.Ordinal);
                foreach (var member in membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active))
                {
                    var data = metadata.GetSiloMetadata(member.SiloAddress).Metadata;
                    if (data.TryGetValue(DeviceRequirement.NodeKey, out var name) && data.TryGetValue(DeviceRequirement.MetadataKey, out var devices))
                    {
                        now[name] = devices;
                    }
                }

                foreach (var gone in known.Keys.Except(now.Keys).ToList())
                {
                    LogLeft(logger, gone);
                }

                if (!now.SequenceEqual(known))
                {
                    var nodes = string.Join("; ", now.Select(n => $"{n.Key} ({n.Value})"));
                    LogView(logger, now.Count, nodes);

                    known = now;
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "cluster: {Count} nodes with devices known: {Nodes}")]
    private static partial void LogView(ILogger logger, int count, string nodes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "cluster: node {Node} left")]
    private static partial void LogLeft(ILogger logger, string node);
}
