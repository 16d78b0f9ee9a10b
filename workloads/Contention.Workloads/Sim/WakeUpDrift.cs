namespace Contention.Workloads.Sim;

/// <summary>
/// How a host's threads differ from one another in how late they wake, for a while: each
/// thread's wake-ups are its host's (<see cref="DeviceProfile.WakeUps"/>) scaled by
/// exp(level), its level drifting as an Ornstein-Uhlenbeck process of stationary standard
/// deviation <see cref="Sigma"/> and time scale <see cref="TimescaleNs"/> (a thread's core and
/// what else runs there change now and then). Where threads race to wake first, as best-effort
/// launches behind a GPU arbiter do (<see cref="ArbiterWaits"/>), a thread a few microseconds
/// later than the others for a while loses every race meanwhile. Measured on the H200 host
/// from the arbiter's own sleeps (docs/sim.md, "An arbiter").
/// </summary>
/// <param name="Sigma">Stationary standard deviation of a thread's log wake-up level (0: none).</param>
/// <param name="TimescaleNs">How long a level lasts: its correlation after this long is 1/e, ns.</param>
public sealed record WakeUpDrift(double Sigma, long TimescaleNs)
{
    /// <summary>Stationary standard deviation of a thread's log wake-up level (0 to 2).</summary>
    public double Sigma { get; } = Sigma is >= 0 and <= 2 ? Sigma : throw new ArgumentOutOfRangeException(nameof(Sigma), Sigma, "a wake-up drift's sigma is the standard deviation of the log of a thread's wake-up level: 0 to 2");

    /// <summary>How long a level lasts, ns (at least a microsecond).</summary>
    public long TimescaleNs { get; } = TimescaleNs >= 1_000 ? TimescaleNs : throw new ArgumentOutOfRangeException(nameof(TimescaleNs), TimescaleNs, "a wake-up drift's time scale is how long a thread's level lasts, in ns: at least 1000");

    /// <summary>
    /// A part of the level that the host's threads share (the host as a whole waking later for a
    /// while: one process drifting as this one's <see cref="Sigma"/> and <see cref="TimescaleNs"/>,
    /// added to each thread's own). It slows every racing thread alike, so it decides no race.
    /// None: each thread's level is its own alone.
    /// </summary>
    public WakeUpDrift? Shared
    {
        get => shared;
        init => shared = value is { Shared: not null } ? throw new ArgumentException("a wake-up drift's shared part has no shared part of its own", nameof(Shared)) : value;
    }

    private readonly WakeUpDrift? shared;

    /// <summary>
    /// The sleep length from which a level acts whole, ns; a shorter sleep's level is scaled by
    /// (its length / this) ^ <see cref="LengthExponent"/> (a thread's short sleeps drift less:
    /// measured by scripts/arbiter-waits.py --lags, "by sleep length"). 0: every sleep alike.
    /// </summary>
    public long FullAtNs
    {
        get => fullAtNs;
        init => fullAtNs = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(FullAtNs), value, "a wake-up drift's fullAtNs is the sleep length from which a level acts whole, in ns: 0 (every sleep alike) or more");
    }

    private readonly long fullAtNs;

    /// <summary>How a level shrinks for sleeps shorter than <see cref="FullAtNs"/> (0 to 2; 0: it does not).</summary>
    public double LengthExponent
    {
        get => lengthExponent;
        init => lengthExponent = value is >= 0 and <= 2 ? value : throw new ArgumentOutOfRangeException(nameof(LengthExponent), value, "a wake-up drift's lengthExponent is how a level shrinks for shorter sleeps: 0 to 2");
    }

    private readonly double lengthExponent;

    /// <summary>The share of a level that acts on a sleep of <paramref name="sleptNs"/> (1 from <see cref="FullAtNs"/> on).</summary>
    public double Weight(long sleptNs) =>
        FullAtNs <= 0 || LengthExponent == 0 || sleptNs >= FullAtNs ? 1 : Math.Pow(Math.Max(1_000, sleptNs) / (double)FullAtNs, LengthExponent);

    /// <summary>
    /// A thread's level <paramref name="elapsedNs"/> after it was <paramref name="level"/> (long.MaxValue:
    /// a first level, drawn from the stationary distribution), drawn from <paramref name="random"/>.
    /// </summary>
    public double Next(double level, long elapsedNs, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var kept = elapsedNs == long.MaxValue ? 0 : Math.Exp(-Math.Max(0, elapsedNs) / (double)TimescaleNs);
        var gaussian = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        return (kept * level) + (Math.Sqrt(1 - (kept * kept)) * Sigma * gaussian);
    }
}
