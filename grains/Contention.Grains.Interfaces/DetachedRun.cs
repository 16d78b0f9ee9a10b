namespace Contention.Grains;

/// <summary>Where a detached run (<c>contention run --detach</c>) is.</summary>
/// <param name="Run">Its id: the node's name, a slash, and a random part (<c>node-a/3f2a9c1d</c>).</param>
/// <param name="Node">The node it runs on, whose runs directory holds its files.</param>
/// <param name="State"><c>running</c>, <c>exited</c>, <c>lost</c> (its process is gone without saying how it ended), or <c>unknown</c> (no such run on the node).</param>
/// <param name="ExitCode">Its exit code once exited (as <c>contention run</c>'s: 0 completed, 4 completed but invalid, 130 interrupted, …).</param>
/// <param name="LogBytes">How long its output (what <c>contention run</c> prints) is so far.</param>
/// <param name="Files">Its results directory's files so far, relative to it.</param>
/// <param name="Directory">Its directory on the node.</param>
[GenerateSerializer, Immutable, Alias("contention.DetachedRunStatus")]
public sealed record DetachedRunStatus(
    [property: Id(0)] string Run,
    [property: Id(1)] string Node,
    [property: Id(2)] string State,
    [property: Id(3)] int? ExitCode,
    [property: Id(4)] long LogBytes,
    [property: Id(5)] IReadOnlyList<string> Files,
    [property: Id(6)] string Directory)
{
    /// <summary>Whether it will do nothing more.</summary>
    public bool IsOver => State is "exited" or "lost" or "unknown";
}

/// <summary>
/// A detached run (keyed by its id; activated on the node its id names): the node runs
/// <c>contention run</c> on the mix as a process of its own that outlives the submitting client
/// and a restart of the node, writing its output and results into the node's runs directory.
/// </summary>
[Alias("contention.IDetachedRunGrain")]
public interface IDetachedRunGrain : IGrainWithStringKey
{
    /// <summary>Starts the run (once: again, it answers as <see cref="GetAsync"/>): the mix's text saved as <paramref name="mixFile"/>, <c>contention run</c> with <paramref name="arguments"/> after it.</summary>
    [Alias("Start")]
    Task<DetachedRunStatus> StartAsync(string mixFile, string mixText, IReadOnlyList<string> arguments, CancellationToken cancellationToken = default);

    /// <summary>Where it is now.</summary>
    [Alias("Get")]
    Task<DetachedRunStatus> GetAsync(CancellationToken cancellationToken = default);

    /// <summary>Up to <paramref name="count"/> bytes of its output from <paramref name="offset"/>.</summary>
    [Alias("ReadLog")]
    Task<byte[]> ReadLogAsync(long offset, int count, CancellationToken cancellationToken = default);

    /// <summary>Up to <paramref name="count"/> bytes of results file <paramref name="file"/> (relative, as <see cref="DetachedRunStatus.Files"/> lists it) from <paramref name="offset"/>.</summary>
    [Alias("ReadFile")]
    Task<byte[]> ReadFileAsync(string file, long offset, int count, CancellationToken cancellationToken = default);

    /// <summary>Asks the run to stop (SIGTERM, as Ctrl+C: its experiment ends interrupted and what was measured is saved).</summary>
    [Alias("Stop")]
    Task<DetachedRunStatus> StopAsync(CancellationToken cancellationToken = default);
}
