using System.CommandLine;
using System.Globalization;
using Contention.Client.Mixes;
using Contention.Client.Results;
using Contention.Client.Simulation;
using Contention.Grains;
using Contention.Grains.Simulation;
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
    public static Command Create()
    {
        var mix = new Argument<string>("MIX|TRACE") { Description = "a tenant mix (YAML), e.g. mixes/validation/service-beside-trainers.yaml; or a cluster trace: the Alibaba GPU trace v2023's directory (../shared/traces/alibaba-gpu-v2023), or a jobs CSV with --cluster-spec; its pods placed by each --policy, then each GPU's tenants simulated per --sharing (--placement-only: placed only); none with --fit-os", Arity = ArgumentArity.ZeroOrOne };
        var fitOs = new Option<string[]>("--fit-os") { Description = "fit the OS cost model from these results directories of real runs ('contention run' on a GPU node, sweeps too): each run's mix simulated as it ran for its tenants' features, their measured CPU, switches and system calls by category the targets; writes os-model.json and os-model.md into --out (default results/os-model)", AllowMultipleArgumentsPerToken = true };
        var osModel = new Option<string?>("--os-model") { Description = "the OS cost model a simulated mix's CPU, switch and system-call columns come from (an os-model.json of --fit-os); default: the one shipped for --sim-profile (h200), none for other profiles; for a trace, the H200's unless given (every GPU model's host alike)" };
        var timeline = new Option<bool>("--timeline") { Description = "for a trace: play it along its timeline (pods arrive at their creation, wait when nothing fits, run as long as they lived in the trace and leave; each distinct co-location of a GPU simulated until its statistics converge and reused for every span of it) instead of placing it as a snapshot; --duration is then each co-location's longest window (default 32s)" };
        var clusterSpec = new Option<string?>("--cluster-spec") { Description = "for a jobs CSV (the generic schema: job_id, submit_time, duration, gpus; gpu_fraction, qos, kind, cpu_milli, memory_mib, gpu_model): the cluster its jobs run on, in YAML (node groups: name, count, cpu, memory_gib, gpus, model, profile), e.g. examples/jobs/cluster.yaml" };
        var loadFactor = new Option<double>("--load-factor") { Description = "with --timeline: arrivals this many times closer together, each pod living as long as in the trace (this many times the trace's load)", DefaultValueFactory = _ => 1.0 };
        var placementOnly = new Option<bool>("--placement-only") { Description = "for a trace: place its pods as a snapshot (in creation order, none leaving; with --timeline, along its timeline) by each --policy, and report where they went, how many found a place (and waited) and the GPU capacity left stranded; simulate nothing" };
        var policies = new Option<string[]>("--policy") { Description = "for a trace: placement policies to compare (first-fit, best-fit, worst-fit; contention-aware: where the predicted harm to tails is least, one placement per --sharing mode, each predicting by simulating co-locations under it)", DefaultValueFactory = _ => ["first-fit", "best-fit", "worst-fit"], AllowMultipleArgumentsPerToken = true };
        policies.AcceptOnlyFromAmong("first-fit", "best-fit", "worst-fit", "contention-aware");
        var mapping = new Option<string>("--mapping") { Description = "for a trace: what its pods run, a mix whose tenants are named by class of service (LS, BE, Burstable, Guaranteed)", DefaultValueFactory = _ => Path.Combine("mixes", "traces", "alibaba-v2023.yaml") };
        var sharings = new Option<string[]>("--sharing") { Description = "for a trace: how its GPUs are shared (timeslice, mps), each simulated", DefaultValueFactory = _ => ["timeslice", "mps"], AllowMultipleArgumentsPerToken = true };
        sharings.AcceptOnlyFromAmong("timeslice", "mps");
        var gpuProfiles = new Option<string[]>("--gpu-profile") { Description = "for a trace: MODEL=PROFILE, the modelled GPU a trace GPU model gets (default: the datasheet-scaled profile of its name; the undisclosed G2 and G3 get h200, an assumption)", AllowMultipleArgumentsPerToken = true };
        var sloFactor = new Option<double>("--slo-factor") { Description = "for a trace: an inference pod meets its SLO when it keeps up with its requests and its p99 is within this factor of its p99 alone", DefaultValueFactory = _ => 2.0 };
        var output = new Option<string?>("--out") { Description = "results directory (default: results/EXPERIMENT-ID)" };
        var warmup = new Option<string?>("--warmup") { Description = "override the mix's warm-up (e.g. 2s), virtual time" };
        var duration = new Option<string?>("--duration") { Description = "override the mix's measurement window (e.g. 10s), virtual time" };
        var quick = new Option<bool>("--quick") { Description = "simulate the mix's reduced version (its 'quick' section)" };
        var repetitions = RunCommand.Repetitions();
        var simProfile = OptionChecks.SimProfile("device profile of the modelled GPUs", "h200");
        var cores = new Option<int>("--cores") { Description = "for a mix: the host cores its tenants' threads share (divided evenly among its GPUs): threads that launch or spin beyond them take turns of the profile's scheduler slice (3 ms, Linux's default), slowing each other; 0: a core for every thread", DefaultValueFactory = _ => 0 }.Within(0, 100_000);
        var weights = new Option<bool>("--timeslice-weights") { Description = "time-sliced GPUs give each tenant slices in proportion to its GPU share (a trace pod's gpu_milli, a mix tenant's gpu_share: the timeslice times its share over the largest share on its GPU), as GPU-sharing layers with weighted slices do; without it every slice is a whole timeslice, as the driver gives (virtual time only)" };
        var cluster = new Option<string?>("--cluster") { Description = "redis://HOST:PORT of a running cluster whose nodes share the simulation (its GPUs dealt to groups spread over the nodes, advanced window by window: the same results as on one node); without it an embedded node in this process simulates" }.RedisCluster("leave it out to simulate on an embedded node");
        var command = new Command("simulate", "simulate a tenant mix on modelled GPUs in virtual time (a discrete-event simulation on the modelled GPU's code: kernel times, sharing policy, launch costs and round trips) and print the per-tenant table; results are written as a run's; a mix with a sweep simulates every point, each repetition with other seeds; a cluster trace is placed as a snapshot (or played along its timeline) and its GPUs simulated, policy by policy and sharing mode by mode; --fit-os fits the OS cost model from real runs") { mix, output, warmup, duration, quick, repetitions, simProfile, cores, weights, cluster, osModel, fitOs, clusterSpec, timeline, loadFactor, placementOnly, policies, mapping, sharings, gpuProfiles, sloFactor };
        command.SetAction(async (parse, cancellation) =>
        {
            try
            {
                if (parse.GetValue(fitOs) is { Length: > 0 } fitted)
                {
                    if (parse.GetValue(mix) is { } given)
                    {
                        throw new MixException($"--fit-os fits from results directories and simulates no mix: leave '{given}' out, or give it to --fit-os if it is one");
                    }

                    return await OsFit.RunAsync(fitted, parse.GetValue(simProfile)!, parse.GetValue(cluster), parse.GetValue(output) ?? Path.Combine("results", "os-model"), AnsiConsole.Console, cancellation);
                }

                if (parse.GetValue(mix) is null)
                {
                    throw new MixException("give a mix (YAML) or a trace's directory to simulate, or --fit-os RESULTS… to fit the OS cost model");
                }

                if (Directory.Exists(parse.GetValue(mix)) || parse.GetValue(mix)!.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
                {
                    if (parse.GetValue(cores) > 0 || parse.GetValue(repetitions) is not null)
                    {
                        throw new MixException($"{(parse.GetValue(cores) > 0 ? "--cores" : "--repetitions")} applies to a mix, not to a trace (a trace's GPUs share their nodes' own cores, and each co-location is simulated once): leave it out");
                    }

                    var (trace, specProfiles) = LoadTrace(parse.GetValue(mix)!, parse.GetValue(clusterSpec));
                    var modes = parse.GetValue(sharings)!.Distinct().Select(Words.Parse<Contention.Grains.GpuSharing>).ToList();
                    var mappingMix = TraceSimulation.CheckMapping(MixParser.Load(parse.GetValue(mapping)!));
                    var profileMap = GpuProfiles(specProfiles, parse.GetValue(gpuProfiles) ?? []);
                    var chosen = Policies(parse.GetValue(policies)!, modes, mappingMix, profileMap, parse.GetValue(weights));
                    var simulation = parse.GetValue(placementOnly) ? null : new TraceSimulationOptions(
                        mappingMix,
                        modes,
                        profileMap,
                        Seconds(parse.GetValue(warmup) ?? "1s", "--warmup", 0),
                        Seconds(parse.GetValue(duration) ?? (parse.GetValue(timeline) ? "32s" : "5s"), "--duration", 1e-3),
                        parse.GetValue(sloFactor),
                        parse.GetValue(osModel) is { } osFile ? LoadOsModel(osFile) : OsCostModel.Shipped("h200"),
                        parse.GetValue(weights));
                    var connect = simulation is null ? null : new RunOptions(simulation.Mapping, null, parse.GetValue(cluster), 0, 1, t => t, "");
                    if (parse.GetValue(loadFactor) is var factor && (!(factor > 0) || (factor != 1 && !parse.GetValue(timeline))))
                    {
                        throw new MixException($"--load-factor: expected a number above 0 with --timeline (arrivals that many times closer together), got {factor.ToString(CultureInfo.InvariantCulture)}{(parse.GetValue(timeline) ? "" : " without --timeline")}");
                    }

                    if (parse.GetValue(timeline))
                    {
                        return await TimelineAsync(trace, simulation, chosen, factor, parse.GetValue(output), connect, AnsiConsole.Console, cancellation);
                    }

                    return await PlaceTraceAsync(trace, simulation, chosen, parse.GetValue(output), connect, AnsiConsole.Console, cancellation);
                }

                var loaded = RunCommand.ApplyRepetitions(RunCommand.ApplyTiming(MixParser.Load(parse.GetValue(mix)!, parse.GetValue(quick)), parse.GetValue(warmup), parse.GetValue(duration)), parse.GetValue(repetitions));
                var options = new RunOptions(loaded, parse.GetValue(output), parse.GetValue(cluster), 0, 1, t => t, parse.GetValue(quick) ? "quick" : "") { SimProfile = parse.GetValue(simProfile)!, Ebpf = EbpfMode.Off, OsModel = parse.GetValue(osModel), HostCores = parse.GetValue(cores), WeightedSlices = parse.GetValue(weights) };
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

    /// <summary>Simulates a mix (every point of its sweep) on the embedded node or <c>--cluster</c>; the exit code as <c>contention run</c>'s.</summary>
    public static async Task<int> ExecuteAsync(RunOptions options, IAnsiConsole console, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(options);
        var experiment = RunCommand.NewExperimentId(options.Mix.Name);
        Check(options.Mix);
        using var directory = ResultsDirectory.Claim(options.OutputDirectory ?? Path.Combine("results", experiment), sweep: options.Mix.Sweep is not null);
        var prepared = options.Mix.Sweep is null ? default : SweepRunner.Prepare(options, directory.Path, modelled: true);
        await using var connection = await OpenAsync(options, cancellation);
        if (options.Mix.Sweep is not null)
        {
            return await SweepRunner.ExecuteAsync((pointOptions, point, id, runDirectory, token) => SimulateAsync(connection.Client, pointOptions with { Mix = point.Reseeded() }, id, runDirectory, console, token), options, directory.Path, experiment, prepared, console, cancellation);
        }

        var (progress, document) = await SimulateAsync(connection.Client, options, experiment, directory.Path, console, cancellation);
        TenantTable.Print(console, document);
        console.MarkupLineInterpolated($"results: [bold]{Path.GetFullPath(directory.Path)}[/] ({ResultsFiles.Json}, {ResultsFiles.Csv}, {ResultsFiles.Summary})");
        return RunCommand.ExitCode(progress.State, document.Validity);
    }

    /// <summary>
    /// Where a simulation runs: an embedded node in this process (one modelled GPU of its own, no
    /// tracer: it runs nothing for real), or the nodes of <c>--cluster</c>.
    /// </summary>
    internal static Task<ClusterConnection> OpenAsync(RunOptions options, CancellationToken cancellation) =>
        ClusterConnection.OpenAsync(options with { SimDevices = 1, MetricsPort = 0, Ebpf = EbpfMode.Off }, cancellation);

    /// <summary>
    /// One run in virtual time: the mix's tenants on the modelled GPUs their devices name
    /// (<c>sim</c> and <c>cuda</c> are GPU 0, <c>sim:N</c> and <c>cuda:N</c> GPU N), each GPU a unit
    /// of a simulation the cluster's nodes run (<see cref="SimulationCoordinator"/>), warm-up, then
    /// the measurement window; saved into <paramref name="directory"/> as a run's results. Cancelled,
    /// it keeps the window simulated so far and ends <c>Interrupted</c>.
    /// </summary>
    internal static async Task<(ExperimentProgress Progress, ResultsDocument Document)> SimulateAsync(IGrainFactory grains, RunOptions options, string experiment, string directory, IAnsiConsole console, CancellationToken cancellation)
    {
        var plan = options.Mix.ToPlan(experiment, options.Adjust);
        var capacityFile = options.CapacityFile ?? Path.Combine(directory, Capacities.File);
        (plan, var offered) = await Capacities.ResolveAsync(plan, $"virtual time, profile {options.SimProfile}, cores {options.HostCores}", capacityFile, (probe, key) =>
            Capacities.MeasureAsync(options.Mix, probe, key, capacityFile, console, (mix, probeDirectory) =>
                SimulateAsync(grains, options with { Mix = mix, Adjust = s => s, OverridesText = $"{options.OverridesText} capacity of {probe.Name}".Trim() }, RunCommand.NewExperimentId(mix.Name), probeDirectory, console, cancellation)));
        var started = DateTimeOffset.UtcNow;
        var gpus = plan.Tenants.GroupBy(t => GpuOf(t.Device)).OrderBy(g => g.Key).Select(g => g.ToList()).ToList();
        var units = gpus.Select(tenants => new SimUnit(
            Device(GpuOf(tenants[0].Device)),
            options.SimProfile,
            tenants[0].Sharing,
            [.. tenants.Select(t => new SimUnitTenant(t, t.Name, 0, t.GpuSharePercent / 100.0))],
            CoresOf(options.HostCores, gpus.Count),
            options.WeightedSlices && tenants[0].Sharing == Contention.Grains.GpuSharing.Timeslice,
            Arbiter: tenants[0].Arbiter,
            ArbiterOutstandingNs: tenants[0].ArbiterOutstandingNs,
            ArbiterQuantumNs: tenants[0].ArbiterQuantumNs)).ToList();
        var request = new SimulationRequest(experiment, units, Nanoseconds(plan.WarmupSeconds), Nanoseconds(plan.DurationSeconds), SimulationRequest.DefaultStepNs, Histograms: true);
        var outcome = await RunAsync(grains, request, console, cancellation);
        var device = DeviceProfile.Load(options.SimProfile);
        var profile = device.Name;
        var osModel = options.OsModel is { } file ? LoadOsModel(file) : OsCostModel.Shipped(options.SimProfile);
        var aggregates = new List<TenantAggregate>();
        var statuses = new List<TenantStatus>();
        var extrapolated = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (var g = 0; g < gpus.Count; g++)
        {
            var unit = outcome.Units[g];
            for (var i = 0; i < gpus[g].Count; i++)
            {
                var tenant = unit.Tenants[i];
                if (unit.MeasuredNs > 0)
                {
                    var sync = Contention.Grains.Node.TenantWorkload.Sync(gpus[g][i].SyncMode);
                    var features = OsFit.Features(unit, i);
                    if (osModel?.Beyond(sync, features) is { Count: > 0 } beyond)
                    {
                        // A tenant's own words: its replicas and sweep points alike land on one line.
                        extrapolated.TryAdd(gpus[g][i].Name, string.Join(", ", beyond.Select(b => string.Create(CultureInfo.InvariantCulture, $"{b.Feature} {b.PerSecond:#,0.##}/s, fitted up to {b.FittedMax:#,0.##}/s"))));
                    }

                    aggregates.Add(WithArbiterWaits(OsModelled(
                        new TenantAggregate
                        {
                            Tenant = gpus[g][i].Name,
                            Node = Node,
                            Kind = gpus[g][i].Kind,
                            Device = unit.Id,
                            Phase = MeasurementPhase.Measure,
                            Seconds = unit.MeasuredNs / 1e9,
                            Completed = tenant.Completed,
                            Latency = tenant.Histogram,
                            GpuSeconds = tenant.KernelNs / 1e9,
                            ArbiterHeld = tenant.Host.ArbiterHeld,
                            ArbiterHeldSeconds = tenant.Host.ArbiterHeldNs / 1e9,
                            ArbiterPredictedSeconds = tenant.Host.ArbiterPredictedNs / 1e9,
                            ArbiterCorrection = tenant.Host.ArbiterCorrection,
                        },
                        osModel,
                        sync,
                        features), tenant.Host.ArbiterSleeps, tenant.Host.ArbiterWakes));
                }

                statuses.Add(new TenantStatus(gpus[g][i].Name, TenantState.Stopped, Node, unit.Id, $"{profile}, in virtual time", 0, 0, null));
            }
        }

        var reached = outcome.Progress.NowNs / 1e9;
        var uncovered = plan.Tenants.Select(t => Contention.Grains.Node.TenantWorkload.Sync(t.SyncMode)).Distinct().Where(m => osModel?.Covers(m) != true).Select(m => m.ToString().ToLowerInvariant()).Order(StringComparer.Ordinal).ToList();
        var os = osModel is null
            ? $"the OS side (CPU time, system calls, switches) is not modelled for profile {profile} (no OS model shipped for it; give --os-model) and reads 0"
            : $"the OS side (CPU time, switches, system calls by category) is the OS model's ({osModel.Source}), column os_modelled{(uncovered.Count == 0 ? "" : $"; not for sync {string.Join(", ", uncovered)} (no fit): those read 0")}{(extrapolated.Count == 0 ? "" : $"; extrapolated beyond twice what its fits were fitted on (read as a linear model's guess, not a fit; CPU held to one core) for {string.Join("; ", extrapolated.Select(e => $"{e.Key} ({e.Value})"))}")}";
        var host = options.HostCores > 0
            ? $"the tenants' threads share {options.HostCores} host core(s){(gpus.Count > 1 ? $", {CoresOf(options.HostCores, gpus.Count)} for each of the {gpus.Count} GPUs' tenants" : "")} (turns of {device.SchedulerSliceNs / 1e6:0.###} ms)"
            : "each tenant's thread has a host core of its own (--cores not given)";
        var slices = options.WeightedSlices && plan.Tenants.Any(t => t.Sharing == Contention.Grains.GpuSharing.Timeslice) ? "; time slices weighted by each tenant's gpu_share (--timeslice-weights)" : "";
        var how = $"{Describe(outcome)}; {host}{slices}; {os}";
        var message = outcome.Interrupted
            ? string.Create(CultureInfo.InvariantCulture, $"interrupted at {reached:0.###} s of {outcome.Progress.EndNs / 1e9:0.###} s of virtual time: {(reached > plan.WarmupSeconds ? $"results are the first {reached - plan.WarmupSeconds:0.###} s of the window" : "still warming up, nothing measured")}; {how}")
            : how;
        var progress = new ExperimentProgress(experiment, outcome.Interrupted ? ExperimentState.Interrupted : ExperimentState.Completed, reached, 0, statuses, started, DateTimeOffset.UtcNow, message);
        var snapshot = new CollectorSnapshot(experiment, aggregates, [], 0, []);
        await ExportAsync(grains, experiment, aggregates, cancellation.IsCancellationRequested ? CancellationToken.None : cancellation);
        var document = new RunRecorder(directory, experiment, plan, options, $"virtual time ({profile})", offered).Save(progress, snapshot);
        return (progress, document);
    }

    /// <summary>
    /// Runs <paramref name="request"/> over the cluster, its progress on one status line (on a
    /// terminal; elsewhere, a line after the first window and one every <see cref="ProgressEvery"/>).
    /// </summary>
    internal static async Task<SimulationOutcome> RunAsync(IGrainFactory grains, SimulationRequest request, IAnsiConsole console, CancellationToken cancellation)
    {
        if (console.Profile.Capabilities.Interactive)
        {
            return await console.Status().StartAsync(Markup.Escape($"{request.Id}: starting"), async context =>
                await SimulationCoordinator.RunAsync(grains, request, new Progress(p => context.Status(Markup.Escape($"{request.Id}: {Line(p)}"))), cancellation));
        }

        TimeSpan? last = null;
        return await SimulationCoordinator.RunAsync(
            grains,
            request,
            new Progress(p =>
            {
                // The first window at once (it shows the speed), then one line every so often.
                if (last is null || p.Elapsed - last >= ProgressEvery)
                {
                    last = p.Elapsed;
                    console.WriteLine($"{request.Id}: {Line(p)}");
                }
            }),
            cancellation);
    }

    /// <summary>How often a simulation's progress is printed where the console is no terminal.</summary>
    public static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(10);

    /// <summary>Where a simulation stands, in a line: virtual time reached, events per second, speed against real time, where it runs.</summary>
    public static string Line(SimulationProgress progress)
    {
        ArgumentNullException.ThrowIfNull(progress);
        return string.Create(CultureInfo.InvariantCulture, $"virtual {progress.NowNs / 1e9:0.00} of {progress.EndNs / 1e9:0.00} s, {progress.EventsPerSecond / 1e6:0.00} M events/s, {progress.Speed:0.##}x real time, {progress.Groups} group(s) on {progress.Silos} node(s), {progress.Running} unit(s) still running");
    }

    /// <summary>
    /// Reports the simulated window's per-tenant figures to the experiment's collector as one node
    /// report of node <c>virtual</c>, as a node reports a run's: the collector exports them to
    /// Prometheus (operations, latency histogram, GPU seconds, and the OS model's CPU, switches and
    /// system calls by category, the calls as syscall <c>(modelled)</c>) on its silo's /metrics, for
    /// as long as that silo keeps series; then lets the collector go.
    /// </summary>
    internal static async Task ExportAsync(IGrainFactory grains, string experiment, IReadOnlyList<TenantAggregate> aggregates, CancellationToken cancellation)
    {
        var collector = grains.GetGrain<ICollectorGrain>(experiment);
        await collector.ReportAsync(new NodeReport(Node, 1, [.. aggregates.Select(a => new TenantDelta
        {
            Tenant = a.Tenant,
            Node = a.Node,
            Kind = a.Kind,
            Device = a.Device,
            Phase = a.Phase,
            IntervalSeconds = a.Seconds,
            Completed = a.Completed,
            Latency = a.Latency,
            Os = a.Os,
            Kernel = a.Kernel,
            GpuSeconds = a.GpuSeconds,
        })]), cancellation);
        await collector.ReleaseAsync(TimeSpan.Zero, cancellation);
    }

    /// <summary>A GPU's share of <paramref name="cores"/> host cores among <paramref name="gpus"/> GPUs: at least one; 0 (unlimited) stays 0.</summary>
    internal static int CoresOf(int cores, int gpus) => cores > 0 ? Math.Max(1, cores / Math.Max(1, gpus)) : 0;

    private static string Describe(SimulationOutcome outcome) => string.Create(CultureInfo.InvariantCulture, $"simulated in virtual time: {outcome.Progress.Events:N0} events in {outcome.Progress.Elapsed.TotalSeconds:0.00} s ({outcome.Progress.EventsPerSecond / 1e6:0.00} M events/s, {outcome.Progress.Speed:0.#}x real time) on {outcome.Silos.Count} node(s), {outcome.Progress.Groups} group(s)");

    private static OsCostModel LoadOsModel(string file)
    {
        try
        {
            return OsCostModel.Load(file);
        }
        catch (ArgumentException ex)
        {
            throw new MixException($"--os-model: {ex.Message}; give an os-model.json written by 'contention simulate --fit-os'");
        }
    }

    /// <summary>
    /// <paramref name="aggregate"/> with the OS side <paramref name="model"/> predicts for a tenant
    /// of <paramref name="sync"/> with <paramref name="features"/>: CPU, switches and system calls by
    /// category, marked modelled; as it is when the model has no fit for the sync mode.
    /// </summary>
    internal static TenantAggregate OsModelled(TenantAggregate aggregate, OsCostModel? model, Contention.Workloads.Devices.SyncMode sync, OsFeatures features)
    {
        ArgumentNullException.ThrowIfNull(aggregate);
        if (model is null || !model.Covers(sync))
        {
            return aggregate;
        }

        var predicted = model.Predict(sync, features);
        long Count(string metric) => (long)Math.Round(predicted.GetValueOrDefault(metric));
        var calls = predicted.Where(p => p.Key.StartsWith("calls_", StringComparison.Ordinal) && p.Value >= 0.5)
            .Select(p => new SyscallCount("(modelled)", p.Key["calls_".Length..], (long)Math.Round(p.Value), 0, 0, 0))
            .ToList();
        return aggregate with
        {
            Os = new OsCounters(Count("voluntary_switches"), Count("involuntary_switches"), predicted.GetValueOrDefault("user_cpu_s"), predicted.GetValueOrDefault("system_cpu_s"), 0, 0),
            Kernel = calls.Count == 0 ? null : new KernelCounters { Syscalls = calls },
            OsModelled = true,
        };
    }

    /// <summary>
    /// <paramref name="aggregate"/>, its OS side modelled, with what its GPU's modelled arbiter made
    /// its thread do on top of the OS model's prediction (fitted on runs without an arbiter): each
    /// sleep of a held launch a futex wait and a voluntary switch, each wake-up of the others'
    /// sleeping launches a futex wake (system calls in sync-wait, named). The held launches'
    /// spinning (sched_yield calls, CPU time) is not added.
    /// </summary>
    internal static TenantAggregate WithArbiterWaits(TenantAggregate aggregate, long sleeps, long wakes)
    {
        ArgumentNullException.ThrowIfNull(aggregate);
        if (!aggregate.OsModelled || aggregate.Os is not { } os || sleeps + wakes <= 0)
        {
            return aggregate;
        }

        var kernel = aggregate.Kernel ?? new KernelCounters();
        return aggregate with
        {
            Os = os with { VoluntarySwitches = os.VoluntarySwitches + sleeps },
            Kernel = kernel with { Syscalls = [.. kernel.Syscalls, new SyscallCount("futex", Contention.Tracer.SyscallCategories.SyncWait, sleeps + wakes, 0, 0, 0)] },
        };
    }

    private static long Nanoseconds(double seconds) => (long)Math.Round(seconds * 1e9);

    private static string Device(int gpu) => $"sim:{gpu.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Reports on the caller's thread, in order (not <see cref="Progress{T}"/>'s posting to the pool).</summary>
    private sealed class Progress(Action<SimulationProgress> report) : IProgress<SimulationProgress>
    {
        public void Report(SimulationProgress value) => report(value);
    }

    /// <summary>
    /// <c>contention simulate TRACE --placement-only</c>: the trace's pods placed as a snapshot by
    /// each policy; writes placements-POLICY.csv and summary.md into <paramref name="output"/> and
    /// prints the comparison. Returns the exit code.
    /// </summary>
    internal static async Task<int> PlaceTraceAsync(ClusterTrace trace, TraceSimulationOptions? simulation, IReadOnlyList<(PlacementPolicy Policy, IPlacementHarm? Harm)> policies, string? output, RunOptions? connect, IAnsiConsole console, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var snapshots = policies.Select(p => PlacementSnapshot.Run(trace, p.Policy, p.Harm)).ToList();
        var report = PlacementReport.Markdown(trace, snapshots);
        var target = output ?? Path.Combine("results", $"{(simulation is null ? "placement" : "trace")}-{DateTime.UtcNow:yyyyMMdd-HHmmss}");
        Directory.CreateDirectory(target);
        foreach (var snapshot in snapshots)
        {
            File.WriteAllText(Path.Combine(target, $"placements-{Word(snapshot.Policy)}.csv"), PlacementReport.Csv(trace, snapshot));
        }

        PlacementReport.Print(console, trace, snapshots);
        return await SimulateAndSaveAsync(
            report,
            target,
            connect,
            simulation is null ? null : grains => TraceReport.SimulateAsync(grains, trace, snapshots, simulation, target, console, cancellation),
            string.Join(", ", snapshots.Select(s => $"placements-{Word(s.Policy)}.csv")) + (simulation is null ? "" : ", tenants-*.csv"),
            console,
            cancellation);
    }

    /// <summary><c>contention simulate TRACE --timeline</c>: the trace played along its timeline by each policy, then (without --placement-only) its pods' lives simulated per sharing mode.</summary>
    internal static async Task<int> TimelineAsync(ClusterTrace trace, TraceSimulationOptions? simulation, IReadOnlyList<(PlacementPolicy Policy, IPlacementHarm? Harm)> policies, double loadFactor, string? output, RunOptions? connect, IAnsiConsole console, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var timelines = policies.Select(p => TraceTimeline.Run(trace, p.Policy, loadFactor, p.Harm)).ToList();
        var target = output ?? Path.Combine("results", $"timeline-{DateTime.UtcNow:yyyyMMdd-HHmmss}");
        Directory.CreateDirectory(target);
        var report = TimelineReport.Placement(trace, timelines, target, console);
        return await SimulateAndSaveAsync(
            report,
            target,
            connect,
            simulation is null ? null : grains => TimelineReport.SimulateAsync(grains, trace, timelines, simulation, target, console, cancellation),
            string.Join(", ", timelines.Select(t => $"timeline-{Word(t.Policy)}.csv")) + (simulation is null ? "" : ", tenants-timeline-*.csv, colocations-timeline.csv"),
            console,
            cancellation);
    }

    /// <summary>
    /// Simulates (when <paramref name="simulate"/> is given: on the embedded node or the cluster of
    /// <paramref name="connect"/>), adds its part to <paramref name="report"/>, saves summary.md into
    /// <paramref name="target"/>; 130 when interrupted (what was simulated is saved), else 0.
    /// </summary>
    private static async Task<int> SimulateAndSaveAsync(string report, string target, RunOptions? connect, Func<IGrainFactory, Task<string>>? simulate, string files, IAnsiConsole console, CancellationToken cancellation)
    {
        var interrupted = false;
        if (simulate is not null)
        {
            await using var connection = await OpenAsync(connect!, cancellation);
            report += await simulate(connection.Client);
            interrupted = cancellation.IsCancellationRequested;
        }

        File.WriteAllText(Path.Combine(target, ResultsFiles.Summary), report);
        console.MarkupLineInterpolated($"results: [bold]{Path.GetFullPath(target)}[/] ({ResultsFiles.Summary}, {files})");
        return interrupted ? 130 : 0;
    }

    private static double Seconds(string text, string option, double least) =>
        Units.TryParseSeconds(text, out var seconds) && seconds >= least ? seconds : throw new MixException($"{option}: expected a duration such as 2s, got '{text}'");

    /// <summary>
    /// A trace: a directory holding the Alibaba v2023 trace (its own nodes), or a jobs CSV in the
    /// generic schema on the nodes of <paramref name="clusterSpec"/>; and the profiles the spec gives GPU models.
    /// </summary>
    internal static (ClusterTrace Trace, IReadOnlyDictionary<string, string> Profiles) LoadTrace(string path, string? clusterSpec)
    {
        if (Directory.Exists(path))
        {
            return clusterSpec is null
                ? (ClusterTrace.LoadAlibaba(path), new Dictionary<string, string>())
                : throw new MixException($"--cluster-spec: {path} is the Alibaba trace, which lists its own nodes; leave --cluster-spec out (it is for a jobs CSV)");
        }

        if (clusterSpec is null)
        {
            throw new MixException($"{path}: a jobs CSV lists no nodes; give --cluster-spec FILE, the cluster it runs on in YAML (e.g. examples/jobs/cluster.yaml)");
        }

        var spec = ClusterSpec.Load(clusterSpec);
        return (ClusterTrace.LoadJobs(path, spec), spec.Profiles);
    }

    private static Dictionary<string, string> GpuProfiles(IReadOnlyDictionary<string, string> fromSpec, IEnumerable<string> pairs)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal) { ["G2"] = "h200", ["G3"] = "h200" };
        foreach (var (model, profile) in fromSpec)
        {
            map[model] = profile;
        }

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

    /// <summary>A policy's word: first-fit, best-fit, worst-fit, contention-aware-timeslice, contention-aware-mps.</summary>
    public static string Word(PlacementPolicy policy) => policy switch
    {
        PlacementPolicy.FirstFit => "first-fit",
        PlacementPolicy.BestFit => "best-fit",
        PlacementPolicy.ContentionAwareTimeslice => "contention-aware-timeslice",
        PlacementPolicy.ContentionAwareMps => "contention-aware-mps",
        _ => "worst-fit",
    };

    /// <summary>Whether a placement by <paramref name="policy"/> is simulated under <paramref name="sharing"/>: a contention-aware one only under the mode it predicted for.</summary>
    public static bool Simulates(PlacementPolicy policy, Contention.Grains.GpuSharing sharing) => policy switch
    {
        PlacementPolicy.ContentionAwareTimeslice => sharing == Contention.Grains.GpuSharing.Timeslice,
        PlacementPolicy.ContentionAwareMps => sharing == Contention.Grains.GpuSharing.Mps,
        _ => true,
    };

    /// <summary>The policies asked for; <c>contention-aware</c> is one per sharing mode, each predicting harm by simulating under it.</summary>
    private static List<(PlacementPolicy Policy, IPlacementHarm? Harm)> Policies(IEnumerable<string> words, IReadOnlyList<Contention.Grains.GpuSharing> modes, Mix mapping, Dictionary<string, string> profiles, bool weightedSlices)
    {
        return [.. words.Distinct().SelectMany(word => word == "contention-aware"
            ? modes.Select(m => (m == Contention.Grains.GpuSharing.Mps ? PlacementPolicy.ContentionAwareMps : PlacementPolicy.ContentionAwareTimeslice, (IPlacementHarm?)new SimulatedHarm(mapping, model => TraceSimulation.ProfileOf(profiles, model), m, weightedSlices && m == Contention.Grains.GpuSharing.Timeslice)))
            : [(Policy(word), (IPlacementHarm?)null)])];
    }

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
