using Contention.Workloads.Sim;

namespace Contention.Workloads.Workloads;

/// <summary>Sleeps until an absolute monotonic time, waking early enough to notice cancellation.</summary>
internal static class PreciseSleep
{
    private const long MaxChunkNs = 50_000_000;

    public static void Until(long deadlineNs, CancellationToken cancellation)
    {
        while (!cancellation.IsCancellationRequested)
        {
            var now = MonotonicClock.NowNs();
            if (now >= deadlineNs)
            {
                return;
            }

            NativeMethods.SleepUntil(Math.Min(deadlineNs, now + MaxChunkNs));
        }
    }
}
