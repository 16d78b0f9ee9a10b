using System.Text.Json;
using Contention.Client.Results;
using Contention.Client.Validation;

namespace Contention.Client.Tests;

/// <summary>Which machine a set of results ran on, and <c>contention validate</c> saying when its halves ran on different ones.</summary>
public sealed class ValidationMachinesTests
{
    private static readonly HostInfo H200Host = new("vm", "Ubuntu 24.04", "6.18.44", 16, ".NET 10", "Intel Xeon Platinum 8480+", ["NVIDIA H200"]);
    private static readonly HostInfo H100Host = new("vm", "Ubuntu 24.04", "6.18.44", 16, ".NET 10", "Intel Xeon Platinum 8480+", ["NVIDIA H100 80GB HBM3"]);

    [Fact]
    public void MachineMismatches_ModelHalfOnAnotherGpusHost_Listed_SameHostVirtualTimeOrUnsaid_NotListed()
    {
        var root = Path.Combine(Path.GetTempPath(), $"contention-machines-{Guid.NewGuid():N}");
        try
        {
            var real = Half(root, "real", H200Host, "n");
            var elsewhere = Half(root, "h100", H100Host, "n");
            var here = Half(root, "same", H200Host with { }, "n");
            var simulated = Half(root, "virtual", new HostInfo("laptop", "Debian 12", "6.18", 2, ".NET 10", "AMD EPYC", []), "virtual");
            var unsaid = Half(root, "unsaid", null, "n");

            var listed = Assert.Single(ValidationResults.MachineMismatches(real, elsewhere));
            Assert.Equal("svc: real runs on vm, 16 CPUs (Intel Xeon Platinum 8480+), NVIDIA H200, Linux 6.18.44; modelled runs on vm, 16 CPUs (Intel Xeon Platinum 8480+), NVIDIA H100 80GB HBM3, Linux 6.18.44", listed);
            Assert.Empty(ValidationResults.MachineMismatches(real, here));
            Assert.Empty(ValidationResults.MachineMismatches(real, simulated));
            Assert.True(Assert.Single(simulated.Sources).InVirtualTime);
            Assert.Empty(ValidationResults.MachineMismatches(real, unsaid));
            // Several sets of one side: listed when the other side's machines are not the same ones.
            Assert.Single(ValidationResults.MachineMismatches(real, ValidationResults.Combine([here, elsewhere])));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void HostInfo_ResultsWrittenBeforeTheProcessorAndGpus_ReadWithNeither_AndDescribedAsBefore()
    {
        var old = """{"name":"vm","os":"Ubuntu","kernel":"6.18.44","cpus":16,"runtime":".NET 10"}""";

        var host = JsonSerializer.Deserialize(old, ResultsJson.Default.HostInfo)!;

        Assert.Equal(("", null), (host.Cpu, host.Gpus));
        Assert.Equal("vm, 16 CPUs, Linux 6.18.44", host.Describe());
        var now = H200Host with { Gpus = ["NVIDIA H200", "NVIDIA H200"] };
        var back = JsonSerializer.Deserialize(JsonSerializer.Serialize(now, ResultsJson.Default.HostInfo), ResultsJson.Default.HostInfo)!;
        Assert.Equal(now.Cpu, back.Cpu);
        Assert.Equal(now.Gpus, back.Gpus);
        Assert.Equal("vm, 16 CPUs (Intel Xeon Platinum 8480+), 2x NVIDIA H200, Linux 6.18.44", back.Describe());
        Assert.Equal("h, 2 CPUs, no NVIDIA GPU, Linux 6.18", new HostInfo("h", "linux", "6.18", 2, ".NET", "", []).Describe());
    }

    [Fact]
    public void Host_ProcessorFromCpuinfo_GpusFromTheDriversInformationFiles()
    {
        Assert.Equal("AMD EPYC 9654 96-Core Processor", RunRecorder.CpuModel("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 9654 96-Core Processor\nflags\t: fpu\n\nprocessor\t: 1\nmodel name\t: other\n"));
        Assert.Equal("", RunRecorder.CpuModel("processor\t: 0\nHardware\t: BCM2835\n"));

        var directory = Path.Combine(Path.GetTempPath(), $"contention-gpus-{Guid.NewGuid():N}");
        try
        {
            foreach (var (bus, model) in new[] { ("0000:c3:00.0", "NVIDIA H200"), ("0000:1a:00.0", "NVIDIA H100 80GB HBM3") })
            {
                Directory.CreateDirectory(Path.Combine(directory, bus));
                File.WriteAllText(Path.Combine(directory, bus, "information"), $"Model: \t\t {model}\nIRQ:   \t\t 42\nBus Location: \t {bus}\n");
            }

            Assert.Equal(["NVIDIA H100 80GB HBM3", "NVIDIA H200"], RunRecorder.NvidiaGpus(directory));
            Assert.Empty(RunRecorder.NvidiaGpus(Path.Combine(directory, "none")));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    // A half of one mix, "svc", written as a sweep on host (none: a run directory without a sweep), its tenants on node.
    private static ValidationResults Half(string root, string name, HostInfo? host, string node)
    {
        var directory = Path.Combine(root, name, "svc");
        Directory.CreateDirectory(directory);
        if (host is not null)
        {
            SweepFiles.Write(directory, new SweepManifest
            {
                Tool = new ToolInfo("contention", "1", "abcdef12"),
                Host = host,
                Id = $"svc-{name}",
                Name = "svc",
                Mix = new MixInfo("svc.yaml", "name: svc", ""),
                Fingerprint = "f",
                Axes = [],
                Repetitions = 1,
                Runs = [new SweepRun("p001-r1", 1, 1, new Dictionary<string, string>(), "Completed", "svc-20261205-120000-abcd")],
            });
        }

        File.WriteAllLines(Path.Combine(directory, "tenants.csv"),
        [
            "run,experiment,tenant,node,sharing,phase,seconds,completed,throughput_per_s,offered_per_s,p50_ms,p95_ms,p99_ms,gpu_s,user_cpu_s,system_cpu_s,voluntary_switches,node_cpu_steal",
            $"p001-r1,svc-20261205-120000-abcd,svc,{node},timeslice,measure,6,300,50,50,0.3,0.5,1.0,0.1,0.2,0.1,9000,0",
        ]);
        return ValidationResults.Load(directory);
    }
}
