using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Contention.Workloads.Benchmarks;
using Contention.Workloads.Devices;
using Spectre.Console;

namespace Contention.Client.Commands;

/// <summary>
/// <c>contention bench</c>: <c>launch</c> (launch + synchronise through our cuda device against a
/// bare ILGPU loop in the same process), <c>gemm</c>, <c>tracer</c>, and the groups of their own
/// (<see cref="BenchCalibrateCommand"/>, <see cref="BenchIdleCommand"/>, <see cref="BenchReplayCommand"/>).
/// They live in the tool (not only in bench/) because GPU hosts often have no .NET SDK to run
/// BenchmarkDotNet.
/// </summary>
internal static class BenchCommand
{
    /// <summary>The <c>bench</c> command and its subcommands.</summary>
    public static Command Create()
    {
        var device = new Option<string>("--device") { Description = "cuda:N", DefaultValueFactory = _ => "cuda:0" };
        var sync = new Option<string>("--sync") { Description = Contention.Grains.Words.List<SyncMode>(), DefaultValueFactory = _ => "spin" };
        sync.AcceptOnlyFromAmong([.. Contention.Grains.Words.All<SyncMode>()]);
        var elements = new Option<int>("--elements") { Description = "floats per element-wise kernel", DefaultValueFactory = _ => 1 << 20 };
        var launches = new Option<int>("--launches") { Description = "launch + synchronise pairs per repetition", DefaultValueFactory = _ => 1000 };
        var repetitions = new Option<int>("--repetitions") { Description = "repetitions of each side, interleaved", DefaultValueFactory = _ => 15 };
        var json = new Option<string?>("--json") { Description = "also write the samples to this JSON file" };
        var withArbiter = new Option<bool>("--arbiter") { Description = "also launch through a cuda device behind a GPU arbiter of its own, as a best-effort tenant alone on it (gating), and through that device directly: the arbiter's cost on the direct path" };
        var arbiterSteps = new Option<bool>("--arbiter-steps") { Description = "with --arbiter: also time the arbiter's bookkeeping steps on this host, without the GPU (reading slots, queueing and taking back work, the clock; about 5 s)" };
        var launch = new Command("launch", "launch + synchronise of a small kernel: Contention's cuda device against a bare ILGPU loop") { device, sync, elements, launches, repetitions, json, withArbiter, arbiterSteps };
        launch.SetAction(parse =>
        {
            if (Cuda(parse.GetValue(device)!) is not { } id)
            {
                return 2;
            }

            var mode = Contention.Grains.Words.Parse<SyncMode>(parse.GetValue(sync));
            var all = LaunchBenchmark.RunAll(id.Index, mode, parse.GetValue(elements), parse.GetValue(launches), parse.GetValue(repetitions), parse.GetValue(withArbiter));
            var (baseline, ours) = (all[0], all[1]);
            var table = new Table().Title($"launch + synchronise, {parse.GetValue(elements)} floats, {parse.GetValue(launches)} launches x {parse.GetValue(repetitions)} repetitions, sync {Contention.Grains.Words.Word(mode)}")
                .AddColumns("side", "median us", "p10 us", "p90 us", "ratio to baseline", "ratio to the cuda device");
            foreach (var series in all)
            {
                table.AddRow(series.Name, F(series.Median), F(series.Percentile(10)), F(series.Percentile(90)), F(series.Median / baseline.Median), F(series.Median / ours.Median));
            }

            AnsiConsole.Write(table);
            AnsiConsole.WriteLine(LaunchBenchmark.LastWarmRounds >= LaunchBenchmark.MaxWarmRounds
                ? $"warm-up: {LaunchBenchmark.MaxWarmRounds} rounds and the JIT was still compiling: some loops may have run unoptimised code"
                : $"warm-up: {LaunchBenchmark.LastWarmRounds} rounds of every side, until the JIT had compiled nothing for two rounds");
            if (all.Count > 3)
            {
                var (paired, low, high) = LaunchBenchmark.PairedRatio(all[2], all[3]);
                AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture, $"the arbiter's cost: {all[2].Median / all[3].Median:0.000}x the same device launched directly ({all[2].Median - all[3].Median:0.00} us a launch + synchronise); per repetition {paired:0.000}x at the median, {low:0.000}-{high:0.000}x"));
                AnsiConsole.WriteLine("  the arbiter's side: " + LaunchBenchmark.LastArbiterCounters);
                foreach (var (step, ns) in parse.GetValue(arbiterSteps) ? LaunchBenchmark.ArbiterSteps() : [])
                {
                    AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  the arbiter's steps on this host: {step}: {ns:0.0} ns"));
                }
            }

            if (parse.GetValue(json) is { } path)
            {
                var (gated, direct) = all.Count > 3 ? (all[2], all[3]) : (null, null);
                File.WriteAllText(path, JsonSerializer.Serialize(new LaunchBenchResult(id.ToString(), mode.ToString(), parse.GetValue(elements), parse.GetValue(launches), baseline.Samples, ours.Samples, ours.Median / baseline.Median, gated?.Samples, gated is null || direct is null ? null : gated.Median / direct.Median) { Direct = direct?.Samples, Bookkeeping = all.Count > 4 ? all[4].Samples : null }, BenchJson.Default.LaunchBenchResult));
            }

            return 0;
        });
        var gemm = new Command("gemm", "time the GEMM kernel variants on ResNet-50-shaped and square problems, and the kernels as tenants launch them: plain grids, and the persistent groups that keep off multiprocessors (CONTENTION_RESERVE_SMS); trials: groups that pause while a stop word is set, in mapped host memory or the GPU's") { device };
        gemm.SetAction(parse =>
        {
            if (Cuda(parse.GetValue(device)!) is not { } id)
            {
                return 2;
            }

            var table = new Table().AddColumns("kernel", "M", "N", "K", "median us", "TFLOP/s");
            foreach (var t in GemmBenchmark.Run(id.Index, 11))
            {
                table.AddRow(t.Kernel, t.M.ToString(CultureInfo.InvariantCulture), t.K == 0 ? "-" : t.N.ToString(CultureInfo.InvariantCulture), t.K == 0 ? "-" : t.K.ToString(CultureInfo.InvariantCulture), F(t.MedianMicroseconds), t.K == 0 ? "-" : F(t.TeraFlops));
            }

            AnsiConsole.Write(table);
            AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture, $"GEMM groups resident per multiprocessor (the driver's estimate): plain {GemmBenchmark.GroupsPerMultiprocessor.Plain}, persistent {GemmBenchmark.GroupsPerMultiprocessor.Persistent}"));
            foreach (var (word, alone, paused) in GemmBenchmark.Paused)
            {
                AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture, $"trial pause: a {GemmBenchmark.PauseSize}³ persistent GEMM looking at a {GemmBenchmark.Describe(word)} took {F(alone)} ms; with the word set for {GemmBenchmark.PauseMs} ms, {F(paused)} ms"));
            }

            if (!GemmBenchmark.Paused.Any(p => p.Word == GemmBenchmark.StopWord.MappedHost))
            {
                AnsiConsole.WriteLine("trial pause: no mapped host word (the driver refused cuMemHostAlloc or its device address)");
            }

            return 0;
        });
        var (calibrate, helpers) = BenchCalibrateCommand.Create(device);
        var bench = new Command("bench", "micro-benchmarks and calibration that need the tool's own runtime (GPU hosts without .NET)") { launch, calibrate, gemm };
        foreach (var helper in helpers)
        {
            bench.Subcommands.Add(helper);
        }

        bench.Subcommands.Add(TracerBench());
        bench.Subcommands.Add(BenchIdleCommand.Create());
        bench.Subcommands.Add(BenchReplayCommand.Create());
        return bench;
    }

    private static Command TracerBench()
    {
        var calls = new Option<long>("--calls") { Description = "getppid calls per run (untraced and traced)", DefaultValueFactory = _ => 1_000_000 };
        var straceCalls = new Option<long>("--strace-calls") { Description = "getppid calls per run under strace (it is ~200x slower)", DefaultValueFactory = _ => 100_000 };
        var repetitions = new Option<int>("--repetitions") { Description = "runs of each side, interleaved", DefaultValueFactory = _ => 7 };
        var strace = new Option<string?>("--strace") { Description = "strace binary (default: strace on PATH; the side is left out when there is none)" };
        var json = new Option<string?>("--json") { Description = "also write the samples to this JSON file" };
        var command = new Command("tracer", "the eBPF tracer's overhead on a getppid storm: untraced, helper with empty programs, counts, full (sampled above 100,000 calls/s), full with each thread's calls counted (--thread-calls), exact (every call timed), strace -f -c") { calls, straceCalls, repetitions, strace, json };
        command.SetAction(async (parse, cancel) =>
        {
            var helper = Contention.Tracer.Bpf.BpfTracer.FindHelper();
            var storm = helper is null ? null : Path.Combine(Path.GetDirectoryName(helper)!, "getppid-storm");
            if (storm is null || !File.Exists(storm))
            {
                AnsiConsole.MarkupLine("[red]error:[/] needs contention-ctrace and getppid-storm side by side: run 'make -C tracer/native' (or set CONTENTION_CTRACE)");
                return 2;
            }

            var straceBinary = parse.GetValue(strace) ?? Contention.Tracer.Processes.ChildStart.FindOnPath("strace");
            var series = await Contention.Tracer.Bpf.OverheadBenchmark.RunAsync(storm, helper!, straceBinary, parse.GetValue(calls), parse.GetValue(straceCalls), parse.GetValue(repetitions), line => AnsiConsole.WriteLine(line));
            var baseline = series[0].Median;
            var table = new Table().Title($"getppid storm, {parse.GetValue(calls):N0} calls ({parse.GetValue(straceCalls):N0} under strace), {parse.GetValue(repetitions)} interleaved repetitions; kernel {Environment.OSVersion.Version}")
                .AddColumns("side", "median ns/call", "min", "max", "ratio to untraced");
            foreach (var s in series)
            {
                table.AddRow(s.Side, F(s.Median), F(s.Min), F(s.Max), F(s.Median / baseline));
            }

            AnsiConsole.Write(table);
            if (straceBinary is null)
            {
                AnsiConsole.MarkupLine("[yellow]strace not found:[/] its side was left out (--strace PATH)");
            }

            if (parse.GetValue(json) is { } path)
            {
                File.WriteAllText(path, JsonSerializer.Serialize(new TracerBenchResult(parse.GetValue(calls), parse.GetValue(straceCalls), Environment.OSVersion.VersionString, [.. series.Select(s => new TracerBenchSeries(s.Side, s.NsPerCall, s.Median, s.Median / baseline))]), BenchJson.Default.TracerBenchResult));
            }

            return 0;
        });
        return command;
    }

    /// <summary>The GPU's name as the driver gives it (its description up to the first parenthesis).</summary>
    internal static string CudaName(DeviceId id)
    {
        using var cuda = new CudaDevice(new DeviceOptions { Id = id, TimeKernels = false });
        return cuda.Description.Split(" (", 2)[0];
    }

    /// <summary>The CUDA device named, or null after saying why it cannot be used.</summary>
    internal static DeviceId? Cuda(string name)
    {
        if (DeviceId.TryParse(name, out var id) && id.Kind == DeviceKind.Cuda && CudaDevice.CountDevices() > id.Index)
        {
            return id;
        }

        AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {name} is not a CUDA device of this machine; GPU benchmarks and calibration need one (see 'contention devices')");
        return null;
    }

    internal static string F(double value) => value.ToString("0.000", CultureInfo.InvariantCulture);
}
