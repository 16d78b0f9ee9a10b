namespace Contention.Grains.Node;

/// <summary>A running tenant workload: a worker process or a dedicated thread in the silo.</summary>
internal interface IWorker : IAsyncDisposable
{
    /// <summary>The process to trace.</summary>
    int Pid { get; }

    /// <summary>The thread to trace, when only one thread of <see cref="Pid"/> is the tenant's.</summary>
    int? Tid { get; }

    /// <summary>The device's description.</summary>
    string Description { get; }

    /// <summary>Completes when the worker ends: normally after <see cref="StopAsync"/>, or with <see cref="WorkerCrashedException"/>.</summary>
    Task Completion { get; }

    /// <summary>Completes when a workload that ends by itself (a microbenchmark grid) has; the worker then idles until stopped.</summary>
    Task Finished { get; }

    /// <summary>Asks for an immediate report and waits until it has been delivered.</summary>
    Task FlushAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Stops the workload after its current operation; the last report is delivered before this
    /// completes, and the worker stays alive (idle) until disposed, so a final /proc sample
    /// covers everything it did.
    /// </summary>
    Task StopAsync(TimeSpan timeout);
}
