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

    [Fact]
    public async Task FlushAsync_WhileAndAfterTheWorkerIsDisposed_ReturnsInsteadOfThrowing()
    {
        // A node's sampling tick flushed a worker the end of its run was disposing: the disposed
        // process's InvalidOperationException ended the node's tracer, and every later run of the
        // sweep went unsampled (the H200, 2026-12-04).
        var start = new WorkerStart { Tenant = "t", Device = "cpu", CpuThreads = 1, Workload = new WorkloadSpec { Kind = WorkloadKind.Inference, Model = "mlp", BatchSize = 1, RatePerSecond = 10 } };
        var worker = await WorkerProcess.StartAsync(WorkerCommand.Resolve(null), start, _ => { }, (_, _) => Task.CompletedTask, TimeSpan.FromSeconds(60));
        await worker.StopAsync(TimeSpan.FromSeconds(30));
        using var disposing = new CancellationTokenSource();
        var flushes = 0;
        var flushing = Task.Run(async () =>
        {
            while (!disposing.IsCancellationRequested)
            {
                await worker.FlushAsync(CancellationToken.None);
                flushes++;
            }
        });

        await Task.Delay(50);
        await worker.DisposeAsync();
        disposing.Cancel();
        await flushing;
        await worker.FlushAsync(CancellationToken.None);

        Assert.True(flushes > 0);
        Assert.True(worker.Completion.IsCompletedSuccessfully);
    }
}
