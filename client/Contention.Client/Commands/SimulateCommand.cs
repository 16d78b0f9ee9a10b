using System.CommandLine;
using System.Globalization;
using Contention.Client.Mixes;
using Contention.Client.Results;
using Contention.Client.Simulation;
using Contention.Grains;
using Contention.Grains.Node;
using Contention.Workloads.Metrics;
using Contention.Workloads.Sim;
using Spectre.Console;

namespace Contention.Client.Commands;

/// <summary>
/// <c>contention simulate MIX</c>: the mix on modelled GPUs in virtual time (<see cref="VirtualGpu"/>),
/// with results written as a run's (results.json, tenants.csv, summary.md; a sweep's sweep.json and
/// points/). Nothing runs for real: no cluster, no worker, no tracer.
/// </summary>
internal static class SimulateCommand
{
    /// <summary>How far apart the seeds of a sweep's repetitions are: repetition r draws with the mix's seeds + (r - 1) × this.</summary>
    public const int RepetitionSeedStride = 1_000_003;

    public static Command Create()
    {
        var mix = new Argument<string>("MIX|TRACE") { Description = "a tenant mix (YAML), e.g. mixes/validation/service-beside-trainers.yaml; or a cluster trace's directory (the Alibaba GPU trace v2023: ../shared/traces/alibaba-gpu-v2023): its pods placed by each --policy, then each GPU's tenants simulated per --sharing (--placement-only: placed only)" };
        var placementOnly = new Option<bool>("--placement-only") { Description = "for a trace: place its pods as a snapshot (in creation order, none leaving) by each --policy, and report where they went, how many found a place and the GPU capacity left stranded" };
        var policies = new Option<string[]>("--policy") { Description = "for a trace: placement policies to compare (first-fit, best-fit, worst-fit)", DefaultValueFactory = _ => ["first-fit", "best-fit", "worst-fit"], AllowMultipleArgumentsPerToken = true };
        policies.AcceptOnlyFromAmong("first-fit", "best-fit", "worst-fit");
        var mapping = new Option<string>("--mapping") { Description = "for a trace: what its pods run, a mix whose tenants are named by class of service (LS, BE, Burstable, Guaranteed)", DefaultValueFactory = _ => Path.Combine("mixes", "traces", "alibaba-v2023.yaml") };
        var sharings = new Option<string[]>("--sharing") { Description = "for a trace: how its GPUs are shared (timeslice, mps), each simulated", DefaultValueFactory = _ => ["timeslice", "mps"], AllowMultipleArgumentsPerToken = true };
        sharings.AcceptOnlyFromAmong("timeslice", "mps");
        var gpuProfiles = new Option<string[]>("--gpu-profile") { Description = "for a trace: MODEL=PROFILE, the modelled GPU a trace GPU model gets (default: the datasheet-scaled profile of its name; the undisclosed G2 and G3 get h200, an assumption)", AllowMultipleArgumentsPerToken = true };
        var sloFactor = new Option<double>("--slo-factor") { Description = "for a trace: an inference pod meets its SLO when it keeps up with its requests and its p99 is within this factor of its p99 alone", DefaultValueFactory = _ => 2.0 };
        var output = new Option<string?>("--out") { Description = "results directory (default: results/EXPERIMENT-ID)" };
        var warmup = new Option<string?>("--warmup") { Description = "override the mix's warm-up (e.g. 2s), virtual time" };
        var duration = new Option<string?>("--duration") { Description = "override the mix's measurement window (e.g. 10s), virtual time" };
        var quick = new Option<bool>("--quick") { Description = "simulate the mix's reduced version (its 'quick' section)" };
        var simProfile = OptionChecks.SimProfile("device profile of the modelled GPUs", "h200");
        var command = new Command("simulate", "simulate a tenant mix on modelled GPUs in virtual time (a discrete-event simulation on the modelled GPU's code: kernel times, sharing policy, launch costs and round trips) and print the per-tenant table; results are written as a run's; a mix with a sweep simulates every point, each repetition with other seeds; a cluster trace is placed as a snapshot and its GPUs simulated, policy by policy and sharing mode by mode") { mix, output, warmup, duration, quick, simProfile, placementOnly, policies, mapping, sharings, gpuProfiles, sloFactor };
        command.SetAction(async (parse, cancellation) =>
        {
            try
            {
                if (Directory.Exists(parse.GetValue(mix)))
                {
                    var simulation = parse.GetValue(placementOnly) ? null : new TraceSimulationOptions(
                        TraceSimulation.CheckMapping(MixParser.Load(parse.GetValue(mapping)!)),
                        [.. parse.GetValue(sharings)!.Distinct().Select(Words.Parse<Contention.Grains.GpuSharing>)],
                        GpuProfiles(parse.GetValue(gpuProfiles) ?? []),
                        Seconds(parse.GetValue(warmup) ?? "1s", "--warmup", 0),
                        Seconds(parse.GetValue(duration) ?? "5s", "--duration", 1e-3),
                        parse.GetValue(sloFactor));
                    return PlaceTrace(parse.GetValue(mix)!, simulation, [.. parse.GetValue(policies)!.Distinct().Select(Policy)], parse.GetValue(output), AnsiConsole.Console);
                }


                var loaded = RunCommand.ApplyTiming(MixParser.Load(parse.GetValue(mix)!, parse.GetValue(quick)), parse.GetValue(warmup), parse.GetValue(duration));
                var options = new RunOptions(loaded, parse.GetValue(output), null, 0, 1, t => t, parse.GetValue(quick) ? "quick" : "") { SimProfile = parse.GetValue(simProfile)!, Ebpf = EbpfMode.Off };
                return await ExecuteAsync(options, AnsiConsole.Console, cancellation);
            }
            catch (MixException ex)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {ex.Message}");
                return 2;
            }
        });
        return command;
    }

    /// <summary>Simulates a mix (every point of its sweep); the exit code as <c>contention run</c>'s.</summary>
    public static async Task<int> ExecuteAsync(RunOptions options, IAnsiConsole console, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(options);
        var experiment = RunCommand.NewExperimentId(options.Mix.Name);
        Check(options.Mix);
        using var directory = ResultsDirectory.Claim(options.OutputDirectory ?? Path.Combine("results", experiment), sweep: options.Mix.Sweep is not null);
        if (options.Mix.Sweep is not null)
        {
            var prepared = SweepRunner.Prepare(options, directory.Path);
            return await SweepRunner.ExecuteAsync((pointOptions, point, id, runDirectory, _) => Task.FromResult(Simulate(pointOptions, id, runDirectory, point.Repetition)), options, directory.Path, experiment, prepared, console, cancellation);
        }

        var (progress, document) = Simulate(options, experiment, directory.Path, 1);
        TenantTable.Print(console, document);
        console.MarkupLineInterpolated($"results: [bold]{Path.GetFullPath(directory.Path)}[/] ({ResultsFiles.Json}, {ResultsFiles.Csv}, {ResultsFiles.Summary})");
        return RunCommand.ExitCode(progress.State, document.Validity);
    }

    /// <summary>
    /// One run in virtual time: the mix's tenants on the modelled GPUs their devices name
    /// (<c>sim</c> and <c>cuda</c> are GPU 0, <c>sim:N</c> and <c>cuda:N</c> GPU N), warm-up, then the
    /// measurement window; saved into <paramref name="directory"/> as a run's results.
    /// </summary>
    internal static (ExperimentProgress Progress, ResultsDocument Document) Simulate(RunOptions options, string experiment, string directory, int repetition)
    {
        var plan = options.Mix.ToPlan(experiment, options.Adjust);
        var profile = DeviceProfile.Load(options.SimProfile);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var started = DateTimeOffset.UtcNow;
        var aggregates = new List<TenantAggregate>();
        var statuses = new List<TenantStatus>();
        long events = 0;
        foreach (var gpu in plan.Tenants.GroupBy(t => GpuOf(t.Device)).OrderBy(g => g.Key))
        {
            var tenants = gpu.ToList();
            var virtualGpu = new VirtualGpu(profile, TenantWorkload.Sharing(tenants[0].Sharing), [.. tenants.Select(t => TenantWorkload.Virtual(t, t.Name, (repetition - 1) * RepetitionSeedStride, t.GpuSharePercent / 100.0))]);
            virtualGpu.Measure((long)Math.Round(plan.WarmupSeconds * 1e9), (long)Math.Round(plan.DurationSeconds * 1e9));
            events += virtualGpu.Events;
            var device = $"sim:{gpu.Key.ToString(CultureInfo.InvariantCulture)}";
            for (var i = 0; i < tenants.Count; i++)
            {
                var result = virtualGpu.Result(i);
                aggregates.Add(new TenantAggregate
                {
                    Tenant = tenants[i].Name,
                    Node = Node,
                    Kind = tenants[i].Kind,
                    Device = device,
                    Phase = MeasurementPhase.Measure,
                    Seconds = plan.DurationSeconds,
                    Completed = result.Completed,
                    Latency = Histograms.Encode(result.Latency),
                    GpuSeconds = result.KernelNs / 1e9,
                });
                statuses.Add(new TenantStatus(tenants[i].Name, TenantState.Stopped, Node, device, $"{profile.Name}, in virtual time", 0, 0, null));
            }
        }

        var message = string.Create(CultureInfo.InvariantCulture, $"simulated in virtual time: {events:N0} events in {watch.Elapsed.TotalSeconds:0.00} s ({events / Math.Max(watch.Elapsed.TotalSeconds, 1e-9) / 1e6:0.00} M events/s, {(plan.WarmupSeconds + plan.DurationSeconds) / Math.Max(watch.Elapsed.TotalSeconds, 1e-9):0.#}x real time); the OS side (CPU time, system calls, switches) is not modelled and reads 0");
        var progress = new ExperimentProgress(experiment, ExperimentState.Completed, plan.WarmupSeconds + plan.DurationSeconds, 0, statuses, started, DateTimeOffset.UtcNow, message);
        var snapshot = new CollectorSnapshot(experiment, aggregates, [], 0, []);
        var document = new RunRecorder(directory, experiment, plan, options, $"virtual time ({profile.Name})").Save(progress, snapshot);
        return (progress, document);
    }

    /// <summary>
    /// <c>contention simulate TRACE --placement-only</c>: the trace's pods placed as a snapshot by
    /// each policy; writes placements-POLICY.csv and summary.md into <paramref name="output"/> and
    /// prints the comparison. Returns the exit code.
    /// </summary>
    internal static int PlaceTrace(string directory, TraceSimulationOptions? simulation, IReadOnlyList<PlacementPolicy> policies, string? output, IAnsiConsole console)
    {
        var trace = ClusterTrace.LoadAlibaba(directory);
        var snapshots = policies.Select(p => PlacementSnapshot.Run(trace, p)).ToList();
        var report = PlacementReport.Markdown(trace, snapshots);
        var target = output ?? Path.Combine("results", $"{(simulation is null ? "placement" : "trace")}-{DateTime.UtcNow:yyyyMMdd-HHmmss}");
        Directory.CreateDirectory(target);
        foreach (var snapshot in snapshots)
        {
            File.WriteAllText(Path.Combine(target, $"placements-{Word(snapshot.Policy)}.csv"), PlacementReport.Csv(trace, snapshot));
        }

        PlacementReport.Print(console, trace, snapshots);
        if (simulation is not null)
        {
            report += TraceReport.Simulate(trace, snapshots, simulation, target, console);
        }

        File.WriteAllText(Path.Combine(target, ResultsFiles.Summary), report);
        console.MarkupLineInterpolated($"results: [bold]{Path.GetFullPath(target)}[/] ({ResultsFiles.Summary}, {string.Join(", ", snapshots.Select(s => $"placements-{Word(s.Policy)}.csv"))})");
        return 0;
    }

    private static double Seconds(string text, string option, double least) =>
        Units.TryParseSeconds(text, out var seconds) && seconds >= least ? seconds : throw new MixException($"{option}: expected a duration such as 2s, got '{text}'");

    private static Dictionary<string, string> GpuProfiles(IEnumerable<string> pairs)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal) { ["G2"] = "h200", ["G3"] = "h200" };
        foreach (var pair in pairs)
        {
            var parts = pair.Split('=', 2);
            if (parts.Length != 2 || parts[0].Length == 0)
            {
                throw new MixException("--gpu-profile", 0, 0, "--gpu-profile", $"'{pair}': expected MODEL=PROFILE, e.g. G2=a10");
            }

            _ = Contention.Workloads.Sim.DeviceProfile.Load(parts[1]);
            map[parts[0]] = parts[1];
        }

        return map;
    }

    /// <summary>A policy's word: first-fit, best-fit, worst-fit.</summary>
    public static string Word(PlacementPolicy policy) => policy switch
    {
        PlacementPolicy.FirstFit => "first-fit",
        PlacementPolicy.BestFit => "best-fit",
        _ => "worst-fit",
    };

    private static PlacementPolicy Policy(string word) => word switch
    {
        "first-fit" => PlacementPolicy.FirstFit,
        "best-fit" => PlacementPolicy.BestFit,
        "worst-fit" => PlacementPolicy.WorstFit,
        _ => throw new MixException("--policy", 0, 0, "--policy", $"'{word}' is no placement policy; expected first-fit, best-fit or worst-fit"),
    };

    /// <summary>The node name virtual runs report.</summary>
    public const string Node = "virtual";

    private static int GpuOf(string device)
    {
        var colon = device.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? 0 : int.Parse(device[(colon + 1)..], CultureInfo.InvariantCulture);
    }

    /// <summary>Refuses what virtual time cannot play, naming the tenant.</summary>
    private static void Check(Mix mix)
    {
        foreach (var tenant in (mix.Sweep?.Points.Select(p => p.Mix) ?? [mix]).SelectMany(m => m.Tenants))
        {
            if (tenant.Kind == TenantKind.Command)
            {
                throw new MixException($"tenant {tenant.Name}: a command tenant runs a real program and cannot be simulated; leave it out, or run the mix with 'contention run'");
            }

            if (tenant.Grid is not null)
            {
                throw new MixException($"tenant {tenant.Name}: a microbenchmark grid cannot be simulated in virtual time; give it a single op, or run the mix with 'contention run'");
            }

            var kind = tenant.Device.Split(':', 2)[0];
            if (kind is not ("sim" or "cuda" or "auto"))
            {
                throw new MixException($"tenant {tenant.Name}: device {tenant.Device} is not a GPU; virtual time simulates GPUs (sim, sim:N, cuda, cuda:N: each a modelled GPU)");
            }
        }
    }
}
