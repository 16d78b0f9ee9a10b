using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Contention.Grains.Node;

/// <summary>The node-wide services a tenant runner needs.</summary>
internal sealed class NodeContext(
    IOptions<NodeOptions> options,
    NodeDevices devices,
    NodeTracer tracer,
    NodeBpf bpf,
    IGrainFactory grains,
    ILoggerFactory loggerFactory,
    TimeProvider time)
{
    private readonly Lazy<WorkerCommand> workerCommand = new(() => WorkerCommand.Resolve(options.Value.WorkerPath));

    public NodeOptions Options => options.Value;

    public NodeDevices Devices => devices;

    public NodeTracer Tracer => tracer;

    public NodeBpf Bpf => bpf;

    public IGrainFactory Grains => grains;

    public ILoggerFactory LoggerFactory => loggerFactory;

    public TimeProvider Time => time;

    public WorkerCommand WorkerCommand => workerCommand.Value;
}
