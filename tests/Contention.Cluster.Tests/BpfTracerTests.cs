using System.Diagnostics;
using System.Globalization;
using Contention.Tracer.Bpf;

namespace Contention.Cluster.Tests;

[Trait("Category", "Bpf")]
public class BpfTracerTests
{
    // What tracer/native/test/syscalls.c makes after "go", threads and forked child included.
    private static readonly Dictionary<string, (long Calls, long Errors)> Known = new()
    {
        ["getppid"] = (210, 0),
        ["openat"] = (30, 30),
        ["nanosleep"] = (20, 0),
        ["clone3"] = (4, 0),
        ["clone"] = (1, 0),
        ["ioctl"] = (12, 12),
    };

    [BpfFact]
    public async Task Snapshot_ProbeWithThreadsAndChild_CountsEveryCallExactly()
    {
        var (snapshot, ours) = await TraceProbeAsync();

        foreach (var (name, (calls, errors)) in Known)
        {
            Assert.True(ours.ContainsKey(name), $"{name} not counted");
            Assert.Equal((calls, errors), (ours[name].Count, ours[name].Errors));
        }

        // Each thread and the child end with exit / exit_group, counted though they never return.
        Assert.Equal(4, ours["exit"].Count);
        Assert.Equal(1, ours["exit_group"].Count);
        Assert.Equal(20, ours["nanosleep"].Histogram.Sum());
        Assert.True(ours["nanosleep"].TotalNs >= 20 * 1_000_000, "20 sleeps of 1 ms took less than 20 ms");
        // Threads that wait are not sampled: every call that returned was timed.
        Assert.All(Known.Keys, name => Assert.Equal(ours[name].Count, ours[name].Timed));
        Assert.Equal((0L, 0L), (ours["exit"].Timed, ours["exit_group"].Timed));
        Assert.True(snapshot.Dropped.None, $"lost: {snapshot.Dropped}");
    }

    [BpfFact]
    public async Task Snapshot_ThreadCalls_EachThreadsCallsCountedExactly()
    {
        var (snapshot, ours) = await TraceProbeAsync(threadCalls: true);
        var root = ours["getppid"].Root;
        var calls = snapshot.ThreadCalls.Where(c => c.Root == root).ToList();

        // getppid: 100 on the main thread, 25 on each of 4 workers, 10 in the forked child.
        var getppid = calls.Where(c => c.Name == "getppid").ToList();
        Assert.Equal(100, Assert.Single(getppid, c => c.Tid == root).Count);
        var workers = getppid.Where(c => c.Tgid == root && c.Tid != root).ToList();
        Assert.Equal(4, workers.Count);
        Assert.All(workers, w => Assert.Equal(25, w.Count));
        var child = Assert.Single(getppid, c => c.Tgid != root);
        Assert.Equal(10, child.Count);
        // The main thread's 20 sleeps of 1 ms, every one timed; each worker's exit as it entered.
        var sleeps = Assert.Single(calls, c => c.Name == "nanosleep");
        Assert.Equal((root, 20L, 20L), (sleeps.Tid, sleeps.Count, sleeps.Timed));
        Assert.True(sleeps.TotalNs >= 20 * 1_000_000, $"20 sleeps of 1 ms took {sleeps.TotalNs} ns");
        Assert.Equal(4, calls.Count(c => c.Name == "exit" && c.Count == 1));
        // Per thread the calls add up to the root's (every call that returned; exits as they entered).
        foreach (var name in Known.Keys)
        {
            Assert.Equal(ours[name].Count, calls.Where(c => c.Name == name).Sum(c => c.Count));
        }

        Assert.True(snapshot.Dropped.None, $"lost: {snapshot.Dropped}");
    }

    [BpfFact]
    public async Task Snapshot_AnotherRootAddedWhileACallWaits_TheWaitIsCountedWhole()
    {
        // A sleep of 1.5 s under way when the helper takes on another root (a node starting a
        // second tenant): its return, its time and its thread's time off the CPU still count.
        await using var tracer = await BpfTracer.StartAsync(threadCalls: true);
        using var shell = Process.Start(new ProcessStartInfo("sh") { ArgumentList = { "-c", "read go; exec sleep 1.5" }, RedirectStandardInput = true, UseShellExecute = false })!;
        await tracer.AddAsync(shell.Id);
        await shell.StandardInput.WriteLineAsync("go");
        await shell.StandardInput.FlushAsync();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Sleeps(await tracer.SnapshotAsync()) is not { Count: 1 })
        {
            Assert.True(DateTime.UtcNow < deadline, "sleep never entered clock_nanosleep");
            await Task.Delay(20);
        }

        await tracer.AddAsync(4_000_000);
        await shell.WaitForExitAsync();
        var snapshot = await tracer.SnapshotAsync();

        var sleep = Sleeps(snapshot)!;
        Assert.Equal((1L, 1L), (sleep.Count, sleep.Timed));
        Assert.True(sleep.TotalNs >= 1_000_000_000, $"the 1.5 s sleep took {sleep.TotalNs} ns");
        var call = Assert.Single(snapshot.ThreadCalls, c => c.Root == shell.Id && c.Name == sleep.Name);
        Assert.Equal((1L, 1L), (call.Count, call.Timed));
        var thread = Assert.Single(snapshot.Threads, t => t.Root == shell.Id);
        Assert.True(thread.OffCpuNs >= 1_000_000_000, $"the sleeping thread was off its CPU {thread.OffCpuNs} ns");

        SyscallCounters? Sleeps(BpfSnapshot s) => s.Syscalls.SingleOrDefault(c => c.Root == shell.Id && c.Name is "clock_nanosleep" or "nanosleep");
    }

    [BpfFact]
    public async Task Snapshot_HalfTheRootsRetiringBesideLiveOnes_ForgetsThemInCallsLinearInTheMaps()
    {
        // Twelve probes' threads and calls counted, then every other root removed: the next
        // snapshot prints the retiring roots a last time and deletes their entries. Deleting while
        // walking a hash map restarts the walk at each deletion, quadratic where live entries lie
        // between retiring ones (30 roots retiring beside 30 live ones took one snapshot over two
        // minutes with --thread-calls). A second helper traces the first: its bpf(2) calls in that
        // snapshot and the next must stay within a few per map entry (about 4 here; the walk that
        // restarted made 60,882 for 564 entries).
        await using var tracer = await BpfTracer.StartAsync(threadCalls: true);
        var probes = Enumerable.Range(0, 12).Select(_ => Start(Probe())).ToList();
        try
        {
            foreach (var probe in probes)
            {
                Assert.Equal("ready", await probe.StandardOutput.ReadLineAsync());
                await tracer.AddAsync(probe.Id);
                await probe.StandardInput.WriteLineAsync("go");
                await probe.StandardInput.FlushAsync();
                Assert.Equal("done", await probe.StandardOutput.ReadLineAsync());
            }

            var before = await tracer.SnapshotAsync();
            var entries = before.ThreadCalls.Count + before.Threads.Count + before.Ioctls.Count;
            Assert.True(before.ThreadCalls.Count >= 12 * 20, $"{before.ThreadCalls.Count} thread calls counted");
            foreach (var probe in probes.Where((_, i) => i % 2 == 0))
            {
                await tracer.RemoveAsync(probe.Id);
            }

            await using var watcher = await BpfTracer.StartAsync();
            await watcher.AddAsync(tracer.ProcessId);
            var watched = await watcher.SnapshotAsync();
            var last = await tracer.SnapshotAsync();
            var after = await tracer.SnapshotAsync();
            var cost = BpfCalls(await watcher.SnapshotAsync()) - BpfCalls(watched);

            // The retiring roots printed a last time, then forgotten; the live ones kept.
            var retiring = probes.Where((_, i) => i % 2 == 0).Select(p => p.Id).ToHashSet();
            Assert.Equal(before.ThreadCalls.Count, last.ThreadCalls.Count);
            Assert.DoesNotContain(after.ThreadCalls, c => retiring.Contains(c.Root));
            Assert.DoesNotContain(after.Threads, t => retiring.Contains(t.Root));
            Assert.Equal(before.ThreadCalls.Count(c => !retiring.Contains(c.Root)), after.ThreadCalls.Count);
            Assert.True(cost <= 8 * entries + 200, $"{cost} bpf calls for two snapshots of {entries} entries, half of them retiring");
        }
        finally
        {
            foreach (var probe in probes)
            {
                await probe.StandardInput.WriteLineAsync("exit");
                await probe.StandardInput.FlushAsync();
                await probe.WaitForExitAsync();
                probe.Dispose();
            }
        }

        long BpfCalls(BpfSnapshot s) => s.Syscalls.Where(c => c.Root == tracer.ProcessId && c.Name == "bpf").Sum(c => c.Count);
    }

    [BpfFact]
    public async Task Snapshot_WithoutThreadCalls_NoneCounted()
    {
        var (snapshot, _) = await TraceProbeAsync();

        Assert.Empty(snapshot.ThreadCalls);
    }

    [BpfFact]
    public async Task Snapshot_ProbeIoctlsOnDevNull_CountedByDeviceAndRequest()
    {
        var (snapshot, _) = await TraceProbeAsync();

        var tcgets = Assert.Single(snapshot.Ioctls, i => i.Root == snapshot.Syscalls[0].Root);
        // /dev/null is char 1:3; TCGETS fails there with ENOTTY.
        Assert.Equal((1, 3, 0x5401u, 12L, 12L), (tcgets.Major, tcgets.Minor, tcgets.Request, tcgets.Count, tcgets.Errors));
        Assert.Null(tcgets.Sub);
    }

    [BpfFact]
    public async Task Snapshot_ProbeThreadsAndChild_EachHasSchedulingCounters()
    {
        var (snapshot, ours) = await TraceProbeAsync();
        var root = ours["getppid"].Root;
        var threads = snapshot.Threads.Where(t => t.Root == root).ToList();

        // The main thread, 4 workers and the forked child's thread.
        Assert.Equal(6, threads.Count);
        Assert.Equal(2, threads.Select(t => t.Tgid).Distinct().Count());
        var main = Assert.Single(threads, t => t.Tid == root);
        // 20 sleeps of 1 ms: at least 20 waits and 20 ms off the CPU.
        Assert.True(main.Voluntary >= 20, $"main thread: {main.Voluntary} voluntary switches");
        Assert.True(main.OffCpuNs >= 20_000_000, $"main thread: {main.OffCpuNs} ns off CPU");
        Assert.Equal("syscalls-probe", main.Name);
        var runq = Assert.Single(snapshot.RunQueues, r => r.Root == root);
        Assert.Equal(runq.Count, runq.Histogram.Sum());
        Assert.True(runq.Count >= 20, $"{runq.Count} wake-ups waited for a CPU");
    }

    [BpfFact]
    public async Task Snapshot_SameProbe_MatchesStraceCounts()
    {
        var (_, ours) = await TraceProbeAsync();

        var strace = await StraceCountsAsync(Probe(), [], "go\nexit\n");

        // These calls happen only after "go", so strace's whole-run counts must equal ours.
        foreach (var name in Known.Keys)
        {
            Assert.Equal(strace[name], (ours[name].Count, ours[name].Errors));
        }
    }

    [BpfFact]
    public async Task Snapshot_GzipOnFixedInput_EverySyscallCountEqualsStrace()
    {
        var input = Path.Combine(Path.GetTempPath(), $"contention-gzip-{Guid.NewGuid():N}.txt");
        await File.WriteAllLinesAsync(input, Enumerable.Range(0, 200_000).Select(i => string.Create(CultureInfo.InvariantCulture, $"line {i} {i * 7919 % 104729}")));
        try
        {
            await using var tracer = await BpfTracer.StartAsync();
            var info = new ProcessStartInfo("gzip") { RedirectStandardOutput = true, UseShellExecute = false };
            info.ArgumentList.Add("-c");
            info.ArgumentList.Add("-9");
            info.ArgumentList.Add(input);
            using var gzip = await TracedStart.StartAsync(tracer, info);
            await gzip.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
            await gzip.WaitForExitAsync();
            var ours = (await tracer.SnapshotAsync()).Syscalls.Where(s => s.Root == gzip.Id).ToDictionary(s => s.Name, s => (s.Count, s.Errors));

            var strace = await StraceCountsAsync(Contention.Tracer.Processes.ChildStart.Resolve("gzip"), "-c", "-9", input);

            Assert.True(ours["read"].Count > 10, "gzip read its input in more than 10 calls");
            // strace -c counts a call when it returns, so it leaves out exit_group; we count it.
            Assert.Equal((1L, 0L), ours["exit_group"]);
            Assert.Equal(strace.OrderBy(p => p.Key), ours.Where(p => p.Key != "exit_group").OrderBy(p => p.Key));
        }
        finally
        {
            File.Delete(input);
        }
    }

    [BpfFact]
    public async Task TracedStart_HelperFollowsSixtyFourTrees_RefusesAndLeavesStartInfoAsGiven()
    {
        await using var tracer = await BpfTracer.StartAsync();
        // Roots need not be running: 64 made-up tgids fill every slot.
        for (var tgid = 4_000_000; tgid < 4_000_064; tgid++)
        {
            await tracer.AddAsync(tgid);
        }

        var info = new ProcessStartInfo("true") { UseShellExecute = false };
        info.ArgumentList.Add("x");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => TracedStart.StartAsync(tracer, info));

        Assert.Contains("No space left", error.Message, StringComparison.Ordinal);
        Assert.Equal("true", info.FileName);
        Assert.Equal(["x"], info.ArgumentList);
        using var untraced = Process.Start(info)!;
        await untraced.WaitForExitAsync();
        Assert.Equal(0, untraced.ExitCode);
    }

    [Fact]
    public void Parse_SnapshotLines_ReadsEveryRecord()
    {
        var snapshot = BpfSnapshotParser.Parse([
            "snapshot 3 123456",
            "sys 42 0 110 210 0 100081 210 8:189,9:20,10:1",
            "sys 42 1 257 30 30 40613 2 -",
            "mark 42 6 1",
            "runq 42 28 491497 11:1,12:27",
            "ioctl 42 0 195:255 0xc020462a 0x2a 32 0x20800110 8 0 68000 8",
            "ioctl 42 1 1:3 0x5401 0x0 0 - 12 12 4627 3",
            "thread 42 42 43 23 1 21444749 240300 23 .NET TP Worker",
            "tcall 42 42 43 110 25 9000 25",
            "dropped 1 2 3 4 5 6",
            "end 3"]);

        Assert.Equal((3L, 123456L), (snapshot.Sequence, snapshot.KtimeNs));
        Assert.Equal(new BpfDrops(1, 2, 3, 4, 5, 6), snapshot.Dropped);
        Assert.Equal(21, snapshot.Dropped.Total);
        Assert.Equal(new ThreadCallCounters(42, 42, 43, 110, 25, 9000, 25), Assert.Single(snapshot.ThreadCalls));
        Assert.Equal("getppid", snapshot.ThreadCalls[0].Name);
        var getppid = snapshot.Syscalls[0];
        Assert.Equal(("getppid", 42, 210L, 100081L), (getppid.Name, getppid.Root, getppid.Count, getppid.TotalNs));
        Assert.Equal(189, getppid.Histogram[8]);
        Assert.Equal((30L, 2L, false, true), (snapshot.Syscalls[1].Errors, snapshot.Syscalls[1].Timed, getppid.Held, snapshot.Syscalls[1].Held));
        Assert.Equal(new MarkCounters(42, 6, true), Assert.Single(snapshot.Marks));
        Assert.Equal((28L, 491497L, 27L), (snapshot.RunQueues[0].Count, snapshot.RunQueues[0].TotalNs, snapshot.RunQueues[0].Histogram[12]));
        Assert.Equal((195, 255, 0xc020462au, 0x2au, 32, (uint?)0x20800110u, 8L), (snapshot.Ioctls[0].Major, snapshot.Ioctls[0].Minor, snapshot.Ioctls[0].Request, snapshot.Ioctls[0].Escape, snapshot.Ioctls[0].Size, snapshot.Ioctls[0].Sub, snapshot.Ioctls[0].Count));
        Assert.Null(snapshot.Ioctls[1].Sub);
        Assert.Equal((4627L, 3L, false, true), (snapshot.Ioctls[1].TotalNs, snapshot.Ioctls[1].Timed, snapshot.Ioctls[0].Held, snapshot.Ioctls[1].Held));
        Assert.Equal(new ThreadSchedCounters(42, 42, 43, 23, 1, 21444749, 240300, 23, ".NET TP Worker"), snapshot.Threads[0]);
        Assert.Equal("syscall_999", Contention.Tracer.SyscallNames.Of(999));
    }

    [Theory]
    [InlineData("sys 42 0 110 x 0 1 1 -")]
    [InlineData("sys 42 0 110 1 0 1 1 40:1")]
    [InlineData("sys 42 2 110 1 0 1 1 -")]
    [InlineData("sys 42 110 1 0 1 1 -")]
    [InlineData("sys 42 0 110 1 0 1 -")]
    [InlineData("mark 42 1")]
    [InlineData("ioctl 42 0 195 0x1 0x0 0 - 1 0 1 1")]
    [InlineData("ioctl 42 0 1:3 5401 0x0 0 - 1 0 1 1")]
    [InlineData("ioctl 42 0 1:3 0x5401 0x0 0 - 1 0 1")]
    [InlineData("dropped 1 2 3")]
    [InlineData("dropped 1 2 3 4 5")]
    [InlineData("tcall 42 42 43 110 25 9000")]
    [InlineData("tcall 42 42 x 110 25 9000 25")]
    [InlineData("hello")]
    public void Parse_BadLine_SaysWhichLine(string line)
    {
        var error = Assert.Throws<FormatException>(() => BpfSnapshotParser.Parse([line]));

        Assert.Contains(line.Split(' ')[0], error.Message, StringComparison.Ordinal);
    }

    /// <summary>Runs the probe under a fresh helper: traced from "go" to "done"; returns the snapshot and the probe's counters by name.</summary>
    private static async Task<(BpfSnapshot Snapshot, Dictionary<string, SyscallCounters> Counters)> TraceProbeAsync(bool threadCalls = false)
    {
        await using var tracer = await BpfTracer.StartAsync(threadCalls: threadCalls);
        using var probe = Start(Probe());
        Assert.Equal("ready", await probe.StandardOutput.ReadLineAsync());
        await tracer.AddAsync(probe.Id);
        await probe.StandardInput.WriteLineAsync("go");
        await probe.StandardInput.FlushAsync();
        Assert.Equal("done", await probe.StandardOutput.ReadLineAsync());
        var snapshot = await tracer.SnapshotAsync();
        await probe.StandardInput.WriteLineAsync("exit");
        await probe.WaitForExitAsync();
        return (snapshot, snapshot.Syscalls.Where(s => s.Root == probe.Id).ToDictionary(s => s.Name));
    }

    /// <summary>The probe, in tracer/native/build of the source tree (the build copies only the helper beside programs).</summary>
    private static string Probe() =>
        BpfTracer.FindInSourceTree("syscalls-probe")
        ?? throw new FileNotFoundException("tracer/native/build/syscalls-probe is not built: run 'make -C tracer/native'");

    private static Process Start(string path) =>
        Process.Start(new ProcessStartInfo(path) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false })!;

    private static Task<Dictionary<string, (long Calls, long Errors)>> StraceCountsAsync(string program, params string[] arguments) => StraceCountsAsync(program, arguments, "");

    /// <summary>strace -f -c of a program started as the traced one is, as a shell starts it (signal dispositions decide some calls: gzip installs handlers only for signals not ignored).</summary>
    private static async Task<Dictionary<string, (long Calls, long Errors)>> StraceCountsAsync(string program, string[] arguments, string input)
    {
        var output = Path.GetTempFileName();
        var info = new ProcessStartInfo("strace") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in new[] { "-f", "-c", "-o", output, program }.Concat(arguments))
        {
            info.ArgumentList.Add(argument);
        }

        using var strace = await Contention.Tracer.Processes.ChildStart.StartAsync(info, Contention.Tracer.Processes.ChildOptions.None);
        await strace.StandardInput.WriteAsync(input);
        strace.StandardInput.Close();
        await strace.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
        await strace.WaitForExitAsync();
        var counts = new Dictionary<string, (long, long)>();
        foreach (var line in await File.ReadAllLinesAsync(output))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length is 5 or 6 && char.IsAsciiDigit(f[0][0]) && f[^1] != "total")
            {
                counts[f[^1]] = (long.Parse(f[3], CultureInfo.InvariantCulture), f.Length == 6 ? long.Parse(f[4], CultureInfo.InvariantCulture) : 0);
            }
        }

        File.Delete(output);
        return counts;
    }
}
