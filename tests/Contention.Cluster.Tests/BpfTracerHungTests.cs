using System.Diagnostics;
using Contention.Tracer.Bpf;

namespace Contention.Cluster.Tests;

/// <summary>
/// A helper that stops answering (a stand-in script that stops itself, as a hung helper would look)
/// is killed once <see cref="BpfTracer.AnswerTimeout"/> has passed, and every later call fails at
/// once with the same reason, instead of holding the node's sampling for good.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class BpfTracerHungTests : IDisposable
{
    // A call that never ends fails the test (TimeoutException) instead of hanging it.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly string directory = Directory.CreateTempSubdirectory("contention-hung-helper-").FullName;

    public void Dispose() => Directory.Delete(directory, true);

    // Says it is ready (unless told not to), answers adds and removes, and on the command named
    // stops itself with SIGSTOP — after printing the first lines of a snapshot, for "half".
    private string Helper(string hangOn)
    {
        var path = Path.Combine(directory, "fake-ctrace");
        File.WriteAllText(path, $$"""
            #!/bin/bash
            hang() { kill -STOP $$; }
            [ "{{hangOn}}" = start ] && hang
            echo "ctrace {{BpfTracer.FormatVersion}} ready"
            while read -r line; do
              case "$line" in
                "{{hangOn}}"*) hang ;;
                half) ;;
                snapshot) [ "{{hangOn}}" = half ] && { echo "dropped 0 0 0 0"; hang; } ; echo "end 1" ;;
                *) echo "ok $line" ;;
              esac
            done
            """);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    [Theory]
    [InlineData("snapshot")]
    [InlineData("half")]
    public async Task Snapshot_HelperStopsAnswering_KilledAfterTheTimeoutAndLaterCallsFailAtOnce(string hangOn)
    {
        await using var tracer = await BpfTracer.StartAsync(Helper(hangOn), answerTimeout: TimeSpan.FromSeconds(1));
        await tracer.AddAsync(Environment.ProcessId);
        var pid = tracer.ProcessId;

        var watch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<BpfUnavailableException>(() => tracer.SnapshotAsync().WaitAsync(Patience));

        Assert.InRange(watch.Elapsed.TotalSeconds, 0.9, 20);
        Assert.Contains($"the eBPF helper (pid {pid}) did not answer 'snapshot' within 1 s and was stopped", error.Message, StringComparison.Ordinal);
        await WaitGoneAsync(pid);
        watch.Restart();
        var again = await Assert.ThrowsAsync<BpfUnavailableException>(tracer.SnapshotAsync);
        Assert.Equal(error.Message, again.Message);
        Assert.Equal(error.Message, (await Assert.ThrowsAsync<BpfUnavailableException>(() => tracer.RemoveAsync(1))).Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(0.9), $"later calls waited {watch.Elapsed.TotalSeconds:0.00} s for a helper already judged hung");
    }

    [Fact]
    public async Task Add_HelperStopsAnswering_KilledAfterTheTimeout()
    {
        await using var tracer = await BpfTracer.StartAsync(Helper("add"), answerTimeout: TimeSpan.FromSeconds(1));

        var error = await Assert.ThrowsAsync<BpfUnavailableException>(() => tracer.AddAsync(Environment.ProcessId).WaitAsync(Patience));

        Assert.Contains($"did not answer 'add {Environment.ProcessId}' within 1 s", error.Message, StringComparison.Ordinal);
        await WaitGoneAsync(tracer.ProcessId);
    }

    [Fact]
    public async Task Start_HelperNeverSaysReady_KilledAfterTheTimeout()
    {
        var watch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<BpfUnavailableException>(() => BpfTracer.StartAsync(Helper("start"), answerTimeout: TimeSpan.FromSeconds(1)).WaitAsync(Patience));

        Assert.InRange(watch.Elapsed.TotalSeconds, 0.9, 20);
        Assert.Contains("did not say it was ready within 1 s and was stopped", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Snapshot_HelperAnswering_NotStoppedByTheTimeout()
    {
        // The deadline is each command's own: calls that each answer in time never add up to one.
        await using var tracer = await BpfTracer.StartAsync(Helper("nothing"), answerTimeout: TimeSpan.FromSeconds(0.5));
        for (var i = 0; i < 5; i++)
        {
            await tracer.AddAsync(1000 + i);
            await Task.Delay(200);
        }

        Assert.False(Process.GetProcessById(tracer.ProcessId).HasExited);
    }

    private static async Task WaitGoneAsync(int pid)
    {
        var deadline = Stopwatch.StartNew();
        while (ClientProcess.Alive(pid))
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(10), $"the hung helper {pid} still runs");
            await Task.Delay(20);
        }
    }
}
