using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Contention.Workloads.Benchmarks;
using Contention.Workloads.Devices;
using Spectre.Console;
using static Contention.Client.Commands.BenchCommand;

namespace Contention.Client.Commands;

/// <summary>
/// <c>contention bench calibrate</c>: measures the modelled GPU's cost-model parameters through the
/// cuda device (kernels, round trips, idle costs, time-slicing, MPS interference, this host's
/// wake-ups and interruptions) and writes a device profile; with the hidden helpers it starts as
/// child processes (<c>co-run</c>, <c>probe</c>, <c>wake-probe</c>).
/// </summary>
internal static partial class BenchCalibrateCommand
{
    /// <summary>The <c>calibrate</c> command and its hidden helpers, on <paramref name="device"/> (the bench commands' <c>--device</c>).</summary>
    public static (Command Calibrate, IReadOnlyList<Command> Helpers) Create(Option<string> device)
    {
        var calibrate = new Command("calibrate", "measure the modelled GPU's cost-model parameters through the cuda device and write a device profile") { device };
        var output = new Option<string?>("--out") { Description = "write the calibrated profile JSON here (default: print it)" };
        calibrate.Options.Add(output);
        var based = OptionChecks.Profile("--base", "the profile whose peaks, time-slicing and occupancy the calibrated one keeps");
        calibrate.Options.Add(based);
        var kernelsOnly = new Option<bool>("--kernels-only") { Description = "only time kernels, keeping every other value of --base: the shipped models', or with --mix only the mixes' (added to --base's table)" };
        calibrate.Options.Add(kernelsOnly);
        var mixKernels = new Option<string[]>("--mix") { Description = "also time every GEMM, element-wise and reduction kernel this mix's tenants launch, at every point of its sweep, and add them to the profile's table (a kernel it holds is timed again); give it again for more mixes", AllowMultipleArgumentsPerToken = true };
        calibrate.Options.Add(mixKernels);
        var kernelLaunches = new Option<int>("--kernel-launches") { Description = "launches of each kernel per timing, back to back (1: each with the L2 cache cold; more: mostly warm, as a workload runs them; the shipped h200 table used 8)", DefaultValueFactory = _ => 8 }.Within(1, 64);
        calibrate.Options.Add(kernelLaunches);
        var roundTripsOnly = new Option<bool>("--round-trips-only") { Description = "only measure the host round trips (a tiny kernel and 4 KiB copies, launch + synchronise, in each sync mode), the copy latency and the idle costs (an MLP request after sleeping 0.2-100 ms, as 'bench idle --out'), keeping every other value of --base" };
        calibrate.Options.Add(roundTripsOnly);
        var mps = new Option<bool>("--mps") { Description = "also measure the round trips and idle costs as a client of a private MPS daemon, which the command starts on the GPU and quits (the modelled GPU takes them for tenants sharing it by MPS), and fit the MPS interference between dense kernels to one, two and three ResNet-50 trainers run as its clients at once and the block contention to 1, 2, 4 and 8 closed-loop MLP batch-1 clients (about a minute and a half)" };
        calibrate.Options.Add(mps);
        var timeSlicing = new Option<bool>("--time-slicing") { Description = "also measure the time slice and the switch costs with probe processes on the time-sliced GPU (about half a minute; part of a full calibration)" };
        calibrate.Options.Add(timeSlicing);
        var samples = new Option<string?>("--samples") { Description = "also write every single iteration of the round-trip loops to this CSV file (sharing, sync, sequence, iteration, ns), from which each wait kernel's spread was fitted" };
        calibrate.Options.Add(samples);
        var wakeUpsOnly = new Option<bool>("--wake-ups-only") { Description = "only measure how late timed sleeps of 50 us to 100 ms wake on this host, with --wake-up-sleepers processes sleeping at once (about 12 s a count, no GPU needed; virtual time starts an open-loop tenant's requests that late after a sleep, as measured for its GPU's count of tenants), keeping every other value of --base" };
        calibrate.Options.Add(wakeUpsOnly);
        var wakeUpSleepers = new Option<string>("--wake-up-sleepers") { Description = "how many processes sleep at once while wake-ups are measured, one count after another (comma-separated, 1 to 256)", DefaultValueFactory = _ => string.Join(",", Calibration.WakeUpSleepers) };
        wakeUpSleepers.Validators.Add(result =>
        {
            if (SleeperCounts(result.GetValueOrDefault<string>() ?? "") is null)
            {
                result.AddError($"--wake-up-sleepers: give counts of 1 to 256 separated by commas (e.g. {string.Join(",", Calibration.WakeUpSleepers)}), not '{result.GetValueOrDefault<string>()}'");
            }
        });
        calibrate.Options.Add(wakeUpSleepers);
        var wakeUpSeconds = new Option<double>("--wake-up-seconds") { Description = "how long each sleep length is measured (at least 50 sleeps each)", DefaultValueFactory = _ => 2 };
        wakeUpSeconds.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<double>() is not (> 0 and <= 60))
            {
                result.AddError("--wake-up-seconds: give more than 0 and at most 60");
            }
        });
        calibrate.Options.Add(wakeUpSeconds);
        var interruptionsOnly = new Option<bool>("--interruptions-only") { Description = "only measure how often and how long this host takes its core from a thread that never sleeps (10 s, no GPU needed; the real-time modelled GPU's spinning tenants let their own host's interruptions take that share of the round trips they draw, instead of counting both), keeping every other value of --base" };
        calibrate.Options.Add(interruptionsOnly);
        var launchQueueOnly = new Option<bool>("--launch-queue-only") { Description = "only measure the driver's launch queue: how many launched kernels may wait to start before a launch is held (a 8192^3 GEMM, then 4 KiB element-wise kernels and 32^3 GEMMs launched behind it until one launch is held; 5 repetitions each, about 2 s), keeping every other value of --base" };
        calibrate.Options.Add(launchQueueOnly);
        var mpsClient = new Option<bool>("--mps-client") { Description = "(internal) this process is the MPS client of --mps: mark the round trips as measured under MPS", Hidden = true };
        calibrate.Options.Add(mpsClient);
        calibrate.Validators.Add(result =>
        {
            if (new[] { result.GetValue(kernelsOnly), result.GetValue(roundTripsOnly), result.GetValue(wakeUpsOnly), result.GetValue(interruptionsOnly), result.GetValue(launchQueueOnly) }.Count(v => v) > 1)
            {
                result.AddError("--kernels-only, --round-trips-only, --wake-ups-only, --interruptions-only and --launch-queue-only exclude each other: give one, or none to calibrate everything");
            }

            if (result.GetValue(launchQueueOnly) && (result.GetValue(mps) || result.GetValue(timeSlicing)))
            {
                result.AddError("--launch-queue-only measures the launch queue alone: leave out --mps and --time-slicing");
            }

            if (result.GetValue(kernelsOnly) && result.GetValue(mps))
            {
                result.AddError("--mps measures round trips, which --kernels-only leaves out");
            }

            if (result.GetValue(mixKernels) is { Length: > 0 } && (result.GetValue(roundTripsOnly) || result.GetValue(wakeUpsOnly) || result.GetValue(interruptionsOnly) || result.GetValue(launchQueueOnly)))
            {
                result.AddError("--mix times kernels, which --round-trips-only, --wake-ups-only, --interruptions-only and --launch-queue-only leave out: give it with --kernels-only or on a full calibration");
            }
        });
        calibrate.SetAction(async (parse, cancel) =>
        {
            if (parse.GetValue(wakeUpsOnly))
            {
                var measured = await MeasureWakeUpsAsync(Contention.Workloads.Sim.DeviceProfile.Load(parse.GetValue(based)!), SleeperCounts(parse.GetValue(wakeUpSleepers)!)!, parse.GetValue(wakeUpSeconds), cancel);
                if (measured is null)
                {
                    return 1;
                }

                Write(measured, parse.GetValue(output));
                return 0;
            }

            if (parse.GetValue(interruptionsOnly))
            {
                Write(MeasureInterruptions(Contention.Workloads.Sim.DeviceProfile.Load(parse.GetValue(based)!), cancel), parse.GetValue(output));
                return 0;
            }

            var mixes = new List<(string Path, IReadOnlyList<Contention.Workloads.Kernels.KernelSpec> Kernels)>();
            foreach (var path in parse.GetValue(mixKernels) ?? [])
            {
                try
                {
                    var skipped = new List<string>();
                    var kernels = Mixes.MixKernels.Of(Mixes.MixParser.Load(path), skipped);
                    if (skipped.Count > 0)
                    {
                        AnsiConsole.MarkupLineInterpolated($"[yellow]--mix {path}:[/] no kernels to time for {string.Join(", ", skipped)} (a replay runs its trace's recorded times; a command tenant its own program)");
                    }

                    mixes.Add((path, kernels));
                }
                catch (Mixes.MixException ex)
                {
                    AnsiConsole.MarkupLineInterpolated($"[red]error:[/] --mix: {ex.Message}");
                    return 2;
                }
            }

            if (Cuda(parse.GetValue(device)!) is not { } id)
            {
                return 2;
            }

            var sharing = Contention.Workloads.Sim.GpuSharing.Timeslice;
            if (parse.GetValue(mpsClient))
            {
                if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CUDA_MPS_PIPE_DIRECTORY")))
                {
                    AnsiConsole.MarkupLine("[red]error:[/] --mps-client is for the process 'bench calibrate --mps' starts under its MPS daemon; use --mps");
                    return 2;
                }

                sharing = Contention.Workloads.Sim.GpuSharing.Mps;
            }

            var profile = Calibrate(parse, id, sharing, mixes);
            var full = !parse.GetValue(kernelsOnly) && !parse.GetValue(roundTripsOnly) && !parse.GetValue(launchQueueOnly);
            if (!parse.GetValue(mpsClient) && (parse.GetValue(timeSlicing) || full))
            {
                var hardware = CudaName(id);
                if (await MeasureTimeSlicingAsync(id, profile, hardware, cancel) is not { } sliced)
                {
                    return 1;
                }

                profile = sliced;
            }

            if (parse.GetValue(mps) && !parse.GetValue(mpsClient))
            {
                var client = await MeasureUnderMpsAsync(id, profile, parse.GetValue(samples), cancel);
                if (client is null)
                {
                    return 1;
                }

                profile = client;
            }

            if (full && !parse.GetValue(mpsClient))
            {
                if (await MeasureWakeUpsAsync(profile, SleeperCounts(parse.GetValue(wakeUpSleepers)!)!, parse.GetValue(wakeUpSeconds), cancel) is not { } woken)
                {
                    return 1;
                }

                profile = MeasureInterruptions(woken, cancel);
            }

            Write(profile, parse.GetValue(output));
            return 0;
        });

        static void Write(Contention.Workloads.Sim.DeviceProfile profile, string? path)
        {
            var text = JsonSerializer.Serialize(profile, Contention.Workloads.Sim.DeviceProfileJson.Default.DeviceProfile);
            if (path is not null)
            {
                File.WriteAllText(path, text);
            }
            else
            {
                Console.Out.WriteLine(text);
            }
        }

        Contention.Workloads.Sim.DeviceProfile Calibrate(ParseResult parse, DeviceId id, Contention.Workloads.Sim.GpuSharing sharing, IReadOnlyList<(string Path, IReadOnlyList<Contention.Workloads.Kernels.KernelSpec> Kernels)> mixes)
        {
            using var cuda = new CudaDevice(new DeviceOptions { Id = id, SyncMode = SyncMode.Spin, TimeKernels = false });
            var profile = Contention.Workloads.Sim.DeviceProfile.Load(parse.GetValue(based)!);
            if (sharing == Contention.Workloads.Sim.GpuSharing.Mps)
            {
                // The MPS client of --mps: round trips and idle costs only, onto what its parent measured.
                return MeasureIdle(id, MeasureRoundTrips(id.Index, profile, cuda.Description, sharing, parse.GetValue(samples)), sharing);
            }

            if (parse.GetValue(launchQueueOnly))
            {
                return MeasureLaunchQueue(cuda, profile);
            }

            var blocks = cuda.GemmBlocksPerMultiprocessor;
            AnsiConsole.MarkupLineInterpolated($"GEMM kernel occupancy: {blocks} blocks of 256 threads per multiprocessor (the driver's estimate; the profile had {profile.GemmBlocksPerMultiprocessor})");
            profile = profile with
            {
                GemmBlocksPerMultiprocessor = blocks,
                Source = profile.SourceWith("GEMM blocks per multiprocessor", $"GEMM blocks per multiprocessor: {blocks}, the driver's occupancy estimate for the compiled GEMM kernel on {cuda.Description.Split(" (", 2)[0]} ('contention bench calibrate', {DateTime.UtcNow:yyyy-MM-dd})"),
            };
            if (!parse.GetValue(kernelsOnly) && !parse.GetValue(roundTripsOnly))
            {
                var result = Calibration.Run(cuda);
                profile = result.ApplyTo(profile, cuda.Description);
                AnsiConsole.MarkupLineInterpolated($"GEMM 4096^3: {result.GemmFlopsPerSecond / 1e12:0.00} TFLOP/s; element-wise: {result.StreamBytesPerSecond / 1e9:0} GB/s; H2D {result.HostToDeviceBytesPerSecond / 1e9:0.0} GB/s; D2H {result.DeviceToHostBytesPerSecond / 1e9:0.0} GB/s; tiny kernel {result.KernelOverheadNs:0} ns; launch CPU {result.LaunchCpuNs:0} ns; ResNet-50 training step (batch 32) {result.TrainingStepNs / 1e6:0.0} ms, fitted GEMM efficiency {result.GemmEfficiencyFitted:0.000}");
            }

            if (!parse.GetValue(roundTripsOnly) && !(parse.GetValue(kernelsOnly) && mixes.Count > 0))
            {
                profile = MeasureKernels(cuda, profile, parse.GetValue(kernelLaunches));
            }

            if (mixes.Count > 0)
            {
                profile = MeasureMixKernels(cuda, profile, mixes, parse.GetValue(kernelLaunches));
            }

            if (!parse.GetValue(kernelsOnly) && !parse.GetValue(roundTripsOnly))
            {
                profile = MeasureLaunchQueue(cuda, profile);
            }

            if (!parse.GetValue(kernelsOnly))
            {
                profile = MeasureRoundTrips(id.Index, profile, cuda.Description, sharing, parse.GetValue(samples));
                profile = MeasureIdle(id, profile, sharing);
            }

            return profile;
        }

        var steps = new Option<int>("--steps") { Description = "training steps to time", DefaultValueFactory = _ => 30 }.Within(1, 10_000);
        var barrier = new Option<string>("--barrier") { Description = "start timing once this file exists", Required = true };
        var mlpSeconds = new Option<double>("--mlp-seconds") { Description = "run closed-loop MLP batch-1 requests (spin) for this long instead of training steps" };
        var coRun = new Command("co-run", "(internal) one of the MPS clients of 'bench calibrate --mps': ResNet-50 training steps or MLP requests, timed from a common start") { device, steps, barrier, mlpSeconds };
        coRun.Hidden = true;
        coRun.SetAction((parse, cancel) =>
        {
            if (Cuda(parse.GetValue(device)!) is not { } id)
            {
                return Task.FromResult(2);
            }

            var times = parse.GetValue(mlpSeconds) is > 0 and var seconds
                ? TimeTogether(id, SyncMode.Spin, Calibration.MpsClientOperation, parse.GetValue(barrier)!, (_, elapsed) => elapsed.TotalSeconds < seconds, cancel)
                : CoRunClient(id, parse.GetValue(steps), parse.GetValue(barrier)!, cancel);
            foreach (var ns in times)
            {
                Console.Out.WriteLine(ns.ToString(CultureInfo.InvariantCulture));
            }

            return Task.FromResult(0);
        });
        var offset = new Option<double>("--offset") { Description = "the first sleep's share of each length (0 to 1)" };
        var wakeProbe = new Command("wake-probe", "(internal) one sleeper of 'bench calibrate --wake-ups-only': timed sleeps of each length from a common start, their lateness printed a length a line") { barrier, offset, wakeUpSeconds };
        wakeProbe.Hidden = true;
        wakeProbe.SetAction((parse, cancel) =>
        {
            AwaitBarrier(parse.GetValue(barrier)!, cancel);
            var lateness = Calibration.WakeUpLateness(Calibration.WakeUpSleeps, parse.GetValue(wakeUpSeconds), Math.Clamp(parse.GetValue(offset), 0, 1), cancel);
            foreach (var late in lateness)
            {
                Console.Out.WriteLine(string.Join(' ', late.Select(v => v.ToString(CultureInfo.InvariantCulture))));
            }

            return Task.FromResult(0);
        });
        var role = new Option<string>("--role") { Description = "probe or spinner", DefaultValueFactory = _ => "probe" };
        role.AcceptOnlyFromAmong("probe", "spinner");
        var seconds = new Option<double>("--seconds") { Description = "how long to time", DefaultValueFactory = _ => 2 };
        var probe = new Command("probe", "(internal) one process of 'bench calibrate --time-slicing': a probe or a spinner, timed from a common start") { device, role, seconds, barrier };
        probe.Hidden = true;
        probe.SetAction((parse, cancel) =>
        {
            if (Cuda(parse.GetValue(device)!) is not { } id)
            {
                return Task.FromResult(2);
            }

            var (perSecond, median) = ProbeClient(id, parse.GetValue(role) == "spinner" ? Calibration.SpinnerOperation : Calibration.ProbeOperation, parse.GetValue(seconds), parse.GetValue(barrier)!, cancel);
            Console.Out.WriteLine(FormattableString.Invariant($"{perSecond} {median}"));
            return Task.FromResult(0);
        });
        return (calibrate, [coRun, probe, wakeProbe]);
    }

    private static Contention.Workloads.Sim.DeviceProfile MeasureRoundTrips(int ordinal, Contention.Workloads.Sim.DeviceProfile profile, string hardware, Contention.Workloads.Sim.GpuSharing sharing, string? samples)
    {
        var trips = Calibration.RoundTrips(ordinal, profile, sharing);
        if (samples is not null)
        {
            var sharingWord = sharing.ToString().ToLowerInvariant();
            File.WriteAllLines(samples, ["sharing,sync,sequence,iteration,ns", .. trips.Modes.SelectMany(m => m.Sequences.SelectMany(q => (q.IterationsNs ?? []).Select((ns, i) => string.Create(CultureInfo.InvariantCulture, $"{sharingWord},{Contention.Grains.Words.Word(m.Mode)},\"{q.Name}\",{i},{ns}"))))]);
        }

        var fitted = trips.ApplyTo(profile, hardware.Split(" (", 2)[0]);
        var table = new Table().Title($"round trips{(sharing == Contention.Workloads.Sim.GpuSharing.Mps ? " of an MPS client" : "")}: launch + synchronise, us: loop mean | single p50 | p99 (sleeps per iteration); wait kernels' GPU time {string.Join(", ", trips.WaitGpuNs.Select(w => F(w / 1e3)))} us, launch CPU {trips.LaunchCpuNs / 1e3:0.0} us; fitted copy latency {trips.CopyLatencyNs / 1e3:0.0} us")
            .AddColumns(["sequence", .. trips.Modes.Select(m => Contention.Grains.Words.Word(m.Mode))]);
        foreach (var name in trips.Modes[0].Sequences.Select(s => s.Name))
        {
            table.AddRow([name, .. trips.Modes.Select(m => $"{F(m[name].Ns / 1e3)} | {F(m[name].P50Ns / 1e3)} | {F(m[name].P99Ns / 1e3)} ({m[name].SleepsPerIteration:0.00})")]);
        }

        table.AddRow(["fitted round trips", .. trips.Modes.Select(m => string.Join(" ", trips.Points.Where(p => p.Sync == m.Mode).Select(p => F(p.Ns / 1e3))))]);
        var p99 = Contention.Workloads.Sim.RoundTripSpread.Probabilities.ToList().IndexOf(0.99);
        table.AddRow(["their spread: p99 beyond the mean", .. trips.Modes.Select(m => string.Join(" ", trips.Points.Where(p => p.Sync == m.Mode).Select(p => p.Spread is { } spread ? F(spread[p99] / 1e3) : "-")))]);
        table.AddRow(["model of the MLP request", .. trips.Modes.Select(m => $"{F(trips.PredictedMlpRequestNs(m.Mode) / 1e3)} ({F(trips.PredictedMlpRequestNs(m.Mode) / m[Calibration.MlpRequest].Ns)}x)")]);
        AnsiConsole.Write(table);
        return fitted;
    }

    // What idling costs the MLP batch-1 request with a blocking synchronise after each of the
    // default gaps asleep (about 2 s a gap): the profile's idle costs for this sharing mode.
    private static Contention.Workloads.Sim.DeviceProfile MeasureIdle(DeviceId id, Contention.Workloads.Sim.DeviceProfile profile, Contention.Workloads.Sim.GpuSharing sharing)
    {
        using var cuda = new CudaDevice(new DeviceOptions { Id = id, SyncMode = SyncMode.Block, TimeKernels = false });
        var request = Contention.Workloads.Workloads.ModelShapes.InferenceRequest("mlp", 1);
        var results = IdleBenchmark.Gaps.Select(gap => IdleBenchmark.Measure(cuda, request, gap, IdleWay.Sleep, 2)).ToList();
        var mps = sharing == Contention.Workloads.Sim.GpuSharing.Mps;
        AnsiConsole.Write(BenchIdleCommand.Table(results, $"idle costs{(mps ? " of an MPS client" : "")}: the mlp batch-1 request after sleeping each gap, on {cuda.Description}"));
        return BenchIdleCommand.WithIdleCosts(profile, results, sharing, $"the mlp batch-1 request on {cuda.Description}", $"contention bench calibrate{(mps ? " --mps" : "")}");
    }

    private static Contention.Workloads.Sim.DeviceProfile MeasureInterruptions(Contention.Workloads.Sim.DeviceProfile profile, CancellationToken cancel)
    {
        var seconds = 10;
        var measured = Contention.Workloads.Sim.HostInterruptions.Measure(TimeSpan.FromSeconds(seconds), cancel);
        var p = Contention.Workloads.Sim.RoundTripSpread.Probabilities.ToList();
        var d = measured.Durations;
        AnsiConsole.Write(new Table().Title($"a spinning thread's interruptions on this host ({seconds} s; gaps between clock reads over {Contention.Workloads.Sim.HostInterruptions.ThresholdNs / 1e3:0.0} us)")
            .AddColumns("per second", "mean us", "p50 us", "p90 us", "p99 us", "longest us", "off its core", "round trips hit (launch CPU of the profile)")
            .AddRow(measured.PerSecond.ToString("0", CultureInfo.InvariantCulture), F(measured.MeanNs / 1e3), F(d[p.IndexOf(0.5)] / 1e3), F(d[p.IndexOf(0.9)] / 1e3), F(d[p.IndexOf(0.99)] / 1e3), F(d[^1] / 1e3), $"{measured.OffCoreShare:P2}", $"{measured.HitShare(profile.LaunchCpuNs):P2}"));
        return profile with
        {
            HostInterruptions = measured,
            Source = profile.SourceWith("host interruptions", $"host interruptions measured by 'contention bench calibrate --interruptions-only' on a host of {Environment.ProcessorCount} CPUs ({DateTime.UtcNow:yyyy-MM-dd}): a thread reading the clock for {seconds} s lost its core {measured.PerSecond.ToString("0", CultureInfo.InvariantCulture)} times a second for {measured.MeanNs / 1e3:0.0} us on average"),
        };
    }

    /// <summary>The counts of <c>--wake-up-sleepers</c>, ascending and distinct; null when one is not a count of 1 to 256.</summary>
    internal static IReadOnlyList<int>? SleeperCounts(string text)
    {
        var counts = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count is < 1 or > 256)
            {
                return null;
            }

            counts.Add(count);
        }

        return counts.Count == 0 ? null : [.. counts.Distinct().Order()];
    }

    /// <summary>
    /// Measures the host's wake-ups with each count of <paramref name="sleepers"/>: that many
    /// processes of this program (<c>bench wake-probe</c>), started together, each sleeping every
    /// length of <see cref="Calibration.WakeUpSleeps"/> in turn with its first deadline i/N of a
    /// sleep late (as independent services' arrivals, not all at once); returns
    /// <paramref name="profile"/> with them, or null after saying why.
    /// </summary>
    private static async Task<Contention.Workloads.Sim.DeviceProfile?> MeasureWakeUpsAsync(Contention.Workloads.Sim.DeviceProfile profile, IReadOnlyList<int> sleepers, double seconds, CancellationToken cancel)
    {
        var self = Contention.Grains.Node.WorkerCommand.Resolve(null);
        var scratch = Directory.CreateTempSubdirectory("contention-wake-").FullName;
        var points = new List<Contention.Workloads.Sim.MeasuredWakeUp>();
        try
        {
            foreach (var count in sleepers)
            {
                var clients = Enumerable.Range(0, count).Select(i => new[] { "bench", "wake-probe", "--offset", ((double)i / count).ToString("R", CultureInfo.InvariantCulture), "--wake-up-seconds", seconds.ToString("R", CultureInfo.InvariantCulture) }).ToList();
                var outputs = await RunTogetherAsync(self, clients, null, Path.Combine(scratch, $"sleepers-{count}"), $"the {count} sleeping processes of the wake-up measurement", cancel);
                if (outputs is null)
                {
                    return null;
                }

                var lateness = outputs.Select(o => o.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(line => line.Split(' ').Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToArray()).ToList();
                points.AddRange(Calibration.WakeUpPoints(Calibration.WakeUpSleeps, lateness, count));
            }
        }
        finally
        {
            Directory.Delete(scratch, true);
        }

        var p50 = Contention.Workloads.Sim.RoundTripSpread.Probabilities.ToList().IndexOf(0.5);
        var p99 = Contention.Workloads.Sim.RoundTripSpread.Probabilities.ToList().IndexOf(0.99);
        var table = new Table().Title("timed sleeps' lateness on this host (processes sleeping at once, their deadlines spread; 1 us timer slack), us").AddColumns("sleepers", "sleep", "mean", "p50", "p99");
        foreach (var point in points)
        {
            table.AddRow(point.Sleepers.ToString(CultureInfo.InvariantCulture), (point.SleepNs / 1e3).ToString("0", CultureInfo.InvariantCulture), F(point.Ns / 1e3), F((point.Ns + point.Spread![p50]) / 1e3), F((point.Ns + point.Spread[p99]) / 1e3));
        }

        AnsiConsole.Write(table);
        var host = $"{Environment.ProcessorCount} x {CpuModel()}";
        string At(long sleepNs, Func<Contention.Workloads.Sim.MeasuredWakeUp, double> value) => string.Join("; ", sleepers.Select(c => $"{c}: " + (points.FirstOrDefault(p => p.Sleepers == c && p.SleepNs == sleepNs) is { } p ? value(p).ToString("0", CultureInfo.InvariantCulture) : "-")));
        return profile with
        {
            WakeUps = points,
            Source = profile.SourceWith("wake-ups", $"wake-ups measured by 'contention bench calibrate --wake-ups-only' on a host of {host} ({DateTime.UtcNow:yyyy-MM-dd}): {string.Join(", ", sleepers)} processes at once sleeping {string.Join(", ", Calibration.WakeUpSleeps.Select(s => (s / 1e3).ToString("0", CultureInfo.InvariantCulture)))} us to deadlines spread over the sleep, with 1 us timer slack; after 20 ms late by {At(20_000_000, p => p.Ns / 1e3)} us on average, p99 {At(20_000_000, p => (p.Ns + p.Spread![p99]) / 1e3)} us"),
        };

        static string CpuModel()
        {
            const string key = "model name";
            var line = File.Exists("/proc/cpuinfo") ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal)) : null;
            return line?.Split(':', 2)[1].Trim() ?? "unknown CPU";
        }
    }

    private static Contention.Workloads.Sim.DeviceProfile MeasureKernels(CudaDevice cuda, Contention.Workloads.Sim.DeviceProfile profile, int launches)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var kernels = Calibration.KernelTimes(cuda, Calibration.ModelKernels(), launches: launches);
        var roofline = new Contention.Workloads.Sim.CostModel(profile with { KernelTimes = [] });
        var ratios = kernels.Select(k => roofline.RooflineNs(k.Spec) / (double)k.Ns).Order().ToList();
        AnsiConsole.MarkupLineInterpolated($"kernel times: {kernels.Count} kernels of {string.Join(", ", Contention.Workloads.Workloads.ModelShapes.Names)} (inference batches {string.Join(",", Calibration.InferenceBatches)}, training {string.Join(",", Calibration.TrainingBatches)}) in {watch.Elapsed.TotalSeconds:0} s; the roofline alone would be off by {Invariant(ratios[ratios.Count / 2])}x at the median, {Invariant(ratios[0])}x to {Invariant(ratios[^1])}x");
        profile = profile with
        {
            KernelTimes = kernels,
            Source = profile.SourceWith("kernel times:", $"kernel times: {kernels.Count} kernels of the shipped models (inference batches {string.Join(",", Calibration.InferenceBatches)}, training batches {string.Join(",", Calibration.TrainingBatches)}) timed on {cuda.Description.Split(" (", 2)[0]} by 'contention bench calibrate' ({DateTime.UtcNow:yyyy-MM-dd}; CUDA events around {launches} back-to-back launches of each kernel queued behind a spacer, median of 9); the roofline alone is off by {Invariant(ratios[ratios.Count / 2])}x at the median over them, {Invariant(ratios[0])}x to {Invariant(ratios[^1])}x"),
        };
        return profile;
    }

    // The mixes' kernels timed and added to the profile's table (replacing its times of the same
    // kernels), each beside what the profile modelled for it before and from what: its own time
    // in the table, the table's other kernels' (nearest GEMMs, element-wise sizes) or the roofline.
    private static Contention.Workloads.Sim.DeviceProfile MeasureMixKernels(CudaDevice cuda, Contention.Workloads.Sim.DeviceProfile profile, IReadOnlyList<(string Path, IReadOnlyList<Contention.Workloads.Kernels.KernelSpec> Kernels)> mixes, int launches)
    {
        var wanted = mixes.SelectMany(m => m.Kernels).Distinct().ToList();
        if (wanted.Count == 0)
        {
            AnsiConsole.MarkupLine("[yellow]--mix:[/] the mixes launch no kernel to time; the profile's table is kept");
            return profile;
        }

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var timed = Calibration.KernelTimes(cuda, wanted, launches: launches);
        var specs = timed.Select(k => k.Spec).ToHashSet();
        var before = new Contention.Workloads.Sim.CostModel(profile);
        var table = new Table().Title($"{timed.Count} kernels of {string.Join(", ", mixes.Select(m => m.Path))} timed in {watch.Elapsed.TotalSeconds:0} s ({launches} back-to-back launches, median of 9)")
            .AddColumns("kernel", "measured us", "modelled before us", "from", "before / measured");
        foreach (var kernel in timed)
        {
            var was = before.DurationNs(kernel.Spec);
            table.AddRow(Describe(kernel.Spec), F(kernel.Ns / 1e3), F(was / 1e3), before.Basis(kernel.Spec), Invariant(was / (double)kernel.Ns));
        }

        AnsiConsole.Write(table);
        var names = string.Join(", ", mixes.Select(m => Path.GetFileName(m.Path)));
        return profile with
        {
            KernelTimes = [.. profile.KernelTimes.Where(k => !specs.Contains(k.Spec)), .. timed],
            Source = profile.SourceWith($"kernels of mixes {names}:", $"kernels of mixes {names}: {timed.Count} timed on {cuda.Description.Split(" (", 2)[0]} by 'contention bench calibrate --mix' ({DateTime.UtcNow:yyyy-MM-dd}; CUDA events around {launches} back-to-back launches of each kernel queued behind a spacer, median of 9)"),
        };
    }

    // The driver's launch queue (LaunchQueueProbe): each tiny kernel's depth behind the long one. The
    // profile takes the element-wise kernel's (the first); where no launch was held the profile's
    // depth is kept.
    private static Contention.Workloads.Sim.DeviceProfile MeasureLaunchQueue(CudaDevice cuda, Contention.Workloads.Sim.DeviceProfile profile)
    {
        var table = new Table().Title($"the launch queue: tiny kernels launched behind a {Describe(LaunchQueueProbe.Head)} until a launch took over {LaunchQueueProbe.HeldNs / 1e6:0} ms")
            .AddColumns("tiny kernel", "launched before the held one, each repetition", "median");
        var seen = new List<(Contention.Workloads.Kernels.KernelSpec Kernel, bool Memset, IReadOnlyList<int?> Depths)>();
        foreach (var tiny in LaunchQueueProbe.Tiny)
        {
            var depths = LaunchQueueProbe.Measure(cuda, LaunchQueueProbe.Head, tiny);
            var memset = cuda.LaunchesMemsetFirst(tiny);
            seen.Add((tiny, memset, depths));
            table.AddRow(Describe(tiny) + (memset ? " (a memset and a kernel)" : string.Empty), string.Join(", ", depths.Select(d => d?.ToString(CultureInfo.InvariantCulture) ?? $"none of {LaunchQueueProbe.MaxLaunches}")), LaunchQueueProbe.Depth(depths)?.ToString(CultureInfo.InvariantCulture) ?? "-");
        }

        AnsiConsole.Write(table);
        if (LaunchQueueProbe.Depth(seen[0].Depths) is not { } depth)
        {
            AnsiConsole.MarkupLineInterpolated($"[yellow]launch queue:[/] no launch was held within {LaunchQueueProbe.MaxLaunches} behind the long kernel; the profile's depth ({profile.LaunchQueueDepth}) is kept");
            return profile;
        }

        var each = string.Join("; ", seen.Select(s => $"{Describe(s.Kernel)}{(s.Memset ? " as a memset and a kernel" : string.Empty)}: {string.Join(", ", s.Depths.Select(d => d?.ToString(CultureInfo.InvariantCulture) ?? "none"))}"));
        return profile with
        {
            LaunchQueueDepth = depth,
            Source = profile.SourceWith("launch queue depth", $"launch queue depth {depth}: measured on {cuda.Description.Split(" (", 2)[0]} by 'contention bench calibrate' ({DateTime.UtcNow:yyyy-MM-dd}): tiny kernels launched behind a {Describe(LaunchQueueProbe.Head)} until a launch was held over {LaunchQueueProbe.HeldNs / 1e6:0} ms, the launches before it in 5 repetitions ({each}); the element-wise kernel's median taken"),
        };
    }

    private static string Describe(in Contention.Workloads.Kernels.KernelSpec kernel) => kernel.Kind switch
    {
        Contention.Workloads.Kernels.KernelKind.Gemm => FormattableString.Invariant($"GEMM {kernel.M}x{kernel.N}x{kernel.K}"),
        Contention.Workloads.Kernels.KernelKind.Elementwise => FormattableString.Invariant($"element-wise {kernel.Op.ToString().ToLowerInvariant()}, {kernel.Elements:N0} elements"),
        _ => FormattableString.Invariant($"{kernel.Kind.ToString().ToLowerInvariant()}, {kernel.Elements:N0} elements"),
    };

    private static string Invariant(double ratio) => ratio.ToString("0.###", CultureInfo.InvariantCulture);
}
