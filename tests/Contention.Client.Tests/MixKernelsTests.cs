using Contention.Client.Commands;
using Contention.Client.Mixes;
using Contention.Workloads.Kernels;

namespace Contention.Client.Tests;

public class MixKernelsTests
{
    private const string Mix = """
        name: kernels
        warmup: 1s
        duration: 2s
        tenants:
          - name: probe
            kind: inference
            model: mlp
            batch: 1
            rate: 50%
          - name: spinner
            kind: microbench
            op: gemm
            bytes: 12MiB
            iterations: 64
          - name: job
            kind: command
            command: [/bin/true]
        sweep:
          repetitions: 3
          axes:
            spinner.bytes: [12MiB, 3MiB]
            spinner.op: [gemm, elementwise, copy]
        """;

    [Fact]
    public void Of_ASweepOfSizesAndOps_EveryDistinctComputeKernelOnceInOrder_CopiesAndCommandsLeftOut()
    {
        var skipped = new List<string>();

        var kernels = MixKernels.Of(MixParser.Parse(Mix, "kernels.yaml"), skipped);

        // The MLP's batch-1 request (its compute kernels, not its copies), then per point the
        // spinner's kernel: GEMMs of 1024³ (12 MiB) and 512³ (3 MiB), element-wise over 12 MiB /
        // 12 and 3 MiB / 12 elements; copies are no kernels to time; the request's kernels at
        // every point and the points' later repetitions add nothing.
        var request = Workloads.Workloads.ModelShapes.InferenceRequest("mlp", 1).Where(k => k.Kind is not (KernelKind.CopyToDevice or KernelKind.CopyToHost)).Distinct().ToList();
        Assert.Equal(
            [.. request, KernelSpec.Gemm(1024, 1024, 1024), KernelSpec.Elementwise(1_048_576, ElementwiseOp.Add), KernelSpec.Gemm(512, 512, 512), KernelSpec.Elementwise(262_144, ElementwiseOp.Add)],
            kernels);
        Assert.Equal(["job (command)"], skipped);
    }

    [Fact]
    public async Task Calibrate_MixFileMissing_SaysSoBeforeLookingForAGpu()
    {
        var output = new StringWriter();
        var console = Spectre.Console.AnsiConsole.Console;
        Spectre.Console.AnsiConsole.Console = Consoles.Plain(output);
        try
        {
            var code = await BenchCommand.Create().Parse(["calibrate", "--kernels-only", "--mix", "no-such-mix.yaml"]).InvokeAsync();

            Assert.Equal(2, code);
            Assert.Contains("--mix: no-such-mix.yaml: no such mix file", output.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            Spectre.Console.AnsiConsole.Console = console;
        }
    }

    [Theory]
    [InlineData("--round-trips-only")]
    [InlineData("--wake-ups-only")]
    [InlineData("--interruptions-only")]
    public void Calibrate_MixWithAnOnlyThatTimesNoKernels_IsAParseError(string only)
    {
        var parse = BenchCommand.Create().Parse(["calibrate", only, "--mix", "mixes/default.yaml"]);

        Assert.Contains(parse.Errors, e => e.Message.Contains("--mix times kernels", StringComparison.Ordinal));
    }
}
