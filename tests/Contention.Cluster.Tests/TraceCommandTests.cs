using System.Globalization;
using System.Text.Json;
using Contention.Client.Commands;
using Spectre.Console;

namespace Contention.Cluster.Tests;

[Trait("Category", "Bpf")]
public class TraceCommandTests
{
    [BpfFact]
    public async Task Execute_ShellThatExits7_PassesStatusAndWritesEveryFile()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"contention-trace-{Guid.NewGuid():N}");
        var output = new StringWriter();

        var code = await TraceCommand.ExecuteAsync(new TraceOptions(["sh", "-c", "cat /proc/self/stat > /dev/null; exit 7"], Output: directory), Console(output), TextWriter.Null);

        Assert.Equal(7, code);
        foreach (var file in new[] { "trace.json", "syscalls.csv", "ioctls.csv", "sched.csv", "summary.md" })
        {
            Assert.True(File.Exists(Path.Combine(directory, file)), $"{file} missing");
        }

        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(directory, "trace.json")));
        Assert.Equal(7, json.RootElement.GetProperty("exitCode").GetInt32());
        Assert.Equal("full", json.RootElement.GetProperty("tracer").GetString());
        var all = json.RootElement.GetProperty("phases")[0];
        Assert.Equal("all", all.GetProperty("phase").GetString());
        var syscalls = all.GetProperty("summary").GetProperty("syscalls").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!, s => s.GetProperty("count").GetInt64());
        // The shell and the cat it forks, each from its execve: traced from the first instruction.
        Assert.Equal(2, syscalls["execve"]);
        Assert.Equal(2, syscalls["exit_group"]);
        Assert.Contains("exit 7", output.ToString(), StringComparison.Ordinal);
        Directory.Delete(directory, true);
    }

    [BpfFact]
    public async Task Execute_ThreadCalls_EachThreadsCallsInThreadSyscallsCsvAndTheSplitAddsUp()
    {
        // Two shells: the parent's wait and the child's reads of /proc happen on different threads.
        var directory = Path.Combine(Path.GetTempPath(), $"contention-trace-{Guid.NewGuid():N}");
        var output = new StringWriter();

        var code = await TraceCommand.ExecuteAsync(new TraceOptions(["sh", "-c", "sleep 1; sh -c 'cat /proc/self/stat /proc/self/status > /dev/null'"], SplitAtSeconds: 0.3, Output: directory, ThreadCalls: true), Console(output), TextWriter.Null);

        Assert.Equal(0, code);
        var rows = File.ReadAllLines(Path.Combine(directory, "thread_syscalls.csv"));
        Assert.Equal("phase,tgid,tid,thread,syscall,category,count,seconds,timed_calls", rows[0]);
        var calls = rows[1..].Select(r => r.Split(',')).Select(f => (Phase: f[0], Tid: int.Parse(f[2], CultureInfo.InvariantCulture), Thread: f[3], Syscall: f[4], Count: long.Parse(f[6], CultureInfo.InvariantCulture))).ToList();
        // Every process of the tree runs one thread, each from its execve: the two shells, the sleep
        // and the cat, each with its own calls.
        var all = calls.Where(c => c.Phase == "all").ToList();
        var execs = all.Where(c => c.Syscall == "execve").ToList();
        Assert.Equal(4, execs.Sum(c => c.Count));
        Assert.Equal(4, execs.Select(c => c.Tid).Distinct().Count());
        Assert.Contains(all, c => c.Thread == "sleep" && c.Syscall == "clock_nanosleep");
        var cat = Assert.Single(all, c => c.Thread == "cat" && c.Syscall == "execve");
        Assert.Contains(all, c => c.Tid == cat.Tid && c.Syscall == "read");
        // Per thread and call, start-up and steady add up to the whole.
        foreach (var c in all)
        {
            var parts = calls.Where(p => p.Phase != "all" && p.Tid == c.Tid && p.Syscall == c.Syscall).Sum(p => p.Count);
            Assert.True(parts == c.Count, $"{c.Thread} {c.Tid} {c.Syscall}: {parts} in the phases, {c.Count} in all");
        }

        Assert.Contains("thread_syscalls.csv", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("| thread | tid | system call |", await File.ReadAllTextAsync(Path.Combine(directory, "summary.md")), StringComparison.Ordinal);
        Directory.Delete(directory, true);
    }

    [BpfFact]
    public async Task Execute_SystemCallStorm_SaysItsSecondsAreEstimates()
    {
        var storm = Contention.Tracer.Bpf.BpfTracer.FindInSourceTree("getppid-storm")
            ?? throw new FileNotFoundException("tracer/native/build/getppid-storm is not built: run 'make -C tracer/native'");
        var directory = Path.Combine(Path.GetTempPath(), $"contention-trace-{Guid.NewGuid():N}");
        var output = new StringWriter();

        var code = await TraceCommand.ExecuteAsync(new TraceOptions(["sh", "-c", $"echo go | {storm} 1000000 > /dev/null"], Output: directory), Console(output), TextWriter.Null);

        Assert.Equal(0, code);
        var getppid = File.ReadAllLines(Path.Combine(directory, "syscalls.csv")).Single(l => l.StartsWith("all,getppid,", StringComparison.Ordinal)).Split(',');
        // phase,syscall,category,count,errors,seconds,timed_calls: every call counted (and the
        // shell's own, for $PPID), a sample timed.
        Assert.InRange(long.Parse(getppid[3], CultureInfo.InvariantCulture), 1_000_000, 1_000_002);
        Assert.InRange(long.Parse(getppid[6], CultureInfo.InvariantCulture), 1, 200_000);
        Assert.Contains("seconds are estimated where timed calls < calls", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("seconds are estimates", await File.ReadAllTextAsync(Path.Combine(directory, "summary.md")), StringComparison.Ordinal);
        Directory.Delete(directory, true);
    }

    [BpfFact]
    public async Task Execute_SplitAtWhileRunning_StartupAndSteadyAddUpToAll()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"contention-trace-{Guid.NewGuid():N}");
        var stdout = new StringWriter();

        var code = await TraceCommand.ExecuteAsync(new TraceOptions(["sh", "-c", "sleep 2; cat /proc/self/stat > /dev/null"], SplitAtSeconds: 0.2, Output: directory, Json: true), Console(new StringWriter()), stdout);

        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(stdout.ToString());
        var phases = json.RootElement.GetProperty("phases").EnumerateArray().ToDictionary(p => p.GetProperty("phase").GetString()!, p => p.GetProperty("summary").GetProperty("categories").EnumerateArray().Sum(c => c.GetProperty("count").GetInt64()));
        Assert.Equal(["all", "startup", "steady"], phases.Keys);
        Assert.Equal(phases["all"], phases["startup"] + phases["steady"]);
        Assert.True(phases["steady"] > 0, "the cat after the split made no calls");
        Directory.Delete(directory, true);
    }

    [Fact]
    public async Task Execute_JsonOfACommandThatPrints_JsonAloneOnStdoutAndTheOutputOnStderr()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"contention-trace-{Guid.NewGuid():N}");
        var stdout = new StringWriter();
        using var stderr = new MemoryStream();

        var code = await TraceCommand.ExecuteAsync(new TraceOptions(["sh", "-c", "echo hello; echo world; exit 4"], Output: directory, Json: true), Console(new StringWriter()), stdout, stderr);

        Assert.Equal(4, code);
        // What `contention trace --json -- CMD | jq` reads: one JSON document and nothing else.
        using var json = JsonDocument.Parse(stdout.ToString());
        Assert.Equal(4, json.RootElement.GetProperty("exitCode").GetInt32());
        Assert.Equal("hello\nworld\n", System.Text.Encoding.UTF8.GetString(stderr.ToArray()));
        Directory.Delete(directory, true);
    }

    [Fact]
    public async Task Execute_NoHelper_RunsUntracedAndStillPassesStatus()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"contention-trace-{Guid.NewGuid():N}");

        var code = await TraceCommand.ExecuteAsync(new TraceOptions(["sh", "-c", "exit 3"], Output: directory, HelperPath: "/nonexistent/contention-ctrace"), Console(new StringWriter()), TextWriter.Null);

        Assert.Equal(3, code);
        var text = await File.ReadAllTextAsync(Path.Combine(directory, "trace.json"));
        Assert.Contains("unavailable", text, StringComparison.Ordinal);
        Directory.Delete(directory, true);
    }

    private static IAnsiConsole Console(StringWriter output) =>
        AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Interactive = InteractionSupport.No, Ansi = AnsiSupport.No });
}
