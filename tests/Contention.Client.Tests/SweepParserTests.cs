using Contention.Client.Mixes;
using Contention.Grains;

namespace Contention.Client.Tests;

public class SweepParserTests
{
    private const string Sweep = """
        name: s
        defaults:
          device: sim
        tenants:
          - name: train
            kind: training
          - name: infer
            kind: inference
            rate: 10
          - name: be
            kind: training
            replicas: 1
        sweep:
          repetitions: 2
          axes:
            sync: [spin, block]
            infer.rate: [10, 20]
            be.replicas: [0, 2]
        """;

    [Fact]
    public void Parse_ThreeAxesTwoRepetitions_ExpandsTheProductInOrder()
    {
        var sweep = MixParser.Parse(Sweep, "s.yaml").Sweep!;

        Assert.Equal(["sync", "infer.rate", "be.replicas"], sweep.Axes.Select(a => a.Name));
        Assert.Equal((8, 2, 16), (sweep.PointCount, sweep.Repetitions, sweep.Points.Count));
        // All points of repetition 1, then of repetition 2; the last axis varies fastest.
        Assert.Equal(["p001-r1", "p002-r1", "p003-r1"], sweep.Points.Take(3).Select(p => p.Id));
        Assert.Equal("p001-r2", sweep.Points[8].Id);
        Assert.Equal("sync=spin infer.rate=20 be.replicas=2", sweep.Points[3].Describe());
        Assert.Equal(sweep.Points[3].Values, sweep.Points[11].Values);
    }

    [Fact]
    public void Reseeded_EachRepetitionMovesEveryTenantsSeed()
    {
        // Repetition 1 runs the mix's seeds; repetition 2 each seed + the stride (replicas keep theirs apart).
        var sweep = MixParser.Parse(Sweep, "s.yaml").Sweep!;
        var first = sweep.Points[3];
        var second = sweep.Points[11];

        Assert.Same(first.Mix, first.Reseeded());
        Assert.Equal(first.Mix.Tenants.Select(t => t.Seed), second.Mix.Tenants.Select(t => t.Seed));
        Assert.Equal(second.Mix.Tenants.Select(t => t.Seed + SweepPoint.RepetitionSeedStride), second.Reseeded().Tenants.Select(t => t.Seed));
        Assert.Equal(second.Mix.Tenants.Select(t => t.Name), second.Reseeded().Tenants.Select(t => t.Name));
        Assert.Equal(2 * SweepPoint.RepetitionSeedStride, SweepPoint.SeedOffsetOf(3));
    }

    [Fact]
    public void Parse_Variants_OneKnobAtATimeThenTheAxes()
    {
        const string Text = """
            name: v
            defaults:
              device: sim
            tenants:
              - name: train
                kind: training
            sweep:
              repetitions: 3
              variants:
                baseline: {}
                yield: { sync: yield }
                pageable-step: { pinned: false, train.alloc: step }
              axes:
                duration: [1s, 2s]
            """;

        var sweep = MixParser.Parse(Text, "v.yaml").Sweep!;

        Assert.Equal(["variant", "duration"], sweep.Axes.Select(a => a.Name));
        Assert.Equal(["baseline", "yield", "pageable-step"], sweep.Axes[0].Values);
        Assert.Equal((6, 18), (sweep.PointCount, sweep.Points.Count));
        var train = sweep.Points.Select(p => p.Mix.Tenants.Single()).ToList();
        Assert.Equal((SyncMode.Spin, true, "reuse"), (train[0].SyncMode, train[0].PinnedHost, train[0].Allocation));
        Assert.Equal((SyncMode.Yield, true, "reuse"), (train[2].SyncMode, train[2].PinnedHost, train[2].Allocation));
        Assert.Equal((SyncMode.Spin, false, "step"), (train[5].SyncMode, train[5].PinnedHost, train[5].Allocation));
        Assert.Equal("variant=pageable-step duration=2s", sweep.Points[5].Describe());
    }

    [Fact]
    public void Parse_VariantSwappingTenants_ChecksEachSettingWithTheEarlierOnesApplied()
    {
        const string Text = """
            name: v
            defaults:
              device: sim
            tenants:
              - name: infer
                kind: inference
              - name: train
                kind: training
                replicas: 0
            sweep:
              variants:
                infer: {}
                train: { train.replicas: 1, infer.replicas: 0 }
            """;

        var sweep = MixParser.Parse(Text, "v.yaml").Sweep!;

        Assert.Equal(["infer", "train"], sweep.Points.Select(p => p.Mix.Tenants.Single().Name));
        var wrongOrder = Text.Replace("{ train.replicas: 1, infer.replicas: 0 }", "{ infer.replicas: 0, train.replicas: 1 }", StringComparison.Ordinal);
        var error = Assert.Throws<MixException>(() => MixParser.Parse(wrongOrder, "v.yaml"));
        Assert.Contains("sweep.variants.train.infer.replicas", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_PointWithEveryTenantLeftOut_IsLeftOutAndSaid_TheOthersKeepTheirNumbers()
    {
        const string Text = """
            name: z
            defaults:
              device: sim
            tenants:
              - name: infer
                kind: inference
              - name: train
                kind: training
            sweep:
              axes:
                infer.replicas: [1, 0]
                train.replicas: [0, 1]
            """;

        var sweep = MixParser.Parse(Text, "z.yaml").Sweep!;

        Assert.Equal(["p001-r1", "p002-r1", "p004-r1"], sweep.Points.Select(p => p.Id));
        Assert.Equal(["infer.replicas=0, train.replicas=0"], sweep.LeftOut);
        Assert.Equal(["train"], sweep.Points[2].Mix.Tenants.Select(t => t.Name));
        var none = Assert.Throws<MixException>(() => MixParser.Parse(Text.Replace("[1, 0]", "[0]", StringComparison.Ordinal).Replace("[0, 1]", "[0]", StringComparison.Ordinal), "z.yaml"));
        Assert.Contains("every point leaves every tenant out (replicas: 0)", none.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("    fast: { sync: warp }\n", 11, "sweep.variants.fast.sync", "expected one of: spin, yield, block")]
    [InlineData("    odd: { colour: red }\n", 11, "sweep.variants.odd.colour", "not a field a sweep can vary")]
    [InlineData("    nobody: { ghost.sync: yield }\n", 11, "sweep.variants.nobody.ghost.sync", "no tenant is named 'ghost'")]
    [InlineData("    flat: yield\n", 11, "sweep.variants.flat", "expected a mapping of field to value")]
    public void Parse_BadVariant_NamesLineAndField(string variant, int line, string field, string problem)
    {
        var text = "name: v\ndefaults:\n  device: sim\ntenants:\n  - name: train\n    kind: training\nsweep:\n  repetitions: 2\n  variants:\n    baseline: {}\n" + variant;

        var error = Assert.Throws<MixException>(() => MixParser.Parse(text, "v.yaml"));

        Assert.Equal((line, field), (error.Line, error.Field));
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_Point_AppliesValuesToEveryTenantOrTheNamedOne()
    {
        var points = MixParser.Parse(Sweep, "s.yaml").Sweep!.Points;

        var first = points[0].Mix;
        Assert.Equal(["train", "infer"], first.Tenants.Select(t => t.Name));
        Assert.All(first.Tenants, t => Assert.Equal(SyncMode.Spin, t.SyncMode));
        var last = points[7].Mix;
        Assert.Equal(["train", "infer", "be-0", "be-1"], last.Tenants.Select(t => t.Name));
        Assert.All(last.Tenants, t => Assert.Equal(SyncMode.Block, t.SyncMode));
        Assert.Equal(20, last.Tenants.Single(t => t.Name == "infer").RatePerSecond);
        Assert.Null(last.Sweep);
    }

    [Fact]
    public void Parse_DurationAxis_SetsEachPointsWindow()
    {
        var mix = MixParser.Parse("name: d\ntenants:\n  - name: a\n    kind: training\nsweep:\n  axes:\n    duration: [1s, 2m]\n", "d.yaml");

        Assert.Equal([1.0, 120.0], mix.Sweep!.Points.Select(p => p.Mix.DurationSeconds));
        Assert.Equal(1, mix.Sweep.Repetitions);
    }

    [Theory]
    [InlineData("    sync: [spin, fast]\n", 8, "sweep.axes.sync", "expected one of: spin, yield, block, got 'fast'")]
    [InlineData("    colour: [red]\n", 8, "sweep.axes.colour", "not a field a sweep can vary")]
    [InlineData("    nobody.rate: [1]\n", 8, "sweep.axes.nobody.rate", "no tenant is named 'nobody'; expected one of: a")]
    [InlineData("    sync: []\n", 8, "sweep.axes.sync", "non-empty list")]
    [InlineData("    sync: [spin, spin]\n", 8, "sweep.axes.sync", "listed twice")]
    [InlineData("    replicas: [0]\n", 8, "sweep.axes.replicas", "at least one tenant")]
    public void Parse_BadAxis_NamesTheValuesLineAndAxis(string axis, int line, string field, string problem)
    {
        var text = "name: x\ntenants:\n  - name: a\n    kind: inference\nsweep:\n  repetitions: 1\n  axes:\n" + axis;

        var error = Assert.Throws<MixException>(() => MixParser.Parse(text, "bad.yaml"));

        Assert.Equal((line, field), (error.Line, error.Field));
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_BadRepetitions_SaysWhatItTakes()
    {
        var error = Assert.Throws<MixException>(() => MixParser.Parse("name: x\ntenants:\n  - name: a\n    kind: training\nsweep:\n  repetitions: 0\n  axes:\n    sync: [spin]\n", "bad.yaml"));

        Assert.Equal((6, "sweep.repetitions"), (error.Line, error.Field));
        Assert.Contains("1 to 1000", error.Message, StringComparison.Ordinal);
    }
}
