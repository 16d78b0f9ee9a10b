using Contention.Client.Mixes;
using Contention.Grains;

namespace Contention.Client.Tests;

/// <summary>Replay tenants in a mix: the trace read and checked when the mix is, errors naming the mix's line and field.</summary>
public sealed class ReplayMixTests : IDisposable
{
    private static readonly string Example = Path.Combine(Repository.Root, "examples", "record", "two-steps.ktrace.json");

    private readonly string directory = Directory.CreateTempSubdirectory("contention-replay-mix-").FullName;

    public void Dispose() => Directory.Delete(directory, true);

    private static string Mix(string fields) => $"name: m\ntenants:\n  - name: r\n    kind: replay\n{fields}";

    [Fact]
    public void Parse_ReplayTenant_TraceAbsoluteStepsAndTheModelledGpu()
    {
        var spec = MixParser.Parse(Mix($"    trace: {Example}\n    steps: 2\n    rate: 50\n"), "m.yaml").Tenants.Single();

        Assert.Equal((TenantKind.Replay, Example, 2, "sim", 50.0), (spec.Kind, spec.Trace, spec.TraceSteps, spec.Device, spec.RatePerSecond));
        Assert.Equal(0, MixParser.Parse(Mix($"    trace: {Example}\n    steps: all\n    device: sim:1\n"), "m.yaml").Tenants.Single().TraceSteps);
        Assert.Equal("cuda:1", MixParser.Parse(Mix($"    trace: {Example}\n    device: cuda:1\n"), "m.yaml").Tenants.Single().Device);
    }

    [Theory]
    [InlineData("", 3, "tenants[0].trace", "required field is missing for a replay tenant")]
    [InlineData("    trace: EXAMPLE\n    steps: 3\n", 6, "tenants[0].steps", "3 steps asked for, it recorded 2")]
    [InlineData("    trace: EXAMPLE\n    steps: none\n", 6, "tenants[0].steps", "expected all, or a whole number of at least 1, got 'none'")]
    [InlineData("    trace: EXAMPLE\n    device: cpu\n", 6, "tenants[0].device", "a replay tenant replays GPU kernels: on a real GPU (cuda, cuda:N")]
    [InlineData("    trace: no/such.ktrace.json\n", 5, "tenants[0].trace", "cannot read the kernel trace")]
    public void Parse_BadReplayTenant_ErrorNamesTheLineAndField(string fields, int line, string field, string problem)
    {
        var error = Assert.Throws<MixException>(() => MixParser.Parse(Mix(fields.Replace("EXAMPLE", Example, StringComparison.Ordinal)), "m.yaml"));

        Assert.Equal((line, field), (error.Line, error.Field));
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_BadTraceFile_TheTracesRecordAndFieldInTheMixError()
    {
        var bad = Path.Combine(directory, "bad.ktrace.json");
        File.WriteAllText(bad, File.ReadAllText(Example).Replace("\"kernel\": 1,", "\"kernel\": 9,", StringComparison.Ordinal));

        var error = Assert.Throws<MixException>(() => MixParser.Parse(Mix($"    trace: {bad}\n"), "m.yaml"));

        Assert.Equal((5, "tenants[0].trace"), (error.Line, error.Field));
        Assert.Contains($"{bad}: step 0, op 2, field kernel: expected an index into the file's 2 kernels", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ReplayFieldOnAnotherKind_Refused()
    {
        var error = Assert.Throws<MixException>(() => MixParser.Parse($"name: m\ntenants:\n  - name: t\n    kind: training\n    trace: {Example}\n", "m.yaml"));

        Assert.Equal((5, "tenants[0].trace"), (error.Line, error.Field));
        Assert.Contains("'trace' belongs to a replay tenant, not to a training one", error.Message, StringComparison.Ordinal);
    }
}
