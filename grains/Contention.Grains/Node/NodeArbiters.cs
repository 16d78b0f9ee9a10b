using System.Globalization;
using System.Text.RegularExpressions;
using Contention.Workloads.Arbiter;
using Contention.Workloads.Devices;
using Contention.Workloads.Sim;

namespace Contention.Grains.Node;

/// <summary>
/// The arbiters of this node's GPUs (issue 13): one shared-memory file per GPU whose tenants ask
/// for one, created with the first such tenant's policy (outstanding bound, slice quantum) and
/// removed when the last leaves. Tenants of one GPU share one arbiter, so they must ask for the
/// same policy.
/// </summary>
public sealed partial class NodeArbiters : IDisposable
{
    /// <summary>Tenants one GPU's arbiter has room for.</summary>
    public const int SlotsPerGpu = 64;

    private readonly Dictionary<DeviceId, Gate> gates = [];
    private readonly Lock sync = new();

    /// <summary>Tenants now holding a place in an arbiter of this node.</summary>
    public int Users
    {
        get
        {
            lock (sync)
            {
                return gates.Values.Sum(g => g.Users);
            }
        }
    }

    /// <summary>
    /// A place for a tenant of <paramref name="device"/> in its arbiter, created with the policy
    /// when it has none: best-effort work let onto the GPU at most <paramref name="outstandingNs"/>,
    /// kernels sliced at <paramref name="quantumNs"/> (0: gating only), held while a
    /// latency-sensitive request is open unless <paramref name="holdWhileOpen"/> is false (spatial).
    /// </summary>
    /// <exception cref="InvalidOperationException">The device is not a GPU, or its arbiter runs another policy.</exception>
    public ArbiterOptions Acquire(DeviceId device, long outstandingNs, long quantumNs, bool sensitive, bool holdWhileOpen = true)
    {
        if (device.Kind == DeviceKind.Cpu)
        {
            throw new InvalidOperationException($"{device} has no GPU arbiter: the arbiter orders launches on a GPU, so give the tenant device cuda or sim, or arbiter: off");
        }

        lock (sync)
        {
            if (gates.TryGetValue(device, out var gate))
            {
                if (gate.OutstandingNs != outstandingNs || gate.QuantumNs != quantumNs || gate.File.HoldsWhileOpen != holdWhileOpen)
                {
                    throw new InvalidOperationException($"{device}'s arbiter runs {Describe(gate.OutstandingNs, gate.QuantumNs, gate.File.HoldsWhileOpen)} for the tenants on it, and this tenant asks for {Describe(outstandingNs, quantumNs, holdWhileOpen)}: tenants of one GPU share its arbiter, so give them one policy");
                }
            }
            else
            {
                var path = Path.Combine(SimGpuHost.ChannelDirectory, string.Create(CultureInfo.InvariantCulture, $"contention-arbiter-{Environment.ProcessId}-{device.Kind.ToString().ToLowerInvariant()}{device.Index}-{Guid.NewGuid():N}"));
                gate = new Gate(ArbiterGate.Create(path, SlotsPerGpu, outstandingNs, quantumNs, holdWhileOpen), outstandingNs, quantumNs);
                gates[device] = gate;
            }

            gate.Users++;
            return new ArbiterOptions(gate.File.Path, sensitive);
        }
    }

    /// <summary>A tenant of <paramref name="device"/> left its arbiter; the last one's leaving removes it (any launch still held goes).</summary>
    public void Release(DeviceId device)
    {
        lock (sync)
        {
            if (!gates.TryGetValue(device, out var gate) || --gate.Users > 0)
            {
                return;
            }

            gates.Remove(device);
            Remove(gate);
        }
    }

    /// <summary>
    /// Deletes the arbiter files of nodes whose process is gone (killed before they could remove
    /// them); returns how many it deleted.
    /// </summary>
    public static int RemoveStale() => SimGpuHost.RemoveStale("contention-arbiter-*", StaleName());

    /// <inheritdoc />
    public void Dispose()
    {
        lock (sync)
        {
            foreach (var gate in gates.Values)
            {
                Remove(gate);
            }

            gates.Clear();
        }
    }

    private static string Describe(long outstandingNs, long quantumNs, bool holdWhileOpen) =>
        string.Create(CultureInfo.InvariantCulture, $"gating with {outstandingNs / 1000.0:0.#} us outstanding") + (quantumNs > 0 ? string.Create(CultureInfo.InvariantCulture, $" and slicing at {quantumNs / 1000.0:0.#} us") : "") + (holdWhileOpen ? "" : ", no hold for open requests (spatial)");

    private static void Remove(Gate gate)
    {
        gate.File.Stop();
        gate.File.Dispose();
        File.Delete(gate.File.Path);
    }

    [GeneratedRegex(@"^contention-arbiter-(\d+)-")]
    private static partial Regex StaleName();

    private sealed class Gate(ArbiterGate file, long outstandingNs, long quantumNs)
    {
        public ArbiterGate File { get; } = file;

        public long OutstandingNs { get; } = outstandingNs;

        public long QuantumNs { get; } = quantumNs;

        public int Users { get; set; }
    }
}
