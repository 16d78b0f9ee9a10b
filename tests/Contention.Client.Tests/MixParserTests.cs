using Contention.Client.Mixes;
using Contention.Grains;

namespace Contention.Client.Tests;

public class MixParserTests
{
    private const string Good = """
        name: demo
        warmup: 500ms
        duration: 2m
        defaults:
          device: sim
          sync: block
        tenants:
          - name: train
            kind: training
            batch: 64
          - name: infer
            kind: inference
            replicas: 3
            rate: 150.5
            sync: spin
            restart: { max: 2, backoff: 250ms }
        """;

    [Fact]
    public void Parse_ValidMix_ExpandsReplicasAndAppliesDefaults()
    {
        var mix = MixParser.Parse(Good, "demo.yaml");

        Assert.Equal("demo", mix.Name);
        Assert.Equal(0.5, mix.WarmupSeconds);
        Assert.Equal(120, mix.DurationSeconds);
        Assert.Equal(["train", "infer-0", "infer-1", "infer-2"], mix.Tenants.Select(t => t.Name));
        var train = mix.Tenants[0];
        Assert.Equal((TenantKind.Training, "sim", SyncMode.Block, 64), (train.Kind, train.Device, train.SyncMode, train.BatchSize));
        var infer = mix.Tenants[2];
        Assert.Equal((TenantKind.Inference, SyncMode.Spin, 150.5, 2, 0.25), (infer.Kind, infer.SyncMode, infer.RatePerSecond, infer.MaxRestarts, infer.RestartBackoffSeconds));
        Assert.Equal(1, infer.BatchSize);
        Assert.NotEqual(mix.Tenants[1].Seed, mix.Tenants[2].Seed);
    }

    [Theory]
    [InlineData("tenants:\n  - name: a\n    kind: training\n", 1, "name", "required field is missing")]
    [InlineData("name: x\ntenants:\n  - name: a\n    kind: training\n    rat: 5\n", 5, "tenants[0].rat", "unknown field 'rat'")]
    [InlineData("name: x\ntenants:\n  - name: a\n    kind: inference\n    rate: fast\n", 5, "tenants[0].rate", "expected a number of at least 0, or a share of the tenant's capacity (its rate alone, closed loop) from 1% to 1000% such as 50%, got 'fast'")]
    [InlineData("name: x\ntenants:\n  - name: a\n    kind: inference\n    rate: 0%\n", 5, "tenants[0].rate", "got '0%'")]
    [InlineData("name: x\narbiter: always\ntenants:\n  - name: a\n    kind: inference\n", 2, "arbiter", "expected one of: off, gating, slicing, spatial, got 'always'")]
    [InlineData("name: x\narbiter_outstanding: 2s\ntenants:\n  - name: a\n    kind: inference\n", 2, "arbiter_outstanding", "up to 1s")]
    [InlineData("name: x\ntenants:\n  - name: a\n    kind: inference\n    rate: 1500%\n", 5, "tenants[0].rate", "got '1500%'")]
    [InlineData("name: x\ntenants:\n  - name: a\n    kind: inference\n    rate: lots%\n", 5, "tenants[0].rate", "got 'lots%'")]
    [InlineData("name: x\ntenants:\n  - name: a\n    kind: serving\n", 4, "tenants[0].kind", "expected one of: training, inference, microbench")]
    [InlineData("name: x\ntenants:\n  - name: a\n    kind: training\n    device: gpu7\n", 5, "tenants[0].device", "expected auto, cpu, cuda")]
    [InlineData("name: x\nduration: soon\ntenants:\n  - name: a\n    kind: training\n", 2, "duration", "expected a duration above zero")]
    [InlineData("name: x\ntenants: []\n", 2, "tenants", "non-empty list")]
    [InlineData("name: x\ndefaults:\n  sync: fast\ntenants:\n  - name: a\n    kind: training\n", 3, "defaults.sync", "expected one of: spin, yield, block")]
    [InlineData("name: x\ntenants:\n  - name: a\n    kind: training\n  - name: a\n    kind: training\n", 5, "tenants[1].name", "used twice")]
    [InlineData("name: x\ntenants:\n  - name: a\n    kind: microbench\n    bytes: 3 apples\n", 5, "tenants[0].bytes", "expected a size")]
    [InlineData("name: x\ntenants:\n  - name: a\n    kind: training\n    restart: { max: -1 }\n", 5, "tenants[0].restart.max", "expected a whole number")]
    [InlineData("name: [unclosed\n", 2, "(syntax)", "not valid YAML")]
    [InlineData("name: x\ntenants:\n  - name: a\n    kind: training\n    grid: { op: copy, bytes: 4KiB, iterations: 10 }\n", 5, "tenants[0].grid", "belongs to a microbench tenant")]
    [InlineData("name: x\ntenants:\n  - name: a\n    kind: command\n", 3, "tenants[0].command", "required field is missing for a command tenant")]
    [InlineData("name: x\ntenants:\n  - name: a\n    kind: training\n    command: [ls]\n", 5, "tenants[0].command", "belongs to a command tenant")]
    [InlineData("name: x\ntenants:\n  - name: a\n    kind: command\n    command: [ls]\n    latency: 'step ('\n", 6, "tenants[0].latency", "not a regular expression")]
    [InlineData("name: x\ntenants:\n  - name: a\n    kind: command\n    command: [ls]\n    latency: 'step \\d+'\n", 6, "tenants[0].latency", "needs a group")]
    [InlineData("name: x\ntenants:\n  - name: a\n    kind: command\n    command: [ls]\n    isolation: thread\n", 3, "tenants[0].isolation", "a process of its own")]
    [InlineData("name: x\ndefaults:\n  command: [ls]\ntenants:\n  - name: a\n    kind: command\n", 3, "defaults.command", "unknown field 'command'")]
    [InlineData("name: x\ntenants:\n  - name: a\n    kind: microbench\n    grid:\n      - { op: copy, bytes: 4KiB, iterations: 10 }\n      - { op: copy, bytes: [4KiB, lots], iterations: 10 }\n", 7, "tenants[0].grid[1].bytes", "got 'lots'")]
    [InlineData("name: x\ntenants:\n  - name: a\n    kind: microbench\n    grid: { op: [copy, copy], bytes: 4KiB, iterations: 10 }\n", 5, "tenants[0].grid.op", "listed twice")]
    [InlineData("name: x\ntenants:\n  - name: a\n    kind: microbench\n    grid: { op: copy, bytes: 4KiB }\n", 5, "tenants[0].grid.iterations", "required field is missing")]
    [InlineData("name: x\ntenants:\n  - name: a\n    kind: microbench\n    grid: { op: copy, bytes: 4KiB, iterations: 10, repeat: 2 }\n", 5, "tenants[0].grid.repeat", "unknown field 'repeat'")]
    public void Parse_BadInput_NamesLineAndField(string text, int line, string field, string problem)
    {
        var error = Assert.Throws<MixException>(() => MixParser.Parse(text, "bad.yaml"));

        Assert.Equal(line, error.Line);
        Assert.Equal(field, error.Field);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        Assert.StartsWith($"bad.yaml:{line}:", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("rate: 50%", 0.5, 0)]
    [InlineData("rate: 12.5%", 0.125, 0)]
    [InlineData("rate: 1000%", 10, 0)]
    [InlineData("rate: 200", 0, 200)]
    [InlineData("rate: 0", 0, 0)]
    public void Parse_Rate_RequestsPerSecondOrAShareOfCapacity(string field, double share, double perSecond)
    {
        var tenant = MixParser.Parse($"name: x\ntenants:\n  - name: a\n    kind: inference\n    {field}\n", "rate.yaml").Tenants.Single();

        Assert.Equal((share, perSecond), (tenant.RateOfCapacity, tenant.RatePerSecond));
    }

    [Fact]
    public void Parse_Grid_ExpandsOpsAndBytesIntoGroupsInOrder()
    {
        const string Text = """
            name: g
            tenants:
              - name: bench
                kind: microbench
                point_limit: 250ms
                warmup_ops: 3
                grid:
                  - { op: [copy, elementwise], bytes: [4KiB, 1MiB], iterations: [10, 1000] }
                  - { op: gemm, bytes: 64KiB, iterations: 100 }
            """;

        var bench = MixParser.Parse(Text, "g.yaml").Tenants.Single();

        Assert.Equal(
            [("copy", 4096L), ("copy", 1L << 20), ("elementwise", 4096L), ("elementwise", 1L << 20), ("gemm", 65536L)],
            bench.Grid!.Select(g => (g.Op, g.Bytes)));
        Assert.Equal([10, 1000], bench.Grid![0].Iterations);
        Assert.Equal([100], bench.Grid![4].Iterations);
        Assert.Equal((250, 3), (bench.PointLimitMs, bench.WarmupOperations));
    }

    [Fact]
    public void Parse_CommandTenant_ArgvPatternAndUnit()
    {
        const string Text = """
            name: c
            tenants:
              - name: torch
                kind: command
                device: cuda
                batch: 64
                command: [python3, scripts/resnet50_torch.py, --batch, "{batch}"]
                latency: 'took (\d+) us'
                latency_unit: us
              - name: plain
                kind: command
                command: ./bench --fast
            """;

        var tenants = MixParser.Parse(Text, "c.yaml").Tenants;

        Assert.Equal(["python3", "scripts/resnet50_torch.py", "--batch", "{batch}"], tenants[0].Command);
        Assert.Equal(("took (\\d+) us", "us", 64), (tenants[0].LatencyPattern, tenants[0].LatencyUnit, tenants[0].BatchSize));
        Assert.Equal(["./bench", "--fast"], tenants[1].Command);
        Assert.Equal("ms", tenants[1].LatencyUnit);
    }

    [Fact]
    public void Parse_Quick_MergesByKeyAndNameAndRemovesNulls()
    {
        const string Text = """
            name: q
            duration: 20s
            defaults: { device: cuda }
            tenants:
              - name: a
                kind: training
                batch: 64
              - name: b
                kind: inference
            sweep:
              repetitions: 5
              variants:
                base: {}
                slow: { sync: block }
                heavy: { a.batch: 128 }
            quick:
              duration: 1s
              defaults: { device: sim }
              tenants:
                - { name: b, rate: 7 }
              sweep:
                repetitions: 2
                variants:
                  heavy: ~
            """;

        var full = MixParser.Parse(Text, "q.yaml");
        var quick = MixParser.Parse(Text, "q.yaml", quick: true);

        Assert.Equal((20.0, 5, 3), (full.DurationSeconds, full.Sweep!.Repetitions, full.Sweep.PointCount));
        Assert.Equal((1.0, 2, 2), (quick.DurationSeconds, quick.Sweep!.Repetitions, quick.Sweep.PointCount));
        Assert.Equal(["base", "slow"], quick.Sweep.Axes[0].Values);
        var b = quick.Tenants.Single(t => t.Name == "b");
        Assert.Equal(("sim", 7.0), (b.Device, b.RatePerSecond));
        Assert.Equal(("sim", 64), (quick.Tenants[0].Device, quick.Tenants[0].BatchSize));
        Assert.Equal(0, full.Tenants.Single(t => t.Name == "b").RatePerSecond);
    }

    [Theory]
    [InlineData("name: q\ntenants:\n  - name: a\n    kind: training\n", 1, "quick", "has no 'quick' section")]
    [InlineData("name: q\ntenants:\n  - name: a\n    kind: training\nquick:\n  tenants:\n    - { name: z, batch: 2 }\n", 7, "quick.tenants[0].name", "no entry named 'z'")]
    public void Parse_BadQuick_SaysWhy(string text, int line, string field, string problem)
    {
        var error = Assert.Throws<MixException>(() => MixParser.Parse(text, "q.yaml", quick: true));

        Assert.Equal((line, field), (error.Line, error.Field));
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MissingFile_PointsAtTheShippedMixes()
    {
        var error = Assert.Throws<MixException>(() => MixParser.Load("no/such/mix.yaml"));

        Assert.Contains("mixes/default.yaml", error.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string> ShippedMixes() => [.. MixFiles()];

    [Theory]
    [MemberData(nameof(ShippedMixes))]
    public void Load_ShippedMix_ParsesAsIsAndQuick(string file)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "mixes", file);
        var mix = MixParser.Load(path);

        Assert.NotEmpty(mix.Tenants);
        if (mix.Text.Contains("\nquick:", StringComparison.Ordinal))
        {
            Assert.NotEmpty(MixParser.Load(path, quick: true).Tenants);
        }
    }

    [Fact]
    public void ShippedMixes_AreAllFound()
    {
        Assert.Contains(Path.Combine("validation", "timeslice-probes.yaml"), MixFiles());
        Assert.True(MixFiles().Count >= 10);
    }

    private static List<string> MixFiles()
    {
        var root = Path.Combine(AppContext.BaseDirectory, "mixes");
        return [.. Directory.GetFiles(root, "*.yaml", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(root, f)).Order(StringComparer.Ordinal)];
    }

    [Theory]
    [InlineData("500ms", 0.5)]
    [InlineData("3s", 3)]
    [InlineData("2m", 120)]
    [InlineData("1.5", 1.5)]
    [InlineData("250us", 0.00025)]
    public void TryParseSeconds_Units_Converts(string text, double seconds)
    {
        Assert.True(Units.TryParseSeconds(text, out var value));
        Assert.Equal(seconds, value, 9);
    }

    [Theory]
    [InlineData("4KiB", 4096)]
    [InlineData("1GiB", 1L << 30)]
    [InlineData("1MB", 1_000_000)]
    [InlineData("512", 512)]
    public void TryParseBytes_Units_Converts(string text, long bytes)
    {
        Assert.True(Units.TryParseBytes(text, out var value));
        Assert.Equal(bytes, value);
    }
}
