using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Contention.Client.Mixes;
using Contention.Client.Results;
using Contention.Grains;
using Spectre.Console;

namespace Contention.Client.Commands;

/// <summary>
/// <c>contention status</c>: what a cluster is doing — its nodes (devices, sharing, slots, tracer,
/// load) and its experiments (state, progress, tenants) — and <c>contention stop</c>: ends an
/// experiment from any terminal as Ctrl+C does in the one that started it (<c>Interrupted</c>;
/// the client running it saves everything measured).
/// </summary>
internal static class StatusCommand
{
    /// <summary>How long nodes and experiments are each given to answer by default.</summary>
    public const string DefaultWait = "5s";

    public static Command Create()
    {
        var cluster = ClusterOption();
        var json = new Option<bool>("--json") { Description = "print the status as JSON instead of tables" };
        var wait = new Option<string>("--wait") { Description = "how long to wait for the cluster to answer, and then for each node and experiment (e.g. 5s)", DefaultValueFactory = _ => DefaultWait }.DurationWithin(1, 300);
        var command = new Command("status", "show a cluster's nodes (devices, sharing, free slots, eBPF, load) and experiments (state, progress, tenants)") { cluster, json, wait };
        command.SetAction(async (parse, cancellation) =>
        {
            var seconds = parse.Seconds(wait);
            try
            {
                var (status, verdicts) = await AskWithVerdictsAsync(parse.GetValue(cluster)!, TimeSpan.FromSeconds(seconds), cancellation);
                if (parse.GetValue(json))
                {
                    var report = new StatusReport(status, status.Experiments.ToDictionary(e => e.Experiment, e => verdicts.GetValueOrDefault(e.Experiment)));
                    Console.Out.WriteLine(JsonSerializer.Serialize(report, StatusJson.Default.StatusReport));
                }
                else
                {
                    Write(status, AnsiConsole.Console, verdicts);
                }

                return status.Nodes.Count == 0 ? 3 : 0;
            }
            catch (MixException ex)
            {
                Console.Error.WriteLine($"error: {ex.Message}");
                return 2;
            }
        });
        return command;
    }

    public static Command CreateStop()
    {
        var cluster = ClusterOption();
        var experiment = new Argument<string>("EXPERIMENT") { Description = "the experiment's id (contention status lists them; a run prints its own), or a detached run's (NODE/ID)" };
        var reason = new Option<string?>("--reason") { Description = "why, as the experiment's results will say (default: stopped by contention stop on this host)" };
        var command = new Command("stop", "end a running experiment as interrupted, from any terminal: the client running it saves everything measured (a detached run's id: the run stops as after Ctrl+C)") { experiment, cluster, reason };
        command.SetAction(async (parse, cancellation) =>
        {
            try
            {
                await using var connection = await ClusterConnection.JoinAsync(parse.GetValue(cluster)!, ClusterConnection.JoinTimeout, cancellation);
                var id = parse.GetValue(experiment)!;
                if (id.Contains('/', StringComparison.Ordinal))
                {
                    // A detached run (NODE/ID): its process stops as after Ctrl+C.
                    var run = await DetachCommands.StopAsync(connection.Client, id, cancellation);
                    AnsiConsole.MarkupLineInterpolated($"{id}: {run.State}{(run.State == "running" ? " (asked to stop: it saves what was measured, then exits)" : "")}");
                    return 0;
                }

                var why = parse.GetValue(reason) ?? $"stopped by contention stop on {Environment.MachineName}";
                var progress = await StopAsync(connection.Client, id, why, cancellation);
                AnsiConsole.MarkupLineInterpolated($"{id}: {progress.State.Word()}{(progress.Message is { } m ? $" ({m})" : "")}");
                return progress.State == ExperimentState.Interrupted ? 0 : 1;
            }
            catch (MixException ex)
            {
                Console.Error.WriteLine($"error: {ex.Message}");
                return 2;
            }
        });
        return command;
    }

    /// <summary>Joins the cluster and asks it for its status, each node and experiment given <paramref name="wait"/>.</summary>
    /// <exception cref="MixException">No node answered within <paramref name="wait"/>.</exception>
    public static async Task<ClusterStatus> AskAsync(string cluster, TimeSpan wait, CancellationToken cancellation = default)
    {
        await using var connection = await ClusterConnection.JoinAsync(cluster, wait, cancellation);
        return await AskAsync(connection.Client, cluster, wait, cancellation);
    }

    private static async Task<ClusterStatus> AskAsync(IGrainFactory grains, string cluster, TimeSpan wait, CancellationToken cancellation)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(wait * 4);
        try
        {
            return await grains.GetGrain<IClusterStatusGrain>(IClusterStatusGrain.Key).GetAsync(wait, deadline.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or TimeoutException && !cancellation.IsCancellationRequested)
        {
            throw new MixException($"--cluster {cluster}: joined, but the cluster did not answer within {(wait * 4).TotalSeconds:0.#} s; are its nodes overloaded?");
        }
    }

    /// <summary>
    /// Each experiment's verdict on what it measured so far: its plan and its collector's snapshot
    /// judged as its results will be (<see cref="Validity.Judge"/>: failures, stretched windows,
    /// late samples, busy or stolen CPUs); null for one that did not answer or has not started.
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, Validity?>> ValiditySoFarAsync(IGrainFactory grains, ClusterStatus status, TimeSpan wait, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(status);
        var verdicts = new Dictionary<string, Validity?>(StringComparer.Ordinal);
        foreach (var e in status.Experiments)
        {
            verdicts[e.Experiment] = null;
            if (e.Progress is not { StartedUtc: not null } progress)
            {
                continue;
            }

            try
            {
                var plan = await grains.GetGrain<IExperimentGrain>(e.Experiment).GetPlanAsync(cancellation).WaitAsync(wait, cancellation);
                var snapshot = await grains.GetGrain<ICollectorGrain>(e.Experiment).GetSnapshotAsync(cancellation).WaitAsync(wait, cancellation);
                if (plan is null)
                {
                    continue;
                }

                verdicts[e.Experiment] = RunRecorder.Document(e.Experiment, plan, progress, snapshot, new MixInfo("", "", ""), cluster: "").Validity;
            }
            catch (Exception ex) when (ex is TimeoutException or OrleansException)
            {
                // Not answering in time: no verdict, as for its progress.
            }
        }

        return verdicts;
    }

    /// <summary>As <see cref="AskAsync(string, TimeSpan, CancellationToken)"/>, with each experiment's verdict so far (<see cref="ValiditySoFarAsync"/>).</summary>
    public static async Task<(ClusterStatus Status, IReadOnlyDictionary<string, Validity?> Verdicts)> AskWithVerdictsAsync(string cluster, TimeSpan wait, CancellationToken cancellation = default)
    {
        await using var connection = await ClusterConnection.JoinAsync(cluster, wait, cancellation);
        var status = await AskAsync(connection.Client, cluster, wait, cancellation);
        return (status, await ValiditySoFarAsync(connection.Client, status, wait, cancellation));
    }

    /// <summary>Stops experiment <paramref name="id"/> (one the cluster's registry knows) with <paramref name="reason"/>; returns its progress after.</summary>
    /// <exception cref="MixException">The cluster knows no such experiment.</exception>
    public static async Task<ExperimentProgress> StopAsync(IGrainFactory grains, string id, string reason, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(grains);
        if (!await grains.GetGrain<IClusterStatusGrain>(IClusterStatusGrain.Key).KnowsAsync(id, cancellation))
        {
            throw new MixException($"the cluster knows no experiment '{id}' (ended and forgotten, or never started); contention status lists those it knows");
        }

        var grain = grains.GetGrain<IExperimentGrain>(id);
        var progress = await grain.GetProgressAsync(cancellation);
        return progress.IsFinished ? progress : await grain.StopAsync(reason, cancellation);
    }

    /// <summary>The status as two tables (nodes, experiments) and the nodes that did not answer.</summary>
    public static void Write(ClusterStatus status, IAnsiConsole console, IReadOnlyDictionary<string, Validity?>? verdicts = null)
    {
        ArgumentNullException.ThrowIfNull(status);
        ArgumentNullException.ThrowIfNull(console);
        var nodes = new Table().Title($"nodes ({status.Nodes.Count} answered)").AddColumns("node", "address", "devices (sharing, slots taken/total)", "eBPF", "load (cores)");
        foreach (var node in status.Nodes)
        {
            var devices = string.Join(", ", node.Devices.Select(d => d.Slots > 0 ? $"{d.Device} ({d.Sharing}, {d.Taken}/{d.Slots})" : d.Sharing == "-" ? d.Device : $"{d.Device} ({d.Sharing})"));
            nodes.AddRow(Markup.Escape(node.Name), Markup.Escape(node.Address), Markup.Escape(devices), Markup.Escape(node.Ebpf), node.Load < 0 ? "?" : string.Create(CultureInfo.InvariantCulture, $"{node.Load:0.##} ({node.Cores})"));
        }

        console.Write(nodes);
        foreach (var missing in status.Unanswered)
        {
            console.MarkupLineInterpolated($"[yellow]not answering:[/] {missing}");
        }

        var experiments = new Table().Title($"experiments ({status.Experiments.Count})").AddColumns("experiment", "mix", "state", "progress", "tenants (running/failed/all)", "valid so far", "message");
        foreach (var e in status.Experiments)
        {
            if (e.Progress is not { } p)
            {
                experiments.AddRow(Markup.Escape(e.Experiment), Markup.Escape(e.Mix), "?", "did not answer", "", "", "");
                continue;
            }

            var running = p.Tenants.Count(t => t.State == TenantState.Running);
            var failed = p.Tenants.Count(t => t.State == TenantState.Failed);
            var progress = p.StateSeconds > 0 ? string.Create(CultureInfo.InvariantCulture, $"{p.ElapsedSeconds:0}/{p.StateSeconds:0} s") : string.Create(CultureInfo.InvariantCulture, $"{p.ElapsedSeconds:0} s");
            var verdict = verdicts?.GetValueOrDefault(e.Experiment) is { } v ? v.Valid ? "yes" : $"no: {v.Reasons.Count} reason(s), first: {v.Reasons[0]}" : "-";
            experiments.AddRow(Markup.Escape(e.Experiment), Markup.Escape(e.Mix), p.State.Word(), progress, $"{running}/{failed}/{p.Tenants.Count}", Markup.Escape(verdict), Markup.Escape(p.Message ?? ""));
        }

        console.Write(experiments);
    }

    /// <summary>The required <c>--cluster redis://HOST:PORT</c> of the commands that only talk to a running cluster (status, stop, attach, results).</summary>
    internal static Option<string> ClusterOption()
    {
        return new Option<string>("--cluster") { Description = "redis://HOST:PORT of the cluster (its nodes run 'contention silo --cluster ...')", Required = true }.RedisCluster();
    }
}

/// <summary>What <c>contention status --json</c> prints: the cluster's status and each experiment's verdict so far (null: none yet).</summary>
internal sealed record StatusReport(ClusterStatus Status, IReadOnlyDictionary<string, Validity?> ValidSoFar);

/// <summary>JSON of <c>contention status --json</c>.</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UseStringEnumConverter = true)]
[JsonSerializable(typeof(StatusReport))]
internal sealed partial class StatusJson : JsonSerializerContext;
