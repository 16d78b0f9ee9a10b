using Contention.Client.Results;
using Contention.Grains;
using Contention.Workloads.Metrics;

namespace Contention.Client.Tests;

public class ResultsFilesTests
{
    [Fact]
    public void Row_ATenantThatCompletedNothingInTheWindow_HasNoLatencies()
    {
        // Virtual time encodes its (empty) histogram: a trainer starved for a whole window by a
        // busy service behind the arbiter's slicing made `contention simulate` throw here.
        var spec = new TenantSpec { Experiment = "e", Name = "t", Kind = TenantKind.Training, Device = "sim", SyncMode = SyncMode.Block };
        var aggregate = new TenantAggregate { Tenant = "t", Node = "n", Kind = TenantKind.Training, Device = "sim:0", Phase = MeasurementPhase.Measure, Seconds = 2, Completed = 0, Latency = Histograms.Encode(Histograms.Create()) };

        var directory = Directory.CreateTempSubdirectory("contention-results-").FullName;
        var row = RowBuilder.Row("e", spec, aggregate, null);

        Assert.Equal((0.0, 0.0, 0.0, 0.0, 0.0), (row.ThroughputPerSecond, row.P50Ms, row.P99Ms, row.MaxMs, row.MeanMs));
        ResultsFiles.Write(directory, Document(row));
        Assert.Equal(0, ResultsFiles.Read(directory).Tenants[0].Completed);
        Directory.Delete(directory, true);
    }

    [Fact]
    public void WriteRead_Document_RoundTripsAndWritesAllThreeFiles()
    {
        var directory = Directory.CreateTempSubdirectory("contention-results-").FullName;
        var histogram = Histograms.Create();
        for (var i = 1; i <= 1000; i++)
        {
            histogram.RecordValue(i * 1000L);
        }

        var spec = new TenantSpec { Experiment = "e", Name = "t", Kind = TenantKind.Inference, Device = "sim", SyncMode = SyncMode.Block };
        var aggregate = new TenantAggregate { Tenant = "t", Node = "n", Kind = TenantKind.Inference, Device = "sim:0", Phase = MeasurementPhase.Measure, Seconds = 10, Completed = 1000, Latency = Histograms.Encode(histogram), Os = new OsCounters(7, 0, 0, 0, 0, 0) };
        var row = RowBuilder.Row("e", spec, aggregate, new TenantStatus("t", TenantState.Stopped, "n", "sim:0", "d", 1, 0, null));
        var document = Document(row);

        ResultsFiles.Write(directory, document);
        var read = ResultsFiles.Read(directory);

        Assert.Equal(100, row.ThroughputPerSecond);
        Assert.Equal(0.5, row.P50Ms, 2);
        Assert.Equal(0.99, row.P99Ms, 2);
        Assert.Equal(1.0, row.MaxMs, 2);
        Assert.Equivalent(document.Tenants, read.Tenants, strict: true);
        var csv = File.ReadAllLines(Path.Combine(directory, ResultsFiles.Csv));
        Assert.StartsWith("experiment,tenant,node,kind,device,sync,sharing,gpu_share_pct,arbiter,phase,seconds,completed,throughput_per_s,offered_per_s,p50_ms", csv[0], StringComparison.Ordinal);
        Assert.Equal(2, csv.Length);
        Assert.StartsWith("e,t,n,inference,sim:0,block,timeslice,100,off,measure,", csv[1], StringComparison.Ordinal);
        var json = File.ReadAllText(Path.Combine(directory, ResultsFiles.Json));
        Assert.Contains("\"kind\": \"inference\"", json, StringComparison.Ordinal);
        Assert.Contains("\"sync\": \"block\"", json, StringComparison.Ordinal);
        Assert.Contains("\"phase\": \"measure\"", json, StringComparison.Ordinal);
        Assert.Contains("| t | inference | sim:0 | block | timeslice | 100 |", File.ReadAllText(Path.Combine(directory, ResultsFiles.Summary)), StringComparison.Ordinal);
        Directory.Delete(directory, true);
    }

    [Theory]
    [InlineData("\"Inference\"", "\"BLOCK\"", true)]
    [InlineData("\"inference\"", "\"block\"", true)]
    [InlineData("1", "\"block\"", false)]
    [InlineData("\"inferences\"", "\"block\"", false)]
    [InlineData("\"inference\"", "2", false)]
    public void Read_VocabularyWords_AnyCaseButNothingElse(string kind, string sync, bool valid)
    {
        var directory = Directory.CreateTempSubdirectory("contention-results-").FullName;
        var row = new TenantRow { Experiment = "e", Tenant = "t", Kind = TenantKind.Inference, Sync = SyncMode.Block, Phase = MeasurementPhase.Measure };
        ResultsFiles.Write(directory, new ResultsDocument
        {
            Tool = new ToolInfo("contention", "1.0.0", "abc"),
            Host = new HostInfo("h", "linux", "6.18", 2, ".NET"),
            Experiment = new ExperimentInfo { Id = "e", Name = "demo", State = "Completed" },
            Mix = new MixInfo("m.yaml", "name: demo", ""),
            Tenants = [row],
        });
        var file = Path.Combine(directory, ResultsFiles.Json);
        File.WriteAllText(file, File.ReadAllText(file).Replace("\"kind\": \"inference\"", $"\"kind\": {kind}", StringComparison.Ordinal).Replace("\"sync\": \"block\"", $"\"sync\": {sync}", StringComparison.Ordinal));

        if (valid)
        {
            Assert.Equal((TenantKind.Inference, SyncMode.Block), (ResultsFiles.Read(directory).Tenants[0].Kind, ResultsFiles.Read(directory).Tenants[0].Sync));
        }
        else
        {
            Assert.Contains("expected one of:", Assert.Throws<System.Text.Json.JsonException>(() => ResultsFiles.Read(directory)).Message, StringComparison.Ordinal);
        }

        Directory.Delete(directory, true);
    }

    [Fact]
    public void Write_TracedTenant_CategoryColumnsSyscallsAndIoctlsFiles()
    {
        var directory = Directory.CreateTempSubdirectory("contention-results-").FullName;
        var kernel = new KernelCounters
        {
            Syscalls = [new SyscallCount("futex", "sync-wait", 40, 2, 0.5, 10), new SyscallCount("ioctl", "gpu-driver", 6, 0, 0.01, 6), new SyscallCount("poll", "sync-wait", 10, 0, 0.25, 10)],
            Ioctls = [new IoctlCount("nvidiactl", "NV_ESC_RM_FREE", 6, 0, 0.01, 6)],
            OffCpuSeconds = 3.5,
            RunQueueLog2 = new long[32],
            RunQueueSeconds = 0.125,
        };
        var spec = new TenantSpec { Experiment = "e", Name = "t", Kind = TenantKind.Training, Device = "cuda", SyncMode = SyncMode.Block };
        var aggregate = new TenantAggregate { Tenant = "t", Node = "n", Kind = TenantKind.Training, Device = "cuda:0", Phase = MeasurementPhase.Measure, Seconds = 10, Kernel = kernel };
        var snapshot = new CollectorSnapshot("e", [aggregate], [], 1, []);
        var (syscalls, ioctls) = RowBuilder.Kernel(snapshot);
        var document = new ResultsDocument
        {
            Tool = new ToolInfo("contention", "1.0.0", "abc"),
            Host = new HostInfo("h", "linux", "6.18", 2, ".NET"),
            Experiment = new ExperimentInfo { Id = "e", Name = "demo", State = "Completed", DurationSeconds = 10 },
            Mix = new MixInfo("m.yaml", "name: demo", ""),
            Tenants = [RowBuilder.Row("e", spec, aggregate, null)],
            Syscalls = syscalls,
            Ioctls = ioctls,
        };

        ResultsFiles.Write(directory, document);

        var row = document.Tenants[0];
        Assert.Equal((true, 56L, 50L, 6L), (row.Traced, row.Syscalls, row.CategoryCalls["sync-wait"], row.CategoryCalls["gpu-driver"]));
        Assert.Equal(0.75, row.CategorySeconds["sync-wait"], 9);
        var csv = File.ReadAllLines(Path.Combine(directory, ResultsFiles.Csv));
        var header = csv[0].Split(',');
        var values = csv[1].Split(',');
        string Column(string name) => values[Array.IndexOf(header, name)];
        Assert.Equal(("true", "56", "26", "50", "6", "3.5"), (Column("ebpf").ToLowerInvariant(), Column("syscalls"), Column("syscalls_timed"), Column("calls_sync_wait"), Column("calls_gpu_driver"), Column("offcpu_s")));
        Assert.Equal(
            ["tenant,phase,category,syscall,count,errors,seconds,timed_calls", "t,measure,sync-wait,futex,40,2,0.5,10", "t,measure,gpu-driver,ioctl,6,0,0.01,6", "t,measure,sync-wait,poll,10,0,0.25,10"],
            File.ReadAllLines(Path.Combine(directory, ResultsFiles.SyscallsCsv)));
        Assert.Equal(["tenant,phase,device,ioctl,count,errors,seconds,timed_calls", "t,measure,nvidiactl,NV_ESC_RM_FREE,6,0,0.01,6"], File.ReadAllLines(Path.Combine(directory, ResultsFiles.IoctlsCsv)));
        var summary = File.ReadAllText(Path.Combine(directory, ResultsFiles.Summary));
        Assert.Contains("| t | 56 | 0.76 | 6 | 50 | 3.5 | 0.125 |", summary, StringComparison.Ordinal);
        // 10 of the 40 futex calls were timed: the seconds are an estimate, and the summary says so.
        Assert.Contains("Seconds in calls of t are estimates", summary, StringComparison.Ordinal);
        Assert.Contains("26 of 56 calls", summary, StringComparison.Ordinal);
        Directory.Delete(directory, true);
    }

    [Fact]
    public void Write_TenantWhoseTracerStopped_RowClaimsNoCallsSyscallsCsvKeepsThemVerdictSaysWhy()
    {
        var directory = Directory.CreateTempSubdirectory("contention-results-").FullName;
        const string Why = "the eBPF helper (pid 42) did not answer 'snapshot' within 30 s and was stopped; tracing goes on with /proc metrics only";
        var kernel = new KernelCounters { Syscalls = [new SyscallCount("futex", "sync-wait", 40, 0, 0.5, 40)], OffCpuSeconds = 3.5, RunQueueLog2 = new long[32] };
        var spec = new TenantSpec { Experiment = "e", Name = "t", Kind = TenantKind.Training, Device = "sim", SyncMode = SyncMode.Block };
        var aggregate = new TenantAggregate { Tenant = "t", Node = "n", Kind = TenantKind.Training, Device = "sim:0", Phase = MeasurementPhase.Measure, Seconds = 10, Kernel = kernel, KernelLost = Why };
        var snapshot = new CollectorSnapshot("e", [aggregate], [], 1, []);
        var (syscalls, _) = RowBuilder.Kernel(snapshot);
        var row = RowBuilder.Row("e", spec, aggregate, null);
        var document = new ResultsDocument
        {
            Tool = new ToolInfo("contention", "1.0.0", "abc"),
            Host = new HostInfo("h", "linux", "6.18", 2, ".NET"),
            Experiment = new ExperimentInfo { Id = "e", Name = "demo", State = "Completed", DurationSeconds = 10 },
            Mix = new MixInfo("m.yaml", "name: demo", ""),
            Tenants = [row],
            Syscalls = syscalls,
        };
        document = document with { Validity = Validity.Judge(document) };

        ResultsFiles.Write(directory, document);

        // The window's counts end where the helper stopped: the row claims none of them.
        Assert.Equal((false, 0L, 0.0, 0L, Why), (row.Traced, row.Syscalls, row.OffCpuSeconds, row.CategoryCalls.GetValueOrDefault("sync-wait"), row.EbpfLost));
        var csv = File.ReadAllLines(Path.Combine(directory, ResultsFiles.Csv));
        Assert.Contains("ebpf_lost", csv[0].Split(','));
        Assert.Contains(Why, csv[1], StringComparison.Ordinal);
        Assert.Equal(["tenant,phase,category,syscall,count,errors,seconds,timed_calls", "t,measure,sync-wait,futex,40,0,0.5,40"], File.ReadAllLines(Path.Combine(directory, ResultsFiles.SyscallsCsv)));
        Assert.False(document.Validity.Valid);
        Assert.Equal($"node n's eBPF tracer stopped while it followed tenant t ({Why}): its system calls, ioctls, off-CPU and run-queue times were counted only up to then, so the window has none (syscalls.csv keeps what was counted)", Assert.Single(document.Validity.Reasons));
        var summary = File.ReadAllText(Path.Combine(directory, ResultsFiles.Summary));
        Assert.DoesNotContain("## System calls by category", summary, StringComparison.Ordinal);
        Assert.Contains("eBPF tracer stopped while it followed tenant t", summary, StringComparison.Ordinal);
        Assert.Equivalent(document.Tenants, ResultsFiles.Read(directory).Tenants, strict: true);
        Directory.Delete(directory, true);
    }

    [Fact]
    public void Read_NoResults_SaysWhatToGive()
    {
        var error = Assert.Throws<FileNotFoundException>(() => ResultsFiles.Read("/nonexistent/dir"));

        Assert.Contains("contention run", error.Message, StringComparison.Ordinal);
    }

    private static ResultsDocument Document(params TenantRow[] rows) => new()
    {
        Tool = new ToolInfo("contention", "1.0.0", "abc"),
        Host = new HostInfo("h", "linux", "6.18", 2, ".NET"),
        Experiment = new ExperimentInfo { Id = "e", Name = "demo", State = "Completed", DurationSeconds = 10 },
        Mix = new MixInfo("m.yaml", "name: demo", ""),
        Tenants = [.. rows],
    };
}
