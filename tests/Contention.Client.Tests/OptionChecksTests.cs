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

    private static Command Command(string name) => name switch
    {
        "run" => RunCommand.Create(),
        "simulate" => SimulateCommand.Create(),
        "status" => StatusCommand.Create(),
        "stop" => StatusCommand.CreateStop(),
        "attach" => DetachCommands.CreateAttach(),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
    };
}
