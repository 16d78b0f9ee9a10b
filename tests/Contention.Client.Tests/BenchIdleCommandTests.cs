using Contention.Client.Commands;
using Contention.Workloads.Benchmarks;

namespace Contention.Client.Tests;

public class BenchIdleCommandTests
{
    [Theory]
    [InlineData("0,200us,1ms,20ms", new long[] { 0, 200_000, 1_000_000, 20_000_000 })]
    [InlineData(" 5ms , 0 ", new long[] { 5_000_000, 0 })]
    public void ParseGaps_Durations_Nanoseconds(string text, long[] expected) =>
        Assert.Equal(expected, BenchIdleCommand.ParseGaps(text));

    [Theory]
    [InlineData("")]
    [InlineData("1ms,lots")]
    [InlineData("20s")]
    public void ParseGaps_NotDurationsOrOver10Seconds_Null(string text) =>
        Assert.Null(BenchIdleCommand.ParseGaps(text));

    [Theory]
    [InlineData("both", new[] { IdleWay.Sleep, IdleWay.Spin })]
    [InlineData("evict, gemm,evict", new[] { IdleWay.Evict, IdleWay.Gemm })]
    [InlineData("spin,both", new[] { IdleWay.Spin, IdleWay.Sleep })]
    public void ParseWays_Named_EachOnceInOrder(string text, IdleWay[] expected) =>
        Assert.Equal(expected, BenchIdleCommand.ParseWays(text));

    [Theory]
    [InlineData("")]
    [InlineData("sleep,flush")]
    public void ParseWays_UnknownOrNone_NullAndAParseError(string text)
    {
        Assert.Null(BenchIdleCommand.ParseWays(text));
        Assert.Contains(BenchIdleCommand.Create().Parse(["--idle", text]).Errors, e => e.Message.StartsWith("--idle", StringComparison.Ordinal));
    }

    [Fact]
    public void EvictElements_Megabytes_ThreeFloatsATwelveByteElement()
    {
        Assert.Equal(1L << 26, BenchIdleCommand.EvictElements(768));
        Assert.Equal((64L << 20) / 12, BenchIdleCommand.EvictElements(64));
        Assert.Contains(BenchIdleCommand.Create().Parse(["--evict-mb", "0"]).Errors, e => e.Message.Contains("--evict-mb", StringComparison.Ordinal));
        Assert.Contains(BenchIdleCommand.Create().Parse(["--evict-passes", "0"]).Errors, e => e.Message.Contains("--evict-passes", StringComparison.Ordinal));
        Assert.Empty(BenchIdleCommand.Create().Parse(["--idle", "evict", "--evict-mb", "16", "--evict-passes", "48"]).Errors);
    }

    [Theory]
    [InlineData("--device", "sim:0")]
    [InlineData("--sync", "spin")]
    [InlineData("--gaps", "1ms,20ms")]
    [InlineData("--idle", "spin")]
    [InlineData("--idle", "evict,gemm")]
    public void Parse_OutWithoutWhatTheIdleCostsNeed_SaysWhat(string option, string value)
    {
        var parse = BenchIdleCommand.Create().Parse(["--out", "profile.json", option, value]);

        Assert.Contains(parse.Errors, e => e.Message.StartsWith("--out measures a profile's idle costs", StringComparison.Ordinal));
    }

    [Fact]
    public void Prefetch_DataAnElementwiseKernelOverTheRequestsLargestBuffer_CodeEachKernelFunctionOnce_NotWithOut()
    {
        // The batch-1 MLP's largest buffer is a layer's weights, 1,024 x 1,024 floats (its GEMMs' B).
        var request = Contention.Workloads.Workloads.ModelShapes.InferenceRequest("mlp", 1);
        Assert.Equal(Contention.Workloads.Kernels.KernelSpec.Elementwise(1 << 20, Contention.Workloads.Kernels.ElementwiseOp.Add), IdleBenchmark.Prefetch(request));
        // It touches all of every device buffer the request uses.
        var (touched, used) = (Contention.Workloads.Devices.WorkspaceSize.For([IdleBenchmark.Prefetch(request)]), Contention.Workloads.Devices.WorkspaceSize.For(request));
        Assert.True(touched.A >= used.A && touched.B >= used.B && touched.C >= used.C);

        // Its code instead: each kernel function once, on one element.
        Assert.Equal([Contention.Workloads.Kernels.KernelSpec.Gemm(1, 1, 1), Contention.Workloads.Kernels.KernelSpec.Elementwise(1, Contention.Workloads.Kernels.ElementwiseOp.Add)], IdleBenchmark.WarmCode(request));

        Assert.Empty(BenchIdleCommand.Create().Parse(["--prefetch", "code", "--idle", "evict"]).Errors);
        Assert.NotEmpty(BenchIdleCommand.Create().Parse(["--prefetch", "weights"]).Errors);
        Assert.Contains(BenchIdleCommand.Create().Parse(["--out", "profile.json", "--prefetch", "data"]).Errors, e => e.Message.Contains("leave out --prefetch", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_OutWithTheDefaults_Accepted()
    {
        Assert.Empty(BenchIdleCommand.Create().Parse(["--out", "profile.json"]).Errors);
        Assert.Contains(BenchIdleCommand.Create().Parse(["--gaps", "1ms,lots"]).Errors, e => e.Message.StartsWith("--gaps", StringComparison.Ordinal));
    }

    [Fact]
    public void Table_EachGapsMedianRequestAgainstBackToBack()
    {
        var results = new[]
        {
            new IdleGapTimes(0, IdleWay.Evict, [0, 0, 0], [100_000, 100_000, 100_000], [300_000, 300_000, 310_000]),
            new IdleGapTimes(0, IdleWay.Sleep, [0, 0, 0], [50_000, 60_000, 70_000], [150_000, 150_000, 150_000]),
            new IdleGapTimes(20_000_000, IdleWay.Spin, [1_000, 2_000, 3_000], [80_000, 90_000, 100_000], [160_000, 170_000, 180_000]),
        };
        var output = new StringWriter();

        Consoles.Plain(output).Write(BenchIdleCommand.Table(results, "t"));

        // Back to back: requests 200, 210, 220 us (median 210); after 20 ms: 240, 260, 280 (median 260, 50 more).
        var rows = output.ToString().Split('\n');
        Assert.Contains(rows, r => r.Contains("evict", StringComparison.Ordinal) && r.Contains("400.0 / 410.0", StringComparison.Ordinal) && r.Contains("190.0", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.Contains("20 ms", StringComparison.Ordinal) && r.Contains("spin", StringComparison.Ordinal) && r.Contains("260.0 / 280.0", StringComparison.Ordinal) && r.Contains("50.0", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.Contains("210.0 / 220.0", StringComparison.Ordinal));
    }

    [Fact]
    public void Table_TimedKernels_TheirSumSpanAndTheWaitBeyondEachSpan_OverTheTimedRequestsOnly()
    {
        var results = new[]
        {
            new IdleGapTimes(0, IdleWay.Sleep, [0, 0], [40_000, 40_000], [140_000, 140_000]),
            new IdleGapTimes(20_000_000, IdleWay.Sleep, [1_000, 1_000, 1_000], [50_000, 50_000, 50_000], [300_000, 320_000, 340_000], KernelNs: [170_000, -1, 180_000], SpanNs: [175_000, -1, 185_000]),
        };
        var output = new StringWriter();

        Consoles.Plain(output).Write(BenchIdleCommand.Table(results, "t"));

        // The second request was not timed: the columns go over the first and third (nearest rank of
        // two: p50 the lower, p99 the higher), the wait beyond the span 300 - 175 and 340 - 185 us.
        var text = output.ToString();
        Assert.Contains("GPU span", text, StringComparison.Ordinal);
        var row = text.Split('\n').Single(r => r.Contains("20 ms", StringComparison.Ordinal));
        Assert.Contains("170.0 / 180.0", row, StringComparison.Ordinal);
        Assert.Contains("175.0 / 185.0", row, StringComparison.Ordinal);
        Assert.Contains("125.0 / 155.0", row, StringComparison.Ordinal);

        // Untimed runs keep the table as it was.
        var plain = new StringWriter();
        Consoles.Plain(plain).Write(BenchIdleCommand.Table([results[0]], "t"));
        Assert.DoesNotContain("GPU span", plain.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_TimeKernelsWithOut_SaysToLeaveItOut()
    {
        Assert.Contains(BenchIdleCommand.Create().Parse(["--out", "profile.json", "--time-kernels"]).Errors, e => e.Message.Contains("leave out --time-kernels", StringComparison.Ordinal));
        Assert.Empty(BenchIdleCommand.Create().Parse(["--time-kernels", "--gaps", "0,20ms"]).Errors);
        Assert.Empty(BenchIdleCommand.Create().Parse(["--time-kernels", "--high-priority"]).Errors);
    }
}
