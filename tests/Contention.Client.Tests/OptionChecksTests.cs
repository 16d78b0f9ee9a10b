using System.CommandLine;
using Contention.Client.Commands;

namespace Contention.Client.Tests;

public class OptionChecksTests
{
    public static TheoryData<string, string[], string?> ClusterCommands => new()
    {
        { "run", ["mixes/default.yaml"], "leave it out to run on an embedded node" },
        { "simulate", ["mixes/default.yaml"], "leave it out to simulate on an embedded node" },
        { "status", [], null },
        { "stop", ["e1"], null },
        { "attach", ["node/e1"], null },
    };

    [Theory]
    [MemberData(nameof(ClusterCommands))]
    public void Parse_ClusterNotRedis_OneErrorNamingTheOptionAndWhatItExpects(string name, string[] arguments, string? without)
    {
        var command = Command(name);

        var errors = command.Parse([.. arguments, "--cluster", "localhost:6379"]).Errors.Select(e => e.Message).ToList();
        var redis = command.Parse([.. arguments, "--cluster", "REDIS://localhost:6379"]).Errors;

        var error = Assert.Single(errors);
        Assert.StartsWith("--cluster: expected redis://HOST:PORT of a running cluster, got 'localhost:6379'", error, StringComparison.Ordinal);
        Assert.Equal(without is not null, error.EndsWith($"; {without}", StringComparison.Ordinal));
        Assert.Empty(redis);
    }

    [Theory]
    [InlineData("run", "mixes/default.yaml")]
    [InlineData("silo", null)]
    public void ThreadCalls_WithTheTracerOff_RefusedSayingWhatToDo(string name, string? mix)
    {
        string[] arguments = mix is null ? [] : [mix];
        var command = Command(name);

        var refused = command.Parse([.. arguments, "--ebpf", "off", "--thread-calls"]).Errors.Select(e => e.Message).ToList();

        Assert.Equal("--thread-calls counts with the eBPF tracer, which --ebpf off leaves out: give --ebpf full, exact or counts, or drop --thread-calls", Assert.Single(refused));
        Assert.Empty(command.Parse([.. arguments, "--ebpf", "counts", "--thread-calls"]).Errors);
        Assert.Empty(command.Parse([.. arguments, "--thread-calls"]).Errors);
    }

    [Theory]
    [InlineData("run", "mixes/default.yaml")]
    [InlineData("silo", null)]
    public void EbpfTimeout_OutsideOneSecondToAnHour_RefusedNamingTheOption(string name, string? mix)
    {
        string[] arguments = mix is null ? [] : [mix];
        var command = Command(name);

        foreach (var bad in new[] { "0s", "2h", "soon" })
        {
            var refused = command.Parse([.. arguments, "--ebpf-timeout", bad]).Errors.Select(e => e.Message).ToList();
            Assert.Equal($"--ebpf-timeout: expected a duration from 1 s to 1 h such as 15m, got '{bad}'", Assert.Single(refused));
        }

        var parsed = command.Parse([.. arguments, "--ebpf-timeout", "2m"]);
        Assert.Empty(parsed.Errors);
        Assert.Equal(120, parsed.Seconds(command.Options.OfType<Option<string>>().Single(o => o.Name == "--ebpf-timeout")));
        Assert.Equal(30, command.Parse(arguments).Seconds(command.Options.OfType<Option<string>>().Single(o => o.Name == "--ebpf-timeout")));
    }

    private static Command Command(string name) => name switch
    {
        "silo" => SiloCommand.Create(),
        "run" => RunCommand.Create(),
        "simulate" => SimulateCommand.Create(),
        "status" => StatusCommand.Create(),
        "stop" => StatusCommand.CreateStop(),
        "attach" => DetachCommands.CreateAttach(),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
    };
}
