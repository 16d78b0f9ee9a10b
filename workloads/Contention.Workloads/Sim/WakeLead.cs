namespace Contention.Workloads.Sim;

/// <summary>
/// How far ahead of the time the model means a blocking tenant of the real-time modelled GPU to
/// return it asks to be woken, from its own wake-ups on this host. The model's return is the
/// profiled GPU's measured round trip after the modelled completion, and that measurement has the
/// profiled host's wake-up latency in it; a tenant woken only at the completion (a pipe write) or
/// at its return time (a timer) comes back a wake-up latency of <em>this</em> host later still,
/// which on a loaded or virtualised host reaches 150-200 µs at the 99th percentile and would count
/// a second time. So the tenant sleeps until <see cref="LeadNs"/> before either and spins the
/// rest. The lead is the second-longest of its latest <see cref="Window"/> wake-ups (about their
/// 97th percentile) plus <see cref="MarginNs"/>, at most <see cref="MaxLeadNs"/>; none until
/// <see cref="MinSamples"/> were seen, and none for a second after a second in which spinning for
/// it took more than <see cref="MaxSpinShare"/> of the thread's time (a blocking tenant's CPU is
/// then mostly the model's, not its own). Explicit times, so tests drive it.
/// </summary>
public sealed class WakeLead
{
    /// <summary>Wake-ups the lead is taken over.</summary>
    public const int Window = 64;

    /// <summary>Wake-ups seen before any lead is asked.</summary>
    public const int MinSamples = 8;

    /// <summary>Added to the latency taken, ns (the spin's own start).</summary>
    public const long MarginNs = 2_000;

    /// <summary>The longest lead asked, ns.</summary>
    public const long MaxLeadNs = 300_000;

    /// <summary>The share of a second the thread may spin for its leads before it stops asking for one.</summary>
    public const double MaxSpinShare = 0.1;

    /// <summary>The span the spin share is judged over, ns.</summary>
    public const long BudgetNs = 1_000_000_000;

    private readonly long[] latencies = new long[Window];
    private int count;
    private long lead;
    private long budgetStart;
    private long spun;
    private bool allowed = true;

    /// <summary>A tenant that starts at <paramref name="nowNs"/> with no wake-ups seen.</summary>
    public WakeLead(long nowNs) => budgetStart = nowNs;

    /// <summary>Notes a wake-up that came <paramref name="latencyNs"/> after it was asked for (a pipe written or a timer due).</summary>
    public void Woke(long latencyNs)
    {
        latencies[count % Window] = Math.Max(0, latencyNs);
        count++;
        if (count < MinSamples)
        {
            return;
        }

        var n = Math.Min(count, Window);
        long first = 0, second = 0;
        for (var i = 0; i < n; i++)
        {
            var x = latencies[i];
            if (x > first)
            {
                second = first;
                first = x;
            }
            else if (x > second)
            {
                second = x;
            }
        }

        lead = Math.Min(MaxLeadNs, second + MarginNs);
    }

    /// <summary>Notes <paramref name="ns"/> spent spinning for a lead.</summary>
    public void Spun(long ns) => spun += Math.Max(0, ns);

    /// <summary>The lead to ask for at <paramref name="nowNs"/>, ns (0: be woken at the time itself).</summary>
    public long LeadNs(long nowNs)
    {
        if (nowNs - budgetStart >= BudgetNs)
        {
            allowed = spun <= MaxSpinShare * (nowNs - budgetStart);
            budgetStart = nowNs;
            spun = 0;
        }

        return allowed ? lead : 0;
    }
}
