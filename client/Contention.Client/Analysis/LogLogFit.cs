using MathNet.Numerics.LinearRegression;

namespace Contention.Client.Analysis;

/// <summary>
/// Least squares of log(calls) on log(bytes) and log(launches made), with one intercept per
/// operation: each slope is the change along its axis with the other axis and the operation
/// held. Where some phases made no call of the category, log(calls + 1) keeps them in the fit
/// (a count that stays at zero has slope 0; small counts' slopes lean towards 0 by the offset).
/// </summary>
public static class LogLogFit
{
    /// <summary>The offset the fit of <paramref name="category"/> in <paramref name="phases"/> needs: 1 when some made no such call, else 0.</summary>
    public static double OffsetFor(IEnumerable<PhaseObservation> phases, string? category) => phases.Any(p => p.CallsIn(category) == 0) ? 1 : 0;

    /// <summary>
    /// The bytes and iterations slopes of <paramref name="rows"/> (indices into <paramref name="all"/>);
    /// NaN for an axis with a single value.
    /// </summary>
    public static (double Bytes, double Iterations) Slopes(IReadOnlyList<PhaseObservation> all, IReadOnlyList<int> rows, string? category, double offset)
    {
        ArgumentNullException.ThrowIfNull(all);
        ArgumentNullException.ThrowIfNull(rows);
        var ops = rows.Select(i => all[i].Op).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var bytesVaried = rows.Select(i => all[i].Bytes).Distinct().Skip(1).Any();
        var iterationsVaried = rows.Select(i => all[i].IterationsRun).Distinct().Skip(1).Any();
        if (!bytesVaried && !iterationsVaried)
        {
            return (double.NaN, double.NaN);
        }

        var x = new double[rows.Count][];
        var y = new double[rows.Count];
        for (var r = 0; r < rows.Count; r++)
        {
            var o = all[rows[r]];
            var features = new List<double>();
            if (bytesVaried)
            {
                features.Add(Math.Log(o.Bytes));
            }

            if (iterationsVaried)
            {
                features.Add(Math.Log(Math.Max(1, o.IterationsRun)));
            }

            // One intercept per operation: the first operation's is the constant term.
            features.AddRange(ops.Skip(1).Select(op => op == o.Op ? 1.0 : 0.0));
            x[r] = [.. features];
            y[r] = Math.Log(o.CallsIn(category) + offset);
        }

        double[] beta;
        try
        {
            beta = MultipleRegression.QR(x, y, intercept: true);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            // Rank-deficient resample (every row from one point): no slope from it.
            return (double.NaN, double.NaN);
        }

        if (beta.Any(b => !double.IsFinite(b)))
        {
            return (double.NaN, double.NaN);
        }

        var next = 1;
        var bytes = bytesVaried ? beta[next++] : double.NaN;
        var iterations = iterationsVaried ? beta[next] : double.NaN;
        return (bytes, iterations);
    }
}
