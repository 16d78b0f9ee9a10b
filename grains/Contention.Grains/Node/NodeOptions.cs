using System.ComponentModel.DataAnnotations;

namespace Contention.Grains.Node;

/// <summary>A node's devices, tracer and worker settings (configuration section <c>Contention:Node</c>).</summary>
public sealed class NodeOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Contention:Node";

    /// <summary>The node's name in metrics and results; defaults to the host name.</summary>
    [Required] public string Name { get; set; } = Environment.MachineName;

    /// <summary>
    /// The cluster this node joined (<c>redis://HOST:PORT</c>), which the runs it starts for
    /// <c>run --detach</c> join; null for an embedded node (which takes no detached runs).
    /// </summary>
    public string? Cluster { get; set; }

    /// <summary>Where detached runs keep their mix, output and results (one directory per run; kept across restarts).</summary>
    [Required] public string RunsDirectory { get; set; } = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify), "contention", "runs");

    /// <summary>Modelled GPUs this node offers (<c>sim:0</c> … <c>sim:N-1</c>).</summary>
    [Range(0, 64)] public int SimDevices { get; set; } = 1;

    /// <summary>The most tenants one modelled GPU holds.</summary>
    [Range(1, 1024)] public int SimSlots { get; set; } = 32;

    /// <summary>The modelled GPUs' device profile: a shipped name (<c>h100</c>) or a JSON file.</summary>
    [Required] public string SimProfile { get; set; } = "h100";

    /// <summary>
    /// Run each modelled GPU's engine in a process of its own (this program's <c>sim-gpu</c>, which
    /// allocates nothing and so never stops for a garbage collection), not on a thread of the node.
    /// </summary>
    public bool SimEngineProcess { get; set; } = true;

    /// <summary>
    /// On machines with at least this many cores, a modelled GPU's engine polls without sleeping
    /// while tenants are attached (one core busy): a sleeping engine wakes late by the machine's
    /// timer and wake-up latency (on the H200's 16-core host, hundreds of wakes over 0.5 ms late
    /// per minute). 0: always; above the core count: never.
    /// </summary>
    [Range(0, 100_000)] public int SimSpinMinCores { get; set; } = 8;

    /// <summary>How often a modelled GPU looks for launches, microseconds.</summary>
    [Range(5, 10_000)] public int SimPollMicroseconds { get; set; } = 50;

    /// <summary>NVIDIA's MPS control program for <c>sharing: mps</c> on real GPUs; empty to look on PATH and in <c>/usr/local/nvidia/bin</c>.</summary>
    public string? MpsControl { get; set; }

    /// <summary>Where the node's private MPS daemons keep their pipe and log directories (one per GPU, named by the node's pid).</summary>
    [Required] public string MpsDirectory { get; set; } = Path.Combine(Path.GetTempPath(), "contention-mps");

    /// <summary>Look for CUDA devices through ILGPU at start.</summary>
    public bool DetectCuda { get; set; } = true;

    /// <summary>How often the node samples its tenants and reports to the collector, milliseconds.</summary>
    [Range(50, 60_000)] public int TracerIntervalMs { get; set; } = 500;

    /// <summary>
    /// The eBPF tracer: <c>full</c> (system calls with their time — sampled in threads making more
    /// than 100,000 calls a second —, ioctls, scheduling), <c>exact</c> (every call timed),
    /// <c>counts</c> (no system-call time: cheaper for the traced workers) or <c>off</c>. Where
    /// eBPF cannot run the node says so once and goes on with /proc metrics.
    /// </summary>
    public EbpfMode Ebpf { get; set; } = EbpfMode.Full;

    /// <summary>
    /// With the eBPF tracer on, count each worker thread's system calls too (thread_syscalls.csv:
    /// which thread makes which calls; one hash-map lookup more per call, so off unless asked).
    /// </summary>
    public bool EbpfThreadCalls { get; set; }

    /// <summary>
    /// How long the eBPF helper may take to start, or to answer a command or a snapshot, seconds:
    /// one that takes longer is judged hung and killed, and the node goes on with /proc metrics
    /// (the runs it followed say their system-call counts end there). A snapshot of 30 tenants'
    /// threads takes well under a second.
    /// </summary>
    [Range(1, 3600)] public double EbpfAnswerTimeoutSeconds { get; set; } = 30;

    /// <summary>How long an experiment's Prometheus series stay exported once they stop changing, seconds (a node serving many runs keeps only recent ones).</summary>
    [Range(1, 30 * 24 * 3600)] public int MetricsRetentionSeconds { get; set; } = 900;

    /// <summary>
    /// How long a tenant's worker may take to stop when asked, seconds: one that takes longer
    /// (stopped, or stuck) is killed and its tenant fails, the failure recorded (its end went unmeasured).
    /// </summary>
    [Range(1, 3600)] public double WorkerStopTimeoutSeconds { get; set; } = 60;

    /// <summary>The worker executable; empty = this program (<c>contention worker</c>).</summary>
    public string WorkerPath { get; set; } = "";
}
