using System.Globalization;
using Contention.Grains.Placement;
using Contention.Workloads.Devices;
using Microsoft.Extensions.Options;

namespace Contention.Grains.Node;

/// <summary>
/// A node's own account of itself for <c>contention status</c>: keyed by the node's name and
/// activated on that node (the caller names it in the request context, as <c>run --coordinator</c>
/// does), so what it reads — the node's devices and their slots, its tracer, its host's load — is
/// the node's own.
/// </summary>
[DevicePlacement]
internal sealed class NodeStatusGrain(IOptions<NodeOptions> options, NodeDevices devices, NodeBpf bpf, ILocalSiloDetails silo) : Grain, INodeStatusGrain
{
    /// <inheritdoc />
    public Task<NodeStatus> GetAsync(CancellationToken cancellationToken = default)
    {
        var list = new List<DeviceStatus>();
        foreach (var name in devices.Advertised)
        {
            var id = DeviceId.Parse(name);
            list.Add(id.Kind switch
            {
                DeviceKind.Sim => Sim(name, devices.Sims[id.Index]),
                DeviceKind.Cuda => new DeviceStatus(name, devices.Mps.IsRunning(id.Index) ? GpuSharing.Mps.Word() : GpuSharing.Timeslice.Word(), 0, 0),
                _ => new DeviceStatus(name, "-", 0, 0),
            });
        }

        return Task.FromResult(new NodeStatus(options.Value.Name, silo.SiloAddress.Endpoint.ToString(), list, bpf.Describe, LoadAverage(), Environment.ProcessorCount));
    }

    private static DeviceStatus Sim(string name, Workloads.Sim.SimGpuHost sim)
    {
        var taken = sim.Taken;
        var sharing = taken == 0 ? "-" : sim.Sharing == Workloads.Sim.GpuSharing.Mps ? GpuSharing.Mps.Word() : GpuSharing.Timeslice.Word();
        return new DeviceStatus(name, sharing, sim.Slots, taken);
    }

    // The host's 1-minute load average (/proc/loadavg's first field); -1 where it cannot be read.
    private static double LoadAverage()
    {
        try
        {
            var first = File.ReadAllText("/proc/loadavg").Split(' ', 2)[0];
            return double.TryParse(first, NumberStyles.Float, CultureInfo.InvariantCulture, out var load) ? load : -1;
        }
        catch (IOException)
        {
            return -1;
        }
        catch (UnauthorizedAccessException)
        {
            return -1;
        }
    }
}
