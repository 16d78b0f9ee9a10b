using Contention.Client.Reports;
using Contention.Client.Results;
using Contention.Grains;

namespace Contention.Client.Tests;

/// <summary>contention report's system calls by worker thread, from runs made with --thread-calls.</summary>
public class ThreadCallsReportTests
{
    [Fact]
    public void Rows_TwoRepetitionsOfAPoint_MeanPerSecondAndPerOperationWithThreadsOfANameTogether()
    {
        // Two repetitions of sync=block: the service's own thread, its driver event thread, and two
        // .NET pool workers (one name). The second repetition has no pool worker calls: they count 0.
        var input = Input(
            Run("p1-r1", "block", 10, 2000,
                Call("svc", 11, "tenant svc", "file-io", "read", 2000),
                Call("svc", 12, "cuda-EvtHandlr", "sync-wait", "poll", 4000),
                Call("svc", 12, "cuda-EvtHandlr", "sync-wait", "futex", 2000),
                Call("svc", 13, ".NET TP Worker", "sync-wait", "futex", 30),
                Call("svc", 14, ".NET TP Worker", "sync-wait", "futex", 10)),
            Run("p1-r2", "block", 10, 1000,
                Call("svc", 21, "tenant svc", "file-io", "read", 1000),
                Call("svc", 22, "cuda-EvtHandlr", "sync-wait", "poll", 2000),
                Call("svc", 22, "cuda-EvtHandlr", "sync-wait", "futex", 1000),
                // The warm-up's calls are not the window's.
                Call("svc", 22, "cuda-EvtHandlr", "sync-wait", "futex", 99999, MeasurementPhase.Warmup)));

        var rows = ThreadCallsReport.Rows(input);

        Assert.All(rows, r => Assert.Equal(("sync=block", 2), (r.Point, r.Runs)));
        var evt = Assert.Single(rows, r => r.Thread == "cuda-EvtHandlr" && r.Category == "sync-wait");
        // (6000 / 10 + 3000 / 10) / 2 a second; (6000 / 2000 + 3000 / 1000) / 2 per request.
        Assert.Equal(450, evt.CallsPerSecond, 9);
        Assert.Equal(3, evt.CallsPerOperation, 9);
        var own = Assert.Single(rows, r => r.Thread == "tenant thread");
        Assert.Equal(1, own.CallsPerOperation, 9);
        var pool = Assert.Single(rows, r => r.Thread == ".NET TP Worker");
        Assert.Equal(2, pool.CallsPerSecond, 9);
        // Most calls a second first.
        Assert.Equal("cuda-EvtHandlr", rows[0].Thread);
    }

    [Fact]
    public void Write_RunsWithThreadCalls_SectionAndCsv()
    {
        var directory = Directory.CreateTempSubdirectory("contention-thread-calls-").FullName;
        var input = Input(Run("p1-r1", "spin", 4, 400, Call("train", 7, "tenant train", "sync-wait", "sched_yield", 2)));

        var (files, _) = ReportWriter.Write(input, directory);

        Assert.Contains(ThreadCallsReport.Csv, files);
        Assert.Equal("point,tenant,thread,category,calls_per_second,calls_per_operation,runs", File.ReadLines(Path.Combine(directory, ThreadCallsReport.Csv)).First());
        var markdown = File.ReadAllText(Path.Combine(directory, ReportWriter.Markdown));
        Assert.Contains("## System calls by worker thread", markdown, StringComparison.Ordinal);
        // 0.5 calls a second and 0.005 per step: under both floors (0.1 an operation, 5 a second), in the CSV only.
        Assert.DoesNotContain("| sync=spin | train |", markdown, StringComparison.Ordinal);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(directory, ThreadCallsReport.Csv)).Length);
        Directory.Delete(directory, true);
    }

    [Fact]
    public void Applies_RunsWithoutThreadCalls_No()
    {
        Assert.False(ThreadCallsReport.Applies(Input(Run("p1-r1", "spin", 4, 400))));
    }

    private static ThreadSyscallRecord Call(string tenant, int tid, string thread, string category, string syscall, long count, MeasurementPhase phase = MeasurementPhase.Measure) =>
        new(tenant, phase, tid, thread, category, syscall, count, 0, count);

    private static ReportRun Run(string id, string sync, double seconds, long completed, params ThreadSyscallRecord[] calls)
    {
        var tenants = calls.Select(c => c.Tenant).DefaultIfEmpty("svc").Distinct().Select(t => new TenantRow { Experiment = id, Tenant = t, Phase = MeasurementPhase.Measure, Seconds = seconds, Completed = completed }).ToList();
        var document = new ResultsDocument
        {
            Tool = new ToolInfo("contention", "1.0.0", "abc"),
            Host = new HostInfo("h", "linux", "6.18", 2, ".NET"),
            Experiment = new ExperimentInfo { Id = id, Name = "threads", State = "Completed" },
            Mix = new MixInfo("m.yaml", "name: threads", ""),
            Tenants = tenants,
            ThreadSyscalls = [.. calls],
        };
        return new ReportRun(id, new Dictionary<string, string> { ["sync"] = sync }, document);
    }

    private static ReportInput Input(params ReportRun[] runs) => new()
    {
        Name = "threads",
        Directory = "results/threads",
        Tool = new ToolInfo("contention", "1.0.0", "abc"),
        Host = new HostInfo("h", "linux", "6.18", 2, ".NET"),
        Axes = ["sync"],
        Runs = runs,
    };
}
