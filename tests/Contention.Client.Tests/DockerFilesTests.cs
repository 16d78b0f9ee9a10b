using Contention.Client.Commands;
using YamlDotNet.RepresentationModel;

namespace Contention.Client.Tests;

/// <summary>
/// No Docker engine runs here, so the container files are checked statically: what they build,
/// mount and scrape exists, and the commands they run parse with the real command line.
/// </summary>
public class DockerFilesTests
{
    private static readonly string Root = Repository.Root;
    private static readonly string Docker = Path.Combine(Root, "docker");

    [Fact]
    public void Compose_BuildsMountsAndCommands_ExistAndParse()
    {
        var services = Load(Path.Combine(Docker, "compose.yaml"))["services"] as YamlMappingNode;
        Assert.NotNull(services);
        foreach (var (key, value) in services!.Children)
        {
            var name = ((YamlScalarNode)key).Value!;
            var service = (YamlMappingNode)value;
            if (service.Children.TryGetValue("build", out var build))
            {
                var context = Path.GetFullPath(Path.Combine(Docker, Scalar(build, "context")));
                Assert.True(File.Exists(Path.Combine(context, Scalar(build, "dockerfile"))), $"{name}: dockerfile missing");
            }

            if (service.Children.TryGetValue("volumes", out var volumes))
            {
                foreach (var volume in ((YamlSequenceNode)volumes).Children.Select(v => ((YamlScalarNode)v).Value!))
                {
                    var source = volume.Split(':')[0];
                    if (source.StartsWith("./", StringComparison.Ordinal) && name != "client")
                    {
                        Assert.True(File.Exists(Path.Combine(Docker, source)) || Directory.Exists(Path.Combine(Docker, source)), $"{name}: mounts missing {source}");
                    }
                }
            }

            if (service.Children.TryGetValue("command", out var command))
            {
                var args = ((YamlSequenceNode)command).Children.Select(c => ((YamlScalarNode)c).Value!).ToArray();
                Assert.Equal("silo", args[0]);
                Assert.Empty(SiloCommand.Create().Parse(args[1..]).Errors);

                // A node traces its tenants with eBPF: it needs the capabilities and the host's pids.
                var caps = ((YamlSequenceNode)service["cap_add"]).Children.Select(c => ((YamlScalarNode)c).Value).ToList();
                Assert.Contains("BPF", caps);
                Assert.Contains("PERFMON", caps);
                Assert.Equal("host", Scalar(service, "pid"));
            }
        }
    }

    [Fact]
    public void Compose_GpuNode_ReservesTheGpusAsTheNvidiaToolkitExpects()
    {
        // Static: no engine and no toolkit here. What NVIDIA's container toolkit reads: a device
        // reservation of driver nvidia with the gpu capability, and the driver capabilities that
        // mount libcuda and the MPS programs (compute); the node looks for CUDA devices.
        var node = (YamlMappingNode)((YamlMappingNode)Load(Path.Combine(Docker, "compose.yaml"))["services"])["node-gpu"];
        var device = (YamlMappingNode)((YamlSequenceNode)((YamlMappingNode)((YamlMappingNode)((YamlMappingNode)node["deploy"])["resources"])["reservations"])["devices"])[0];
        Assert.Equal("nvidia", Scalar(device, "driver"));
        Assert.Contains("gpu", ((YamlSequenceNode)device["capabilities"]).Children.Select(c => ((YamlScalarNode)c).Value));
        Assert.Contains("compute", Scalar(node["environment"], "NVIDIA_DRIVER_CAPABILITIES").Split(','));
        var args = ((YamlSequenceNode)node["command"]).Children.Select(c => ((YamlScalarNode)c).Value!).ToList();
        Assert.DoesNotContain("--no-cuda", args);
        Assert.Contains("--dashboard-port", args);
        Assert.Contains("gpu", ((YamlSequenceNode)node["profiles"]).Children.Select(c => ((YamlScalarNode)c).Value));
        Assert.EndsWith("g", Scalar(node, "shm_size"), StringComparison.Ordinal);
    }

    [Fact]
    public void Prometheus_Targets_AreNodesServingMetricsOnThatPort()
    {
        var compose = (YamlMappingNode)Load(Path.Combine(Docker, "compose.yaml"))["services"];
        var scrape = (YamlSequenceNode)Load(Path.Combine(Docker, "prometheus.yml"))["scrape_configs"];
        var targets = ((YamlSequenceNode)((YamlMappingNode)((YamlSequenceNode)((YamlMappingNode)scrape[0])["static_configs"])[0])["targets"]).Children.Select(t => ((YamlScalarNode)t).Value!).ToList();
        Assert.NotEmpty(targets);
        foreach (var target in targets)
        {
            var host = target.Split(':')[0];
            Assert.True(compose.Children.ContainsKey(host), $"prometheus scrapes {host}, which is no service");
            var args = ((YamlSequenceNode)((YamlMappingNode)compose[host])["command"]).Children.Select(c => ((YamlScalarNode)c).Value!).ToList();
            Assert.Contains("0.0.0.0", args);
            Assert.Equal("9464", target.Split(':')[1]);
        }
    }

    [Fact]
    public void Dockerfile_PublishesTheClientProject()
    {
        var text = File.ReadAllText(Path.Combine(Docker, "Dockerfile"));
        var project = text.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries).Single(w => w.EndsWith(".csproj", StringComparison.Ordinal));

        Assert.True(File.Exists(Path.Combine(Root, project)), $"Dockerfile publishes {project}, which does not exist");
        Assert.Contains("ENTRYPOINT [\"contention\"]", text, StringComparison.Ordinal);
        Assert.Contains("make -C tracer/native build/contention-ctrace build/contention-exec-stopped", text, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(Root, "tracer", "native", "Makefile")));
    }

    private static YamlMappingNode Load(string path)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(path)));
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    private static string Scalar(YamlNode node, string key) => ((YamlScalarNode)((YamlMappingNode)node)[key]).Value!;
}
