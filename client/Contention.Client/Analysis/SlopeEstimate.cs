namespace Contention.Client.Analysis;

/// <summary>A log-log slope with its bootstrap 95% interval and what it says.</summary>
/// <param name="Estimate">The slope: d log(calls) / d log(axis), other axes held (log(calls + 1) where some phases made none).</param>
/// <param name="Low">2.5th percentile over resamples.</param>
/// <param name="High">97.5th percentile over resamples.</param>
/// <param name="Verdict">invariant, scales with AXIS, falls with AXIS, inconclusive, or not varied.</param>
public sealed record SlopeEstimate(double Estimate, double Low, double High, string Verdict)
{
    /// <summary>|slope| below which a count is called invariant (the whole interval must lie within ±this).</summary>
    public const double Threshold = 0.1;

    /// <summary>The axis did not vary in the data: no slope.</summary>
    public static SlopeEstimate NotVaried { get; } = new(double.NaN, double.NaN, double.NaN, "not varied");

    /// <summary>The verdict for an interval along <paramref name="axis"/>.</summary>
    public static string Judge(double low, double high, double estimate, string axis)
    {
        if (double.IsNaN(low) || double.IsNaN(high))
        {
            return "not varied";
        }

        if (low > -Threshold && high < Threshold)
        {
            return "invariant";
        }

        if (low > 0 && estimate >= Threshold)
        {
            return $"scales with {axis}";
        }

        if (high < 0 && estimate <= -Threshold)
        {
            return $"falls with {axis}";
        }

        return "inconclusive";
    }
}
