using System.Text.Json;

namespace Contention.Cluster.Tests;

/// <summary>
/// Ctrl+C in a terminal signals the whole foreground process group: the eBPF helper and the
/// workers must not die of it; the run ends Interrupted, measured to the end, with its table.
/// </summary>
public sealed class InterruptTests
{
    private const int SigInt = 2;
    private const int SigTerm = 15;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [BpfFact]
    public async Task Run_SigintToProcessGroupWithEbpf_EndsInterruptedWithTableAndNoWorkerLeft()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"contention-int-{Guid.NewGuid():N}");
        using var client = await ClientProcess.StartAsync("run", "mixes/default.yaml", "--device", "sim", "--warmup", "1s", "--duration", "60s", "--out", directory);
        await client.WaitForStateAsync(directory, "Measuring", Patience);
        var children = ClientProcess.Children(client.Pid);

        client.SignalGroup(SigInt);
        var status = await client.WaitForExitAsync(Patience);

        Assert.True(130 == status, client.Output);
        Assert.Equal("Interrupted", ClientProcess.ReadState(directory));
        using var results = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "results.json")));
        var tenants = results.RootElement.GetProperty("tenants").EnumerateArray().Where(t => t.GetProperty("phase").GetString() == "measure").ToList();
        Assert.Equal(3, tenants.Count);
        Assert.All(tenants, t => Assert.Equal("Stopped", t.GetProperty("state").GetString()));
        Assert.All(tenants, t => Assert.True(t.GetProperty("traced").GetBoolean(), "the helper died with the signal"));
        Assert.All(tenants, t => Assert.True(t.GetProperty("completed").GetInt64() > 0));
        Assert.Contains("infer-1", client.Output, StringComparison.Ordinal);
        Assert.Contains("Interrupted", client.Output, StringComparison.Ordinal);
        Assert.True(children.Count >= 4, $"expected the helper and three workers, found {children.Count}");
        Assert.All(children, pid => Assert.False(ClientProcess.Alive(pid), $"process {pid} outlived the run"));
        Assert.Empty(ClientProcess.SimFilesOf(client.Pid));
    }

    [Fact]
    public async Task Sweep_SigtermToProcessGroup_ManifestSaysInterruptedAndExit130()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"contention-int-{Guid.NewGuid():N}");
        using var client = await ClientProcess.StartAsync("run", "mixes/sync-sweep.yaml", "--device", "sim", "--ebpf", "off", "--warmup", "1s", "--duration", "60s", "--out", directory);
        var first = Path.Combine(directory, "points", "p001-r1");
        await client.WaitForStateAsync(first, "Measuring", Patience);

        // timeout(1) and service managers send SIGTERM to the group.
        client.SignalGroup(SigTerm);
        var status = await client.WaitForExitAsync(Patience);

        Assert.True(130 == status, client.Output);
        Assert.Equal("Interrupted", ClientProcess.ReadState(first));
        using (var results = JsonDocument.Parse(File.ReadAllText(Path.Combine(first, "results.json"))))
        {
            // The workers were not signalled with the client: they were stopped, not killed.
            Assert.Empty(results.RootElement.GetProperty("failures").EnumerateArray());
            Assert.All(results.RootElement.GetProperty("tenants").EnumerateArray(), t => Assert.Equal("Stopped", t.GetProperty("state").GetString()));
        }

        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "sweep.json")));
        var runs = manifest.RootElement.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal("Interrupted", runs[0].GetProperty("state").GetString());
        Assert.All(runs.Skip(1), r => Assert.Equal("Pending", r.GetProperty("state").GetString()));
        Assert.Empty(ClientProcess.SimFilesOf(client.Pid));
    }

    [Fact]
    public async Task Silo_SigintToProcessGroup_StopsAndLeavesNoSharedMemory()
    {
        var ports = new[] { Contention.Silo.FreePort.Next(), Contention.Silo.FreePort.Next() };
        using var silo = await ClientProcess.StartAsync("silo", "--name", "shm-test", "--silo-port", $"{ports[0]}", "--gateway-port", $"{ports[1]}", "--metrics-port", "0", "--sim-devices", "2", "--ebpf", "off", "--no-cuda");
        await silo.WaitForOutputAsync("node shm-test up", Patience);
        // Per modelled GPU: the channel, 32 FIFOs and the profile its engine process read.
        Assert.Equal(2 * (1 + 32 + 1), ClientProcess.SimFilesOf(silo.Pid).Length);
        var engines = ClientProcess.Engines(silo.Pid);
        Assert.Equal(2, engines.Count);

        silo.SignalGroup(SigInt);

        Assert.Equal(0, await silo.WaitForExitAsync(Patience));
        Assert.Empty(ClientProcess.SimFilesOf(silo.Pid));
        Assert.All(engines, pid => Assert.False(ClientProcess.Alive(pid), $"engine {pid} outlived the node"));
    }

    [Fact]
    public void RemoveStale_FilesOfADeadProcess_AreDeletedAndALiveOnesKept()
    {
        // A pid above the kernel's pid_max cannot be running.
        var dead = Path.Combine(Contention.Workloads.Sim.SimGpuHost.ChannelDirectory, $"contention-sim0-4194305-{Guid.NewGuid():N}");
        var live = Path.Combine(Contention.Workloads.Sim.SimGpuHost.ChannelDirectory, $"contention-sim0-{Environment.ProcessId}-{Guid.NewGuid():N}");
        File.WriteAllText(dead, "");
        File.WriteAllText(dead + ".3.fifo", "");
        File.WriteAllText(live, "");
        try
        {
            Assert.True(Contention.Workloads.Sim.SimGpuHost.RemoveStale() >= 2);

            Assert.False(File.Exists(dead));
            Assert.False(File.Exists(dead + ".3.fifo"));
            Assert.True(File.Exists(live));
        }
        finally
        {
            File.Delete(live);
        }
    }
}
