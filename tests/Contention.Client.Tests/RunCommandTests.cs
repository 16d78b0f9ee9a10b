using Contention.Client.Commands;
using Contention.Client.Mixes;
using Contention.Client.Reports;
using Contention.Client.Results;
using Contention.Grains;
using Spectre.Console;

namespace Contention.Client.Tests;

public class RunCommandTests
{
    /// <summary>Exit codes of a completed sweep: 0, or 4 where a loaded CI host made runs invalid.</summary>
    private static readonly int[] Completed = [0, 4];

    [Fact]
    public void ApplyRepetitions_ASweep_EveryPointOfEachRepetitionInTurnAndErrorsSayWhatToDo()
    {
        const string text = """
            name: s
            tenants:
              - name: t
                kind: training
                model: resnet50
            sweep:
              repetitions: 2
              axes:
                sync: [spin, block]
            """;
        var mix = RunCommand.ApplyRepetitions(MixParser.Parse(text, "s.yaml"), 3);

        Assert.Equal(3, mix.Sweep!.Repetitions);
        Assert.Equal(["1/1", "2/1", "1/2", "2/2", "1/3", "2/3"], mix.Sweep.Points.Select(p => $"{p.Index}/{p.Repetition}"));
        Assert.Equal(["spin", "block", "spin", "block", "spin", "block"], mix.Sweep.Points.Select(p => p.Values.Single().Value));
        Assert.Same(mix, RunCommand.ApplyRepetitions(mix, null));
        Assert.Contains("from 1 to 1000", Assert.Throws<MixException>(() => RunCommand.ApplyRepetitions(mix, 0)).Message, StringComparison.Ordinal);
        var plain = MixParser.Parse(text[..text.IndexOf("sweep:", StringComparison.Ordinal)], "p.yaml");
        Assert.Contains("has no sweep", Assert.Throws<MixException>(() => RunCommand.ApplyRepetitions(plain, 2)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Execute_DefaultMixShortened_WritesResultsAndPrintsTable()
    {
        var mix = MixParser.Load(Path.Combine(AppContext.BaseDirectory, "mixes", "default.yaml")) with { WarmupSeconds = 1, DurationSeconds = 3 };
        var directory = Path.Combine(Path.GetTempPath(), $"contention-run-{Guid.NewGuid():N}");
        var output = new StringWriter();

        var code = await RunCommand.ExecuteAsync(Options(mix, directory), Console(output), CancellationToken.None);

        AssertCompleted(code, directory);
        Assert.Contains("verdict: ", output.ToString(), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(directory, ResultsFiles.Json)));
        Assert.True(File.Exists(Path.Combine(directory, ResultsFiles.Csv)));
        Assert.True(File.Exists(Path.Combine(directory, ResultsFiles.Summary)));
        var document = ResultsFiles.Read(directory);
        Assert.Equal("Completed", document.Experiment.State);
        var measured = document.Tenants.Where(r => r.Phase == MeasurementPhase.Measure).ToList();
        Assert.Equal(["train", "infer-0", "infer-1"], measured.Select(r => r.Tenant));
        Assert.All(measured, r =>
        {
            Assert.True(r.ThroughputPerSecond > 0, $"{r.Tenant}: no throughput");
            Assert.True(r.P50Ms > 0 && r.P99Ms >= r.P50Ms && r.MaxMs >= r.P99Ms, $"{r.Tenant}: implausible percentiles");
            Assert.True(r.UserCpuSeconds + r.SystemCpuSeconds > 0, $"{r.Tenant}: no CPU time");
            Assert.Equal("sim:0", r.Device);
        });
        Assert.Contains("infer-1", output.ToString(), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(directory, ResultsFiles.ThreadsCsv)));
        foreach (var tenant in new[] { "train", "infer-0", "infer-1" })
        {
            // The workload thread is named after its tenant (comm keeps 15 characters).
            var workload = Assert.Single(document.Threads, t => t.Tenant == tenant && t.Name == $"tenant {tenant}"[..Math.Min(15, 7 + tenant.Length)]);
            Assert.True(workload.UserCpuSeconds + workload.SystemCpuSeconds > 0, $"{tenant}'s workload thread used no CPU");
            Assert.True(workload.VoluntarySwitches + workload.InvoluntarySwitches > 0);
        }

        Assert.NotEmpty(document.Histograms);
        Directory.Delete(directory, true);
    }

    [Fact]
    public async Task Execute_Interrupted_SavesPartialResultsAsInterrupted()
    {
        var mix = MixParser.Load(Path.Combine(AppContext.BaseDirectory, "mixes", "default.yaml")) with { WarmupSeconds = 0.5, DurationSeconds = 600 };
        var directory = Path.Combine(Path.GetTempPath(), $"contention-run-{Guid.NewGuid():N}");
        using var interrupt = new CancellationTokenSource();
        var run = RunCommand.ExecuteAsync(Options(mix, directory), Console(new StringWriter()), interrupt.Token);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!File.Exists(Path.Combine(directory, ResultsFiles.Json)) || !File.ReadAllText(Path.Combine(directory, ResultsFiles.Json)).Contains("\"Measuring\"", StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, "the run never reached its measurement window");
            await Task.Delay(200);
        }

        await interrupt.CancelAsync();
        var code = await run;

        Assert.Equal(130, code);
        var document = ResultsFiles.Read(directory);
        Assert.Equal("Interrupted", document.Experiment.State);
        Assert.Contains("Ctrl+C", document.Experiment.Message, StringComparison.Ordinal);
        Assert.All(document.Tenants.Where(r => r.Phase == MeasurementPhase.Measure), r => Assert.True(r.Completed > 0, $"{r.Tenant} lost its measurements"));
        Directory.Delete(directory, true);
    }

    [Fact]
    public async Task Execute_Sweep_RunsEveryRunThenResumesWithoutRepeatingCompletedOnes()
    {
        const string Text = """
            name: tiny-sweep
            warmup: 200ms
            duration: 600ms
            tenants:
              - name: bench
                kind: microbench
                device: sim
                bytes: 64KiB
                iterations: 10
            sweep:
              axes:
                op: [copy, gemm]
            """;
        var mix = MixParser.Parse(Text, "tiny.yaml");
        var directory = Path.Combine(Path.GetTempPath(), $"contention-sweep-{Guid.NewGuid():N}");

        Assert.Contains(await RunCommand.ExecuteAsync(Options(mix, directory), Console(new StringWriter()), CancellationToken.None), Completed);

        var manifest = SweepFiles.ReadManifest(directory)!;
        Assert.Equal([("p001-r1", "Completed"), ("p002-r1", "Completed")], manifest.Runs.Select(r => (r.Id, r.State)));
        var rows = File.ReadAllLines(Path.Combine(directory, ResultsFiles.Csv));
        Assert.StartsWith("run,point,repetition,run_state,op,experiment,tenant", rows[0], StringComparison.Ordinal);
        Assert.Contains(rows, r => r.StartsWith("p001-r1,1,1,Completed,copy,", StringComparison.Ordinal) && r.Contains(",measure,", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.StartsWith("p002-r1,2,1,Completed,gemm,", StringComparison.Ordinal) && r.Contains(",measure,", StringComparison.Ordinal));
        Assert.StartsWith($"{manifest.Id}-p001-r1", ResultsFiles.Read(SweepFiles.RunDirectory(directory, "p001-r1")).Experiment.Id, StringComparison.Ordinal);

        // As if the second run had failed: only it runs again, its first attempt kept beside.
        var first = File.GetLastWriteTimeUtc(Path.Combine(SweepFiles.RunDirectory(directory, "p001-r1"), ResultsFiles.Json));
        SweepFiles.Write(directory, manifest with { Runs = [manifest.Runs[0], manifest.Runs[1] with { State = "Failed" }] });
        Assert.Equal("Failed", SweepFiles.ReadManifest(directory)!.Runs[1].State);
        var output = new StringWriter();

        Assert.Contains(await RunCommand.ExecuteAsync(Options(mix, directory), Console(output), CancellationToken.None), Completed);

        Assert.Contains("1 completed before, 1 to run", output.ToString(), StringComparison.Ordinal);
        Assert.Equal(first, File.GetLastWriteTimeUtc(Path.Combine(SweepFiles.RunDirectory(directory, "p001-r1"), ResultsFiles.Json)));
        Assert.True(Directory.Exists(SweepFiles.RunDirectory(directory, "p002-r1") + ".attempt-1"));
        Assert.Equal(manifest.Id, SweepFiles.ReadManifest(directory)!.Id);
        Assert.All(SweepFiles.ReadManifest(directory)!.Runs, r => Assert.Equal("Completed", r.State));

        // Each run records the seeds it ran with: the mix's in repetition 1.
        Assert.Equal(new Dictionary<string, int> { ["bench"] = 1 }, ResultsFiles.Read(SweepFiles.RunDirectory(directory, "p002-r1")).Mix.Seeds);

        // Another mix cannot be resumed into the same directory.
        var other = MixParser.Parse(Text.Replace("600ms", "700ms", StringComparison.Ordinal), "tiny.yaml");
        var error = await Assert.ThrowsAsync<MixException>(() => RunCommand.ExecuteAsync(Options(other, directory), Console(new StringWriter()), CancellationToken.None));
        Assert.Contains("holds another sweep", error.Message, StringComparison.Ordinal);
        Directory.Delete(directory, true);
    }

    [Theory]
    [InlineData("cpu", false)]
    [InlineData("sim", true)]
    public void Prepare_AnotherModelledGpuProfile_StopsAResumeOnlyWhereATenantIsModelled(string device, bool stops)
    {
        // A sweep of real devices (cuda, cpu) measures nothing the modelled GPU's profile decides:
        // a profile changed since it started (h100 -> h200 here) must not stop it resuming.
        var mix = MixParser.Parse($$"""
            name: profiles
            warmup: 0s
            duration: 300ms
            tenants:
              - name: bench
                kind: microbench
                device: {{device}}
                bytes: 64KiB
                iterations: 10
            sweep:
              axes:
                bench.iterations: [10, 20]
            """, "profiles.yaml");
        var directory = Path.Combine(Path.GetTempPath(), $"contention-profiles-{Guid.NewGuid():N}");
        var options = Options(mix, directory);

        var h100 = SweepRunner.Prepare(options with { SimProfile = "h100" }, directory).Fingerprint;
        var h200 = SweepRunner.Prepare(options with { SimProfile = "h200" }, directory).Fingerprint;
        var simulated = SweepRunner.Prepare(options with { SimProfile = "h200" }, directory, modelled: true).Fingerprint;

        Assert.Equal(stops, h100 != h200);
        Assert.NotEqual(h100, simulated); // contention simulate models every tenant, whatever its device
    }

    [Fact]
    public async Task Execute_SweepRepetitions_EachRunsWithItsOwnSeeds()
    {
        // Repetition r runs every tenant with the mix's seed + (r - 1) x the stride (its arrivals
        // and start pause drawn from it), as simulate's repetitions do.
        const string Text = """
            name: seeds
            warmup: 0s
            duration: 300ms
            tenants:
              - name: bench
                kind: microbench
                device: sim
                bytes: 64KiB
                iterations: 10
                seed: 5
                replicas: 2
            sweep:
              repetitions: 2
              axes:
                op: [copy]
            """;
        var mix = MixParser.Parse(Text, "seeds.yaml");
        var directory = Path.Combine(Path.GetTempPath(), $"contention-sweep-{Guid.NewGuid():N}");

        Assert.Contains(await RunCommand.ExecuteAsync(Options(mix, directory), Console(new StringWriter()), CancellationToken.None), Completed);

        IReadOnlyDictionary<string, int>? Seeds(string run) => ResultsFiles.Read(SweepFiles.RunDirectory(directory, run)).Mix.Seeds;
        Assert.Equal(new Dictionary<string, int> { ["bench-0"] = 5, ["bench-1"] = 6 }, Seeds("p001-r1"));
        Assert.Equal(new Dictionary<string, int> { ["bench-0"] = 5 + SweepPoint.RepetitionSeedStride, ["bench-1"] = 6 + SweepPoint.RepetitionSeedStride }, Seeds("p001-r2"));
        Directory.Delete(directory, true);
    }

    [Fact]
    public async Task Execute_SweepInterruptedBeforeARun_StopsAndSaysHowToGoOn()
    {
        var mix = MixParser.Parse("name: i\ntenants:\n  - name: a\n    kind: microbench\n    device: sim\nsweep:\n  axes:\n    op: [copy, gemm]\n", "i.yaml");
        var directory = Path.Combine(Path.GetTempPath(), $"contention-sweep-{Guid.NewGuid():N}");
        var output = new StringWriter();

        var code = await RunCommand.ExecuteAsync(Options(mix, directory), Console(output), new CancellationToken(canceled: true));

        Assert.Equal(130, code);
        Assert.Contains($"--out {directory} to go on from p001-r1", output.ToString(), StringComparison.Ordinal);
        Assert.All(SweepFiles.ReadManifest(directory)!.Runs, r => Assert.Equal("Pending", r.State));
        Directory.Delete(directory, true);
    }

    [Fact]
    public async Task Execute_Phase1Quick_ThenReport_WritesEveryOutput()
    {
        var directory = Directory.CreateTempSubdirectory("contention-phase1-").FullName;
        var mix = MixParser.Load(Path.Combine(AppContext.BaseDirectory, "mixes", "phase1.yaml"), quick: true);

        Assert.Contains(await RunCommand.ExecuteAsync(Options(mix, directory), Console(new StringWriter()), CancellationToken.None), Completed);
        // A loaded host may judge the runs invalid (exit 4): the report is of every run all the same.
        var input = ReportInput.Load(directory, includeInvalid: true);
        var (files, findings) = ReportWriter.Write(input, Path.Combine(directory, "report"));

        Assert.Equal(4, input.Runs.Count);
        Assert.Equal(["cpu", "sim"], input.Phases().Select(p => p.Exec).Distinct().Order());
        var report = File.ReadAllText(Path.Combine(directory, "report", ReportWriter.Markdown));
        Assert.Contains("## Runs", report, StringComparison.Ordinal);
        if (Contention.Tracer.Bpf.BpfTracer.FindHelper() is not null && Environment.UserName == "root")
        {
            Assert.Contains("## Phase 1", report, StringComparison.Ordinal);
            Assert.Equal(2, findings.Count);
            Assert.All(findings, f => Assert.Contains(f, report, StringComparison.Ordinal));
            Assert.Contains("figures/phase1_bytes.svg", files);
            Assert.Contains("\\toprule", File.ReadAllText(Path.Combine(directory, "report", "phase1_invariance.tex")), StringComparison.Ordinal);
        }
        else
        {
            Assert.Contains("without the eBPF tracer", report, StringComparison.Ordinal);
        }

        Directory.Delete(directory, true);
    }

    [Fact]
    public async Task Execute_MoreTenantsThanModelledGpuSlots_FailsAtOnceWithWhatToChange()
    {
        var mix = MixParser.Parse("name: crowd\nduration: 60s\ntenants:\n  - name: infer\n    kind: inference\n    device: sim\n    replicas: 40\n    isolation: thread\n    sync: block\n    model: mlp\n    rate: 20\n", "crowd.yaml");
        var directory = Path.Combine(Path.GetTempPath(), $"contention-run-{Guid.NewGuid():N}");
        var output = new StringWriter();

        var code = await RunCommand.ExecuteAsync(Options(mix, directory), Console(output), CancellationToken.None);

        Assert.Equal(2, code);
        Assert.Contains("error: preflight: 40 tenants need a modelled GPU (device: sim) but the cluster's 1 modelled GPU has 32 free slots", output.ToString(), StringComparison.Ordinal);
        var document = ResultsFiles.Read(directory);
        Assert.Equal("Failed", document.Experiment.State);
        Assert.All(document.Tenants, t => Assert.Equal(0, t.Completed));

        // The same with room for them runs: device: sim spreads over the modelled GPUs.
        var roomy = Options(mix with { DurationSeconds = 1, WarmupSeconds = 0.5 }, directory + "-2") with { SimDevices = 2, SimSlots = 20 };
        AssertCompleted(await RunCommand.ExecuteAsync(roomy, Console(new StringWriter()), CancellationToken.None), directory + "-2");
        var devices = ResultsFiles.Read(directory + "-2").Tenants.Where(t => t.Phase == MeasurementPhase.Measure).GroupBy(t => t.Device).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(new Dictionary<string, int> { ["sim:0"] = 20, ["sim:1"] = 20 }, devices);
        Directory.Delete(directory, true);
        Directory.Delete(directory + "-2", true);
    }

    [Theory]
    [InlineData("file", "this is a file, not a directory")]
    [InlineData("unwritable", "give a directory you can write to")]
    [InlineData("results", "holds the results of another run")]
    [InlineData("sweep", "holds a sweep")]
    [InlineData("other", "is not empty (notes.txt)")]
    [InlineData("locked", "another contention run is writing there")]
    public async Task Execute_OutThatCannotTakeTheRun_RefusedBeforeTheClusterStarts(string kind, string expected)
    {
        var mix = MixParser.Load(Path.Combine(AppContext.BaseDirectory, "mixes", "default.yaml"));
        var directory = Path.Combine(Path.GetTempPath(), $"contention-out-{Guid.NewGuid():N}");
        ResultsDirectory? held = null;
        switch (kind)
        {
            case "file":
                File.WriteAllText(directory, "");
                break;
            case "unwritable":
                // Root may write anywhere on disk; /proc refuses everyone.
                directory = $"/proc/contention-{Guid.NewGuid():N}";
                break;
            case "results" or "sweep" or "other":
                Directory.CreateDirectory(directory);
                File.WriteAllText(Path.Combine(directory, kind switch { "results" => ResultsFiles.Json, "sweep" => SweepFiles.Manifest, _ => "notes.txt" }), "{}");
                break;
            case "locked":
                held = ResultsDirectory.Claim(directory, sweep: false);
                break;
        }

        var error = await Assert.ThrowsAsync<MixException>(() => RunCommand.ExecuteAsync(Options(mix, directory), Console(new StringWriter()), CancellationToken.None));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.StartsWith($"--out {directory}", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        if (Directory.Exists(directory))
        {
            Assert.False(File.Exists(Path.Combine(directory, ResultsFiles.Csv)), "the run wrote into a directory it refused");
        }

        held?.Dispose();
        if (kind == "locked")
        {
            // Once the first run lets go, the directory is free.
            ResultsDirectory.Claim(directory, sweep: false).Dispose();
        }

        if (File.Exists(directory))
        {
            File.Delete(directory);
        }
        else if (Directory.Exists(directory))
        {
            Directory.Delete(directory, true);
        }
    }

    /// <summary>
    /// A run that completed: exit 0, or 4 (invalid) only for what a loaded machine causes —
    /// saturated CPUs, a stretched window, late timers, a hypervisor taking CPU time (CI runs in a
    /// VM) — never a failure (the tests share a 2-core CI host).
    /// </summary>
    internal static void AssertCompleted(int code, string directory)
    {
        var document = ResultsFiles.Read(directory);
        Assert.Equal("Completed", document.Experiment.State);
        Assert.NotNull(document.Validity);
        Assert.Equal(document.Validity.Valid ? 0 : 4, code);
        Assert.All(document.Validity.Reasons, r => Assert.True(r.Contains("CPUs were", StringComparison.Ordinal) || r.Contains("was measured over", StringComparison.Ordinal) || r.Contains("timers ran late", StringComparison.Ordinal) || r.Contains("hypervisor took", StringComparison.Ordinal), r));
    }

    [Fact]
    public async Task Execute_SimProfileFile_EmbeddedNodeModelsThatGpu()
    {
        var profile = Path.Combine(Path.GetTempPath(), $"contention-profile-{Guid.NewGuid():N}.json");
        var h100 = Contention.Workloads.Sim.DeviceProfile.Load("h100");
        File.WriteAllText(profile, System.Text.Json.JsonSerializer.Serialize(h100 with { Name = "Test GPU (modelled)" }, Contention.Workloads.Sim.DeviceProfileJson.Default.DeviceProfile));
        var mix = MixParser.Parse("name: profiled\nwarmup: 500ms\nduration: 1s\ntenants:\n  - name: a\n    kind: inference\n    device: sim\n    model: mlp\n", "profiled.yaml");
        var directory = Path.Combine(Path.GetTempPath(), $"contention-run-{Guid.NewGuid():N}");

        var code = await RunCommand.ExecuteAsync(Options(mix, directory) with { SimProfile = profile }, Console(new StringWriter()), CancellationToken.None);

        AssertCompleted(code, directory);
        Assert.Contains(ResultsFiles.Read(directory).Devices, d => d.Device == "sim:0" && d.Description.StartsWith("Test GPU (modelled)", StringComparison.Ordinal));
        Directory.Delete(directory, true);
        File.Delete(profile);
    }

    [Theory]
    [InlineData("no-such-gpu", "--sim-profile: no device profile 'no-such-gpu'")]
    [InlineData("/dev/null", "--sim-profile: ")]
    public void Parse_BadSimProfile_OneLineNamingTheOption(string value, string start)
    {
        var parse = RunCommand.Create().Parse(["mixes/default.yaml", "--sim-profile", value]);

        var error = Assert.Single(parse.Errors);
        Assert.StartsWith(start, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public async Task Execute_AShareOfCapacity_ProbesTheTenantAloneOnTheClusterFirst()
    {
        // Two replicas offered 30 % of their capacity: one probe run (alone, closed loop) on the
        // embedded node, then the run at that rate. A loaded host may make either invalid (exit 4);
        // an invalid probe is run again, up to three in all.
        const string Text = """
            name: share
            warmup: 300ms
            duration: 1s
            tenants:
              - name: svc
                kind: inference
                device: sim
                sync: block
                model: mlp
                batch: 1
                rate: 30%
                replicas: 2
            """;
        var directory = Path.Combine(Path.GetTempPath(), $"contention-share-{Guid.NewGuid():N}");

        var code = await RunCommand.ExecuteAsync(Options(MixParser.Parse(Text, "share.yaml"), directory), Console(new StringWriter()), CancellationToken.None);

        Assert.Contains(code, Completed);
        var kept = Assert.Single(Capacities.Read(Path.Combine(directory, Capacities.File))).Value;
        var probes = Directory.GetDirectories(Path.Combine(directory, "capacity")).Order(StringComparer.Ordinal).Select(ResultsFiles.Read).ToList();
        Assert.InRange(probes.Count, 1, Capacities.Attempts);
        Assert.All(probes, p => Assert.Equal("Completed", p.Experiment.State));
        Assert.All(probes.SkipLast(1), p => Assert.False(p.Validity!.Valid));
        var rates = probes.Select(p => Assert.Single(p.Tenants, t => t.Phase == MeasurementPhase.Measure)).ToList();
        Assert.All(rates, alone => Assert.Equal(0.0, alone.OfferedPerSecond));
        Assert.Equal(kept.Valid ? rates[^1].ThroughputPerSecond : rates.Max(r => r.ThroughputPerSecond), kept.PerSecond);
        Assert.True(kept.PerSecond > 100, $"capacity {kept.PerSecond}/s");
        var document = ResultsFiles.Read(directory);
        Assert.Equal(kept.Valid, !document.Validity!.Reasons.Any(r => r.Contains("capacity measured in an invalid run", StringComparison.Ordinal)));
        Assert.All(document.Tenants.Where(t => t.Phase == MeasurementPhase.Measure), t => Assert.Equal(0.3 * kept.PerSecond, t.OfferedPerSecond, 6));
        Assert.Equal(["svc-0", "svc-1"], document.Mix.Capacities!.Keys.Order(StringComparer.Ordinal));
        Directory.Delete(directory, true);
    }

    [Fact]
    public async Task Execute_ReplayTenantOnTheRealTimeModelledGpu_StepsAtLeastTheRecordedHostTime()
    {
        // The example trace's step spends 321 us on the host (gaps and tail) whatever the GPU does: a lower bound a busy host only lengthens.
        var trace = Path.Combine(Repository.Root, "examples", "record", "two-steps.ktrace.json");
        var mix = MixParser.Parse($"name: r\nwarmup: 500ms\nduration: 1s\ntenants:\n  - name: job\n    kind: replay\n    trace: {trace}\n    sync: block\n", "r.yaml");
        var directory = Path.Combine(Path.GetTempPath(), $"contention-replay-{Guid.NewGuid():N}");

        Assert.Contains(await RunCommand.ExecuteAsync(Options(mix, directory), Console(new StringWriter()), CancellationToken.None), Completed);

        var row = ResultsFiles.Read(directory).Tenants.Single(r => r.Phase == MeasurementPhase.Measure);
        Assert.Equal((TenantKind.Replay, "sim:0"), (row.Kind, row.Device));
        Assert.True(row.Completed > 100, $"{row.Completed} steps in 1 s");
        Assert.True(row.P50Ms >= 0.321, $"a step ({row.P50Ms} ms) shorter than its host's recorded time");
    }

    [Fact]
    public async Task Execute_ReplayTenantGivenTheCpuByTheOverride_RefusedSayingWhy()
    {
        var trace = Path.Combine(Repository.Root, "examples", "record", "two-steps.ktrace.json");
        var mix = MixParser.Parse($"name: r\ntenants:\n  - name: job\n    kind: replay\n    trace: {trace}\n", "r.yaml");

        var error = await Assert.ThrowsAsync<MixException>(() => RunCommand.ExecuteAsync(Options(mix, Path.Combine(Path.GetTempPath(), $"contention-replay-{Guid.NewGuid():N}")) with { Adjust = RunCommand.Overrides("cpu", null) }, Console(new StringWriter()), CancellationToken.None));

        Assert.Contains("tenant job is a replay on cpu: a replay replays GPU kernels", error.Message, StringComparison.Ordinal);
    }

    private static RunOptions Options(Mix mix, string directory) => new(mix, directory, null, 0, 1, spec => spec, "");

    private static IAnsiConsole Console(StringWriter output) => Consoles.Plain(output);
}
