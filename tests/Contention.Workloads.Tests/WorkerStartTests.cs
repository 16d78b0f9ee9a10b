using System.Text.Json;
using Contention.Workloads.Devices;
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

    [Theory]
    [InlineData(0.001, true, 0.001)]
    [InlineData(1.0, true, 1.0)]
    [InlineData(0.0, false, DeviceOptions.DefaultKernelTimingBudget)]
    public void StartLine_GpuTiming_ReachesTheDeviceThroughTheWorkerProtocol(double budget, bool timed, double deviceBudget)
    {
        var start = new WorkerStart { Tenant = "svc", Device = "cuda:0", KernelTimingBudget = budget, Workload = new WorkloadSpec { Kind = WorkloadKind.Inference, Model = "mlp" } };

        var read = JsonSerializer.Deserialize(JsonSerializer.Serialize(start, WorkerJson.Default.WorkerStart), WorkerJson.Default.WorkerStart)!;
        var options = WorkerSession.OptionsOf(read);

        Assert.Equal((budget, timed, deviceBudget), (read.KernelTimingBudget, options.TimeKernels, options.KernelTimingBudget));
    }
}

/// <summary>A worker's reports carry the garbage collections that paused it.</summary>
public class WorkerSessionGcTests
{
    [Fact]
    public void TakeInterval_CollectionsBetweenReports_AreCountedOnceWithTheirPause()
    {
        using var session = new WorkerSession(new WorkerStart { Tenant = "t", Device = "cpu", CpuThreads = 1, Workload = new WorkloadSpec { Kind = WorkloadKind.Inference, Model = "mlp", BatchSize = 1 } }, threadOnly: true);
        _ = session.TakeInterval();

        GC.Collect();
        GC.Collect();
        var interval = session.TakeInterval();

        Assert.True(interval.Gcs >= 2, $"{interval.Gcs} collections reported after two");
        Assert.True(interval.GcPauseNs > 0, "the collections paused nothing");
        var next = session.TakeInterval();
        Assert.True(next.Gcs < interval.Gcs, "the same collections were reported again");
    }

    [Fact]
    public void ReportLine_Collections_SurviveTheWorkerProtocol()
    {
        var line = WorkerJson.Line(new WorkerMessage { Type = "report", Completed = 3, Gcs = 2, GcPauseNs = 1_500_000 });
        var read = JsonSerializer.Deserialize(line, WorkerJson.Default.WorkerMessage)!;

        Assert.Equal((2, 1_500_000L), (read.Gcs, read.GcPauseNs));
    }

    [Fact]
    public void ReportLine_KernelSamplingAndArbiterCorrection_SurviveTheWorkerProtocol()
    {
        var sampling = new KernelSampling(Kernels: 800, TimedBatches: 2, TimedKernels: 16, TimedNs: 800_000);

        var line = WorkerJson.Line(new WorkerMessage { Type = "report", Completed = 100, KernelNs = 17_000_000, Sampling = sampling, ArbiterCorrection = 1.75 });
        var read = JsonSerializer.Deserialize(line, WorkerJson.Default.WorkerMessage)!;

        Assert.Equal((sampling, 1.75), (read.Sampling, read.ArbiterCorrection));
        Assert.DoesNotContain("estimateNs", line, StringComparison.Ordinal);
        Assert.Null(JsonSerializer.Deserialize(WorkerJson.Line(new WorkerMessage { Type = "report" }), WorkerJson.Default.WorkerMessage)!.Sampling);
    }
}
