using System.Diagnostics;
using Contention.Tracer;
using Contention.Workloads.Sim;

namespace Contention.Cluster.Tests;

public class ProcTracerTests
{
    [Fact]
    public async Task Sample_ProbeThatSleepsAndBurns_MeasuresSwitchesAndUserTime()
    {
        const int sleeps = 200;
        const double burnMs = 1500;
        using var probe = StartProbe($"--sleeps {sleeps} --sleep-ms 1 --burn-ms {burnMs}");
        var tracer = new ProcTracer(probe.Id);
        Assert.Equal("start", await probe.StandardOutput.ReadLineAsync());
        var before = tracer.Sample(MonotonicClock.NowNs());
        await probe.StandardInput.WriteLineAsync("go");
        await probe.StandardInput.FlushAsync();

        Assert.Equal("done", await probe.StandardOutput.ReadLineAsync());
        var after = tracer.Sample(MonotonicClock.NowNs());
        await probe.StandardInput.WriteLineAsync("exit");
        await probe.WaitForExitAsync();

        Assert.NotNull(before);
        Assert.NotNull(after);
        var delta = after.Counters - before.Counters;
        Assert.True(delta.VoluntarySwitches >= sleeps, $"{delta.VoluntarySwitches} voluntary switches for {sleeps} sleeps");
        Assert.InRange(delta.UserSeconds, burnMs / 1000 * 0.8, burnMs / 1000 * 1.2);
        var main = after.Threads.Single(t => t.Tid == probe.Id).Counters - before.Threads.Single(t => t.Tid == probe.Id).Counters;
        Assert.True(main.VoluntarySwitches >= sleeps, $"main thread: {main.VoluntarySwitches} voluntary switches");
        Assert.InRange(main.UserSeconds, burnMs / 1000 * 0.8, burnMs / 1000 * 1.2);
    }

    [Fact]
    public void Sample_ExitedProcess_ReturnsNull()
    {
        using var probe = StartProbe("--sleeps 0 --burn-ms 0");
        probe.StandardInput.WriteLine("go");
        probe.StandardInput.Close();
        probe.WaitForExit();

        Assert.Null(new ProcTracer(probe.Id).Sample(0));
    }

    [Theory]
    [InlineData("123 (dotnet) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14", "dotnet", 7, 9, 11, 12)]
    [InlineData("123 (a (weird) name) R 1 2 3 4 5 6 70 8 90 10 110 120 13 14", "a (weird) name", 70, 90, 110, 120)]
    public void ParseStat_NamesWithSpacesAndParentheses_FindsTheRightFields(string line, string name, long minor, long major, long user, long system)
    {
        var stat = ProcParser.ParseStat(line);

        Assert.Equal((name, minor, major, user, system), stat);
    }

    private static Process StartProbe(string arguments)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "contention.dll");
        var info = new ProcessStartInfo("dotnet", $"\"{dll}\" probe {arguments}") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        return Process.Start(info)!;
    }
}
