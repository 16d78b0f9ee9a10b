using Contention.Workloads.Worker;

namespace Contention.Grains.Node;

/// <summary>A tenant workload on a dedicated thread inside the silo (isolation: thread).</summary>
internal sealed class WorkerThread : IWorker
{
    private readonly WorkerSession session;
    private readonly Action<WorkerInterval> onReport;
    private readonly TaskCompletionSource completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool stopping;

    private WorkerThread(WorkerSession session, Action<WorkerInterval> onReport, int tid)
    {
        this.session = session;
        this.onReport = onReport;
        Tid = tid;
        _ = session.Finished.ContinueWith(
            t =>
            {
                if (t.IsFaulted && !stopping)
                {
                    var fault = t.Exception!.GetBaseException();
                    completion.TrySetException(new WorkerCrashedException(-1, $"workload thread failed: {fault.GetType().Name}: {fault.Message}"));
                }
                else if (session.Finite && !stopping)
                {
                    // A grid walk has ended: the tenant is done, not gone.
                    finished.TrySetResult();
                }
                else
                {
                    completion.TrySetResult();
                }
            },
            TaskScheduler.Default);
    }

    /// <inheritdoc />
    public int Pid => Environment.ProcessId;

    /// <inheritdoc />
    public int? Tid { get; }

    /// <inheritdoc />
    public string Description => session.Description;

    /// <inheritdoc />
    public Task Completion => completion.Task;

    /// <inheritdoc />
    public Task Finished => finished.Task;

    /// <summary>Opens the device and starts the workload thread; its phases (counted for that thread alone) go to <paramref name="phases"/>.</summary>
    public static async Task<WorkerThread> StartAsync(WorkerStart start, Action<WorkerInterval> onReport, IPhaseSink phases)
    {
        WorkerSession session;
        try
        {
            session = await Task.Run(() => new WorkerSession(start, phases, threadOnly: true)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new WorkerCrashedException(-1, $"failed to open {start.Device}: {ex.Message}");
        }

        session.Start();
        var tid = await session.Started.ConfigureAwait(false);
        return new WorkerThread(session, onReport, tid);
    }

    /// <inheritdoc />
    public Task FlushAsync(CancellationToken cancellationToken)
    {
        Report();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task StopAsync(TimeSpan timeout)
    {
        stopping = true;
        await session.StopAsync(timeout).ConfigureAwait(false);
        Report();
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        stopping = true;
        session.Dispose();
        completion.TrySetResult();
        return ValueTask.CompletedTask;
    }

    private void Report()
    {
        onReport(session.TakeInterval());
    }
}
