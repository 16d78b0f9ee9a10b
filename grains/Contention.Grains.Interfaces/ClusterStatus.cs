namespace Contention.Grains;

/// <summary>One device of a node as <c>contention status</c> shows it.</summary>
/// <param name="Device">Its name (cpu, cuda:N, sim:N).</param>
/// <param name="Sharing">How its tenants share it now (timeslice, mps), or "-" where that does not apply (the cpu, a GPU without tenants).</param>
/// <param name="Slots">Tenants it holds at most; 0 where there is no fixed number (the cpu, a real GPU).</param>
/// <param name="Taken">Slots taken now (modelled GPUs); for a real GPU, tenants behind its arbiter.</param>
[GenerateSerializer, Immutable, Alias("contention.DeviceStatus")]
public sealed record DeviceStatus(
    [property: Id(0)] string Device,
    [property: Id(1)] string Sharing,
    [property: Id(2)] int Slots,
    [property: Id(3)] int Taken);

/// <summary>One node of the cluster as <c>contention status</c> shows it (asked of the node itself).</summary>
/// <param name="Name">Its name (<c>contention silo --name</c>).</param>
/// <param name="Address">Its silo endpoint (host:port).</param>
/// <param name="Devices">Its devices.</param>
/// <param name="Ebpf">Its eBPF tracer, in a few words (mode, off, unavailable and why).</param>
/// <param name="Load">Its host's load: the 1-minute load average (runnable threads; -1 where unknown).</param>
/// <param name="Cores">Its host's CPUs.</param>
[GenerateSerializer, Immutable, Alias("contention.NodeStatus")]
public sealed record NodeStatus(
    [property: Id(0)] string Name,
    [property: Id(1)] string Address,
    [property: Id(2)] IReadOnlyList<DeviceStatus> Devices,
    [property: Id(3)] string Ebpf,
    [property: Id(4)] double Load,
    [property: Id(5)] int Cores);

/// <summary>One experiment the cluster knows as <c>contention status</c> shows it.</summary>
/// <param name="Experiment">Its id.</param>
/// <param name="Mix">Its mix's name.</param>
/// <param name="Progress">Its progress as its grain answered; null when it did not answer in time.</param>
[GenerateSerializer, Immutable, Alias("contention.ExperimentSummary")]
public sealed record ExperimentSummary(
    [property: Id(0)] string Experiment,
    [property: Id(1)] string Mix,
    [property: Id(2)] ExperimentProgress? Progress);

/// <summary>What <c>contention status</c> shows: the nodes that answered, those that did not, and the experiments.</summary>
/// <param name="Nodes">Nodes that answered, by name.</param>
/// <param name="Unanswered">Nodes in the membership that did not answer in time (name or address, and why).</param>
/// <param name="Experiments">Experiments registered and not yet forgotten, oldest first.</param>
/// <param name="AskedUtc">When it was put together.</param>
[GenerateSerializer, Immutable, Alias("contention.ClusterStatus")]
public sealed record ClusterStatus(
    [property: Id(0)] IReadOnlyList<NodeStatus> Nodes,
    [property: Id(1)] IReadOnlyList<string> Unanswered,
    [property: Id(2)] IReadOnlyList<ExperimentSummary> Experiments,
    [property: Id(3)] DateTimeOffset AskedUtc);

/// <summary>A node's own account of itself (keyed by node name; activated on that node).</summary>
[Alias("contention.INodeStatusGrain")]
public interface INodeStatusGrain : IGrainWithStringKey
{
    /// <summary>The node's devices, tracer and load now.</summary>
    [Alias("Get")]
    Task<NodeStatus> GetAsync(CancellationToken cancellationToken = default);
}

/// <summary>
/// The cluster's registry of experiments and its status (one, keyed <see cref="Key"/>): experiments
/// register as they start and as they change state; <c>contention status</c> asks it for the nodes
/// (each asked itself) and the experiments (each asked for its progress).
/// </summary>
[Alias("contention.IClusterStatusGrain")]
public interface IClusterStatusGrain : IGrainWithStringKey
{
    /// <summary>The one registry's key.</summary>
    const string Key = "cluster";

    /// <summary>An experiment started, or changed state (again: idempotent).</summary>
    [Alias("Register"), Orleans.Concurrency.AlwaysInterleave]
    Task RegisterAsync(string experiment, string mix, CancellationToken cancellationToken = default);

    /// <summary>Whether an experiment of this id has registered (and is not yet forgotten).</summary>
    [Alias("Knows"), Orleans.Concurrency.AlwaysInterleave]
    Task<bool> KnowsAsync(string experiment, CancellationToken cancellationToken = default);

    /// <summary>The nodes and experiments, each asked for at most <paramref name="wait"/>.</summary>
    [Alias("Get")]
    Task<ClusterStatus> GetAsync(TimeSpan wait, CancellationToken cancellationToken = default);
}
