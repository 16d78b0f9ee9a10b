using System.Globalization;
using Contention.Workloads.Devices;
using Contention.Workloads.Sim;
using DeviceSharing = Contention.Workloads.Sim.GpuSharing;

namespace Contention.Grains.Node;

/// <summary>
/// The devices of this node: always <c>cpu</c>; <c>cuda:N</c> for each GPU ILGPU finds; <c>sim:N</c>
/// for each modelled GPU configured, whose GPU threads live here for the node's lifetime.
/// </summary>
public sealed class NodeDevices : IDisposable
{
    private readonly SimGpuHost[] sims;

    /// <summary>Discovers CUDA devices and starts the modelled GPUs.</summary>
    public NodeDevices(NodeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        CudaCount = options.DetectCuda ? CudaDevice.CountDevices() : 0;
        StaleFilesRemoved = SimGpuHost.RemoveStale() + NodeArbiters.RemoveStale();
        Mps = new MpsDaemons(options.MpsControl, options.MpsDirectory);
        var profile = DeviceProfile.Load(options.SimProfile);
        sims = new SimGpuHost[options.SimDevices];
        Func<IReadOnlyList<string>, IReadOnlyDictionary<string, string>, System.Diagnostics.Process>? engine = null;
        if (sims.Length > 0 && options.SimEngineProcess)
        {
            // Each modelled GPU's engine in a process of its own (this program's sim-gpu), which
            // allocates nothing: a garbage collection of this busy process cannot stall it. It
            // starts as workers do: in a session of its own (signals to the node's process group
            // are the node's to handle) and ended by the kernel if the node dies.
            var self = WorkerCommand.Resolve(options.WorkerPath);
            engine = (arguments, environment) =>
            {
                var start = self.StartInfo(arguments);
                foreach (var (name, value) in environment)
                {
                    start.Environment[name] = value;
                }

                return Contention.Tracer.Processes.ChildStart.StartAsync(start, NodeBpf.WorkerOptions).GetAwaiter().GetResult();
            };
        }
        else if (sims.Length > 0)
        {
            // The engines' threads stop whenever the garbage collector blocks this process: avoid
            // blocking gen2 collections while they run (SimGpuHost.LateNs counts what is left).
            System.Runtime.GCSettings.LatencyMode = System.Runtime.GCLatencyMode.SustainedLowLatency;
        }

        for (var i = 0; i < sims.Length; i++)
        {
            sims[i] = new SimGpuHost(i, options.SimSlots, profile, TimeSpan.FromMicroseconds(options.SimPollMicroseconds), engine, Environment.ProcessorCount >= options.SimSpinMinCores);
        }

        var names = new List<string> { "cpu" };
        names.AddRange(Enumerable.Range(0, CudaCount).Select(i => $"cuda:{i.ToString(CultureInfo.InvariantCulture)}"));
        names.AddRange(Enumerable.Range(0, sims.Length).Select(i => $"sim:{i.ToString(CultureInfo.InvariantCulture)}"));
        Advertised = names;
    }

    /// <summary>Files of modelled GPUs and arbiters of killed nodes that this node deleted at its start.</summary>
    public int StaleFilesRemoved { get; }

    /// <summary>CUDA devices found.</summary>
    public int CudaCount { get; }

    /// <summary>Every device name this node offers.</summary>
    public IReadOnlyList<string> Advertised { get; }

    /// <summary>The private MPS daemons of this node's real GPUs.</summary>
    public MpsDaemons Mps { get; }

    /// <summary>The arbiters of this node's GPUs (real and modelled) whose tenants ask for one.</summary>
    public NodeArbiters Arbiters { get; } = new();

    /// <summary>The modelled GPUs.</summary>
    public IReadOnlyList<SimGpuHost> Sims => sims;

    /// <summary>The concrete device for a requirement (<c>sim</c> → <c>sim:0</c>).</summary>
    /// <exception cref="InvalidOperationException">This node has no such device.</exception>
    public DeviceId Resolve(string required)
    {
        var match = Advertised.FirstOrDefault(d => Contention.Grains.DeviceRequirement.Satisfies(d, required))
            ?? throw new InvalidOperationException($"this node has no device '{required}'; it offers {string.Join(", ", Advertised)}");
        return DeviceId.Parse(match);
    }

    /// <summary>
    /// The device for a tenant's requirement, with a modelled-GPU slot reserved when it is one:
    /// <c>sim</c> takes the first modelled GPU with a free slot (tenants pack onto sim:0 until it is
    /// full, as one GPU's contention is what most mixes study), <c>sim:N</c> that one.
    /// </summary>
    /// <exception cref="InvalidOperationException">This node has no such device, or no free slot on it.</exception>
    public (DeviceId Device, SimChannelInfo? Lease) Reserve(string required) => Reserve(required, DeviceSharing.Timeslice, SimContext.Default);

    /// <summary>
    /// As <see cref="Reserve(string)"/>, for a tenant that shares its GPU as <paramref name="sharing"/>
    /// asks, with <paramref name="context"/>'s priority and share: <c>sim</c> skips modelled GPUs
    /// whose tenants share them otherwise.
    /// </summary>
    /// <exception cref="InvalidOperationException">This node has no such device, no free slot on it, or cannot share it so.</exception>
    public (DeviceId Device, SimChannelInfo? Lease) Reserve(string required, DeviceSharing sharing, SimContext context)
    {
        ArgumentNullException.ThrowIfNull(required);
        var device = Resolve(required);
        if (device.Kind != DeviceKind.Sim)
        {
            return (device, null);
        }

        if (required.Contains(':', StringComparison.Ordinal))
        {
            return (device, sims[device.Index].Acquire(sharing, context));
        }

        var reasons = new List<string>();
        foreach (var sim in sims)
        {
            if (sim.TryAcquire(sharing, context, out var why) is { } lease)
            {
                return (new DeviceId(DeviceKind.Sim, sim.Index), lease);
            }

            reasons.Add(why);
        }

        throw new InvalidOperationException(sims.Any(s => s.SharedOtherwise(sharing))
            ? $"no modelled GPU of this node can take the tenant: {string.Join("; ", reasons)}"
            : $"every modelled GPU of this node is full ({sims.Length} x {sims[0].Slots} tenants); start the node with more --sim-devices or --sim-slots, or run fewer tenants");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var sim in sims)
        {
            sim.Dispose();
        }

        Arbiters.Dispose();
        Mps.Dispose();
    }
}
