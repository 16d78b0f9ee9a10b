using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;

namespace Contention.Workloads.Sim;

/// <summary>
/// How often the profiled GPU's host takes its core away from a thread that never gives it up,
/// and for how long (<c>contention bench calibrate</c>; <see cref="Measure"/>): interrupts, the
/// hypervisor's exits and steal, other threads. On the H200's host a spinning thread loses its
/// core some 1,500 times a second for a median ~9 µs.
/// <para>
/// The profile's round-trip spreads were measured on that host with these interruptions in them:
/// virtual time draws them as measured, and a tenant whose completion came while its thread was
/// off its core returns late as it did there. The real-time modelled GPU runs on a real host,
/// which interrupts its threads for real: drawing the measured spread on top would count them
/// twice, so each time its host makes a tenant late, the tenant's next draw among the spread's
/// slowest <see cref="HitShare"/> is drawn again below it (<see cref="HostHits"/>).
/// </para>
/// </summary>
/// <param name="PerSecond">Interruptions a second of a spinning thread.</param>
/// <param name="Durations">How long they took, at each of <see cref="RoundTripSpread.Probabilities"/>, ns (not centred).</param>
public sealed record HostInterruptions(double PerSecond, IReadOnlyList<long> Durations)
{
    /// <summary>A gap between two clock reads of a spinning thread longer than this is an interruption, ns (a read takes tens of ns).</summary>
    public const long ThresholdNs = 1500;

    /// <summary>Their mean length: the area under the duration table, ns.</summary>
    [JsonIgnore] public double MeanNs => RoundTripSpread.Mean(Durations);

    /// <summary>The share of the time a spinning thread is off its core: <see cref="PerSecond"/> x <see cref="MeanNs"/>.</summary>
    [JsonIgnore] public double OffCoreShare => PerSecond * MeanNs / 1e9;

    /// <summary>
    /// The share of a spinning or yielding thread's round trips the host interrupted: those whose
    /// completion came while the thread was off its core (<see cref="OffCoreShare"/>) and those
    /// where an interruption began during the launch's CPU time (<see cref="PerSecond"/> x
    /// <paramref name="launchCpuNs"/>); at most a half.
    /// </summary>
    public double HitShare(long launchCpuNs) => Math.Min(0.5, PerSecond * (MeanNs + Math.Max(0, launchCpuNs)) / 1e9);

    /// <summary>
    /// The interruptions of <paramref name="gapsNs"/> (each gap longer than <see cref="ThresholdNs"/>
    /// a spinning thread saw between two clock reads) over <paramref name="spanNs"/> of spinning.
    /// </summary>
    public static HostInterruptions FromGaps(IReadOnlyList<long> gapsNs, long spanNs)
    {
        ArgumentNullException.ThrowIfNull(gapsNs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(spanNs);
        var count = RoundTripSpread.Probabilities.Count;
        if (gapsNs.Count == 0)
        {
            return new HostInterruptions(0, new long[count]);
        }

        if (gapsNs.Count == 1)
        {
            return new HostInterruptions(1e9 / spanNs, [.. Enumerable.Repeat(gapsNs[0], count)]);
        }

        return new HostInterruptions(gapsNs.Count * 1e9 / spanNs, [.. RoundTripSpread.Quantiles(gapsNs).Select(q => (long)Math.Round(q))]);
    }

    /// <summary>
    /// Spins on one thread for <paramref name="duration"/>, reading the clock back to back, and
    /// counts every gap between two reads longer than <see cref="ThresholdNs"/>: how the host
    /// interrupts a thread that never sleeps (a GPU tenant synchronising in spin mode).
    /// </summary>
    public static HostInterruptions Measure(TimeSpan duration, CancellationToken cancellation = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(duration, TimeSpan.Zero);
        // On the calling thread: the interruptions of whichever thread spins are the measurement.
        var gaps = new List<long>();
        var start = MonotonicClock.NowNs();
        var end = start + (long)(duration.TotalMilliseconds * 1e6);
        var last = start;
        while (last < end && !cancellation.IsCancellationRequested)
        {
            var now = MonotonicClock.NowNs();
            if (now - last > ThresholdNs)
            {
                gaps.Add(now - last);
            }

            last = now;
        }

        var spanNs = last - start;
        cancellation.ThrowIfCancellationRequested();
        return FromGaps(gaps, Math.Max(1, spanNs));
    }

    /// <summary>Why this is not a valid measurement, or null: a rate that is negative or not a number, a table of another length, lengths negative or descending.</summary>
    public string? Problem()
    {
        if (!double.IsFinite(PerSecond) || PerSecond < 0)
        {
            return $"hostInterruptions.perSecond must be a number >= 0, not {PerSecond}";
        }

        if (Durations is null || Durations.Count != RoundTripSpread.Probabilities.Count)
        {
            return $"hostInterruptions.durations must have {RoundTripSpread.Probabilities.Count} entries (one per probability {string.Join(", ", RoundTripSpread.Probabilities)}), not {Durations?.Count ?? 0}";
        }

        for (var i = 0; i < Durations.Count; i++)
        {
            if (Durations[i] < 0 || (i > 0 && Durations[i] < Durations[i - 1]))
            {
                return $"hostInterruptions.durations must be ns >= 0 in ascending order; entry {i} is {Durations[i]}";
            }
        }

        return null;
    }
}

/// <summary>
/// A real-time modelled tenant's ledger of the interruptions its own host gave it, so that they
/// take the place of the profiled host's in its round trips instead of coming on top of them. The
/// measured spread holds the profiled host's interruptions in its slowest <see cref="Share"/>
/// (<see cref="HostInterruptions.HitShare"/>). Each time this host makes the tenant late (a
/// launch or a return later than the model meant by more than <see cref="HostInterruptions.ThresholdNs"/>:
/// its thread, or the engine's, was off its core), one is owed (<see cref="Note"/>); the next draw
/// that lands in the slowest share is then drawn again below it (<see cref="Next"/>). A host
/// that interrupts as often as the profiled one replaces every interrupted round trip of the
/// spread with its own; one that interrupts less leaves the rest of the spread's tail drawn, as
/// leaving the whole share out of every draw would not.
/// </summary>
/// <param name="share">The spread's share of interrupted round trips, 0..0.5.</param>
public sealed class HostHits(double share)
{
    /// <summary>At most this many lateness owed at once (a host much busier than the profiled one replaces the whole share and no more).</summary>
    public const int MaxOwed = 1024;

    /// <summary>The spread's share of interrupted round trips.</summary>
    public double Share { get; } = share is >= 0 and <= 0.5 ? share : throw new ArgumentOutOfRangeException(nameof(share), share, "a share of round trips, 0..0.5");

    /// <summary>Times this host made the tenant late not yet taken off a draw.</summary>
    public int Owed { get; private set; }

    /// <summary>Times this host made the tenant late.</summary>
    public long Noted { get; private set; }

    /// <summary>Draws in the slowest share drawn again below it.</summary>
    public long Replaced { get; private set; }

    /// <summary>Draws in the slowest share that stood (no lateness owed): the profiled host's interruptions this host did not replace.</summary>
    public long Kept { get; private set; }

    /// <summary>Notes a launch or return <paramref name="lateNs"/> later than the model meant; whether it counts as the host's interruption.</summary>
    public bool Note(long lateNs)
    {
        if (lateNs <= HostInterruptions.ThresholdNs)
        {
            return false;
        }

        Noted++;
        Owed = Math.Min(MaxOwed, Owed + 1);
        return true;
    }

    /// <summary>The next uniform draw (0..1) of a round trip's quantile: below the slowest share when this host's own lateness is owed.</summary>
    public double Next(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var u = random.NextDouble();
        if (Owed > 0 && u >= 1 - Share)
        {
            Owed--;
            Replaced++;
            u = random.NextDouble() * (1 - Share);
        }
        else if (u >= 1 - Share)
        {
            Kept++;
        }

        return u;
    }
}

/// <summary>Holds a profile's <see cref="HostInterruptions"/> to <see cref="HostInterruptions.Problem"/>.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ValidHostInterruptionsAttribute : ValidationAttribute
{
    /// <inheritdoc />
    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext) =>
        value is HostInterruptions interruptions && interruptions.Problem() is { } problem ? new ValidationResult(problem) : ValidationResult.Success;
}
