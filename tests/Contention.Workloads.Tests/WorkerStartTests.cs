using System.Text.Json;
using Contention.Workloads.Worker;
using Contention.Workloads.Workloads;

namespace Contention.Workloads.Tests;

/// <summary>The worker's start line carries what the node decided for the tenant.</summary>
public class WorkerStartTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void StartLine_HighPriorityStream_SurvivesTheWorkerProtocol(bool high)
    {
        var start = new WorkerStart { Tenant = "svc", Device = "cuda:0", HighPriorityStream = high, Workload = new WorkloadSpec { Kind = WorkloadKind.Inference, Model = "mlp" } };

        var line = JsonSerializer.Serialize(start, WorkerJson.Default.WorkerStart);
        var read = JsonSerializer.Deserialize(line, WorkerJson.Default.WorkerStart);

        Assert.Equal(high, read!.HighPriorityStream);
        Assert.Equal(high, line.Contains("\"highPriorityStream\":true", StringComparison.Ordinal));
    }
}
