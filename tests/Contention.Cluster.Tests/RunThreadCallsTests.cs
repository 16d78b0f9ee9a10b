using System.Globalization;
using Contention.Client.Commands;
using Contention.Client.Mixes;
using Spectre.Console;

namespace Contention.Cluster.Tests;

/// <summary><c>contention run --thread-calls</c>: each worker thread's system calls, per tenant and phase.</summary>
[Trait("Category", "Bpf")]
public class RunThreadCallsTests
{
    [BpfFact]
    public async Task Run_ThreadCalls_EachThreadsCallsPerPhaseAddUpToTheTenantsAndNameTheirThreads()
    {
        // A block-synchronised service on the modelled GPU: its tenant thread and its driver
        // event thread (sim-EvtHandlr) make the CUDA driver's calls of a blocking wait.
        const string Text = """
            name: thread-calls
            description: a service whose threads' calls are counted
            warmup: 1s
            duration: 2s
            tenants:
              - name: svc
                kind: inference
                device: sim
                sync: block
                model: mlp
                batch: 1
                rate: 300
            """;
        var mix = MixParser.Parse(Text, "thread-calls.yaml");
        var directory = Path.Combine(Path.GetTempPath(), $"contention-thread-calls-{Guid.NewGuid():N}");
        var output = new StringWriter();

        var code = await RunCommand.ExecuteAsync(new RunOptions(mix, directory, null, 0, 1, spec => spec, "") { ThreadCalls = true, SimProfile = "h200" }, Console(output), CancellationToken.None);

        // Completed; 4 where the verdict calls the run invalid (a busy 2-core machine's late
        // samples or saturated CPU), which does not touch what is counted.
        Assert.True(code is 0 or 4, $"exit {code}: {output}");
        var lines = File.ReadAllLines(Path.Combine(directory, "thread_syscalls.csv"));
        Assert.Equal("tenant,phase,tid,thread,category,syscall,count,seconds,timed_calls", lines[0]);
        var rows = lines[1..].Select(l => l.Split(',')).Select(f => (Tenant: f[0], Phase: f[1], Tid: int.Parse(f[2], CultureInfo.InvariantCulture), Thread: f[3], Category: f[4], Syscall: f[5], Count: long.Parse(f[6], CultureInfo.InvariantCulture))).ToList();
        Assert.All(rows, r => Assert.Equal("svc", r.Tenant));
        Assert.Equal(["measure", "warmup"], rows.Select(r => r.Phase).Distinct().Order(StringComparer.Ordinal));
        var measured = rows.Where(r => r.Phase == "measure").ToList();
        var completed = TenantsCsv(directory, "completed");
        long Calls(string thread, string call) => measured.Where(r => r.Thread == thread && r.Syscall == call).Sum(r => r.Count);

        // The driver's calls on the driver's threads: the tenant thread writes to its event thread
        // once a wait and sleeps on a futex; the event thread reads that write and wakes it.
        var writes = Calls("tenant svc", "write");
        Assert.InRange(writes, completed * 0.8, completed * 1.5);
        Assert.InRange(Calls("tenant svc", "futex"), writes / 4, (writes * 2) + 2);
        Assert.True(Calls("tenant svc", "read") < completed / 10, $"the tenant thread read {Calls("tenant svc", "read")} times");
        Assert.InRange(Calls("sim-EvtHandlr", "read"), (writes * 0.9) - 2, writes + 2);
        // A wake a sleep: a wait woken ahead of work that proved later sleeps once more without
        // writing again (at most once: the second wake comes when it is to return).
        Assert.InRange(Calls("sim-EvtHandlr", "futex"), (writes * 0.9) - 2, (writes * 2) + 2);
        Assert.InRange(Calls("sim-EvtHandlr", "epoll_wait"), Calls("sim-EvtHandlr", "read"), (writes * 3) + 2);
        // The threads' calls add up to the tenant's in each category, but for the calls in flight
        // at the phase's two boundaries (at most one a thread at each).
        var threads = measured.Select(r => r.Tid).Distinct().Count();
        foreach (var (category, column) in new[] { ("sync-wait", "calls_sync_wait"), ("file-io", "calls_file_io") })
        {
            var perThread = measured.Where(r => r.Category == category).Sum(r => r.Count);
            var tenant = TenantsCsv(directory, column);
            Assert.True(Math.Abs(perThread - tenant) <= 2 * threads, $"{category}: {perThread} over the threads, {tenant} for the tenant, {threads} threads");
        }

        Assert.Contains("thread_syscalls.csv", output.ToString(), StringComparison.Ordinal);
        var summary = await File.ReadAllTextAsync(Path.Combine(directory, "summary.md"));
        Assert.Contains("## System calls by worker thread", summary, StringComparison.Ordinal);
        Assert.Contains("| svc | tenant svc |", summary, StringComparison.Ordinal);
        Directory.Delete(directory, true);
    }

    // A column of the tenant's measured row in tenants.csv.
    private static double TenantsCsv(string directory, string column)
    {
        var lines = File.ReadAllLines(Path.Combine(directory, "tenants.csv"));
        var header = lines[0].Split(',');
        var row = lines[1..].Select(l => l.Split(',')).Single(f => f[Array.IndexOf(header, "phase")] == "measure");
        return double.Parse(row[Array.IndexOf(header, column)], CultureInfo.InvariantCulture);
    }

    private static IAnsiConsole Console(StringWriter output) =>
        AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Interactive = InteractionSupport.No, Ansi = AnsiSupport.No });
}
