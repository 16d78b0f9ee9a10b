using Contention.Client.Analysis;

namespace Contention.Client.Tests;

/// <summary>The Phase-1 analysis on synthetic grids whose answers are known.</summary>
public class Phase1AnalysisTests
{
    private static readonly long[] Bytes = [4096, 65536, 1 << 20, 16 << 20, 256 << 20];
    private static readonly int[] Iterations = [10, 100, 1000, 10000];

    [Fact]
    public void Analyze_CountsProportionalToBytes_SlopeIntervalContainsOne()
    {
        var result = Phase1Analysis.Analyze(Grid("cpu", (bytes, _, noise) => 50.0 * bytes / 4096 * noise));

        var row = result.Invariance.Single(i => i.Exec == "cpu" && i.Category == "memory");
        Assert.InRange(1.0, row.Bytes.Low, row.Bytes.High);
        Assert.Equal("scales with bytes", row.Bytes.Verdict);
        Assert.Equal("invariant", row.Iterations.Verdict);
    }

    [Fact]
    public void Analyze_ConstantCounts_Invariant()
    {
        var result = Phase1Analysis.Analyze(Grid("cuda", (_, _, _) => 12));

        var row = result.Invariance.Single(i => i.Exec == "cuda" && i.Category == "memory");
        Assert.Equal(("invariant", "invariant"), (row.Bytes.Verdict, row.Iterations.Verdict));
        Assert.Equal(0, row.Bytes.Estimate, 9);
        Assert.Contains("invariant in bytes", result.Findings, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_CountsProportionalToIterations_ScaleWithIterationsOnly()
    {
        var result = Phase1Analysis.Analyze(Grid("cuda", (_, iterations, noise) => 2.0 * iterations * noise));

        var row = result.Invariance.Single(i => i.Exec == "cuda" && i.Category == "memory");
        Assert.InRange(1.0, row.Iterations.Low, row.Iterations.High);
        Assert.Equal(("invariant", "scales with iterations"), (row.Bytes.Verdict, row.Iterations.Verdict));
        Assert.Contains("memory (slope 1.00 in iterations)", result.Findings, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_TwoExecutionModels_DifferenceIntervalHoldsTheTrueGap()
    {
        var phases = Grid("cpu", (_, _, noise) => 20 * noise).Concat(Grid("cuda", (_, _, noise) => 23 * noise)).ToList();

        var result = Phase1Analysis.Analyze(phases);

        Assert.Equal(["cpu", "cuda"], result.Execs);
        var memory = result.Divergence.Single(d => d.Category == "memory" && d.Exec == "cuda");
        Assert.InRange(3.0, memory.Low, memory.High);
        Assert.True(memory.Low > 0, $"the interval [{memory.Low}, {memory.High}] does not exclude no difference");
        var startup = result.StartupOs.Single(s => s.Exec == "cuda");
        Assert.Equal((3, 1000.0), (startup.Runs, startup.Calls));
    }

    [Fact]
    public void Analyze_NoSteadyPhases_SaysWhatItNeeds()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Phase1Analysis.Analyze([new PhaseObservation { Run = "r", Exec = "cpu", Phase = "init" }]));

        Assert.Contains("mixes/phase1.yaml", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Three runs of a full grid on <paramref name="exec"/>: memory calls from <paramref name="count"/> (bytes, iterations, noise in 0.9-1.1), one start-up phase each with 1,000 calls.</summary>
    private static List<PhaseObservation> Grid(string exec, Func<long, int, double, double> count)
    {
        var random = new Random(7);
        var phases = new List<PhaseObservation>();
        for (var run = 0; run < 3; run++)
        {
            var id = $"{exec}-r{run}";
            phases.Add(new PhaseObservation { Run = id, Exec = exec, Phase = "init", Calls = new Dictionary<string, long> { ["memory"] = 400, ["file-io"] = 600 } });
            foreach (var op in new[] { "copy", "gemm" })
            {
                foreach (var bytes in Bytes)
                {
                    foreach (var iterations in Iterations)
                    {
                        var calls = (long)Math.Round(count(bytes, iterations, 0.9 + (0.2 * random.NextDouble())));
                        phases.Add(new PhaseObservation { Run = id, Exec = exec, Phase = "steady", Op = op, Bytes = bytes, Iterations = iterations, IterationsRun = iterations, Calls = new Dictionary<string, long> { ["memory"] = calls } });
                    }
                }
            }
        }

        return phases;
    }
}
