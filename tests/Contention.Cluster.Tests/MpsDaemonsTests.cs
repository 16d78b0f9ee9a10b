using System.Diagnostics;
using System.Globalization;
using Contention.Grains.Node;

namespace Contention.Cluster.Tests;

/// <summary>
/// The node's MPS daemons' lifecycle against a stand-in for <c>nvidia-cuda-mps-control</c> (a
/// shell script that daemonises, writes the pid file where the real one does and answers the
/// same commands): real child processes, checked in /proc. On a GPU host the real one is used
/// (docs/gpu.md).
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class MpsDaemonsTests : IDisposable
{
    // -d: a daemon in the background that writes its pid file and lives until 'quit'; otherwise
    // one command from stdin, as the real control program reads them. What the test reads
    // ('visible') is written before the pid file appears (whole, by rename): the node waits for
    // the pid file only, and a loaded host once ran the test between the two writes.
    private const string FakeControl = """
        #!/bin/bash
        pipe="$CUDA_MPS_PIPE_DIRECTORY"
        if [ "$1" = "-d" ]; then
          if [ -n "$FAKE_MPS_FAIL" ]; then echo "$FAKE_MPS_FAIL" >&2; exit 1; fi
          setsid bash -c 'echo "$CUDA_VISIBLE_DEVICES" > "$0/visible"; echo $$ > "$0/nvidia-cuda-mps-control.pid.new"; mv "$0/nvidia-cuda-mps-control.pid.new" "$0/nvidia-cuda-mps-control.pid"; while [ ! -e "$0/quit" ]; do sleep 0.05; done; rm -f "$0/quit" "$0/nvidia-cuda-mps-control.pid"' "$pipe" < /dev/null > /dev/null 2>&1 &
          exit 0
        fi
        read -r command argument
        case "$command" in
          quit) touch "$pipe/quit"; for i in $(seq 100); do [ -e "$pipe/quit" ] || exit 0; sleep 0.05; done ;;
          get_server_list) [ -e "$pipe/nvidia-cuda-mps-control.pid" ] && echo 4242 ;;
          get_client_list) [ "$argument" = 4242 ] && [ -e "$pipe/clients" ] && cat "$pipe/clients" ;;
        esac
        exit 0
        """;

    private readonly string directory = Directory.CreateTempSubdirectory("contention-mps-test-").FullName;
    private readonly string control;

    public MpsDaemonsTests()
    {
        control = Path.Combine(directory, "nvidia-cuda-mps-control");
        File.WriteAllText(control, FakeControl.Replace("\r\n", "\n", StringComparison.Ordinal) + "\n");
        File.SetUnixFileMode(control, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    private string Root => Path.Combine(directory, "root");

    [Fact]
    public async Task AcquireRelease_TwoUsers_OneDaemonPerGpuQuitWithTheLast()
    {
        using var mps = new MpsDaemons(control, Root);

        var first = await mps.AcquireAsync(0);
        var second = await mps.AcquireAsync(0);
        var pid = DaemonPid(first);

        Assert.Equal(first, second);
        Assert.True(Alive(pid), "no daemon after the first acquire");
        Assert.Equal("0", File.ReadAllText(Path.Combine(first.PipeDirectory, "visible")).Trim());
        Assert.StartsWith(Path.Combine(Root, $"{Environment.ProcessId}-cuda0"), first.PipeDirectory, StringComparison.Ordinal);
        await mps.ReleaseAsync(0);
        Assert.True(mps.IsRunning(0), "quit while a user was left");
        await mps.ReleaseAsync(0);

        Assert.False(Alive(pid), "the daemon outlived its last user");
        Assert.False(Directory.Exists(Path.GetDirectoryName(first.PipeDirectory)), "its directory was left behind");
    }

    [Fact]
    public async Task Lost_DaemonKilledWhileLeased_SaysWhichAndTheNextAcquireStartsANewOne()
    {
        using var mps = new MpsDaemons(control, Root);
        var lease = await mps.AcquireAsync(0);
        var pid = DaemonPid(lease);
        Assert.Equal(pid, lease.DaemonPid);
        var lost = mps.Lost(lease);
        Assert.False(lost.IsCompleted, "a running daemon counted as lost");

        using (var daemon = Process.GetProcessById(pid))
        {
            daemon.Kill();
        }

        var reason = await lost.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Contains($"cuda:0's MPS control daemon (pid {pid}) exited", reason, StringComparison.Ordinal);
        Assert.Contains(lease.LogDirectory, reason, StringComparison.Ordinal);

        // A new tenant gets a new daemon; the old lease's release leaves it running.
        var next = await mps.AcquireAsync(0);
        Assert.NotEqual(pid, next.DaemonPid);
        Assert.True(mps.Lost(lease).IsCompleted, "the old lease still looks alive");
        await mps.ReleaseAsync(0, lease.DaemonPid);
        Assert.True(mps.IsRunning(0), "releasing the dead daemon's lease quit its successor");
        await mps.ReleaseAsync(0, next.DaemonPid);
        Assert.False(mps.IsRunning(0));
    }

    [Fact]
    public async Task Lost_DaemonQuitByItsLastUser_NeverCompletes()
    {
        using var mps = new MpsDaemons(control, Root);
        var lease = await mps.AcquireAsync(0);
        var lost = mps.Lost(lease);

        await mps.ReleaseAsync(0, lease.DaemonPid);
        await Task.Delay(MpsDaemons.WatchInterval * 3);

        Assert.False(lost.IsCompleted, "a quit daemon counted as lost");
    }

    [Fact]
    public async Task Dispose_DaemonsRunning_QuitsEveryOne()
    {
        var mps = new MpsDaemons(control, Root);
        var pids = new[] { DaemonPid(await mps.AcquireAsync(0)), DaemonPid(await mps.AcquireAsync(1)) };

        mps.Dispose();

        Assert.All(pids, pid => Assert.False(Alive(pid), $"daemon {pid} outlived the node"));
        Assert.Empty(Directory.EnumerateDirectories(Root));
    }

    [Fact]
    public async Task New_DaemonOfADeadNode_IsStoppedAtStart()
    {
        // A node that died (its pid gone) left a daemon running: started as a node would have.
        using var dead = Process.Start("true")!;
        await dead.WaitForExitAsync();
        var left = Path.Combine(Root, $"{dead.Id.ToString(CultureInfo.InvariantCulture)}-cuda0");
        var pipe = Path.Combine(left, "pipe");
        Directory.CreateDirectory(pipe);
        var start = new ProcessStartInfo(control, "-d") { UseShellExecute = false };
        start.Environment["CUDA_MPS_PIPE_DIRECTORY"] = pipe;
        using (var daemonise = Process.Start(start)!)
        {
            await daemonise.WaitForExitAsync();
        }

        var pid = await WaitForPidAsync(pipe);

        using var restarted = new MpsDaemons(control, Root);
        var kept = DaemonPid(await restarted.AcquireAsync(3));
        using var another = new MpsDaemons(control, Root);

        Assert.Equal(1, restarted.StaleStopped);
        Assert.False(Alive(pid), "the dead node's daemon is still running");
        Assert.False(Directory.Exists(left));
        // A live node's daemon (this process's) is not touched.
        Assert.Equal(0, another.StaleStopped);
        Assert.True(Alive(kept), "a live node's daemon was stopped");
    }

    [Fact]
    public async Task Acquire_DaemonFailsToStart_SaysWhy()
    {
        Environment.SetEnvironmentVariable("FAKE_MPS_FAIL", "GPU is in exclusive mode elsewhere");
        try
        {
            using var mps = new MpsDaemons(control, Root);

            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => mps.AcquireAsync(0));

            Assert.Contains("the MPS control daemon for cuda:0 did not start", error.Message, StringComparison.Ordinal);
            Assert.Contains("GPU is in exclusive mode elsewhere", error.Message, StringComparison.Ordinal);
            Assert.Empty(Directory.EnumerateDirectories(Root));
        }
        finally
        {
            Environment.SetEnvironmentVariable("FAKE_MPS_FAIL", null);
        }
    }

    [Fact]
    public async Task Acquire_NoControlProgram_SaysWhatToDo()
    {
        using var mps = new MpsDaemons(Path.Combine(directory, "missing"), Root);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => mps.AcquireAsync(0));

        Assert.Contains("sharing: mps needs NVIDIA's MPS", error.Message, StringComparison.Ordinal);
        Assert.Contains("sharing: timeslice", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Clients_AsTheDaemonListsThem()
    {
        using var mps = new MpsDaemons(control, Root);
        var lease = await mps.AcquireAsync(0);
        Assert.Empty(await mps.ClientsAsync(0));

        File.WriteAllText(Path.Combine(lease.PipeDirectory, "clients"), "1234\n5678\n");

        Assert.Equal([1234, 5678], (await mps.ClientsAsync(0)).Order());
    }

    [Theory]
    [InlineData(10, 40, "0", "40")]
    [InlineData(0, 100, "1", "100")]
    [InlineData(-5, 0, "1", "1")]
    public void SetClientEnvironment_Tenant_SharesPipeShareAndPriorityWithoutVisibleDevices(int priority, int share, string mpsPriority, string percentage)
    {
        var environment = new Dictionary<string, string?> { ["CUDA_VISIBLE_DEVICES"] = "1", ["PATH"] = "/bin" };

        MpsDaemons.SetClientEnvironment(environment, new MpsLease(1, "/p", "/l"), share, priority);

        Assert.False(environment.ContainsKey("CUDA_VISIBLE_DEVICES"));
        Assert.Equal(("/p", "/l", percentage, mpsPriority), (environment["CUDA_MPS_PIPE_DIRECTORY"], environment["CUDA_MPS_LOG_DIRECTORY"], environment["CUDA_MPS_ACTIVE_THREAD_PERCENTAGE"], environment["CUDA_MPS_CLIENT_PRIORITY"]));
    }

    public void Dispose()
    {
        // Stop anything a failed test left, then remove the files.
        using (new MpsDaemons(control, Path.Combine(directory, "none")))
        {
        }

        foreach (var pipe in Directory.Exists(Root) ? Directory.EnumerateDirectories(Root).Select(d => Path.Combine(d, "pipe")) : [])
        {
            File.WriteAllText(Path.Combine(pipe, "quit"), "");
        }

        Directory.Delete(directory, recursive: true);
    }

    private static int DaemonPid(MpsLease lease) => int.Parse(File.ReadAllText(Path.Combine(lease.PipeDirectory, "nvidia-cuda-mps-control.pid")).Trim(), CultureInfo.InvariantCulture);

    private static async Task<int> WaitForPidAsync(string pipe)
    {
        var file = Path.Combine(pipe, "nvidia-cuda-mps-control.pid");
        await Specs.Eventually(() => Task.FromResult(File.Exists(file) && File.ReadAllText(file).Trim().Length > 0), ok => ok, TimeSpan.FromSeconds(10), "the daemon's pid file");
        return int.Parse(File.ReadAllText(file).Trim(), CultureInfo.InvariantCulture);
    }

    private static bool Alive(int pid)
    {
        var stat = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat";
        try
        {
            var text = File.ReadAllText(stat);
            return text[(text.LastIndexOf(')') + 2)] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }
}
