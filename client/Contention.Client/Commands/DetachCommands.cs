using System.CommandLine;
using Contention.Client.Mixes;
using Contention.Grains;

namespace Contention.Client.Commands;

/// <summary>
/// Detached runs (issue 14): <c>run --detach</c> hands a mix to a node, which runs
/// <c>contention run</c> on it as a process of its own (<see cref="IDetachedRunGrain"/>);
/// <c>attach</c> follows its output again; <c>results</c> copies its results directory — the very
/// files a foreground run writes, since a foreground run wrote them.
/// </summary>
internal static class DetachCommands
{
    /// <summary>How long attach waits between looks at the run.</summary>
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(500);

    /// <summary>Bytes fetched per call.</summary>
    private const int Chunk = 1 << 20;

    public static Command CreateAttach()
    {
        var run = new Argument<string>("RUN") { Description = "the detached run's id (run --detach prints it: NODE/ID)" };
        var cluster = StatusCommand.ClusterOption();
        var command = new Command("attach", "follow a detached run's output until it ends (Ctrl+C leaves it running); exits with its exit code") { run, cluster };
        command.SetAction(async (parse, cancellation) =>
        {
            try
            {
                await using var connection = await ClusterConnection.JoinAsync(parse.GetValue(cluster)!, ClusterConnection.JoinTimeout, cancellation);
                var status = await AttachAsync(connection.Client, parse.GetValue(run)!, Console.Out, cancellation);
                Console.Error.WriteLine($"{status.Run}: {status.State}{(status.ExitCode is { } code ? $" (exit {code})" : "")}");
                return status.ExitCode ?? (status.State == "running" ? 0 : 1);
            }
            catch (MixException ex)
            {
                Console.Error.WriteLine($"error: {ex.Message}");
                return 2;
            }
        });
        return command;
    }

    public static Command CreateResults()
    {
        var run = new Argument<string>("RUN") { Description = "the detached run's id (run --detach prints it: NODE/ID)" };
        var cluster = StatusCommand.ClusterOption();
        var output = new Option<string>("--out") { Description = "the directory to write its results into (as a foreground run's --out)", Required = true };
        var command = new Command("results", "copy a detached run's results directory from its node (what it has so far, while it runs)") { run, output, cluster };
        command.SetAction(async (parse, cancellation) =>
        {
            try
            {
                await using var connection = await ClusterConnection.JoinAsync(parse.GetValue(cluster)!, ClusterConnection.JoinTimeout, cancellation);
                var (status, copied) = await FetchAsync(connection.Client, parse.GetValue(run)!, parse.GetValue(output)!, cancellation);
                Console.Error.WriteLine($"{status.Run}: {copied} files into {parse.GetValue(output)}{(status.State == "running" ? " (still running: what it has so far)" : $" ({status.State}{(status.ExitCode is { } code ? $", exit {code}" : "")})")}");
                return 0;
            }
            catch (MixException ex)
            {
                Console.Error.WriteLine($"error: {ex.Message}");
                return 2;
            }
        });
        return command;
    }

    /// <summary>Hands the mix at <paramref name="mixPath"/> to <paramref name="node"/> (else the first node that answers) with <paramref name="arguments"/>.</summary>
    /// <exception cref="MixException">No node answered, or the named node is not there.</exception>
    public static async Task<DetachedRunStatus> SubmitAsync(string cluster, string mixPath, string? node, IReadOnlyList<string> arguments, CancellationToken cancellation = default)
    {
        var text = await File.ReadAllTextAsync(mixPath, cancellation);
        await using var connection = await ClusterConnection.JoinAsync(cluster, ClusterConnection.JoinTimeout, cancellation);
        var nodes = (await connection.Client.GetGrain<IClusterStatusGrain>(IClusterStatusGrain.Key).GetAsync(TimeSpan.FromSeconds(10), cancellation)).Nodes.Select(n => n.Name).ToList();
        var chosen = node ?? nodes.FirstOrDefault() ?? throw new MixException($"--cluster {cluster}: no node answered; start nodes with 'contention silo --cluster {cluster}'");
        if (!nodes.Contains(chosen))
        {
            throw new MixException($"--coordinator {chosen}: no such node answered (nodes: {string.Join(", ", nodes)})");
        }

        var id = $"{chosen}/{Guid.NewGuid():N}"[..(chosen.Length + 9)];
        return await Grain(connection.Client, id).StartAsync(Path.GetFileName(mixPath), text, arguments, cancellation);
    }

    /// <summary>Writes the run's output to <paramref name="output"/> as it grows, until the run is over (or <paramref name="cancellation"/>); returns where it is then.</summary>
    /// <exception cref="MixException">No such run on the node its id names.</exception>
    public static async Task<DetachedRunStatus> AttachAsync(IGrainFactory grains, string id, TextWriter output, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        var grain = Grain(grains, id);
        var offset = 0L;
        // Stateful: a character split between two reads is written whole.
        var decoder = System.Text.Encoding.UTF8.GetDecoder();
        while (true)
        {
            var status = await grain.GetAsync(cancellation);
            if (status.State == "unknown")
            {
                throw new MixException($"no detached run {id} on node {status.Node}");
            }

            while (offset < status.LogBytes)
            {
                var bytes = await grain.ReadLogAsync(offset, Chunk, cancellation);
                if (bytes.Length == 0)
                {
                    break;
                }

                var chars = new char[decoder.GetCharCount(bytes, flush: false)];
                decoder.GetChars(bytes, chars, flush: false);
                await output.WriteAsync(chars);
                offset += bytes.Length;
            }

            if (status.IsOver)
            {
                return status;
            }

            try
            {
                await Task.Delay(Poll, cancellation);
            }
            catch (OperationCanceledException)
            {
                return status;
            }
        }
    }

    /// <summary>Copies the run's results directory into <paramref name="directory"/>; returns where the run is and how many files were copied.</summary>
    /// <exception cref="MixException">No such run on the node its id names.</exception>
    public static async Task<(DetachedRunStatus Status, int Files)> FetchAsync(IGrainFactory grains, string id, string directory, CancellationToken cancellation = default)
    {
        var grain = Grain(grains, id);
        var status = await grain.GetAsync(cancellation);
        if (status.State == "unknown")
        {
            throw new MixException($"no detached run {id} on node {status.Node}");
        }

        foreach (var file in status.Files)
        {
            var target = Path.Combine(directory, file);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            await using var stream = File.Create(target);
            for (var offset = 0L; ;)
            {
                var bytes = await grain.ReadFileAsync(file, offset, Chunk, cancellation);
                if (bytes.Length == 0)
                {
                    break;
                }

                await stream.WriteAsync(bytes, cancellation);
                offset += bytes.Length;
            }
        }

        return (status, status.Files.Count);
    }

    /// <summary>Asks the run to stop (SIGTERM: it saves what was measured and exits 130); returns where it is.</summary>
    /// <exception cref="MixException">No such run on the node its id names.</exception>
    public static async Task<DetachedRunStatus> StopAsync(IGrainFactory grains, string id, CancellationToken cancellation = default)
    {
        var status = await Grain(grains, id).StopAsync(cancellation);
        return status.State == "unknown" ? throw new MixException($"no detached run {id} on node {status.Node}") : status;
    }

    // The run's grain, activated on the node its id names (placement reads it from the request context).
    private static IDetachedRunGrain Grain(IGrainFactory grains, string id)
    {
        var slash = id.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == id.Length - 1)
        {
            throw new MixException($"'{id}' is not a detached run's id (run --detach prints them as NODE/ID)");
        }

        RequestContext.Set(DeviceRequirement.CoordinatorKey, id[..slash]);
        return grains.GetGrain<IDetachedRunGrain>(id);
    }
}
