using Contention.Workloads.Devices;
using Contention.Workloads.Sim;
using MathNet.Numerics.LinearAlgebra;

namespace Contention.Workloads.Tests;

/// <summary>The OS cost model's fit on synthetic windows whose coefficients are known.</summary>
public class OsCostModelTests
{
    // Per sync mode: a baseline per second, per operation, per launch, per wait, per second waiting, per second idle, per switch back in while waiting.
    private static readonly Dictionary<SyncMode, double[]> UserCpu = new()
    {
        [SyncMode.Spin] = [0.002, 0, 4e-6, 0, 0.98, 0.01, 0],
        [SyncMode.Block] = [0.001, 2e-5, 3e-6, 8e-6, 0, 0.003, 2e-6],
    };

    private static readonly double[] Voluntary = [5, 1, 0, 1.2, 0, 900, 0.95];

    private static IEnumerable<(SyncMode, OsFeatures, IReadOnlyDictionary<string, double>)> Windows(int count, double noise, int seed)
    {
        var random = new Random(seed);
        foreach (var sync in UserCpu.Keys)
        {
            for (var i = 0; i < count; i++)
            {
                var seconds = 2 + (8 * random.NextDouble());
                var operations = seconds * (5 + (500 * random.NextDouble()));
                var launches = operations * (1 + random.Next(160));
                var waits = operations * (0.5 + random.NextDouble());
                var idle = seconds * 0.6 * random.NextDouble();
                var wait = (seconds - idle) * random.NextDouble();
                var switchesIn = random.Next(3) == 0 ? 0 : seconds * 400 * random.NextDouble();
                var features = new OsFeatures(seconds, operations, launches, waits, wait, idle, switchesIn);
                double Of(double[] beta) => features.PerSecond().Zip(beta, (x, b) => x * b).Sum() * seconds * (1 + (noise * ((2 * random.NextDouble()) - 1)));
                yield return (sync, features, new Dictionary<string, double> { ["user_cpu_s"] = Of(UserCpu[sync]), ["voluntary_switches"] = Of(Voluntary), ["calls_ipc"] = 0 });
            }
        }
    }

    [Fact]
    public void Fit_ExactSyntheticWindows_RecoversTheCoefficientsPerSyncMode()
    {
        var model = OsCostModel.Fit("synthetic", Windows(40, 0, 1));

        foreach (var (sync, beta) in UserCpu)
        {
            var fit = model.Fits.Single(f => f.Sync == sync && f.Metric == "user_cpu_s");
            for (var k = 0; k < beta.Length; k++)
            {
                Assert.Equal(beta[k], fit.Coefficients[OsFeatures.Names[k]], 1e-9);
            }

            Assert.Equal(1, fit.R2, 9);
            Assert.Equal(40, fit.Rows);
        }

        Assert.DoesNotContain(model.Fits, f => f.Metric == "calls_ipc"); // 0 everywhere: nothing to fit
        Assert.False(model.Covers(SyncMode.Yield));
    }

    [Fact]
    public void Fit_NoisyWindows_CoefficientsNearAndErrorStated()
    {
        var model = OsCostModel.Fit("noisy", Windows(200, 0.05, 2));

        var fit = model.Fits.Single(f => f.Sync == SyncMode.Block && f.Metric == "voluntary_switches");
        Assert.InRange(fit.Coefficients["idle_share"], 900 * 0.95, 900 * 1.05);
        Assert.InRange(fit.Coefficients["waits"], 1.2 * 0.95, 1.2 * 1.05);
        Assert.InRange(fit.Coefficients["switches_in"], 0.95 * 0.95, 0.95 * 1.05);
        Assert.All(fit.Coefficients.Values, c => Assert.True(c >= 0));
        Assert.InRange(fit.MedianRelativeError, 0.005, 0.04); // ±5 % uniform noise: median 2.5 %
        var window = new OsFeatures(10, 1000, 5000, 1000, 3, 5);
        var expected = window.PerSecond().Zip(Voluntary, (x, b) => x * b).Sum() * 10;
        Assert.Equal(expected, model.Predict(SyncMode.Block, window)["voluntary_switches"], expected * 0.03);
    }

    [Fact]
    public void FitAndPredict_TurnsLostOnACore_AreInvoluntarySwitchesOnTopOfTheFit()
    {
        // Measured involuntary switches: 3 per operation, plus one per turn lost on a core (some
        // windows' threads outnumbered the cores). The fit takes the turns off and finds the 3;
        // the prediction adds a window's turns back.
        var random = new Random(3);
        var windows = Enumerable.Range(0, 30).Select(i =>
        {
            var seconds = 2 + (8 * random.NextDouble());
            var operations = seconds * (50 + (500 * random.NextDouble()));
            var turns = i % 3 == 0 ? seconds * 160 * random.NextDouble() : 0;
            var features = new OsFeatures(seconds, operations, operations * (1 + random.Next(8)), operations * random.NextDouble(), seconds * random.NextDouble() * 0.5, seconds * 0.2 * random.NextDouble(), seconds * 100 * random.NextDouble(), seconds * 300 * random.NextDouble(), turns);
            return (SyncMode.Spin, features, (IReadOnlyDictionary<string, double>)new Dictionary<string, double> { ["involuntary_switches"] = (3 * operations) + turns });
        }).ToList();

        var model = OsCostModel.Fit("turns", windows);
        var fit = model.Fits.Single(f => f.Metric == "involuntary_switches");
        Assert.Equal(3, fit.Coefficients["operations"], 1e-9);
        Assert.Equal(0, fit.Coefficients["per_second"], 1e-9);
        Assert.Equal(1, fit.R2, 9);

        var window = new OsFeatures(2, 1000, 4000, 1000, 0.5, 0.1, TurnsLost: 333);
        Assert.Equal((3 * 1000) + 333, model.Predict(SyncMode.Spin, window)["involuntary_switches"], 1e-6);
    }

    [Fact]
    public void FitAndPredict_ReplaysBusyHostTime_IsUserCpuOnTopOfTheFit()
    {
        // Measured user CPU: 20 us per launch, plus the busy host time of replay windows. The fit
        // takes the busy time off and finds the 20 us; the prediction adds a window's busy time back.
        var random = new Random(5);
        var windows = Enumerable.Range(0, 30).Select(i =>
        {
            var seconds = 2 + (8 * random.NextDouble());
            var launches = seconds * (1000 + (20_000 * random.NextDouble()));
            var busy = i % 2 == 0 ? seconds * random.NextDouble() * 0.6 : 0;
            var features = new OsFeatures(seconds, launches / 50, launches, launches / 100, seconds * random.NextDouble() * 0.3, seconds * 0.2 * random.NextDouble(), BusySeconds: busy);
            return (SyncMode.Spin, features, (IReadOnlyDictionary<string, double>)new Dictionary<string, double> { ["user_cpu_s"] = (20e-6 * launches) + busy });
        }).ToList();

        var model = OsCostModel.Fit("busy", windows);
        var fit = model.Fits.Single(f => f.Metric == "user_cpu_s");
        Assert.Equal(20e-6, fit.Coefficients["launches"], 1e-12);
        Assert.Equal(1, fit.R2, 9);

        var window = new OsFeatures(2, 100, 5000, 50, 0.5, 0.1, BusySeconds: 0.7);
        Assert.Equal((20e-6 * 5000) + 0.7, model.Predict(SyncMode.Spin, window)["user_cpu_s"], 1e-9);
    }

    [Fact]
    public void NonNegativeLeastSquares_UnconstrainedOptimumNegative_ClampsAndRefits()
    {
        // y = 2 x0 − 1 x1 exactly: the best non-negative fit leaves x1 out and fits y on x0 alone.
        var x = Matrix<double>.Build.DenseOfArray(new double[,] { { 1, 0 }, { 2, 1 }, { 3, 3 }, { 4, 2 } });
        var y = Vector<double>.Build.DenseOfArray([2, 3, 3, 6]);

        var beta = OsCostModel.NonNegativeLeastSquares(x, y);

        Assert.Equal(0, beta[1]);
        var onlyFirst = x.Column(0).DotProduct(y) / x.Column(0).DotProduct(x.Column(0));
        Assert.Equal(onlyFirst, beta[0], 12);
    }

    [Fact]
    public void Json_RoundTrip_PredictsTheSame()
    {
        var model = OsCostModel.Fit("synthetic", Windows(20, 0.01, 3));
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, model.ToJson());
            var loaded = OsCostModel.Load(path);
            var window = new OsFeatures(4, 100, 900, 120, 1.5, 0.5);
            Assert.Equal(model.Predict(SyncMode.Spin, window), loaded.Predict(SyncMode.Spin, window));
            Assert.Equal("synthetic", loaded.Source);
            Assert.Equal(model.Fits[0].FeatureMax, loaded.Fits[0].FeatureMax);
            var far = new OsFeatures(4, 100, 900_000, 120, 1.5, 0.5);
            Assert.Equal(model.Beyond(SyncMode.Spin, far), loaded.Beyond(SyncMode.Spin, far));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Predict_CpuOverTheWindow_IsHeldToOneCoreBothPartsAlike()
    {
        // 4 us of user and 1 us of system CPU per launch: 100,000 launches a second would be 0.5
        // CPU s/s (kept), 400,000 would be 2 s/s: held to 1, user and system in the same 4:1.
        var fits = new[]
        {
            new OsCostFit(SyncMode.Spin, "user_cpu_s", new Dictionary<string, double> { ["launches"] = 4e-6 }, 20, 1, 0),
            new OsCostFit(SyncMode.Spin, "system_cpu_s", new Dictionary<string, double> { ["launches"] = 1e-6 }, 20, 1, 0),
            new OsCostFit(SyncMode.Spin, "voluntary_switches", new Dictionary<string, double> { ["launches"] = 0.5 }, 20, 1, 0),
        };
        var model = new OsCostModel("by hand", fits);

        var within = model.Predict(SyncMode.Spin, new OsFeatures(2, 1000, 200_000, 0, 0, 0));
        Assert.Equal(0.8, within["user_cpu_s"], 9);
        Assert.Equal(0.2, within["system_cpu_s"], 9);

        var over = model.Predict(SyncMode.Spin, new OsFeatures(2, 1000, 800_000, 0, 0, 0));
        Assert.Equal(1.6, over["user_cpu_s"], 9);
        Assert.Equal(0.4, over["system_cpu_s"], 9);
        Assert.Equal(400_000, over["voluntary_switches"], 6); // switches are not CPU time: as fitted
        Assert.Empty(model.Beyond(SyncMode.Spin, new OsFeatures(2, 1000, 800_000, 0, 0, 0))); // fitted before ranges were kept
    }

    [Fact]
    public void Beyond_FeaturesAFitUsesPastTwiceItsRows_AreNamedWithTheirRange()
    {
        // Rows of 1-10 operations a second (user CPU 1 ms an operation) and 100-1,000 launches
        // a second that no metric depends on.
        var windows = Enumerable.Range(1, 10).Select(i =>
        {
            var features = new OsFeatures(1, i, 100 * (11 - i), 0, 0, 0.1 * (i % 3));
            return (SyncMode.Spin, features, (IReadOnlyDictionary<string, double>)new Dictionary<string, double> { ["user_cpu_s"] = 1e-3 * i });
        }).ToList();
        var model = OsCostModel.Fit("ranges", windows);
        var fit = model.Fits.Single();
        Assert.Equal(10, fit.FeatureMax!["operations"]);
        Assert.Equal(1000, fit.FeatureMax["launches"]);
        Assert.Equal(1e-3, fit.Coefficients["operations"], 9);
        Assert.Equal(0, fit.Coefficients["launches"], 9);

        Assert.Empty(model.Beyond(SyncMode.Spin, new OsFeatures(1, 20, 1000, 0, 0, 0))); // twice the largest: still the fit's
        Assert.Empty(model.Beyond(SyncMode.Spin, new OsFeatures(1, 5, 90_000, 0, 0, 0))); // far, but on a feature no fit uses
        var beyond = Assert.Single(model.Beyond(SyncMode.Spin, new OsFeatures(1, 92_000, 92_000, 0, 0, 0)));
        Assert.Equal(("operations", 92_000.0, 10.0), beyond);
        Assert.Empty(model.Beyond(SyncMode.Block, new OsFeatures(1, 92_000, 92_000, 0, 0, 0))); // no fit for block
        Assert.Equal(1, model.Predict(SyncMode.Spin, new OsFeatures(1, 92_000, 92_000, 0, 0, 0))["user_cpu_s"], 9); // 92 s/s, held to the window
    }
}
