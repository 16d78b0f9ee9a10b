namespace Contention.Client.Analysis;

/// <summary>One tenant in one run's measurement window, as the effects analysis reads it: axis values and metrics by name.</summary>
/// <param name="Run">The run id.</param>
/// <param name="Values">Axis to value.</param>
/// <param name="Tenant">The tenant.</param>
/// <param name="Metrics">Metric name to value (rates per second of the window, latencies in ms).</param>
public sealed record RunMetrics(string Run, IReadOnlyDictionary<string, string> Values, string Tenant, IReadOnlyDictionary<string, double> Metrics);

/// <summary>One metric of one tenant at one axis value, against the axis's baseline value (its first).</summary>
/// <param name="Axis">The axis.</param>
/// <param name="Value">The value.</param>
/// <param name="Baseline">The axis's first value.</param>
/// <param name="Tenant">The tenant.</param>
/// <param name="Metric">The metric.</param>
/// <param name="Runs">Runs at this value with the tenant.</param>
/// <param name="Mean">Mean over those runs (over every other axis's values too).</param>
/// <param name="Low">Bootstrap 95% interval of the mean.</param>
/// <param name="High">Bootstrap 95% interval of the mean.</param>
/// <param name="BaselineMean">The mean at the baseline.</param>
/// <param name="Difference">Mean minus baseline mean.</param>
/// <param name="DifferenceLow">Two-sample bootstrap 95% interval of the difference.</param>
/// <param name="DifferenceHigh">Two-sample bootstrap 95% interval of the difference.</param>
/// <param name="BaselineRuns">Runs at the baseline with the tenant.</param>
public sealed record Effect(string Axis, string Value, string Baseline, string Tenant, string Metric, int Runs, double Mean, double Low, double High, double BaselineMean, double Difference, double DifferenceLow, double DifferenceHigh, int BaselineRuns = 0)
{
    /// <summary>Mean over baseline mean; NaN when the baseline is 0.</summary>
    public double Ratio => BaselineMean == 0 ? double.NaN : Mean / BaselineMean;

    /// <summary>Enough runs at both values for the interval to be judged (<see cref="AxisEffects.MinimumRuns"/>).</summary>
    public bool Judged => Runs >= AxisEffects.MinimumRuns && BaselineRuns >= AxisEffects.MinimumRuns;

    /// <summary>Judged, and the interval of the difference excludes 0.</summary>
    public bool Clear => Judged && (DifferenceLow > 0 || DifferenceHigh < 0);
}
