using System.Diagnostics;
using Contention.Tracer.Bpf;
using Contention.Tracer.Nvidia;
using Contention.Tracer.Trace;

namespace Contention.Cluster.Tests;

/// <summary>
/// The in-band phase marker: a process's calls between its hold and release marker calls count
/// in a row of their own, the marker calls themselves count as marks, not as system calls.
/// </summary>
[Trait("Category", "Bpf")]
public class BpfPhaseMarkTests
{
    [BpfFact]
    public async Task Snapshot_CallsBetweenHoldAndRelease_CountInTheHeldRowOnly()
    {
        var snapshot = await TraceAsync("100", "hold", "7", "release", "50");

        Assert.Equal(150, Getppid(snapshot, held: false));
        Assert.Equal(7, Getppid(snapshot, held: true));
        Assert.DoesNotContain(snapshot.Syscalls, s => s.Name == "prctl");
        var marks = Assert.Single(snapshot.Marks);
        Assert.Equal((2L, false), (marks.Marks, marks.Held));
    }

    [BpfFact]
    public async Task Snapshot_OtherThreadWhileHeld_CountsInTheHeldRowToo()
    {
        // A boundary belongs to the process: a thread other than the marking one counts as held too.
        var snapshot = await TraceAsync("10", "hold", "thread", "40", "release", "thread", "5");

        Assert.Equal(15, Getppid(snapshot, held: false));
        Assert.Equal(40, Getppid(snapshot, held: true));
    }

    [BpfFact]
    public async Task Summary_RowsAskedFor_SplitsWorkloadFromHeldCalls()
    {
        var snapshot = await TraceAsync("30", "hold", "4", "release");
        var root = snapshot.Syscalls[0].Root;

        var all = TraceSummary.Of(snapshot, root, NvidiaDevices.Parse(""));
        var workload = TraceSummary.Of(snapshot, root, NvidiaDevices.Parse(""), rows: TraceRows.Workload);
        var held = TraceSummary.Of(snapshot, root, NvidiaDevices.Parse(""), rows: TraceRows.Held);

        Assert.Equal(34, all.Syscalls.Single(s => s.Name == "getppid").Count);
        Assert.Equal(30, workload.Syscalls.Single(s => s.Name == "getppid").Count);
        Assert.Equal(4, Assert.Single(held.Syscalls).Count);
        Assert.Equal(all.TotalCalls, workload.TotalCalls + held.TotalCalls);
    }

    private static long Getppid(BpfSnapshot snapshot, bool held) =>
        snapshot.Syscalls.Where(s => s.Name == "getppid" && s.Held == held).Sum(s => s.Count);

    /// <summary>Runs tracer/native/build/phase-marks with <paramref name="steps"/>, traced from its "go".</summary>
    private static async Task<BpfSnapshot> TraceAsync(params string[] steps)
    {
        var program = BpfTracer.FindInSourceTree("phase-marks")
            ?? throw new FileNotFoundException("tracer/native/build/phase-marks is not built: run 'make -C tracer/native'");
        await using var tracer = await BpfTracer.StartAsync(mode: BpfMode.Full);
        var info = new ProcessStartInfo(program) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var step in steps)
        {
            info.ArgumentList.Add(step);
        }

        using var process = Process.Start(info)!;
        Assert.Equal("ready", await process.StandardOutput.ReadLineAsync());
        await tracer.AddAsync(process.Id);
        await process.StandardInput.WriteLineAsync("go");
        await process.StandardInput.FlushAsync();
        Assert.Equal("done", await process.StandardOutput.ReadLineAsync());
        await process.WaitForExitAsync();
        var snapshot = await tracer.SnapshotAsync();
        Assert.True(snapshot.Dropped.None, $"lost: {snapshot.Dropped}");
        return snapshot with
        {
            Syscalls = [.. snapshot.Syscalls.Where(s => s.Root == process.Id)],
            Marks = [.. snapshot.Marks.Where(m => m.Root == process.Id)],
        };
    }
}
