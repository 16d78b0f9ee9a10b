using Contention.Workloads.Sim;

namespace Contention.Workloads.Tests;

/// <summary>The modelled GPU's cold starts: the curve, the tracker and both sharing policies on explicit time (ns).</summary>
public class ColdStartTests
{
    private const long MiB = 1 << 20;

    // Two points: 100 ns after 64 MiB, 300 ns after 256 MiB (two doublings on).
    private static readonly MeasuredColdStart[] Curve = [new(64 * MiB, 100), new(256 * MiB, 300)];

    // 1 byte a ns: a kernel of bandwidth share 1 moves its duration in bytes.
    private static ColdStart Tracker(int contexts = 3) => new(Curve, contexts, bytesPerNs: 1);

    [Theory]
    [InlineData(0, 0)]
    [InlineData(32 * MiB, 0)] // half the first point's bytes: nothing yet
    [InlineData(47_453_133, 50)] // 32 MiB x sqrt 2: half way in the logarithm to the first point
    [InlineData(64 * MiB, 100)]
    [InlineData(128 * MiB, 200)] // one doubling of two: half way between the points
    [InlineData(256 * MiB, 300)]
    [InlineData(4096 * MiB, 300)] // past the last point: its extra
    public void ExtraNs_TheCurve_LinearInTheBytesLogarithm(long bytes, long expected) =>
        Assert.Equal(expected, Tracker().ExtraNs(bytes));

    [Fact]
    public void Start_AfterOthersBytes_TheFirstKernelOfABusyPeriodPaysTheCurve_TheRestNothing()
    {
        var cold = Tracker();
        Assert.Equal(0, cold.Start(0, 4 * MiB)); // nothing went before
        cold.Idle(0);
        Assert.Equal(0, cold.Start(1, 256 * MiB)); // 4 MiB of another's against its own 256: nothing more
        Assert.Equal(0, cold.Start(1, 256 * MiB));
        cold.Idle(1);

        // Context 0's kernel's own 4 MiB age its cache as others' bytes do:
        // curve(512 + 4 MiB) - curve(4 MiB) = 300 - 0.
        Assert.Equal(300, cold.Start(0, 4 * MiB));
        Assert.Equal(0, cold.Start(0, 4 * MiB)); // back to back: nothing between

        // Context 1's 256 MiB kernel is its own footprint past the curve's last point: nothing.
        // Within a busy period others' bytes add nothing (the MPS terms hold that).
        Assert.Equal(0, cold.Start(1, 256 * MiB));
        Assert.Equal(0, cold.Start(0, 4 * MiB));
    }

    [Fact]
    public void Start_AKernelThatItselfOverflowsTheCache_PaysOnlyWhatOthersAddToIt_ASmallOneTheCurve()
    {
        // After 128 MiB of another context's: a kernel of 128 MiB, which costs curve(128 MiB) =
        // 200 ns on its own, pays what the other's bytes add, curve(256 MiB) - 200 = 100; a 4 MiB
        // kernel of the same context pays curve(132 MiB) whole, whatever its last busy period
        // moved (on the H200 ResNet-50's batch-1 request, 350 MiB in all, pays what the MLP's
        // 16 MiB does: its first kernels are small).
        var cold = Tracker();
        cold.Start(0, 256 * MiB);
        cold.Idle(0);
        cold.Start(1, 128 * MiB);
        cold.Idle(1);
        Assert.Equal(100, cold.Start(0, 128 * MiB));
        cold.Idle(0);
        cold.Start(1, 128 * MiB);
        Assert.Equal(cold.ExtraNs(132 * MiB), cold.Start(0, 4 * MiB));
        Assert.Equal(204, cold.ExtraNs(132 * MiB)); // log2(132 / 64) / 2 of the way from 100 to 300
    }

    [Fact]
    public void Start_APartOfASlicedKernel_HasTheWholeKernelsFootprint()
    {
        // A 256 MiB kernel cut in eight parts of 32 MiB, the queue running dry after each (an
        // arbiter lets one go at a time), 64 MiB of another context's between them. Its footprint
        // is the whole kernel's 256 MiB, so the curve is flat there: nothing, where one part's
        // 32 MiB alone would make it pay curve(96 MiB) - curve(32 MiB).
        var whole = new SimKernel(256 * MiB, SmShare: 1, BandwidthShare: 1, WaveNs: 32 * MiB);
        var parts = Enumerable.Range(0, 8).Select(i => ArbiterPolicy.Part(whole, i, 8, 0)).ToArray();
        Assert.All(parts, part => Assert.Equal((32 * MiB, 256 * MiB), (part.DurationNs, part.WholeKernelNs)));

        var cold = Tracker();
        var sliced = new List<long>();
        var cut = new List<long>();
        foreach (var (tracker, extras, kernel) in new[] { (cold, sliced, parts[0]), (Tracker(), cut, parts[0] with { WholeNs = 0 }) })
        {
            for (var i = 0; i < 3; i++)
            {
                extras.Add(tracker.Start(0, kernel));
                tracker.Idle(0);
                tracker.Start(1, 64 * MiB);
                tracker.Idle(1);
            }
        }

        Assert.Equal([0L, 0L, 0L], sliced);
        var apart = cold.ExtraNs(96 * MiB) - cold.ExtraNs(32 * MiB);
        Assert.True(apart > 100);
        Assert.Equal([0L, apart, apart], cut);
        Assert.Equal(256 * MiB, cold.WholeBytes(parts[3]));
        Assert.Equal(32 * MiB, cold.Bytes(parts[3]));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TimeSliced_APartOfASlicedKernel_HasTheWholeKernelsFootprint(bool whole)
    {
        // The same through the time-sliced GPU (no switch costs): context 0's first part, then
        // 64 MiB of context 1's (itself after 0's 32 MiB: curve(96 MiB) - curve(64 MiB) longer),
        // then 0's second part, which ends 32 Mi ns after its start as a part of the 256 MiB
        // kernel, and the curve's extra later as a kernel of its own 32 MiB.
        const long part = 32 * MiB, other = 64 * MiB;
        var curve = Tracker();
        var kernel = new SimKernel(256 * MiB, SmShare: 1, BandwidthShare: 1, WaveNs: 32 * MiB);
        SimKernel Part(int i) => whole ? ArbiterPolicy.Part(kernel, i, 8, 0) : ArbiterPolicy.Part(kernel, i, 8, 0) with { WholeNs = 0 };
        var gpu = new TimeSliceScheduler(2, 10L << 30, 0, 0, 0, coldStart: Tracker(2));
        gpu.Enqueue(0, Part(0));
        gpu.AdvanceTo(part);
        gpu.Enqueue(1, new SimKernel(other, SmShare: 1, BandwidthShare: 1));
        var second = part + other + curve.ExtraNs(part + other) - curve.ExtraNs(other);
        gpu.AdvanceTo(second);
        Assert.Equal(1, gpu.Completed(1));
        gpu.Enqueue(0, Part(1));

        var extra = whole ? 0 : curve.ExtraNs(part + other) - curve.ExtraNs(part);
        Assert.True(whole || extra > 100);
        gpu.AdvanceTo(second + part + extra - 1);
        Assert.Equal(1, gpu.Completed(0));
        gpu.AdvanceTo(second + part + extra);
        Assert.Equal(2, gpu.Completed(0));
    }

    [Fact]
    public void Start_ACopy_NeitherPaysNorCounts()
    {
        var cold = Tracker();
        cold.Start(0, new SimKernel(1000, SmShare: 1, BandwidthShare: 1));
        cold.Idle(0);
        Assert.Equal(0, cold.Start(1, new SimKernel(512 * MiB, SmShare: 0, BandwidthShare: 0))); // a copy: no extra
        Assert.Equal(0, cold.Start(0, new SimKernel(1000, SmShare: 1, BandwidthShare: 1))); // and it moved nothing
        Assert.Equal(1000, cold.Bytes(new SimKernel(2000, SmShare: 1, BandwidthShare: 0.5)));
    }

    [Fact]
    public void Idle_OnlyOthersBytesWhileIdleCount()
    {
        // What another context moved during this one's busy period is not a gap's.
        var cold = Tracker();
        cold.Start(0, MiB);
        cold.Start(1, 512 * MiB);
        cold.Idle(0);
        cold.Idle(0); // twice: no different
        Assert.Equal(0, cold.Start(0, MiB));
    }

    [Fact]
    public void Reset_AFreshSlot_FindsNoOnesCache()
    {
        var cold = Tracker();
        cold.Start(0, 512 * MiB);
        cold.Reset(1);
        Assert.Equal(0, cold.Start(1, MiB));
    }

    [Theory]
    [InlineData(0, 100)] // not above 0
    [InlineData(64 * MiB, -1)] // a negative extra
    public void Checked_ABadPoint_IsRefusedNamingIt(long bytes, long extra)
    {
        var bad = Assert.Throws<ArgumentException>(() => ColdStart.Checked([new(MiB, 10), new(bytes, extra)]));
        Assert.Contains("cold-start point 2", bad.Message);
    }

    [Fact]
    public void Checked_BytesNotRising_OrNoPoint_AreRefused()
    {
        Assert.Contains("must rise", Assert.Throws<ArgumentException>(() => ColdStart.Checked([new(64 * MiB, 10), new(64 * MiB, 20)])).Message);
        Assert.Throws<ArgumentException>(() => ColdStart.Checked([]));
    }

    [Fact]
    public void Profile_ColdStarts_RoundTripThroughItsJson_AndABadCurveNamesTheProfile()
    {
        var profile = DeviceProfile.Load("h100") with { ColdStarts = Curve };
        Assert.Equal(Curve, DeviceProfile.FromJson(profile.ToJson(), "test").ColdStarts);
        Assert.Empty(DeviceProfile.Load("h100").ColdStarts);

        var json = profile.ToJson().Replace("\"afterBytes\": 268435456", "\"afterBytes\": 1024", StringComparison.Ordinal);
        var bad = Assert.Throws<ArgumentException>(() => DeviceProfile.FromJson(json, "mine.json"));
        Assert.Contains("device profile 'mine.json' is invalid", bad.Message);
        Assert.Contains("cold-start point 2: afterBytes must rise", bad.Message);
    }

    [Fact]
    public void Spatial_AServiceKernelAfterATrainersKernel_RunsTheCurveLonger()
    {
        // 0: a trainer's kernel of 256 MiB (bandwidth share 1 at 1 byte a ns: 256 Mi ns). Then
        // 1: a service kernel of 1,000 ns on the whole GPU, once the trainer's is done. It pays
        // curve(256 MiB) = 300 ns: 1,300 ns from its start.
        var gpu = new SpatialScheduler(2, coldStart: Tracker(2));
        const long trainer = 256 * MiB;
        gpu.Enqueue(1, new SimKernel(1000, SmShare: 1, BandwidthShare: 0.004));
        gpu.AdvanceTo(1000);
        gpu.Enqueue(0, new SimKernel(trainer, SmShare: 1, BandwidthShare: 1));
        gpu.AdvanceTo(1000 + trainer);
        Assert.Equal(1, gpu.Completed(0));
        gpu.Enqueue(1, new SimKernel(1000, SmShare: 1, BandwidthShare: 0.004));
        gpu.AdvanceTo(1000 + trainer + 1299);
        Assert.Equal(1, gpu.Completed(1));
        gpu.AdvanceTo(1000 + trainer + 1300);
        Assert.Equal(2, gpu.Completed(1));
        Assert.Equal(2300, gpu.KernelNs(1));

        // Its next kernel, back to back, pays nothing.
        gpu.Enqueue(1, new SimKernel(1000, SmShare: 1, BandwidthShare: 0.004));
        gpu.AdvanceTo(1000 + trainer + 2300);
        Assert.Equal(3, gpu.Completed(1));
    }

    [Fact]
    public void TimeSliced_AKernelAfterAnotherContextsSlice_RunsTheCurveLonger_ItsNextOnesDoNot()
    {
        // No switch costs; 0 runs a 256 MiB kernel, then 1 two kernels of 1,000 ns.
        var gpu = new TimeSliceScheduler(2, 10L << 30, 0, 0, 0, coldStart: Tracker(2));
        const long trainer = 256 * MiB;
        gpu.Enqueue(0, trainer, true, trainer);
        gpu.AdvanceTo(trainer);
        Assert.Equal(1, gpu.Completed(0));
        gpu.Enqueue(1, 1000, true, 4000);
        gpu.Enqueue(1, 1000, true, 4000);
        gpu.AdvanceTo(trainer + 1299);
        Assert.Equal(0, gpu.Completed(1));
        gpu.AdvanceTo(trainer + 1300);
        Assert.Equal(1, gpu.Completed(1));
        gpu.AdvanceTo(trainer + 2300);
        Assert.Equal(2, gpu.Completed(1));

        // A copy after another's bytes pays nothing.
        gpu.Enqueue(0, trainer, true, trainer);
        gpu.Enqueue(1, 500, compute: false);
        gpu.AdvanceTo((2 * trainer) + 2300 + 500);
        Assert.Equal(3, gpu.Completed(1));
    }
}
