using BenchmarkDotNet.Attributes;
using Contention.Workloads.Devices;
using Contention.Workloads.Sim;
using Contention.Workloads.Workloads;

namespace Contention.Benchmarks;

/// <summary>
/// The virtual-time engine's speed (issue 12: at least 1 M events per second per core): a
/// synthetic cluster of <see cref="Gpus"/> H200s, each simulated for <see cref="VirtualMs"/> ms of
/// virtual time on one core, one after the other. Colocated: each GPU with the co-location of a
/// placed trace GPU, by turns a trainer alone, a trainer beside an MLP service, two services and a
/// service alone. The baseline: a trainer alone on every GPU (long kernels, few tenant events).
/// The events of one operation are counted in the setup (the simulation is deterministic) and
/// printed, so the time per operation gives events per second.
/// </summary>
[MemoryDiagnoser]
[JsonExporterAttribute.Full]
[MarkdownExporterAttribute.GitHub]
public class VirtualGpuBenchmarks
{
    private const int Gpus = 1024;
    private const long VirtualMs = 50;
    private readonly DeviceProfile profile = DeviceProfile.Load("h200");
    private VirtualTenant[][] colocated = [];
    private VirtualTenant[][] alone = [];

    [Params(GpuSharing.Timeslice, GpuSharing.Mps)]
    public GpuSharing Sharing { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var trainer = new VirtualTenant("train", new WorkloadSpec { Kind = WorkloadKind.Training, Model = "resnet50", BatchSize = 32 }, SyncMode.Block, SimContext.Default);
        VirtualTenant Service(int seed) => new($"svc{seed}", new WorkloadSpec { Kind = WorkloadKind.Inference, Model = "mlp", BatchSize = 1, RatePerSecond = 200, Seed = seed }, SyncMode.Block, new SimContext(10, 0.5));
        colocated = [.. Enumerable.Range(0, Gpus).Select(i => (i % 4) switch
        {
            0 => new[] { trainer },
            1 => [trainer, Service(i)],
            2 => [Service(i), Service(i + 1)],
            _ => [Service(i)],
        })];
        alone = [.. Enumerable.Range(0, Gpus).Select(_ => new[] { trainer })];
        Console.WriteLine($"// {Sharing}: {Run(alone)} events per operation alone, {Run(colocated)} colocated");
    }

    [Benchmark(Baseline = true, Description = "a trainer alone on each GPU")]
    public long Alone() => Run(alone);

    [Benchmark(Description = "trace-like co-locations")]
    public long Colocated() => Run(colocated);

    private long Run(VirtualTenant[][] gpus)
    {
        long events = 0;
        foreach (var tenants in gpus)
        {
            var gpu = new VirtualGpu(profile, Sharing, tenants);
            gpu.RunUntil(VirtualMs * 1_000_000);
            events += gpu.Events;
        }

        return events;
    }
}
