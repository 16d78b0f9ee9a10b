using System.CommandLine;
using System.Globalization;
using Contention.Client.Mixes;
using Contention.Client.Results;
using Contention.Grains;
using Contention.Grains.Node;
using Contention.Silo;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Spectre.Console;
using StackExchange.Redis;

namespace Contention.Client.Commands;

/// <summary><c>contention run MIX</c>: runs a tenant mix and writes its results directory.</summary>
internal static class RunCommand
{
    /// <summary>Consecutive failed polls (500 ms apart) after which the run counts as lost.</summary>
    /// <summary>How long the experiment may not answer before the run gives up on it.</summary>
    private static readonly TimeSpan LostAfter = TimeSpan.FromSeconds(30);

    public static Command Create()
    {
        var mix = new Argument<string>("MIX") { Description = "the tenant mix (YAML), e.g. mixes/default.yaml" };
        var output = new Option<string?>("--out") { Description = "results directory (default: results/EXPERIMENT-ID)" };
        var cluster = new Option<string?>("--cluster") { Description = "redis://HOST:PORT of a running cluster (gives up after 30 s when no node answers); without it an embedded single-node cluster runs in this process" }.RedisCluster("leave it out to run on an embedded node");
        var device = new Option<string?>("--device") { Description = "run every tenant on this device instead (cpu, cuda, cuda:N, sim, sim:N)" };
        var sync = new Option<string?>("--sync") { Description = "run every tenant in this sync mode instead (spin, yield, block)" };
        var warmup = new Option<string?>("--warmup") { Description = "override the mix's warm-up (e.g. 2s)" };
        var duration = new Option<string?>("--duration") { Description = "override the mix's measurement window (e.g. 10s)" };
        var metricsPort = new Option<int>("--metrics-port") { Description = "serve the embedded node's /metrics on this port (0: off)", DefaultValueFactory = _ => 0 }.Within(0, 65535);
        var simDevices = new Option<int>("--sim-devices") { Description = "modelled GPUs of the embedded node (device: sim takes the first with a free slot)", DefaultValueFactory = _ => 1 }.Within(1, 64);
        var simSlots = new Option<int>("--sim-slots") { Description = "tenants each modelled GPU of the embedded node holds", DefaultValueFactory = _ => 32 }.Within(1, 1024);
        var simProfile = OptionChecks.SimProfile("device profile of the embedded node's modelled GPUs");
        var quick = new Option<bool>("--quick") { Description = "run the mix's reduced version (its 'quick' section: fewer points, shorter runs)" };
        var repetitions = Repetitions();
        var ebpf = new Option<string>("--ebpf") { Description = "the embedded node's eBPF tracer: full (system-call time too, sampled in threads making over 100,000 calls/s), exact (every call timed), counts (cheaper: no clock read per call) or off", DefaultValueFactory = _ => "full" };
        ebpf.AcceptOnlyFromAmong([.. Words.All<EbpfMode>()]);
        var threadCalls = OptionChecks.ThreadCalls("the embedded node's eBPF tracer");
        var ebpfTimeout = OptionChecks.EbpfTimeout("the embedded node's eBPF tracer");
        var retention = OptionChecks.MetricsRetention();
        var coordinator = new Option<string?>("--coordinator") { Description = "with --cluster: the node (its --name) that runs the experiment and collects its results; any node when left out" };
        var detach = new Option<bool>("--detach") { Description = "with --cluster: hand the run to a node (--coordinator's, else any) and return its id at once; the node runs it to the end without this client (contention attach ID, contention results ID --out DIR)" };
        var command = new Command("run", "run a tenant mix and print the per-tenant table; a mix with a sweep runs every point (again with the same --out, it resumes: finished runs are kept)") { mix, output, cluster, device, sync, warmup, duration, quick, repetitions, metricsPort, retention, simDevices, simSlots, simProfile, ebpf, threadCalls, ebpfTimeout, coordinator, detach };
        command.RefuseThreadCallsUntraced(threadCalls, ebpf);
        command.SetAction(async (parse, cancellation) =>
        {
            Mix loaded;
            Func<TenantSpec, TenantSpec> overrides;
            try
            {
                loaded = MixParser.Load(parse.GetValue(mix)!, parse.GetValue(quick));
                loaded = ApplyRepetitions(ApplyTiming(loaded, parse.GetValue(warmup), parse.GetValue(duration)), parse.GetValue(repetitions));
                overrides = Overrides(parse.GetValue(device), parse.GetValue(sync));
                if (parse.GetValue(coordinator) is not null && parse.GetValue(cluster) is null)
                {
                    throw new MixException("--coordinator: names a node of a cluster; give --cluster too, or leave it out (the embedded node runs everything)");
                }
            }
            catch (MixException ex)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {ex.Message}");
                return 2;
            }

            if (parse.GetValue(detach))
            {
                if (parse.GetValue(cluster) is not { } joined)
                {
                    AnsiConsole.MarkupLine("[red]error:[/] --detach: hands the run to a node of a cluster; give --cluster redis://HOST:PORT (an embedded node ends with this process)");
                    return 2;
                }

                if (parse.GetValue(output) is not null)
                {
                    AnsiConsole.MarkupLine("[red]error:[/] --detach: the node keeps the results; fetch them with contention results ID --out DIR instead of --out");
                    return 2;
                }

                // What the node's run is told besides the mix: the options that change what runs.
                var passed = new List<string>();
                foreach (var (option, value) in new (string, string?)[] { ("--device", parse.GetValue(device)), ("--sync", parse.GetValue(sync)), ("--warmup", parse.GetValue(warmup)), ("--duration", parse.GetValue(duration)), ("--coordinator", parse.GetValue(coordinator)) })
                {
                    if (value is not null)
                    {
                        passed.AddRange([option, value]);
                    }
                }

                if (parse.GetValue(quick))
                {
                    passed.Add("--quick");
                }

                if (parse.GetValue(repetitions) is { } times)
                {
                    passed.AddRange(["--repetitions", times.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                }

                try
                {
                    var submitted = await DetachCommands.SubmitAsync(joined, parse.GetValue(mix)!, parse.GetValue(coordinator), passed, cancellation);
                    // The id alone on stdout (ID=$(contention run --detach …)); what to do with it on stderr.
                    Console.Error.WriteLine($"detached run {submitted.Run} on node {submitted.Node} ({submitted.State}); follow it: contention attach {submitted.Run} --cluster {joined}; its results: contention results {submitted.Run} --out DIR --cluster {joined}");
                    Console.Out.WriteLine(submitted.Run);
                    return submitted.State is "running" or "exited" ? 0 : 1;
                }
                catch (MixException ex)
                {
                    AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {ex.Message}");
                    return 2;
                }
            }

            var options = new RunOptions(loaded, parse.GetValue(output), parse.GetValue(cluster), parse.GetValue(metricsPort), parse.GetValue(simDevices), overrides, Describe(parse.GetValue(device), parse.GetValue(sync), parse.GetValue(quick))) { Ebpf = Words.Parse<EbpfMode>(parse.GetValue(ebpf)), ThreadCalls = parse.GetValue(threadCalls), EbpfTimeoutSeconds = parse.Seconds(ebpfTimeout), SimSlots = parse.GetValue(simSlots), SimProfile = parse.GetValue(simProfile)!, Coordinator = parse.GetValue(coordinator), MetricsRetentionSeconds = parse.Seconds(retention) };
            try
            {
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

    /// <summary>Runs a mix end to end; returns the exit code (0 completed and valid, 2 refused before it ran, 3 failed, 4 completed but invalid, 130 interrupted).</summary>
    public static async Task<int> ExecuteAsync(RunOptions options, IAnsiConsole console, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(console);
        var tenants = (options.Mix.Sweep is { } swept ? swept.Points.SelectMany(p => p.Mix.Tenants) : options.Mix.Tenants).Select(options.Adjust).ToList();
        if (tenants.FirstOrDefault(t => t.Arbiter != ArbiterMode.Off && Contention.Workloads.Devices.DeviceId.TryParse(t.Device, out var id) && id.Kind == Contention.Workloads.Devices.DeviceKind.Cpu) is { } onCpu)
        {
            throw new MixException($"tenant {onCpu.Name} runs on {onCpu.Device} under arbiter: {onCpu.Arbiter.Word()}, and the arbiter orders a GPU's launches: give it device cuda or sim (or run with --device sim), or arbiter: off");
        }

        if (tenants.FirstOrDefault(t => t.Kind == TenantKind.Replay && t.Device.StartsWith("cpu", StringComparison.OrdinalIgnoreCase)) is { } replay)
        {
            // As the mix parser refuses it (the override can give it another device).
            throw new MixException($"tenant {replay.Name} is a replay on {replay.Device}: a replay replays GPU kernels, on a real GPU (cuda) or the modelled one (sim): give --device cuda or sim");
        }

        foreach (var command in tenants.Where(t => t.Arbiter != ArbiterMode.Off && t.Kind == TenantKind.Command).Select(t => t.Name).Distinct())
        {
            console.MarkupLineInterpolated($"[yellow]note:[/] {command} is a command: its launches cannot pass through the GPU's arbiter (neither gated nor sliced), so it runs beside it");
        }

        var experiment = NewExperimentId(options.Mix.Name);
        using var directory = ResultsDirectory.Claim(options.OutputDirectory ?? Path.Combine("results", experiment), sweep: options.Mix.Sweep is not null);
        var sweep = options.Mix.Sweep is null ? default : SweepRunner.Prepare(options, directory.Path);
        await using var connection = await ClusterConnection.OpenAsync(options, cancellation);
        if (options.Mix.Sweep is not null)
        {
            return await SweepRunner.ExecuteAsync(connection, options, directory.Path, experiment, sweep, console, cancellation);
        }

        var (progress, document) = await RunExperimentAsync(connection, options, experiment, directory.Path, console, printTable: true, cancellation);
        return IsPreflightFailure(progress) ? 2 : ExitCode(progress.State, document.Validity);
    }

    /// <summary>A fresh experiment id: the mix's name, the time and 16 random bits.</summary>
    internal static string NewExperimentId(string mixName) => $"{ResultsDirectory.Slug(mixName)}-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Random.Shared.Next(0x1000, 0xFFFF):x4}";

    /// <summary>0 completed and valid, 4 completed but invalid, 130 interrupted, 3 failed.</summary>
    internal static int ExitCode(ExperimentState state, Validity? validity) => state switch
    {
        ExperimentState.Completed => validity is { Valid: false } ? 4 : 0,
        ExperimentState.Interrupted => 130,
        _ => 3,
    };

    /// <summary>Runs <paramref name="options"/>' mix as experiment <paramref name="experiment"/>, saving results into <paramref name="directory"/> as it goes; returns its final progress and the results it saved.</summary>
    internal static async Task<(ExperimentProgress Progress, ResultsDocument Document)> RunExperimentAsync(ClusterConnection connection, RunOptions options, string experiment, string directory, IAnsiConsole console, bool printTable, CancellationToken cancellation)
    {
        var plan = options.Mix.ToPlan(experiment, spec =>
        {
            var adjusted = options.Adjust(spec);
            return adjusted.Device == "auto" ? adjusted with { Device = connection.AutoDevice } : adjusted;
        });
        var capacityFile = options.CapacityFile ?? Path.Combine(directory, Capacities.File);
        (plan, var offered) = await Capacities.ResolveAsync(plan, options.CapacityWhere, capacityFile, (probe, key) =>
            Capacities.MeasureAsync(options.Mix, probe, key, capacityFile, console, (mix, probeDirectory) =>
                RunExperimentAsync(connection, options with { Mix = mix, Adjust = s => s, OverridesText = $"{options.OverridesText} capacity of {probe.Name}".Trim() }, NewExperimentId(mix.Name), probeDirectory, console, printTable: false, cancellation)));
        var recorder = new RunRecorder(directory, experiment, plan, options, connection.Description, offered);
        recorder.Save(null, null);

        var grain = connection.Client.GetGrain<IExperimentGrain>(experiment);
        var collector = connection.Client.GetGrain<ICollectorGrain>(experiment);
        if (options.Coordinator is { } coordinator)
        {
            RequestContext.Set(DeviceRequirement.CoordinatorKey, coordinator);
        }

        ExperimentProgress progress;
        try
        {
            progress = await grain.StartAsync(plan, CancellationToken.None);
        }
        finally
        {
            RequestContext.Remove(DeviceRequirement.CoordinatorKey);
        }

        var snapshot = new CollectorSnapshot(experiment, [], [], 0, []);
        DateTimeOffset? snapshotAt = null;
        var collectorLost = false;

        // A collector that answers from another activation than before was lost with its node and
        // holds only what came after: the earlier snapshot is kept, and the run cannot complete.
        async Task TakeSnapshotAsync()
        {
            var latest = await collector.GetSnapshotAsync(CancellationToken.None);
            if (snapshot.Activation.Length > 0 && latest.Activation != snapshot.Activation)
            {
                collectorLost = true;
                return;
            }

            snapshot = latest;
            snapshotAt = DateTimeOffset.UtcNow;
        }

        var interrupted = false;
        DateTime? failingSince = null;
        await console.Status().StartAsync(Markup.Escape($"{experiment}: starting {plan.Tenants.Count} tenants"), async context =>
        {
            var lastSave = DateTime.UtcNow;
            while (!progress.IsFinished)
            {
                try
                {
                    if (cancellation.IsCancellationRequested && !interrupted)
                    {
                        interrupted = true;
                        context.Status(Markup.Escape($"{experiment}: interrupted, stopping tenants and saving results"));
                        progress = await grain.StopAsync("interrupted by the user (Ctrl+C)", CancellationToken.None);
                        continue;
                    }

                    await Task.Delay(TimeSpan.FromMilliseconds(500), CancellationToken.None);
                    var latest = await grain.GetProgressAsync(CancellationToken.None);
                    if (latest.State == ExperimentState.Pending)
                    {
                        // The grain came back empty: the node that ran the experiment is gone (its
                        // tenants' nodes stop their workers when they see it).
                        progress = progress with { State = ExperimentState.Failed, EndedUtc = DateTimeOffset.UtcNow, Message = "the node running the experiment left the cluster; results are the last snapshot taken" };
                        continue;
                    }

                    progress = latest;
                    if (!interrupted)
                    {
                        context.Status(Markup.Escape(StatusLine(experiment, progress)));
                    }

                    if (DateTime.UtcNow - lastSave > TimeSpan.FromSeconds(2) && !collectorLost)
                    {
                        await TakeSnapshotAsync();
                        recorder.Save(progress, snapshot);
                        lastSave = DateTime.UtcNow;
                    }

                    failingSince = null;
                }
                catch (Exception ex) when (ex is not OutOfMemoryException && DateTime.UtcNow - (failingSince ??= DateTime.UtcNow) < LostAfter)
                {
                    // A node that died is suspected, then declared dead: calls fail meanwhile.
                    // Escaped: the message is Orleans' (silo addresses in brackets), and a status line is
                    // markup, parsed on Spectre's refresh thread, where a bad tag ends the process.
                    context.Status(Markup.Escape($"{experiment}: cluster not answering ({ex.GetBaseException().Message}); retrying"));
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // Keep what was measured: the last snapshot, marked as failed, with the reason.
                    progress = progress with { State = ExperimentState.Failed, EndedUtc = DateTimeOffset.UtcNow, Message = $"lost contact with the experiment for {LostAfter.TotalSeconds:0} s ({ex.GetBaseException().Message}); results are the last snapshot taken" };
                }
            }
        });

        ResultsDocument document;
        try
        {
            if (!collectorLost)
            {
                await TakeSnapshotAsync();
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The collector went with its node: the last snapshot stands, and the results say so.
            progress = progress with { Message = $"{progress.Message} (final snapshot failed: {ex.GetBaseException().Message}; results are the last snapshot taken)".Trim() };
        }

        if (collectorLost)
        {
            var taken = snapshotAt is { } at ? $"the last snapshot, taken {(DateTimeOffset.UtcNow - at).TotalSeconds:0} s before the end" : "no snapshot was taken before";
            progress = progress with
            {
                State = progress.State == ExperimentState.Interrupted ? progress.State : ExperimentState.Failed,
                Message = $"{progress.Message} (the collector's node left the cluster and its results with it: results are {taken})".Trim(),
            };
        }

        document = recorder.Save(progress, snapshot);
        if (progress.IsFinished)
        {
            try
            {
                // Saved: the cluster need not hold the results any longer (a node serving
                // thousands of runs would otherwise keep each for KeptAfterEnd).
                await grain.ForgetAsync(CancellationToken.None);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Its node is gone, or the cluster: nothing is left to forget.
            }
        }
        if (IsPreflightFailure(progress))
        {
            // Nothing ran: no table of empty rows, only what to change.
            console.MarkupLineInterpolated($"[red]error:[/] {progress.Message}");
            return (progress, document);
        }

        if (printTable)
        {
            TenantTable.Print(console, document);
            console.MarkupLineInterpolated($"results: [bold]{Path.GetFullPath(directory)}[/] ({ResultsFiles.Json}, {ResultsFiles.Csv}, {ResultsFiles.Summary}, {ResultsFiles.ThreadsCsv}, {ResultsFiles.SyscallsCsv}, {ResultsFiles.IoctlsCsv}{(document.ThreadSyscalls.Count > 0 ? $", {ResultsFiles.ThreadSyscallsCsv}" : "")}{(document.Phases.Count > 0 ? $", {ResultsFiles.PhasesCsv}, {ResultsFiles.PhaseSyscallsCsv}" : "")})");
        }

        if (progress.Message is { Length: > 0 } message)
        {
            console.MarkupLineInterpolated($"[yellow]{progress.State}:[/] {message}");
        }

        return (progress, document);
    }

    /// <summary>The cluster refused the plan before starting any tenant (<see cref="Grains.Experiments.Preflight"/>).</summary>
    internal static bool IsPreflightFailure(ExperimentProgress progress) =>
        progress.State == ExperimentState.Failed && progress.Message?.StartsWith("preflight: ", StringComparison.Ordinal) == true;

    private static string StatusLine(string experiment, ExperimentProgress progress)
    {
        var running = progress.Tenants.Count(t => t.State == TenantState.Running);
        var window = progress.StateSeconds > 0 ? $" {progress.ElapsedSeconds:0}/{progress.StateSeconds:0} s" : "";
        return $"{experiment}: {progress.State.ToString().ToLowerInvariant()}{window}, {running}/{progress.Tenants.Count} tenants running";
    }

    /// <summary><c>--repetitions N</c>: runs of each point of the mix's sweep, instead of the mix's.</summary>
    internal static Option<int?> Repetitions() => new("--repetitions") { Description = "run each point of the mix's sweep this many times instead of the mix's sweep.repetitions (1-1000; a sweep again with the same --out resumes only with the same number)" };

    /// <summary>The mix with its sweep's points repeated <paramref name="repetitions"/> times (null: as the mix says).</summary>
    /// <exception cref="MixException">Out of range, or the mix has no sweep.</exception>
    internal static Mix ApplyRepetitions(Mix mix, int? repetitions)
    {
        if (repetitions is not { } count)
        {
            return mix;
        }

        if (count is < 1 or > 1000)
        {
            throw new MixException($"--repetitions: expected a whole number from 1 to 1000, got {count.ToString(CultureInfo.InvariantCulture)}");
        }

        if (mix.Sweep is not { } sweep)
        {
            throw new MixException($"--repetitions: mix '{mix.Name}' has no sweep to repeat; give it one (sweep: axes) or run it again with another --out");
        }

        // As a mix's own repetitions: every point of repetition 1, then of repetition 2, …
        var first = sweep.Points.Where(p => p.Repetition == 1).ToList();
        return mix with { Sweep = sweep with { Repetitions = count, Points = [.. Enumerable.Range(1, count).SelectMany(r => first.Select(p => p with { Repetition = r }))] } };
    }

    internal static Mix ApplyTiming(Mix mix, string? warmup, string? duration)
    {
        if (mix.Sweep is { } sweep)
        {
            // The command line wins over the mix and over its sweep axes alike.
            mix = mix with { Sweep = sweep with { Points = sweep.Points.Select(p => p with { Mix = ApplyTiming(p.Mix, warmup, duration) }).ToList() } };
        }

        if (warmup is not null)
        {
            mix = mix with { WarmupSeconds = Units.TryParseSeconds(warmup, out var w) ? w : throw new MixException($"--warmup: expected a duration such as 2s, got '{warmup}'") };
        }

        if (duration is not null)
        {
            mix = mix with { DurationSeconds = Units.TryParseSeconds(duration, out var d) && d > 0 ? d : throw new MixException($"--duration: expected a duration above zero such as 10s, got '{duration}'") };
        }

        return mix;
    }

    internal static Func<TenantSpec, TenantSpec> Overrides(string? device, string? sync)
    {
        if (device is not null && !Contention.Workloads.Devices.DeviceId.TryParse(device, out _))
        {
            throw new MixException($"--device: expected cpu, cuda, cuda:N, sim or sim:N, got '{device}'");
        }

        SyncMode? mode = null;
        if (sync is not null)
        {
            mode = Words.TryParse<SyncMode>(sync, out var parsed) ? parsed : throw new MixException($"--sync: expected {Words.List<SyncMode>()}, got '{sync}'");
        }

        return spec => spec with { Device = device ?? spec.Device, SyncMode = mode ?? spec.SyncMode };
    }

    internal static string Describe(string? device, string? sync, bool quick) =>
        string.Join(' ', new[] { quick ? "--quick" : null, device is null ? null : $"--device {device}", sync is null ? null : $"--sync {sync}" }.Where(s => s is not null));
}

/// <summary>What <c>contention run</c> was asked to do.</summary>
internal sealed record RunOptions(Mix Mix, string? OutputDirectory, string? Cluster, int MetricsPort, int SimDevices, Func<TenantSpec, TenantSpec> Adjust, string OverridesText)
{
    /// <summary>The embedded node's eBPF tracer mode: full, counts or off.</summary>
    public EbpfMode Ebpf { get; init; } = EbpfMode.Full;

    /// <summary>Whether the embedded node's eBPF tracer counts each worker thread's system calls too (thread_syscalls.csv).</summary>
    public bool ThreadCalls { get; init; }

    /// <summary>How long the embedded node's eBPF helper may take to answer before it is killed as hung, seconds.</summary>
    public int EbpfTimeoutSeconds { get; init; } = 30;

    /// <summary>Tenants each modelled GPU of the embedded node holds.</summary>
    public int SimSlots { get; init; } = 32;

    /// <summary>The embedded node's modelled-GPU profile: a shipped name or a profile file.</summary>
    public string SimProfile { get; init; } = "h100";

    /// <summary>How long the embedded node's series stay on /metrics once they stop changing, seconds.</summary>
    public int MetricsRetentionSeconds { get; init; } = 900;

    /// <summary>The node the experiment and its collector run on (a Redis cluster); any when null.</summary>
    public string? Coordinator { get; init; }

    /// <summary><c>contention simulate</c>: the OS cost model file its tenants' OS columns come from; null for the one shipped with the profile.</summary>
    public string? OsModel { get; init; }

    /// <summary><c>contention simulate</c>: the host cores the tenants' threads share (divided among the mix's GPUs); 0: a core for every thread.</summary>
    public int HostCores { get; init; }

    /// <summary><c>contention simulate</c>: time-sliced GPUs weigh each tenant's slice by its GPU share.</summary>
    public bool WeightedSlices { get; init; }

    /// <summary>Where the capacities of tenants offered a share of theirs are kept (<see cref="Capacities"/>); null: the run's own directory.</summary>
    public string? CapacityFile { get; init; }

    /// <summary>What besides its spec decides a tenant's capacity: the modelled GPU's profile and the cluster.</summary>
    public string CapacityWhere => $"profile {SimProfile}, cluster {Cluster ?? "embedded"}";
}

/// <summary>A connection to the cluster a run uses: an embedded silo or a client of a Redis-membership cluster.</summary>
internal sealed class ClusterConnection : IAsyncDisposable
{
    private readonly IHost host;

    private ClusterConnection(IHost host, IClusterClient client, string autoDevice, string description)
    {
        this.host = host;
        Client = client;
        AutoDevice = autoDevice;
        Description = description;
    }

    public IClusterClient Client { get; }

    /// <summary>What <c>device: auto</c> means here: cuda where the embedded node has a GPU, sim otherwise.</summary>
    public string AutoDevice { get; }

    public string Description { get; }

    /// <summary>How long joining a Redis cluster may take before the run gives up.</summary>
    public static readonly TimeSpan JoinTimeout = TimeSpan.FromSeconds(30);

    public static async Task<ClusterConnection> OpenAsync(RunOptions options, CancellationToken cancellation = default)
    {
        if (options.Cluster is { Length: > 0 } cluster)
        {
            return await JoinAsync(cluster, JoinTimeout, cancellation);
        }

        return await EmbeddedAsync(options);
    }

    /// <summary>
    /// Joins the Redis-membership cluster at <paramref name="cluster"/> (redis://HOST:PORT) as a
    /// client, giving up after <paramref name="timeout"/> when no node answers.
    /// </summary>
    /// <exception cref="MixException">No node answered in time, or the cluster could not be joined: says what to do.</exception>
    public static async Task<ClusterConnection> JoinAsync(string cluster, TimeSpan timeout, CancellationToken cancellation = default)
    {
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Logging.ClearProviders();
            // Stdout is the table's: the client's own warnings go to stderr, and the gateway
            // manager's "no gateway yet" (repeated while joining) becomes the one error below.
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
            builder.Logging.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.Logging.AddFilter("Orleans.Messaging.GatewayManager", LogLevel.Error);
            builder.Logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.None);
            using var joining = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            joining.CancelAfter(timeout);
            builder.UseOrleansClient(client =>
            {
                client.UseConnectionRetryFilter(async (_, token) =>
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), token);
                    return !joining.IsCancellationRequested;
                });
                client.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(cluster["redis://".Length..]));
                client.Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = "contention";
                    o.ServiceId = "contention";
                });
                client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = ContentionSilo.MessagingTimeout);
            });
            var clientHost = builder.Build();
            try
            {
                await clientHost.StartAsync(joining.Token);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                clientHost.Dispose();
                cancellation.ThrowIfCancellationRequested();
                var why = joining.IsCancellationRequested ? $"no node answered within {timeout.TotalSeconds:0.#} s" : ex.GetBaseException().Message;
                throw new MixException($"--cluster {cluster}: cannot join the cluster ({why}); start nodes with 'contention silo --cluster {cluster}' first");
            }

            // In a cluster, 'auto' cannot know which nodes have GPUs: it means the modelled GPU.
            return new ClusterConnection(clientHost, clientHost.Services.GetRequiredService<IClusterClient>(), "sim", cluster);
        }
    }

    private static async Task<ClusterConnection> EmbeddedAsync(RunOptions options)
    {
        var settings = new SiloSettings
        {
            SiloPort = FreePort.Next(),
            GatewayPort = FreePort.Next(),
            MetricsPort = options.MetricsPort,
            Node = new NodeOptions { SimDevices = Math.Max(1, options.SimDevices), SimSlots = options.SimSlots, SimProfile = options.SimProfile, Ebpf = options.Ebpf, EbpfThreadCalls = options.ThreadCalls, EbpfAnswerTimeoutSeconds = options.EbpfTimeoutSeconds, MetricsRetentionSeconds = options.MetricsRetentionSeconds },
        };
        Microsoft.AspNetCore.Builder.WebApplication app;
        try
        {
            // The run reports the experiment's outcome itself: its grain's log would repeat it; and
            // the silo's note that server GC is off (by design: workers share this binary) is noise.
            app = ContentionSilo.Build(settings, LogLevel.Warning, embedded: true, logging: l => l
                .AddFilter("Contention.Grains.Experiments", LogLevel.None)
                .AddFilter("Orleans.Runtime.Silo", LogLevel.Error));
        }
        catch (ArgumentException ex)
        {
            throw new MixException(ex.Message);
        }

        try
        {
            await app.StartAsync(CancellationToken.None);
        }
        catch (IOException ex) when (options.MetricsPort > 0)
        {
            // Kestrel could not bind /metrics: another program (or node) has the port.
            await app.DisposeAsync();
            throw new MixException($"--metrics-port {options.MetricsPort}: cannot serve /metrics there ({ex.GetBaseException().Message}); choose a free port, or 0 to turn it off");
        }

        var devices = app.Services.GetRequiredService<NodeDevices>();
        return new ClusterConnection(app, app.Services.GetRequiredService<IClusterClient>(), devices.CudaCount > 0 ? "cuda" : "sim", $"embedded single node ({string.Join(", ", devices.Advertised)})");
    }

    public async ValueTask DisposeAsync()
    {
        await host.StopAsync();
        if (host is IAsyncDisposable asyncDisposable)
        {
            await asyncDisposable.DisposeAsync();
        }
        else
        {
            host.Dispose();
        }
    }
}
