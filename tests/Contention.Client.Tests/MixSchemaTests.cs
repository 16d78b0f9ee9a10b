using System.Text.RegularExpressions;
using Contention.Client.Mixes;
using Contention.Grains;

namespace Contention.Client.Tests;

/// <summary>The schema is the one description of a mix: the parser, the sweep parser and docs/mixes.md agree with it.</summary>
public partial class MixSchemaTests
{

    /// <summary>A value for each tenant field but name and grid, none of them its default, valid for a microbench tenant on the cpu (the command fields for a command tenant).</summary>
    private static readonly Dictionary<string, string> NonDefault = new(StringComparer.Ordinal)
    {
        ["kind"] = "microbench",
        ["device"] = "cpu",
        ["sync"] = "block",
        ["pinned"] = "false",
        ["priority"] = "5",
        ["isolation"] = "thread",
        ["replicas"] = "2",
        ["model"] = "mlp",
        ["batch"] = "7",
        ["rate"] = "9",
        ["op"] = "gemm",
        ["bytes"] = "4KiB",
        ["iterations"] = "11",
        ["seed"] = "13",
        ["cpu_threads"] = "2",
        ["gpu_share"] = "30",
        ["gpu_timing"] = "2.5%",
        ["restart"] = "{ max: 3, backoff: 2s }",
        ["point_limit"] = "250ms",
        ["warmup_ops"] = "4",
        ["alloc"] = "step",
        ["command"] = "true",
        ["latency"] = "'step (\\d+)'",
        ["latency_unit"] = "us",
    };

    [Fact]
    public void Docs_FieldTable_ListsEveryTenantFieldWithTheSchemaDefault()
    {
        var docs = File.ReadAllText(Path.Combine(Repository.Root, "docs", "mixes.md"));

        var rows = TableRow().Matches(docs).ToDictionary(m => m.Groups["field"].Value, m => Unquote(m.Groups["default"].Value));

        Assert.Equal(MixSchema.Tenant.Select(f => f.Name).Order(StringComparer.Ordinal), rows.Keys.Order(StringComparer.Ordinal));
        Assert.All(MixSchema.Tenant, f => Assert.Equal((f.Name, f.Default), (f.Name, rows[f.Name])));
    }

    public static TheoryData<string> Defaulted() => [.. MixSchema.Tenant.Where(f => f.Default is not ("—" or "none") && !f.Default.Contains(' ', StringComparison.Ordinal)).Select(f => f.Name)];

    [Theory]
    [MemberData(nameof(Defaulted))]
    public void Parse_FieldSetToItsDocumentedDefault_GivesTheTenantLeftWithout(string name)
    {
        var field = MixSchema.TenantField(name);
        var kind = field.Kinds.Count > 0 ? field.Kinds[0].Word() : "training";
        var without = Minimal(kind);
        var extra = kind == "command" ? "    command: [true]\n" : "";
        var with = without + extra + $"    {name}: '{field.Default.Replace("'", "''", StringComparison.Ordinal)}'\n";

        var expected = MixParser.Parse(without + extra, "m.yaml").Tenants.Single();
        var actual = MixParser.Parse(with, "m.yaml").Tenants.Single();

        Assert.Equal(expected with { Command = null, Grid = null }, actual with { Command = null, Grid = null });
    }

    [Theory]
    [InlineData("training", 32)]
    [InlineData("inference", 1)]
    public void Parse_NoBatch_GivesTheDocumentedBatchOfTheKind(string kind, int batch)
    {
        var spec = MixParser.Parse(Minimal(kind), "m.yaml").Tenants.Single();

        Assert.Equal(batch, spec.BatchSize);
        Assert.Contains($"{batch} ({kind})", MixSchema.TenantField("batch").Default, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_EveryFieldDefaultsMayGive_IsTakenFromTheDefaults()
    {
        var values = NonDefault.Where(v => !MixSchema.TenantField(v.Key).TenantOnly).ToList();
        Assert.Equal(MixSchema.Tenant.Where(f => !f.TenantOnly).Select(f => f.Name).Order(StringComparer.Ordinal), values.Select(v => v.Key).Order(StringComparer.Ordinal));
        var text = "name: m\ndefaults:\n" + string.Concat(values.Select(v => $"  {v.Key}: {v.Value}\n")) + "tenants:\n  - name: t\n";

        var spec = MixParser.Parse(text, "m.yaml").Tenants.Single();

        Assert.Equal(
            (TenantKind.Microbench, "cpu", SyncMode.Block, false, 5, Isolation.Thread, "mlp", 7, 9.0, "gemm", 4096L, 11, 13, 2, 3, 2.0, 250, 4, "step", 30, 0.025),
            (spec.Kind, spec.Device, spec.SyncMode, spec.PinnedHost, spec.Priority, spec.Isolation, spec.Model, spec.BatchSize, spec.RatePerSecond, spec.Op, spec.Bytes, spec.Iterations, spec.Seed, spec.CpuThreads, spec.MaxRestarts, spec.RestartBackoffSeconds, spec.PointLimitMs, spec.WarmupOperations, spec.Allocation, spec.GpuSharePercent, spec.GpuTimingBudget));
    }

    [Fact]
    public void Parse_TenantOnlyFieldInDefaults_IsRefusedNamingTheField()
    {
        foreach (var field in MixSchema.Tenant.Where(f => f.TenantOnly))
        {
            var error = Assert.Throws<MixException>(() => MixParser.Parse($"name: m\ndefaults:\n  {field.Name}: x\ntenants:\n  - name: t\n    kind: training\n", "m.yaml"));

            Assert.Equal((3, $"defaults.{field.Name}"), (error.Line, error.Field));
        }
    }

    [Fact]
    public void Parse_SweepOverEverySweepableField_IsAccepted()
    {
        var values = NonDefault.Where(v => MixSchema.TenantAxes.Contains(v.Key)).ToList();
        Assert.Equal(MixSchema.TenantAxes.Order(StringComparer.Ordinal), values.Select(v => v.Key).Order(StringComparer.Ordinal));

        foreach (var (field, value) in values)
        {
            var kind = MixSchema.TenantField(field).Kinds.FirstOrDefault(TenantKind.Microbench).Word();
            var extra = kind == "command" ? "    command: [true]\n" : "";
            var text = $"name: m\ntenants:\n  - name: t\n    kind: {kind}\n    device: cpu\n{extra}sweep:\n  axes:\n    t.{field}: [{value}]\n";

            var sweep = MixParser.Parse(text, "m.yaml").Sweep!;

            Assert.Equal($"t.{field}", Assert.Single(sweep.Axes).Name);
        }
    }

    [Theory]
    [InlineData("name")]
    [InlineData("restart")]
    [InlineData("grid")]
    public void Parse_SweepOverStructuralField_IsRefused(string field)
    {
        var text = $"name: m\ntenants:\n  - name: t\n    kind: training\nsweep:\n  axes:\n    {field}: [x]\n";

        var error = Assert.Throws<MixException>(() => MixParser.Parse(text, "m.yaml"));

        Assert.Equal($"sweep.axes.{field}", error.Field);
        Assert.Contains("not a field a sweep can vary", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_PointLimitBeyondAnHour_IsRefused()
    {
        var error = Assert.Throws<MixException>(() => MixParser.Parse("name: m\ntenants:\n  - name: t\n    kind: microbench\n    point_limit: 10000h\n", "m.yaml"));

        Assert.Equal((5, "tenants[0].point_limit"), (error.Line, error.Field));
        Assert.Contains("up to 3600s", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_Sharing_AppliesToEveryTenantAndSweeps()
    {
        var mix = MixParser.Parse("name: m\nsharing: MPS\ntenants:\n  - name: a\n    kind: training\n  - name: b\n    kind: inference\n    gpu_share: 25\nsweep:\n  axes:\n    sharing: [timeslice, mps]\n", "m.yaml");

        Assert.All(mix.Tenants, t => Assert.Equal(GpuSharing.Mps, t.Sharing));
        Assert.Equal((100, 25), (mix.Tenants[0].GpuSharePercent, mix.Tenants[1].GpuSharePercent));
        Assert.Equal([GpuSharing.Timeslice, GpuSharing.Mps], mix.Sweep!.Points.Select(p => p.Mix.Tenants[0].Sharing));
    }

    [Theory]
    [InlineData("sharing: spatial\ntenants:\n  - name: a\n    kind: training\n", 2, "sharing", "expected one of: timeslice, mps, got 'spatial'")]
    [InlineData("tenants:\n  - name: a\n    kind: training\n    gpu_share: 0\n", 5, "tenants[0].gpu_share", "expected a whole number from 1 to 100, got '0'")]
    [InlineData("defaults:\n  gpu_share: 101\ntenants:\n  - name: a\n    kind: training\n", 3, "defaults.gpu_share", "expected a whole number from 1 to 100, got '101'")]
    [InlineData("tenants:\n  - name: a\n    kind: inference\n    gpu_timing: 0%\n", 5, "tenants[0].gpu_timing", "got '0%'")]
    [InlineData("tenants:\n  - name: a\n    kind: inference\n    gpu_timing: 0.5\n", 5, "tenants[0].gpu_timing", "got '0.5'")]
    [InlineData("defaults:\n  gpu_timing: 101%\ntenants:\n  - name: a\n    kind: training\n", 3, "defaults.gpu_timing", "got '101%'")]
    [InlineData("tenants:\n  - name: a\n    kind: training\n    gpu_timing: every\n", 5, "tenants[0].gpu_timing", "expected off, or a share of the tenant's time in its batches from 0.01% to 100% such as 1%")]
    public void Parse_BadSharingOrGpuTiming_NamesLineAndFieldAndWhatItTakes(string body, int line, string field, string problem)
    {
        var error = Assert.Throws<MixException>(() => MixParser.Parse("name: m\n" + body, "m.yaml"));

        Assert.Equal((line, field), (error.Line, error.Field));
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("off", 0.0)]
    [InlineData("OFF", 0.0)]
    [InlineData("100%", 1.0)]
    [InlineData("1%", 0.01)]
    [InlineData("0.01%", 0.0001)]
    public void Parse_GpuTiming_IsTheShareOfTheTenantsTime(string value, double budget)
    {
        var spec = MixParser.Parse(Minimal("inference") + $"    gpu_timing: '{value}'\n", "m.yaml").Tenants.Single();

        Assert.Equal(budget, spec.GpuTimingBudget, 12);
    }

    // A replay tenant needs its trace: the shipped example.
    private static string Minimal(string kind) => $"name: m\ntenants:\n  - name: t\n    kind: {kind}\n" + (kind == "replay" ? $"    trace: {Path.Combine(Repository.Root, "examples", "record", "two-steps.ktrace.json")}\n" : "");

    private static string Unquote(string text) => text.Trim().Trim('`').Replace("\\|", "|", StringComparison.Ordinal);

    // A row of the field table: | `field` | default | meaning |
    [GeneratedRegex(@"^\| `(?<field>[a-z_]+)` \| (?<default>.+?) \| (?!-)", RegexOptions.Multiline)]
    private static partial Regex TableRow();
}
