using System.Globalization;

namespace Contention.Workloads.Worker;

/// <summary>
/// A worker process's side of a phase boundary: sends the ended phase as a <c>phase</c> message
/// and waits until the node answers <c>phase-ok INDEX</c> (it has taken its snapshot), or until
/// the node is gone.
/// </summary>
internal sealed class PhaseHandshake(Action<WorkerMessage> send) : IPhaseSink, IDisposable
{
    private const string Acknowledgement = "phase-ok ";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly SemaphoreSlim acknowledged = new(0);
    private long expected = -1;
    private volatile bool abandoned;

    /// <inheritdoc />
    public void Boundary(PhaseSample ended)
    {
        ArgumentNullException.ThrowIfNull(ended);
        if (abandoned)
        {
            return;
        }

        Interlocked.Exchange(ref expected, ended.Index);
        send(new WorkerMessage { Type = "phase", Phase = ended });

        // A node that does not answer (an old silo, a stalled tracer) costs the phase its precision,
        // not the workload its progress.
        _ = acknowledged.Wait(Patience);
    }

    /// <summary>Takes <paramref name="line"/> if it acknowledges the phase waited for.</summary>
    public bool TryAcknowledge(string line)
    {
        if (!line.StartsWith(Acknowledgement, StringComparison.Ordinal))
        {
            return false;
        }

        if (long.TryParse(line.AsSpan(Acknowledgement.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var index) && Interlocked.CompareExchange(ref expected, -1, index) == index)
        {
            acknowledged.Release();
        }

        return true;
    }

    /// <summary>The node is gone: boundaries no longer wait.</summary>
    public void Abandon()
    {
        abandoned = true;
        acknowledged.Release();
    }

    /// <inheritdoc />
    public void Dispose() => acknowledged.Dispose();
}
