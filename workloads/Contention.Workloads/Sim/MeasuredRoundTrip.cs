using Contention.Workloads.Devices;

namespace Contention.Workloads.Sim;

/// <summary>
/// A synchronise's round trip measured on the profiled GPU (<c>contention bench calibrate</c>):
/// a thread in <paramref name="Sync"/> mode launched one kernel of <paramref name="WaitNs"/> GPU
/// time and synchronised; the loop's time per iteration less the launch's CPU time and the
/// kernel's GPU time is <paramref name="Ns"/> — the launch's way to the GPU and the completion's
/// way back to the thread. A sleeping thread's wake-up grows with how long it slept (the core
/// enters deeper idle states), so each mode is measured at several wait lengths.
/// </summary>
/// <param name="Sync">How the thread waited.</param>
/// <param name="WaitNs">GPU time of the kernel waited for, ns.</param>
/// <param name="Ns">The round trip beyond launch CPU and GPU time, ns.</param>
/// <param name="Sharing">How the measuring process shared the GPU: alone (time-slicing) or as a client of an MPS daemon.</param>
public sealed record MeasuredRoundTrip(SyncMode Sync, long WaitNs, long Ns, GpuSharing Sharing = GpuSharing.Timeslice);

/// <summary>
/// One sync mode's round trip against wait length: linear between measured points, flat beyond
/// them; zero without any. An MPS client takes the points measured under MPS, the time-sliced
/// ones where a profile has none.
/// </summary>
public sealed class RoundTripCurve
{
    private readonly long[] waits;
    private readonly long[] values;

    /// <summary>The points of <paramref name="mode"/> and <paramref name="sharing"/> in <paramref name="profile"/>.</summary>
    public RoundTripCurve(DeviceProfile profile, SyncMode mode, GpuSharing sharing = GpuSharing.Timeslice)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var points = profile.RoundTrips.Where(p => p.Sync == mode && p.Sharing == sharing).OrderBy(p => p.WaitNs).ToArray();
        if (points.Length == 0 && sharing != GpuSharing.Timeslice)
        {
            points = [.. profile.RoundTrips.Where(p => p.Sync == mode && p.Sharing == GpuSharing.Timeslice).OrderBy(p => p.WaitNs)];
        }

        waits = [.. points.Select(p => p.WaitNs)];
        values = [.. points.Select(p => p.Ns)];
    }

    /// <summary>The round trip after waiting <paramref name="waitNs"/> for the GPU, ns.</summary>
    public long Ns(long waitNs)
    {
        if (waits.Length == 0)
        {
            return 0;
        }

        if (waitNs <= waits[0])
        {
            return values[0];
        }

        for (var i = 1; i < waits.Length; i++)
        {
            if (waitNs <= waits[i])
            {
                var fraction = (waitNs - waits[i - 1]) / (double)(waits[i] - waits[i - 1]);
                return values[i - 1] + (long)Math.Round(fraction * (values[i] - values[i - 1]));
            }
        }

        return values[^1];
    }
}
