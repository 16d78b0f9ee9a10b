using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Contention.Workloads.Devices;
using MathNet.Numerics.LinearAlgebra;

namespace Contention.Workloads.Sim;

/// <summary>
/// What a tenant's thread did on the host in a window, as the virtual-time GPU counts it
/// (<see cref="VirtualGpu"/>): the quantities the OS side is modelled from.
/// </summary>
/// <param name="Seconds">The window, seconds.</param>
/// <param name="Operations">Operations completed (steps, requests).</param>
/// <param name="Launches">Kernels and copies launched.</param>
/// <param name="Waits">Synchronises that waited for the GPU (a kernel still running when called).</param>
/// <param name="WaitSeconds">Time in those waits, seconds.</param>
/// <param name="IdleSeconds">Time an open-loop tenant waited for its next request, seconds.</param>
/// <param name="SwitchesIn">
/// Time-slice switches that gave the GPU back to the tenant's context while its thread waited (a
/// co-runner ran in between): on the H200 a blocking trainer beside a 200-request/s service
/// switches 256 times a second against 67 alone, about once more per request the service slips in.
/// </param>
/// <param name="OthersWaits">
/// Waits of the other tenants on the same GPU: on the H200 every blocking tenant's process
/// switches about once more per synchronise any co-runner waits out (a light service alone 741 times
/// a second, one of thirty at a quarter of its rate ~1,500), as if each completion woke every process.
/// </param>
/// <param name="TurnsLost">
/// Turns on a host core the tenant's thread lost while threads wanting a core outnumbered the
/// cores (<see cref="VirtualCores"/>): each is an involuntary switch by definition, so it is no
/// fitted feature: <see cref="OsCostModel.Predict"/> adds it to the fitted involuntary switches,
/// and a fit takes it off the measured ones first.
/// </param>
/// <param name="BusySeconds">
/// Host time a replay's thread spent busy as the recorded job's host was (its Python and framework
/// time): CPU time by definition, so no fitted feature either: <see cref="OsCostModel.Predict"/>
/// adds it to the fitted user CPU seconds, and a fit takes it off the measured ones first.
/// </param>
public sealed record OsFeatures(double Seconds, double Operations, double Launches, double Waits, double WaitSeconds, double IdleSeconds, double SwitchesIn = 0, double OthersWaits = 0, double TurnsLost = 0, double BusySeconds = 0)
{
    /// <summary>The model's features, per second of the window: 1 (a baseline per second), operations, launches and waits per second, the shares of time waiting for the GPU and idle, switches back in while waiting, and the co-runners' waits per second.</summary>
    public static IReadOnlyList<string> Names { get; } = ["per_second", "operations", "launches", "waits", "wait_share", "idle_share", "switches_in", "others_waits"];

    /// <summary>This window's features per second, in the order of <see cref="Names"/>.</summary>
    public double[] PerSecond() => Seconds <= 0 ? new double[Names.Count]
        : [1, Operations / Seconds, Launches / Seconds, Waits / Seconds, WaitSeconds / Seconds, IdleSeconds / Seconds, SwitchesIn / Seconds, OthersWaits / Seconds];
}

/// <summary>One fitted metric of one sync mode: its rate per second as a non-negative combination of the features.</summary>
/// <param name="Sync">The sync mode whose runs it was fitted on.</param>
/// <param name="Metric">The metric (<see cref="OsCostModel.Metrics"/>, or <c>calls_CATEGORY</c>).</param>
/// <param name="Coefficients">Per feature (<see cref="OsFeatures.Names"/>), the metric per unit of it.</param>
/// <param name="Rows">Measured windows it was fitted on.</param>
/// <param name="R2">Share of the rows' variance (of the per-second rate) it explains.</param>
/// <param name="MedianRelativeError">Median over the rows of |predicted − measured| / measured (rows measuring 0 left out).</param>
/// <param name="FeatureMax">Per feature, the largest per-second value among the rows (null in a model fitted before 2026-12-02): the range the fit has seen.</param>
public sealed record OsCostFit(SyncMode Sync, string Metric, IReadOnlyDictionary<string, double> Coefficients, int Rows, double R2, double MedianRelativeError, IReadOnlyDictionary<string, double>? FeatureMax = null)
{
    /// <summary>The metric over a window of <paramref name="features"/>.</summary>
    public double Predict(OsFeatures features)
    {
        ArgumentNullException.ThrowIfNull(features);
        var x = features.PerSecond();
        var rate = 0.0;
        for (var k = 0; k < x.Length; k++)
        {
            rate += Coefficients.GetValueOrDefault(OsFeatures.Names[k]) * x[k];
        }

        return rate * features.Seconds;
    }
}

/// <summary>
/// The OS side of tenants, modelled: per sync mode and metric (CPU user and system seconds,
/// voluntary and involuntary switches, system calls by category), a linear model of the
/// features a virtual-time tenant has (<see cref="OsFeatures"/>), fitted by non-negative least
/// squares on the per-second rates of measured windows (the tool's own real runs: their
/// tenants' measured phase, their features from simulating the same mix). Each fit states its
/// error on the rows it came from.
/// </summary>
/// <param name="Source">Where it was fitted from (runs, machine).</param>
/// <param name="Fits">The fits.</param>
public sealed record OsCostModel(string Source, IReadOnlyList<OsCostFit> Fits)
{
    /// <summary>The metrics besides system calls by category.</summary>
    public static IReadOnlyList<string> Metrics { get; } = ["user_cpu_s", "system_cpu_s", "voluntary_switches", "involuntary_switches"];

    /// <summary>Fewest rows a fit takes: one more than the features.</summary>
    public static int MinRows => OsFeatures.Names.Count + 1;

    /// <summary>Whether <paramref name="sync"/> has fits.</summary>
    public bool Covers(SyncMode sync) => Fits.Any(f => f.Sync == sync);

    /// <summary>Every metric fitted for <paramref name="sync"/>, over a window of <paramref name="features"/>; empty when the sync mode was not fitted.</summary>
    /// <remarks>
    /// Involuntary switches are the fit's plus one for every turn on a core the thread lost
    /// (<see cref="OsFeatures.TurnsLost"/>); user CPU seconds the fit's plus a replay's busy host
    /// time (<see cref="OsFeatures.BusySeconds"/>). A tenant's thread is on a core at most the
    /// whole window: user and system CPU seconds together are held to the window's seconds,
    /// both scaled alike (a linear fit taken far beyond its rows can say more: fitted on services
    /// of up to 1,000 requests/s, it gave a closed-loop probe of 92,000 operations/s 17 CPU
    /// seconds a second; <see cref="Beyond"/> says where that happens).
    /// </remarks>
    public IReadOnlyDictionary<string, double> Predict(SyncMode sync, OsFeatures features)
    {
        ArgumentNullException.ThrowIfNull(features);
        var predicted = Fits.Where(f => f.Sync == sync).ToDictionary(f => f.Metric, f => f.Predict(features) + Definite(f.Metric, features), StringComparer.Ordinal);
        var cpu = predicted.GetValueOrDefault(UserCpu) + predicted.GetValueOrDefault(SystemCpu);
        if (cpu > features.Seconds && features.Seconds > 0)
        {
            var scale = features.Seconds / cpu;
            foreach (var metric in new[] { UserCpu, SystemCpu }.Where(predicted.ContainsKey))
            {
                predicted[metric] *= scale;
            }
        }

        return predicted;
    }

    /// <summary>How far past the rows a fit may go before a prediction is read as extrapolated: this many times a feature's largest fitted value.</summary>
    public const double BeyondFactor = 2;

    /// <summary>
    /// The features of <paramref name="features"/> (per second) that the fits of
    /// <paramref name="sync"/> use (a coefficient that adds to what they predict) at more than <see cref="BeyondFactor"/>
    /// times the largest value among their rows: where the prediction is an extrapolation of a
    /// linear fit, not a fit. Empty when none is, or the fits do not keep their range.
    /// </summary>
    public IReadOnlyList<(string Feature, double PerSecond, double FittedMax)> Beyond(SyncMode sync, OsFeatures features)
    {
        ArgumentNullException.ThrowIfNull(features);
        var x = features.PerSecond();
        var beyond = new List<(string, double, double)>();
        for (var k = 1; k < x.Length; k++)
        {
            var name = OsFeatures.Names[k];
            var used = Fits.Where(f => f.Sync == sync && f.FeatureMax is not null && Uses(f, name)).ToList();
            if (used.Count > 0)
            {
                var max = used.Min(f => f.FeatureMax!.GetValueOrDefault(name));
                if (x[k] > BeyondFactor * max && x[k] > 0)
                {
                    beyond.Add((name, x[k], max));
                }
            }
        }

        return beyond;
    }

    // Whether a fit's feature adds more than rounding to what it predicts over its rows (a
    // least-squares solve can leave 1e-20 where the feature does nothing).
    private static bool Uses(OsCostFit fit, string feature)
    {
        double Contribution(string name) => fit.Coefficients.GetValueOrDefault(name) * fit.FeatureMax!.GetValueOrDefault(name);
        return Contribution(feature) > 1e-6 * OsFeatures.Names.Sum(Contribution);
    }

    private const string Involuntary = "involuntary_switches";
    private const string UserCpu = "user_cpu_s";
    private const string SystemCpu = "system_cpu_s";

    // What a metric has by definition, beside the fit: a lost turn is an involuntary switch, busy host time is user CPU.
    private static double Definite(string metric, OsFeatures features) => metric switch
    {
        Involuntary => features.TurnsLost,
        UserCpu => features.BusySeconds,
        _ => 0,
    };

    /// <summary>
    /// Fits every metric of every sync mode on the windows that measured it, when there are at
    /// least <see cref="MinRows"/>; a metric that is 0 in every such window is left out (nothing
    /// to model).
    /// </summary>
    public static OsCostModel Fit(string source, IEnumerable<(SyncMode Sync, OsFeatures Features, IReadOnlyDictionary<string, double> Measured)> windows)
    {
        ArgumentNullException.ThrowIfNull(windows);
        var fits = new List<OsCostFit>();
        foreach (var mode in windows.Where(w => w.Features.Seconds > 0).GroupBy(w => w.Sync).OrderBy(g => g.Key))
        {
            var rows = mode.ToList();
            if (rows.Count < MinRows)
            {
                continue;
            }

            foreach (var metric in rows.SelectMany(r => r.Measured.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                // Only the windows that measured the metric (system calls need the eBPF tracer).
                var measured = rows.Where(r => r.Measured.ContainsKey(metric)).ToList();
                // What a metric has by definition (lost turns, busy host time; Predict adds them): the fit models the rest.
                var y = Vector<double>.Build.DenseOfEnumerable(measured.Select(r => Math.Max(0, r.Measured[metric] - Definite(metric, r.Features)) / r.Features.Seconds));
                if (measured.Count < MinRows || y.All(v => v == 0))
                {
                    continue;
                }

                var x = Matrix<double>.Build.DenseOfRowArrays(measured.Select(r => r.Features.PerSecond()));
                var beta = NonNegativeLeastSquares(x, y);
                var predicted = x * beta;
                var mean = y.Average();
                var total = y.Sum(v => (v - mean) * (v - mean));
                var residual = (y - predicted).Sum(v => v * v);
                var relative = Enumerable.Range(0, y.Count).Where(i => y[i] != 0).Select(i => Math.Abs(predicted[i] - y[i]) / Math.Abs(y[i])).Order().ToArray();
                fits.Add(new OsCostFit(
                    mode.Key,
                    metric,
                    OsFeatures.Names.Select((n, k) => (n, k)).ToDictionary(p => p.n, p => beta[p.k], StringComparer.Ordinal),
                    measured.Count,
                    total > 0 ? 1 - (residual / total) : 1,
                    relative.Length == 0 ? 0 : (relative[(relative.Length - 1) / 2] + relative[relative.Length / 2]) / 2,
                    OsFeatures.Names.Select((n, k) => (n, k)).ToDictionary(p => p.n, p => x.Column(p.k).Maximum(), StringComparer.Ordinal)));
            }
        }

        return new OsCostModel(source, fits);
    }

    /// <summary>
    /// min ‖Xβ − y‖ subject to β ≥ 0: Lawson and Hanson's active set, each subproblem solved by
    /// QR on the free columns. A cost cannot be negative: a feature that would take one is left out.
    /// </summary>
    public static Vector<double> NonNegativeLeastSquares(Matrix<double> x, Vector<double> y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        var n = x.ColumnCount;
        var beta = Vector<double>.Build.Dense(n);
        var free = new bool[n];
        var tolerance = 1e-10 * Math.Max(1, y.L2Norm()) * Math.Max(1, x.FrobeniusNorm());
        for (var outer = 0; outer < 3 * n; outer++)
        {
            var gradient = x.TransposeThisAndMultiply(y - (x * beta));
            var best = -1;
            for (var j = 0; j < n; j++)
            {
                if (!free[j] && gradient[j] > tolerance && (best < 0 || gradient[j] > gradient[best]))
                {
                    best = j;
                }
            }

            if (best < 0)
            {
                break;
            }

            free[best] = true;
            while (true)
            {
                var columns = Enumerable.Range(0, n).Where(j => free[j]).ToArray();
                var solved = Solve(x, y, columns);
                var candidate = Vector<double>.Build.Dense(n);
                for (var c = 0; c < columns.Length; c++)
                {
                    candidate[columns[c]] = solved[c];
                }

                if (columns.All(j => candidate[j] > 0))
                {
                    beta = candidate;
                    break;
                }

                // Step towards the candidate until the first free coefficient reaches 0; it leaves.
                var alpha = columns.Where(j => candidate[j] <= 0).Min(j => beta[j] / (beta[j] - candidate[j]));
                beta += alpha * (candidate - beta);
                foreach (var j in columns.Where(j => beta[j] <= 1e-15))
                {
                    free[j] = false;
                    beta[j] = 0;
                }
            }
        }

        return beta;
    }

    private static Vector<double> Solve(Matrix<double> x, Vector<double> y, int[] columns)
    {
        var sub = Matrix<double>.Build.DenseOfColumnVectors(columns.Select(x.Column));
        // Least squares by QR; a column that repeats another (a rank-deficient subproblem) falls
        // back to the pseudo-inverse's minimum-norm solution.
        var qr = sub.QR();
        return qr.IsFullRank ? qr.Solve(y) : sub.PseudoInverse() * y;
    }

    /// <summary>The model shipped for device profile <paramref name="profile"/> (fitted from the tool's runs on that GPU), or null when none is.</summary>
    public static OsCostModel? Shipped(string profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        using var stream = typeof(OsCostModel).Assembly.GetManifestResourceStream($"Contention.OsModels.{profile.ToLowerInvariant()}.json");
        return stream is null ? null : JsonSerializer.Deserialize(stream, OsCostModelJson.Default.OsCostModel);
    }

    /// <summary>Loads a model written by <see cref="ToJson"/>.</summary>
    /// <exception cref="ArgumentException">Not a readable model.</exception>
    public static OsCostModel Load(string path)
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(path), OsCostModelJson.Default.OsCostModel)
                ?? throw new ArgumentException($"OS model {path} is empty", nameof(path));
        }
        catch (Exception ex) when (ex is JsonException or IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"OS model {path}: {ex.Message}", nameof(path), ex);
        }
    }

    /// <summary>The model as JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, OsCostModelJson.Default.OsCostModel);

    /// <summary>The fits as a Markdown table.</summary>
    public string Markdown()
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"| sync | metric | rows | R² | median error | {string.Join(" | ", OsFeatures.Names)} |");
        text.AppendLine(CultureInfo.InvariantCulture, $"|---|---|---:|---:|---:|{string.Concat(OsFeatures.Names.Select(_ => "---:|"))}");
        foreach (var f in Fits)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {f.Sync.ToString().ToLowerInvariant()} | {f.Metric} | {f.Rows} | {f.R2:0.000} | {f.MedianRelativeError:0.0%} | {string.Join(" | ", OsFeatures.Names.Select(n => f.Coefficients.GetValueOrDefault(n).ToString("G4", CultureInfo.InvariantCulture)))} |");
        }

        var ranged = Fits.Where(f => f.FeatureMax is not null).ToList();
        if (ranged.Count > 0)
        {
            // The range each fit has seen: a prediction past twice it is an extrapolation (Beyond).
            text.AppendLine().AppendLine("Largest value of each feature (per second) among each fit's rows:").AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture, $"| sync | metric | {string.Join(" | ", OsFeatures.Names.Skip(1))} |");
            text.AppendLine(CultureInfo.InvariantCulture, $"|---|---|{string.Concat(OsFeatures.Names.Skip(1).Select(_ => "---:|"))}");
            foreach (var f in ranged)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"| {f.Sync.ToString().ToLowerInvariant()} | {f.Metric} | {string.Join(" | ", OsFeatures.Names.Skip(1).Select(n => f.FeatureMax!.GetValueOrDefault(n).ToString("G4", CultureInfo.InvariantCulture)))} |");
            }
        }

        return text.ToString();
    }
}

/// <summary>Source-generated JSON for OS models (a trimmed build reads them).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, PropertyNameCaseInsensitive = true, UseStringEnumConverter = true)]
[JsonSerializable(typeof(OsCostModel))]
public sealed partial class OsCostModelJson : JsonSerializerContext;
