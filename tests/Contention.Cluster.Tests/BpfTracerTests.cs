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
        Assert.Equal(0, snapshot.DroppedStorage + snapshot.DroppedChildren + snapshot.UnknownNumbers);
    }

    [BpfFact]
    public async Task Snapshot_SameProbe_MatchesStraceCounts()
    {
        var (_, ours) = await TraceProbeAsync();

        var strace = await StraceCountsAsync(Probe());

        // These calls happen only after "go", so strace's whole-run counts must equal ours.
        foreach (var name in Known.Keys)
        {
            Assert.Equal(strace[name], (ours[name].Count, ours[name].Errors));
        }
    }

    [Fact]
    public void Parse_SnapshotLines_ReadsCountersHistogramAndDrops()
    {
        var snapshot = BpfSnapshotParser.Parse(["snapshot 3 123456", "sys 42 110 210 0 100081 8:189,9:20,10:1", "sys 42 257 30 30 40613 -", "dropped 1 2 3", "end 3"]);

        Assert.Equal((3L, 123456L, 1L, 2L, 3L), (snapshot.Sequence, snapshot.KtimeNs, snapshot.DroppedStorage, snapshot.DroppedChildren, snapshot.UnknownNumbers));
        var getppid = snapshot.Syscalls[0];
        Assert.Equal(("getppid", 42, 210L, 100081L), (getppid.Name, getppid.Root, getppid.Count, getppid.TotalNs));
        Assert.Equal(189, getppid.Histogram[8]);
        Assert.Equal(30, snapshot.Syscalls[1].Errors);
        Assert.Equal("syscall_999", Contention.Tracer.SyscallNames.Of(999));
    }

    [Theory]
    [InlineData("sys 42 110 x 0 1 -")]
    [InlineData("sys 42 110 1 0 1 40:1")]
    [InlineData("hello")]
    public void Parse_BadLine_SaysWhichLine(string line)
    {
        var error = Assert.Throws<FormatException>(() => BpfSnapshotParser.Parse([line]));

        Assert.Contains(line.Split(' ')[0], error.Message, StringComparison.Ordinal);
    }

    /// <summary>Runs the probe under a fresh helper: traced from "go" to "done"; returns the snapshot and the probe's counters by name.</summary>
    private static async Task<(BpfSnapshot Snapshot, Dictionary<string, SyscallCounters> Counters)> TraceProbeAsync()
    {
        await using var tracer = await BpfTracer.StartAsync();
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

    private static string Probe() => Path.Combine(Path.GetDirectoryName(BpfTracer.FindHelper()!)!, "syscalls-probe");

    private static Process Start(string path) =>
        Process.Start(new ProcessStartInfo(path) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false })!;

    private static async Task<Dictionary<string, (long Calls, long Errors)>> StraceCountsAsync(string program)
    {
        var output = Path.GetTempFileName();
        var info = new ProcessStartInfo("strace") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in new[] { "-f", "-c", "-o", output, program })
        {
            info.ArgumentList.Add(argument);
        }

        using var strace = Process.Start(info) ?? throw new InvalidOperationException("strace is not installed (apt-get install strace)");
        await strace.StandardInput.WriteLineAsync("go");
        await strace.StandardInput.WriteLineAsync("exit");
        strace.StandardInput.Close();
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
