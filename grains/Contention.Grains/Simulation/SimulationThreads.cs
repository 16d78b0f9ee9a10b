using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace Contention.Grains.Simulation;

/// <summary>
/// The threads a silo simulates on: one per processor, started on first use, apart from the
/// thread pool (Orleans' scheduler, messaging and membership run there and must not wait behind a
/// window of event loops: with the pool's threads all simulating, a 2-core silo stalls for seconds
/// and its health monitor complains).
/// </summary>
internal static class SimulationThreads
{
    private static readonly BlockingCollection<Action> Work = [];
    private static readonly Lazy<int> Started = new(() =>
    {
        for (var i = 0; i < Environment.ProcessorCount; i++)
        {
            new Thread(() =>
            {
                foreach (var item in Work.GetConsumingEnumerable())
                {
                    item();
                }
            })
            { IsBackground = true, Name = $"contention-sim-{i}" }.Start();
        }

        return Environment.ProcessorCount;
    });

    /// <summary>Runs every item on the simulation threads; completes when all have (with the first failure, if any).</summary>
    public static Task RunAsync(IReadOnlyList<Action> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        if (items.Count == 0)
        {
            return Task.CompletedTask;
        }

        _ = Started.Value;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var remaining = items.Count;
        ExceptionDispatchInfo? failure = null;
        foreach (var item in items)
        {
            Work.Add(() =>
            {
                try
                {
                    item();
                }
                catch (Exception ex)
                {
                    Interlocked.CompareExchange(ref failure, ExceptionDispatchInfo.Capture(ex), null);
                }
                finally
                {
                    if (Interlocked.Decrement(ref remaining) == 0)
                    {
                        if (failure is { } failed)
                        {
                            done.SetException(failed.SourceException);
                        }
                        else
                        {
                            done.SetResult();
                        }
                    }
                }
            });
        }

        return done.Task;
    }
}
