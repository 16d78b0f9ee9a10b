using System.Diagnostics;
using Contention.Grains.Node;
using Contention.Workloads.Devices;
using Contention.Workloads.Kernels;
using Contention.Workloads.Sim;
using Microsoft.Extensions.DependencyInjection;

namespace Contention.Cluster.Tests;

/// <summary>A modelled GPU whose engine runs in a process of its own (<c>contention sim-gpu</c>), as a node runs it by default.</summary>
public sealed class SimEngineProcessTests
{
    private static ProcessStartInfo EngineStart(IReadOnlyList<string> arguments) => WorkerCommand.Resolve(null).StartInfo(arguments);

    private static Process Engine(IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment)
    {
        var start = EngineStart(arguments);
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        return Process.Start(start)!;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Synchronize_EngineInAChildProcess_WaitsForTheModelledDurationAndTheEngineEndsWithTheHost(bool spin)
    {
        int pid;
        string channel;
        using (var host = new SimGpuHost(0, 2, DeviceProfile.Load("h100") with { LaunchCpuNs = 0 }, TimeSpan.FromMicroseconds(50), Engine, spin))
        {
            pid = host.EngineProcessId ?? throw new InvalidOperationException("no engine process");
            channel = host.ChannelPath;
            var lease = host.Acquire(GpuSharing.Mps, new SimContext(1, 1.0));
            using var device = new SimDevice(new DeviceOptions { Id = new DeviceId(DeviceKind.Sim, 0), SyncMode = SyncMode.Block, SimChannel = lease });
            var kernel = KernelSpec.Gemm(4096, 4096, 4096);
            device.Prepare([kernel]);

            var watch = Stopwatch.StartNew();
            device.Launch(kernel);
            device.Launch(kernel);
            device.Synchronize();

            var expected = 2 * device.Model.DurationNs(kernel);
            Assert.True(watch.Elapsed.TotalMilliseconds >= expected / 1e6, $"took {watch.Elapsed.TotalMilliseconds} ms, modelled {expected / 1e6} ms");
            Assert.Equal(expected, host.KernelNs(lease.Slot));
            var commandLine = File.ReadAllText($"/proc/{pid}/cmdline");
            Assert.Contains("sim-gpu", commandLine, StringComparison.Ordinal);
            Assert.Equal(spin, commandLine.Contains("--spin", StringComparison.Ordinal));
            Assert.Null(host.EngineFailure);
            host.Release(lease.Slot);
        }

        Assert.False(Directory.Exists($"/proc/{pid}") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal), $"engine {pid} still runs");
        Assert.False(File.Exists(channel));
        Assert.False(File.Exists($"{channel}.profile.json"));
    }

    [Fact]
    public void Acquire_EngineProcessKilled_SaysSoWithItsExitCode()
    {
        using var host = new SimGpuHost(0, 2, DeviceProfile.Load("h100"), TimeSpan.FromMicroseconds(50), Engine);
        var first = host.Acquire();
        host.Release(first.Slot);
        using (var engine = Process.GetProcessById(host.EngineProcessId!.Value))
        {
            engine.Kill();
            engine.WaitForExit(10_000);
        }

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (host.EngineFailure is null && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(10);
        }

        var error = Assert.Throws<InvalidOperationException>(() => host.Acquire());
        Assert.Contains("the sim:0 engine process", error.Message, StringComparison.Ordinal);
        Assert.Contains("exited with code 137", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Watchdog_EngineStoppedWithATenantAttached_KilledSayingSoAndTheGpuTakesNoTenants()
    {
        using var host = new SimGpuHost(0, 2, DeviceProfile.Load("h100"), TimeSpan.FromMicroseconds(50), Engine, hangTimeout: TimeSpan.FromSeconds(1));
        var lease = host.Acquire();
        var pid = host.EngineProcessId!.Value;

        ClientProcess.Signal(pid, ClientProcess.SigStop);
        var failure = await host.EngineExited.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.StartsWith($"the sim:0 engine process (pid {pid}) did not look at its channel for ", failure, StringComparison.Ordinal);
        Assert.EndsWith("s with tenants attached (stopped or stuck; 1 s allowed) and was killed", failure, StringComparison.Ordinal);
        Assert.Equal(failure, host.EngineFailure);
        Assert.True(SpinWait.SpinUntil(() => !ClientProcess.Alive(pid), 10_000), "the stopped engine was not killed");
        var error = Assert.Throws<InvalidOperationException>(() => host.Acquire());
        Assert.StartsWith(failure, error.Message, StringComparison.Ordinal);
        host.Release(lease.Slot);
    }

    [Fact]
    public async Task Watchdog_EngineLookingWithATenantAttached_LeftAlone()
    {
        using var host = new SimGpuHost(0, 2, DeviceProfile.Load("h100"), TimeSpan.FromMicroseconds(50), Engine, hangTimeout: TimeSpan.FromSeconds(2));
        var lease = host.Acquire();

        // Eight of the watchdog's ticks (every half second).
        var first = await Task.WhenAny(host.EngineExited, Task.Delay(TimeSpan.FromSeconds(4)));
        Assert.NotSame(host.EngineExited, first);

        Assert.Null(host.EngineFailure);
        host.Release(lease.Slot);
    }

    [Fact]
    public void LateNs_PollingEngineStoppedForAWhile_CountsTheGapAsLate()
    {
        // A polling engine has no wake to be late for: the gap between two of its looks is its lateness.
        using var host = new SimGpuHost(0, 2, DeviceProfile.Load("h100"), TimeSpan.FromMicroseconds(50), Engine, spin: true);
        var lease = host.Acquire();
        var pid = host.EngineProcessId!.Value;
        Assert.True(SpinWait.SpinUntil(() => File.ReadAllText($"/proc/{pid}/stat").Contains(") R ", StringComparison.Ordinal), 10_000), "the engine does not poll");
        var before = host.LateNs;

        ClientProcess.Signal(pid, ClientProcess.SigStop);
        Thread.Sleep(800);
        ClientProcess.Signal(pid, ClientProcess.SigCont);
        Assert.True(SpinWait.SpinUntil(() => host.LateNs - before >= 700_000_000, 10_000), $"late {(host.LateNs - before) / 1e6} ms after a stop of 800 ms");

        Assert.InRange(host.LongestLateNs, 700_000_000, 60_000_000_000);
        host.Release(lease.Slot);
    }

    [Fact]
    public void SimGpu_ParentGone_EngineEnds()
    {
        // An engine whose node died (here: told a parent it does not have) ends by itself.
        using var host = new SimGpuHost(0, 1, DeviceProfile.Load("h100"), TimeSpan.FromMicroseconds(50));
        var start = EngineStart(["sim-gpu", host.ChannelPath, "--profile", "h100", "--parent", "1"]);
        using var engine = Process.Start(start)!;

        Assert.True(engine.WaitForExit(30_000), "the engine did not end");
        Assert.Equal(0, engine.ExitCode);
    }
}

/// <summary>A node whose modelled GPU's engine dies: its tenants fail at once, saying why (a cluster of its own: the engine is killed).</summary>
public sealed class SimEngineLossTests : OwnNodeCluster
{
    protected override NodeOptions Node => new() { Name = "engine-loss", SimDevices = 1, DetectCuda = false, TracerIntervalMs = 200 };

    [Fact]
    public async Task Tenant_EngineOfItsModelledGpuKilled_FailsAtOnceNamingTheEngine()
    {
        var sim = Services.GetRequiredService<NodeDevices>().Sims[0];
        var experiment = Specs.NewExperiment();
        var spec = Specs.Inference(experiment, "orphan");
        Contention.Grains.DeviceRequirement.Set(spec.Device);
        var tenant = Cluster.GrainFactory.GetGrain<Contention.Grains.ITenantGrain>($"{experiment}/orphan");
        var started = await tenant.StartAsync(spec);
        Contention.Grains.DeviceRequirement.Clear();
        Assert.Equal(Contention.Grains.TenantState.Running, started.State);

        using (var engine = Process.GetProcessById(sim.EngineProcessId!.Value))
        {
            engine.Kill();
        }

        var collector = Cluster.GrainFactory.GetGrain<Contention.Grains.ICollectorGrain>(experiment);
        var snapshot = await Specs.Eventually(() => collector.GetSnapshotAsync(), s => s.Failures.Count > 0, TimeSpan.FromSeconds(30), "the tenant's failure");

        var failure = Assert.Single(snapshot.Failures);
        Assert.Contains("the sim:0 engine process", failure.Message, StringComparison.Ordinal);
        Assert.Contains("sim:0 cannot run the tenant's kernels any more", failure.Message, StringComparison.Ordinal);
        Assert.Equal(Contention.Grains.TenantState.Failed, (await tenant.GetStatusAsync()).State);
        Assert.Throws<ArgumentException>(() => Process.GetProcessById(started.Pid));
    }
}
