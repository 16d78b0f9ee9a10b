using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Contention.Workloads.Benchmarks;
using Contention.Workloads.Devices;
using Spectre.Console;

namespace Contention.Client.Commands;

/// <summary>
/// <c>contention bench launch</c>: launch + synchronise through our cuda device against a bare
/// ILGPU loop in the same process. It lives in the tool (not only in bench/) because GPU hosts
/// often have no .NET SDK to run BenchmarkDotNet.
/// </summary>
internal static class BenchCommand
{

    public static Command Create()
    {
        var device = new Option<string>("--device") { Description = "cuda:N", DefaultValueFactory = _ => "cuda:0" };
        var sync = new Option<string>("--sync") { Description = Contention.Grains.Words.List<SyncMode>(), DefaultValueFactory = _ => "spin" };
        sync.AcceptOnlyFromAmong([.. Contention.Grains.Words.All<SyncMode>()]);
        var elements = new Option<int>("--elements") { Description = "floats per element-wise kernel", DefaultValueFactory = _ => 1 << 20 };
        var launches = new Option<int>("--launches") { Description = "launch + synchronise pairs per repetition", DefaultValueFactory = _ => 1000 };
        var repetitions = new Option<int>("--repetitions") { Description = "repetitions of each side, interleaved", DefaultValueFactory = _ => 15 };
        var json = new Option<string?>("--json") { Description = "also write the samples to this JSON file" };
        var launch = new Command("launch", "launch + synchronise of a small kernel: Contention's cuda device against a bare ILGPU loop") { device, sync, elements, launches, repetitions, json };
        launch.SetAction(parse =>
        {
            if (Cuda(parse.GetValue(device)!) is not { } id)
            {
                return 2;
            }

            var mode = Contention.Grains.Words.Parse<SyncMode>(parse.GetValue(sync));
            var (baseline, ours) = LaunchBenchmark.Run(id.Index, mode, parse.GetValue(elements), parse.GetValue(launches), parse.GetValue(repetitions));
            var table = new Table().Title($"launch + synchronise, {parse.GetValue(elements)} floats, {parse.GetValue(launches)} launches x {parse.GetValue(repetitions)} repetitions, sync {Contention.Grains.Words.Word(mode)}")
                .AddColumns("side", "median us", "p10 us", "p90 us", "ratio to baseline");
            foreach (var series in new[] { baseline, ours })
            {
                table.AddRow(series.Name, F(series.Median), F(series.Percentile(10)), F(series.Percentile(90)), F(series.Median / baseline.Median));
            }

            AnsiConsole.Write(table);
            if (parse.GetValue(json) is { } path)
            {
                File.WriteAllText(path, JsonSerializer.Serialize(new LaunchBenchResult(id.ToString(), mode.ToString(), parse.GetValue(elements), parse.GetValue(launches), baseline.Samples, ours.Samples, ours.Median / baseline.Median), BenchJson.Default.LaunchBenchResult));
            }

            return 0;
        });
        var calibrate = new Command("calibrate", "measure the modelled GPU's cost-model parameters through the cuda device and write a device profile") { device };
        var output = new Option<string?>("--out") { Description = "write the calibrated profile JSON here (default: print it)" };
        calibrate.Options.Add(output);
        var based = OptionChecks.Profile("--base", "the profile whose peaks, time-slicing and occupancy the calibrated one keeps");
        calibrate.Options.Add(based);
        var kernelsOnly = new Option<bool>("--kernels-only") { Description = "only time the shipped models' kernels, keeping every other value of --base" };
        calibrate.Options.Add(kernelsOnly);
        var kernelLaunches = new Option<int>("--kernel-launches") { Description = "launches of each kernel per timing, back to back (1: each with the L2 cache cold; more: mostly warm, as a workload runs them; the shipped h200 table used 8)", DefaultValueFactory = _ => 8 }.Within(1, 64);
        calibrate.Options.Add(kernelLaunches);
        calibrate.SetAction(parse =>
        {
            if (Cuda(parse.GetValue(device)!) is not { } id)
            {
                return 2;
            }

            using var cuda = new CudaDevice(new DeviceOptions { Id = id, SyncMode = SyncMode.Spin, TimeKernels = false });
            var profile = Contention.Workloads.Sim.DeviceProfile.Load(parse.GetValue(based)!);
            if (!parse.GetValue(kernelsOnly))
            {
                var result = Calibration.Run(cuda);
                profile = result.ApplyTo(profile, cuda.Description);
                AnsiConsole.MarkupLineInterpolated($"GEMM 4096^3: {result.GemmFlopsPerSecond / 1e12:0.00} TFLOP/s; element-wise: {result.StreamBytesPerSecond / 1e9:0} GB/s; H2D {result.HostToDeviceBytesPerSecond / 1e9:0.0} GB/s; D2H {result.DeviceToHostBytesPerSecond / 1e9:0.0} GB/s; tiny kernel {result.KernelOverheadNs:0} ns; launch CPU {result.LaunchCpuNs:0} ns; ResNet-50 training step (batch 32) {result.TrainingStepNs / 1e6:0.0} ms, fitted GEMM efficiency {result.GemmEfficiencyFitted:0.000}");
            }

            var watch = System.Diagnostics.Stopwatch.StartNew();
            var kernels = Calibration.KernelTimes(cuda, Calibration.ModelKernels(), launches: parse.GetValue(kernelLaunches));
            var roofline = new Contention.Workloads.Sim.CostModel(profile with { KernelTimes = [] });
            var ratios = kernels.Select(k => roofline.RooflineNs(k.Spec) / (double)k.Ns).Order().ToList();
            AnsiConsole.MarkupLineInterpolated($"kernel times: {kernels.Count} kernels of {string.Join(", ", Contention.Workloads.Workloads.ModelShapes.Names)} (inference batches {string.Join(",", Calibration.InferenceBatches)}, training {string.Join(",", Calibration.TrainingBatches)}) in {watch.Elapsed.TotalSeconds:0} s; the roofline alone would be off by {Invariant(ratios[ratios.Count / 2])}x at the median, {Invariant(ratios[0])}x to {Invariant(ratios[^1])}x");
            profile = profile with
            {
                KernelTimes = kernels,
                Source = $"{profile.Source}; kernel times: {kernels.Count} kernels of the shipped models (inference batches {string.Join(",", Calibration.InferenceBatches)}, training batches {string.Join(",", Calibration.TrainingBatches)}) timed on {cuda.Description.Split(" (", 2)[0]} by 'contention bench calibrate' ({DateTime.UtcNow:yyyy-MM-dd}; CUDA events around {parse.GetValue(kernelLaunches)} back-to-back launches of each kernel queued behind a spacer, median of 9); the roofline alone is off by {Invariant(ratios[ratios.Count / 2])}x at the median over them, {Invariant(ratios[0])}x to {Invariant(ratios[^1])}x",
            };
            var text = JsonSerializer.Serialize(profile, Contention.Workloads.Sim.DeviceProfileJson.Default.DeviceProfile);
            if (parse.GetValue(output) is { } path)
            {
                File.WriteAllText(path, text);
            }
            else
            {
                Console.Out.WriteLine(text);
            }

            return 0;
        });
        var gemm = new Command("gemm", "time the GEMM kernel variants on ResNet-50-shaped and square problems") { device };
        gemm.SetAction(parse =>
        {
            if (Cuda(parse.GetValue(device)!) is not { } id)
            {
                return 2;
            }

            var table = new Table().AddColumns("kernel", "M", "N", "K", "median us", "TFLOP/s");
            foreach (var t in GemmBenchmark.Run(id.Index, 11))
            {
                table.AddRow(t.Kernel, t.M.ToString(CultureInfo.InvariantCulture), t.N.ToString(CultureInfo.InvariantCulture), t.K.ToString(CultureInfo.InvariantCulture), F(t.MedianMicroseconds), F(t.TeraFlops));
            }

            AnsiConsole.Write(table);
            return 0;
        });
        return new Command("bench", "micro-benchmarks and calibration that need the tool's own runtime (GPU hosts without .NET)") { launch, calibrate, gemm, TracerBench() };
    }

    private static Command TracerBench()
    {
        var calls = new Option<long>("--calls") { Description = "getppid calls per run (untraced and traced)", DefaultValueFactory = _ => 1_000_000 };
        var straceCalls = new Option<long>("--strace-calls") { Description = "getppid calls per run under strace (it is ~200x slower)", DefaultValueFactory = _ => 100_000 };
        var repetitions = new Option<int>("--repetitions") { Description = "runs of each side, interleaved", DefaultValueFactory = _ => 7 };
        var strace = new Option<string?>("--strace") { Description = "strace binary (default: strace on PATH; the side is left out when there is none)" };
        var json = new Option<string?>("--json") { Description = "also write the samples to this JSON file" };
        var command = new Command("tracer", "the eBPF tracer's overhead on a getppid storm: untraced, helper with empty programs, counts, full (sampled above 100,000 calls/s), exact (every call timed), strace -f -c") { calls, straceCalls, repetitions, strace, json };
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

    /// <summary>The CUDA device named, or null after saying why it cannot be used.</summary>
    private static DeviceId? Cuda(string name)
    {
        if (DeviceId.TryParse(name, out var id) && id.Kind == DeviceKind.Cuda && CudaDevice.CountDevices() > id.Index)
        {
            return id;
        }

        AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {name} is not a CUDA device of this machine; GPU benchmarks and calibration need one (see 'contention devices')");
        return null;
    }

    private static string F(double value) => value.ToString("0.000", CultureInfo.InvariantCulture);

    private static string Invariant(double ratio) => ratio.ToString("0.###", CultureInfo.InvariantCulture);
}
