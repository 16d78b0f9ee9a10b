using Contention.Grains.Node;
using Contention.Workloads.Worker;
using Contention.Workloads.Workloads;

namespace Contention.Cluster.Tests;

/// <summary>A tenant worker as a node starts it: a real child process of this program.</summary>
public sealed class WorkerProcessTests
{
    [Fact]
    public async Task StartAsync_TheWorkerRunsWithoutTieredCompilationOrBackgroundGc()
    {
        // Tiered, a worker recompiled its report path on a background thread at the node's
        // sampling ticks; 30 of them on 16 cores started requests woken then 1-14 ms late.
        var start = new WorkerStart { Tenant = "t", Device = "cpu", CpuThreads = 1, Workload = new WorkloadSpec { Kind = WorkloadKind.Inference, Model = "mlp", BatchSize = 1, RatePerSecond = 10 } };
        await using var worker = await WorkerProcess.StartAsync(WorkerCommand.Resolve(null), start, _ => { }, (_, _) => Task.CompletedTask, TimeSpan.FromSeconds(60));

        var environment = (await File.ReadAllTextAsync($"/proc/{worker.Pid}/environ")).Split('\0');

        Assert.Contains("DOTNET_TieredCompilation=0", environment);
        Assert.Contains("DOTNET_gcConcurrent=0", environment);
        await worker.StopAsync(TimeSpan.FromSeconds(30));
    }
}
