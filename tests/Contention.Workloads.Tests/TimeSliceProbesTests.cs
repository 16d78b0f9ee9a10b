using Contention.Workloads.Benchmarks;
using Contention.Workloads.Sim;

namespace Contention.Workloads.Tests;

/// <summary>The fit of time-slicing from the probes of <c>bench calibrate --time-slicing</c>.</summary>
public class TimeSliceProbesTests
{
    [Fact]
    public void Fit_TheH200ProbesNumbers_GiveTheSliceAndSwitchCostsDerivedByHand()
    {
        // docs/results/h200/probes: 9.4 us alone, 274.8 beside one light context, 2,418.7 beside
        // the spinner, which kept 85.3 % of its rate; derived there: 128 us, 2.064 ms, 218 us.
        var probes = new TimeSliceProbes(9_400, 274_800, 2_418_700, 110.7 / 129.7);

        Assert.Null(probes.Problem);
        Assert.Equal(128_000, probes.IdleSwitchNs, 1);
        Assert.InRange(probes.SliceNs, 2_060_000, 2_068_000);
        Assert.InRange(probes.SwitchNs, 214_000, 222_000);
        var profile = probes.ApplyTo(DeviceProfile.Load("h200"), "NVIDIA H200");
        Assert.Equal(128_000, profile.IdleSwitchNs);
        Assert.Equal((long)Math.Round(probes.SliceNs), profile.TimesliceNs);
        Assert.Equal((long)Math.Round(probes.SwitchNs), profile.ContextSwitchNs);
        Assert.Contains("time-slicing measured by 'contention bench calibrate --time-slicing'", profile.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void Fit_ProbesRunOnTheTimeSlicedModel_RecoversItsSliceAndSwitchCosts()
    {
        const long Slice = 2_000_000, Switch = 200_000, Idle = 120_000;
        var probe = new Role(2_000, 7_400);
        var spinner = new Role(390_000, 2_000, 20);

        var alone = Median(Simulate(Slice, Switch, Idle, probe)[0]);
        var two = Simulate(Slice, Switch, Idle, probe, probe).Average(Median);
        var spinnerAlone = Simulate(Slice, Switch, Idle, spinner)[0].Count;
        var beside = Simulate(Slice, Switch, Idle, probe, spinner);
        var fit = new TimeSliceProbes(alone, two, Median(beside[0]), beside[1].Count / (double)spinnerAlone);

        Assert.Null(fit.Problem);
        Assert.InRange(fit.SliceNs, 0.95 * Slice, 1.05 * Slice);
        Assert.InRange(fit.SwitchNs, 0.9 * Switch, 1.1 * Switch);
        Assert.InRange(fit.IdleSwitchNs, 0.9 * Idle, 1.1 * Idle);
    }

    [Theory]
    [InlineData(9_400, 18_800, 2_418_700, 0.85)] // two probes do not wait for each other: MPS
    [InlineData(9_400, 274_800, 2_418_700, 1.0)] // the spinner lost nothing beside the probe
    public void Fit_NumbersWithoutTimeSlicing_SayWhatIsWrong(double alone, double two, double beside, double share)
    {
        var probes = new TimeSliceProbes(alone, two, beside, share);

        Assert.Contains("no time-slicing", probes.Problem, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => probes.ApplyTo(DeviceProfile.Load("h200"), "GPU"));
    }

    /// <summary>A closed-loop process: <paramref name="Kernels"/> kernels of <paramref name="KernelNs"/>, then <paramref name="HostNs"/> on the host before the next launch.</summary>
    private sealed record Role(long KernelNs, long HostNs, int Kernels = 1);

    /// <summary>Each role's operation times (launch to the host's next launch) over 400 ms of the time-sliced model.</summary>
    private static List<long>[] Simulate(long slice, long switchNs, long idle, params Role[] roles)
    {
        var gpu = new TimeSliceScheduler(roles.Length, slice, switchNs, 0, idle);
        var next = new long[roles.Length];
        var started = new long[roles.Length];
        var target = new long[roles.Length];
        var inFlight = new bool[roles.Length];
        var times = roles.Select(_ => new List<long>()).ToArray();
        var now = 0L;
        while (now < 400_000_000)
        {
            for (var c = 0; c < roles.Length; c++)
            {
                if (!inFlight[c] && next[c] <= now)
                {
                    for (var k = 0; k < roles[c].Kernels; k++)
                    {
                        gpu.Enqueue(c, roles[c].KernelNs);
                    }

                    started[c] = next[c];
                    target[c] = gpu.Completed(c) + roles[c].Kernels;
                    inFlight[c] = true;
                }
            }

            var upcoming = gpu.NextEventNs();
            for (var c = 0; c < roles.Length; c++)
            {
                if (!inFlight[c])
                {
                    upcoming = Math.Min(upcoming, next[c]);
                }
            }

            gpu.AdvanceTo(upcoming);
            now = upcoming;
            for (var c = 0; c < roles.Length; c++)
            {
                if (inFlight[c] && gpu.Completed(c) >= target[c])
                {
                    inFlight[c] = false;
                    next[c] = gpu.LastCompletionNs(c) + roles[c].HostNs;
                    times[c].Add(next[c] - started[c]);
                }
            }
        }

        return times;
    }

    private static double Median(List<long> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
