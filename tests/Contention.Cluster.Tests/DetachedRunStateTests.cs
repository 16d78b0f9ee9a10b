using System.Diagnostics;
using Contention.Grains.Node;

namespace Contention.Cluster.Tests;

/// <summary>
/// A detached run's state as its node reads it from the run's directory, with the real
/// <c>sh</c> script that runs and waits for it (<see cref="DetachedRunGrain.WaitScript"/>).
/// </summary>
public sealed class DetachedRunStateTests : IDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), $"contention-detached-{Guid.NewGuid():N}");

    public DetachedRunStateTests() => Directory.CreateDirectory(directory);

    [Fact]
    public async Task StateIn_ARunThatExits_IsRunningUntilItsCodeIsInPlace_NeverLost()
    {
        // A run that exits 3 after a moment, its state read as fast as can be meanwhile. Between the
        // run's end and its code written only its waiter lives, and a reader that looked for the
        // code before it looked for life could see neither (a run that had exited 0 was read as
        // lost on a loaded CI host; this test failed half its runs that way).
        using var shell = Start("sh", "-c", "sleep 0.3; exit 3");
        Assert.True(SpinWait.SpinUntil(() => File.Exists(Path.Combine(directory, "pid")), 10_000), "the script wrote no pid"); // the node waits for it too
        var seen = new HashSet<string>();
        var watch = Stopwatch.StartNew();
        (string State, int? Exit) state;
        do
        {
            state = DetachedRunGrain.StateIn(directory);
            seen.Add(state.State);
        }
        while (state.State != "exited" && state.State != "lost" && watch.Elapsed < TimeSpan.FromSeconds(30));

        await shell.WaitForExitAsync();
        Assert.Equal(("exited", 3), state);
        Assert.DoesNotContain("lost", seen);
        Assert.Contains("running", seen);
    }

    [Fact]
    public async Task StateIn_RunAndWaiterKilled_IsLost()
    {
        using var shell = Start("sleep", "60");
        Assert.True(SpinWait.SpinUntil(() => File.Exists(Path.Combine(directory, "pid")), 10_000), "the script wrote no pid");
        Assert.Equal("running", DetachedRunGrain.StateIn(directory).State);

        shell.Kill();
        await shell.WaitForExitAsync();
        using (var run = Process.GetProcessById(int.Parse(File.ReadAllText(Path.Combine(directory, "pid")).Trim(), System.Globalization.CultureInfo.InvariantCulture)))
        {
            run.Kill();
            await run.WaitForExitAsync();
        }

        Assert.Equal(("lost", (int?)null), DetachedRunGrain.StateIn(directory));
    }

    [Fact]
    public void StateIn_NothingStarted_IsLost_AndAHalfWrittenCodeIsNotAnExit()
    {
        // No pid or waiter: nothing lives (the grain itself says unknown before a pid file exists).
        Assert.Equal(("lost", (int?)null), DetachedRunGrain.StateIn(directory));
        File.WriteAllText(Path.Combine(directory, "exit.part"), "0");
        Assert.Equal(("lost", (int?)null), DetachedRunGrain.StateIn(directory));
    }

    public void Dispose() => Directory.Delete(directory, true);

    // The wait script in the directory, running the program given.
    private Process Start(params string[] run)
    {
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, WorkingDirectory = directory };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(DetachedRunGrain.WaitScript);
        foreach (var argument in run)
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start)!;
    }
}
