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
/// <param name="Spread">
/// How single iterations spread around the loop's mean: their time less the mean at each of
/// <see cref="RoundTripSpread.Probabilities"/>, ns (a quantile table). A woken thread's round trip
/// has a long tail (on the H200 in block mode the slowest 1 % of iterations take 1.1-2x the
/// median); null where the profile has none, and every round trip takes the mean.
/// </param>
public sealed record MeasuredRoundTrip(SyncMode Sync, long WaitNs, long Ns, GpuSharing Sharing = GpuSharing.Timeslice, IReadOnlyList<long>? Spread = null);

/// <summary>
/// A timed sleep's wake-up measured on the profiled GPU's host (<c>contention bench calibrate
/// --wake-ups-only</c>): threads slept to an absolute deadline <paramref name="SleepNs"/> ahead,
/// with 1 µs timer slack as an open-loop tenant's thread sleeps until its next request's
/// arrival, and ran again <paramref name="Ns"/> after it on average. The longer a core idles the
/// deeper it sleeps and the later it wakes (on the H200's host 18-46 µs at 2-20 ms). How many
/// processes sleep and wake on the host may lengthen the slowest wake-ups (the real-time model's
/// 30 services on the H200's host: p99 280 µs after 20 ms, against 176 µs for 4 threads).
/// </summary>
/// <param name="SleepNs">How long the threads slept, ns.</param>
/// <param name="Ns">How late they ran again after the deadline, mean, ns.</param>
/// <param name="Spread">Single wake-ups' lateness less the mean at each of <see cref="RoundTripSpread.Probabilities"/>, ns; null: every wake-up takes the mean.</param>
/// <param name="Sleepers">How many slept at once: processes of one thread each, their deadlines spread over the sleep (<c>bench calibrate --wake-ups-only --wake-up-sleepers</c>); profiles that do not say measured 4 threads of one process, deadlines together.</param>
public sealed record MeasuredWakeUp(long SleepNs, long Ns, IReadOnlyList<long>? Spread = null, int Sleepers = 4);

/// <summary>
/// The spread of single round trips around their mean as a quantile table over fixed
/// probabilities: measured from a loop's iterations (<see cref="Measure"/>), sampled by inverting
/// it with straight lines between the table's points (<see cref="Sample"/>), centred so that the
/// samples' mean is exactly 0 and a modelled loop keeps the measured mean.
/// </summary>
public static class RoundTripSpread
{
    /// <summary>The probabilities of a spread table's entries, ascending from 0 (the fastest) to 1 (the slowest).</summary>
    public static IReadOnlyList<double> Probabilities { get; } = [0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.98, 0.99, 0.995, 0.998, 0.999, 1];

    /// <summary>
    /// The spread of <paramref name="iterationsNs"/> (single iterations' times, any order): each
    /// probability's quantile (straight lines between order statistics) less their mean, ns.
    /// </summary>
    /// <exception cref="ArgumentException">Fewer than two iterations.</exception>
    public static long[] Measure(IReadOnlyList<long> iterationsNs)
    {
        var quantiles = Quantiles(iterationsNs);
        var mean = iterationsNs.Average(v => (double)v);
        return [.. quantiles.Select(q => (long)Math.Round(q - mean))];
    }

    /// <summary>
    /// The quantiles of <paramref name="valuesNs"/> (any order) at each of <see cref="Probabilities"/>,
    /// straight lines between order statistics, not centred.
    /// </summary>
    /// <exception cref="ArgumentException">Fewer than two values.</exception>
    public static double[] Quantiles(IReadOnlyList<long> valuesNs)
    {
        ArgumentNullException.ThrowIfNull(valuesNs);
        if (valuesNs.Count < 2)
        {
            throw new ArgumentException("a spread needs at least two iterations", nameof(valuesNs));
        }

        var sorted = valuesNs.Order().ToArray();
        return [.. Probabilities.Select(p =>
        {
            var position = p * (sorted.Length - 1);
            var below = (int)Math.Floor(position);
            var above = Math.Min(below + 1, sorted.Length - 1);
            return sorted[below] + ((position - below) * (sorted[above] - sorted[below]));
        })];
    }

    /// <summary>The table's value at probability <paramref name="u"/> (0..1), straight lines between entries, ns.</summary>
    public static double Quantile(IReadOnlyList<long> spread, double u)
    {
        Check(spread);
        return At([.. spread.Select(v => (double)v)], u);
    }

    /// <summary>The value of <paramref name="table"/> (one entry per probability) at probability <paramref name="u"/>; allocates nothing.</summary>
    internal static double At(ReadOnlySpan<double> table, double u)
    {
        u = Math.Clamp(u, 0, 1);
        var p = Probabilities;
        for (var i = 1; i < p.Count; i++)
        {
            if (u <= p[i])
            {
                return table[i - 1] + ((u - p[i - 1]) / (p[i] - p[i - 1]) * (table[i] - table[i - 1]));
            }
        }

        return table[^1];
    }

    /// <summary>The mean of <see cref="Quantile"/> over a uniform probability: the area under the table's lines, ns.</summary>
    public static double Mean(IReadOnlyList<long> spread)
    {
        Check(spread);
        return Mean([.. spread.Select(v => (double)v)]);
    }

    /// <summary>The mean of a table of doubles (one entry per probability): the area under its lines.</summary>
    internal static double Mean(ReadOnlySpan<double> table)
    {
        var p = Probabilities;
        var area = 0.0;
        for (var i = 1; i < p.Count; i++)
        {
            area += (p[i] - p[i - 1]) * (table[i - 1] + table[i]) / 2.0;
        }

        return area;
    }

    /// <summary>One round trip's deviation from the mean for uniform <paramref name="u"/>: <see cref="Quantile"/> less <see cref="Mean(IReadOnlyList{long})"/>, ns.</summary>
    public static double Sample(IReadOnlyList<long> spread, double u) => Quantile(spread, u) - Mean(spread);

    private static void Check(IReadOnlyList<long> spread)
    {
        ArgumentNullException.ThrowIfNull(spread);
        if (spread.Count != Probabilities.Count)
        {
            throw new ArgumentException($"a round-trip spread has {Probabilities.Count} entries (one per probability of RoundTripSpread.Probabilities), not {spread.Count}", nameof(spread));
        }
    }
}

/// <summary>
/// A measured host delay against a length: one sync mode's round trip against wait length, or
/// (<see cref="WakeUps"/>) a timed sleep's lateness against the sleep's length. Linear between
/// measured points, flat beyond them; zero without any. An MPS client takes the points measured
/// under MPS, the time-sliced ones where a profile has none. Where every point has its spread,
/// single delays spread around the mean as measured (<see cref="Ns(long, double)"/>): between
/// points both the mean and each quantile of the spread are interpolated.
/// </summary>
public sealed class RoundTripCurve
{
    private readonly long[] waits;
    private readonly long[] values;
    private readonly double[][]? spreads;

    /// <summary>The points of <paramref name="mode"/> and <paramref name="sharing"/> in <paramref name="profile"/>.</summary>
    public RoundTripCurve(DeviceProfile profile, SyncMode mode, GpuSharing sharing = GpuSharing.Timeslice)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var points = profile.RoundTrips.Where(p => p.Sync == mode && p.Sharing == sharing).OrderBy(p => p.WaitNs).ToArray();
        if (points.Length == 0 && sharing != GpuSharing.Timeslice)
        {
            points = [.. profile.RoundTrips.Where(p => p.Sync == mode && p.Sharing == GpuSharing.Timeslice).OrderBy(p => p.WaitNs)];
        }

        (waits, values, spreads) = Points([.. points.Select(p => (p.WaitNs, p.Ns, p.Spread))]);
    }

    private RoundTripCurve(IReadOnlyList<(long At, long Ns, IReadOnlyList<long>? Spread)> points) =>
        (waits, values, spreads) = Points(points);

    /// <summary>
    /// A timed sleep's lateness against its length (<see cref="DeviceProfile.WakeUps"/>) on a host
    /// where <paramref name="sleepers"/> processes sleep and wake: how long after its deadline a
    /// thread that slept that long runs again; zero where the profile has no points. Where the
    /// profile measured several counts of sleepers (<see cref="MeasuredWakeUp.Sleepers"/>), each
    /// sleep length's mean and each quantile of its spread are interpolated linearly between the
    /// two counts around <paramref name="sleepers"/>; beyond them the nearest count's stand.
    /// </summary>
    public static RoundTripCurve WakeUps(DeviceProfile profile, int sleepers = 4)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var counts = profile.WakeUps.Select(p => p.Sleepers).Distinct().Order().ToArray();
        if (counts.Length <= 1)
        {
            return new RoundTripCurve([.. profile.WakeUps.OrderBy(p => p.SleepNs).Select(p => (p.SleepNs, p.Ns, p.Spread))]);
        }

        var below = counts.LastOrDefault(c => c <= sleepers, counts[0]);
        var above = counts.FirstOrDefault(c => c >= sleepers, counts[^1]);
        var fraction = above == below ? 0 : (double)(sleepers - below) / (above - below);
        var upper = profile.WakeUps.Where(p => p.Sleepers == above).ToDictionary(p => p.SleepNs);
        return new RoundTripCurve([.. profile.WakeUps.Where(p => p.Sleepers == below).OrderBy(p => p.SleepNs).Select(p =>
        {
            if (fraction == 0 || !upper.TryGetValue(p.SleepNs, out var q))
            {
                return (p.SleepNs, p.Ns, p.Spread);
            }

            var ns = (long)Math.Round(p.Ns + (fraction * (q.Ns - p.Ns)));
            IReadOnlyList<long>? spread = p.Spread is null || q.Spread is null ? null : [.. p.Spread.Zip(q.Spread, (a, b) => (long)Math.Round(a + (fraction * (b - a))))];
            return (p.SleepNs, ns, spread);
        })]);
    }

    /// <summary>
    /// The extra time of the launches after the launching thread idled (<see cref="DeviceProfile.IdleCosts"/>
    /// of <paramref name="sharing"/>, else the time-sliced ones), against the idle gap; zero where the profile has none.
    /// </summary>
    public static RoundTripCurve IdleLaunches(DeviceProfile profile, GpuSharing sharing) =>
        new([.. IdleCosts(profile, sharing).Select(p => (p.GapNs, p.LaunchNs, p.LaunchSpread))]);

    /// <summary>
    /// The extra time of a blocking synchronise whose first kernel found the GPU idle, against how
    /// long the GPU had idled (<see cref="DeviceProfile.IdleCosts"/>); zero where the profile has none.
    /// </summary>
    public static RoundTripCurve IdleWaits(DeviceProfile profile, GpuSharing sharing) =>
        new([.. IdleCosts(profile, sharing).Select(p => (p.GapNs, p.WaitNs, p.WaitSpread))]);

    private static MeasuredIdleCost[] IdleCosts(DeviceProfile profile, GpuSharing sharing)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var points = profile.IdleCosts.Where(p => p.Sharing == sharing && p.GapNs > 0).ToArray();
        if (points.Length == 0)
        {
            points = [.. profile.IdleCosts.Where(p => p.Sharing == GpuSharing.Timeslice && p.GapNs > 0)];
        }

        // The baseline is back-to-back requests: no gap, no extra, no spread beyond the round trips'
        // (the curve is flat before its first point); a spread table of zeros where the points have spreads.
        var none = new long[RoundTripSpread.Probabilities.Count];
        var anchor = new MeasuredIdleCost(0, 0, 0, sharing, points.Any(p => p.LaunchSpread is not null) ? none : null, points.Any(p => p.WaitSpread is not null) ? none : null);
        return [.. points.Append(anchor).OrderBy(p => p.GapNs)];
    }

    private RoundTripCurve(long[] waits, long[] values, double[][]? spreads) =>
        (this.waits, this.values, this.spreads) = (waits, values, spreads);

    /// <summary>Whether single round trips spread around the mean (every point has its spread), or each takes the mean.</summary>
    public bool Spreads => spreads is not null;

    /// <summary>
    /// One round trip after waiting <paramref name="waitNs"/>, drawn from the measured spread with
    /// uniform <paramref name="u"/> (0..1): the mean (<see cref="Ns(long)"/>) plus the spread's
    /// centred quantile, never below 0, ns; the mean where there is no spread. Over uniform
    /// <paramref name="u"/> its mean is the mean round trip (but for that floor).
    /// </summary>
    public long Ns(long waitNs, double u)
    {
        var mean = Ns(waitNs);
        if (spreads is null)
        {
            return mean;
        }

        var (i, j, fraction) = Between(waitNs);
        var below = RoundTripSpread.At(spreads[i], u);
        var deviation = below + (fraction * (RoundTripSpread.At(spreads[j], u) - below));
        return Math.Max(0, mean + (long)Math.Round(deviation));
    }

    /// <summary>
    /// One round trip after waiting <paramref name="waitNs"/> as a synchronising thread meets it:
    /// drawn from the spread with <paramref name="random"/> where the curve has one (<see cref="Ns(long, double)"/>),
    /// else the mean, taking no draw, ns.
    /// </summary>
    public long Draw(long waitNs, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        return spreads is null ? Ns(waitNs) : Ns(waitNs, random.NextDouble());
    }

    /// <summary>The round trip after waiting <paramref name="waitNs"/> for the GPU, ns.</summary>
    public long Ns(long waitNs)
    {
        if (waits.Length == 0)
        {
            return 0;
        }

        var (i, j, fraction) = Between(waitNs);
        return values[i] + (long)Math.Round(fraction * (values[j] - values[i]));
    }

    private static (long[] At, long[] Values, double[][]? Spreads) Points(IReadOnlyList<(long At, long Ns, IReadOnlyList<long>? Spread)> points)
    {
        double[][]? spreads = null;
        if (points.Count > 0 && points.All(p => p.Spread is not null))
        {
            // Each table centred once: what a sample adds is then a quantile alone.
            spreads = [.. points.Select(p =>
            {
                var mean = RoundTripSpread.Mean(p.Spread!);
                return p.Spread!.Select(v => v - mean).ToArray();
            })];
        }

        return ([.. points.Select(p => p.At)], [.. points.Select(p => p.Ns)], spreads);
    }

    // The points around waitNs and how far between them it lies (the same point twice beyond the ends).
    private (int Below, int Above, double Fraction) Between(long waitNs)
    {
        if (waitNs <= waits[0])
        {
            return (0, 0, 0);
        }

        for (var i = 1; i < waits.Length; i++)
        {
            if (waitNs <= waits[i])
            {
                return (i - 1, i, (waitNs - waits[i - 1]) / (double)(waits[i] - waits[i - 1]));
            }
        }

        return (waits.Length - 1, waits.Length - 1, 0);
    }
}
