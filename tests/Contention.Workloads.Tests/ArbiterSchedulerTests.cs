using Contention.Workloads.Devices;
using Contention.Workloads.Kernels;
using Contention.Workloads.Sim;
using Contention.Workloads.Workloads;

namespace Contention.Workloads.Tests;

/// <summary>The modelled arbiter's launch gating on hand-computed timelines (time-sliced underneath, no switch costs).</summary>
public class ArbiterSchedulerTests
{
    private const int Service = 0, Trainer = 1;

    private static ArbiterScheduler Gpu(long outstandingNs = 500_000, long releaseNs = 0, int contexts = 2, bool queuePerTenant = false)
    {
        var gpu = new ArbiterScheduler(new TimeSliceScheduler(contexts, 2_000_000, 0, 0, 0), contexts, new ArbiterPolicy(outstandingNs, releaseNs, QueuePerTenant: queuePerTenant));
        gpu.Configure(Service, new SimContext(Priority: 10));
        for (var context = 1; context < contexts; context++)
        {
            gpu.Configure(context, SimContext.Default);
        }

        return gpu;
    }

    [Fact]
    public void Enqueue_BestEffortWhileARequestIsOpen_HeldUntilItEnds()
    {
        // A request opens at 0; a trainer's 100 us kernel launched then is held. The service's
        // 20 us kernel arrives at 10 us and runs at once (10-30); the request ends at 35 us and the
        // trainer's kernel runs 35-135. Time-sliced without the arbiter, the service's kernel would
        // have waited for the trainer's to end (0-100, then 100-120).
        var gpu = Gpu();
        gpu.MarkOpen(Service, true);
        gpu.Enqueue(Trainer, new SimKernel(100_000));
        Assert.Equal((1, 1L), (gpu.Pending(Trainer), gpu.Held));

        gpu.AdvanceTo(10_000);
        gpu.Enqueue(Service, new SimKernel(20_000));
        gpu.AdvanceTo(35_000);
        Assert.Equal((1L, 30_000L), (gpu.Completed(Service), gpu.LastCompletionNs(Service)));
        Assert.Equal(0, gpu.Completed(Trainer));

        gpu.MarkOpen(Service, false);
        gpu.AdvanceTo(134_999);
        Assert.Equal(0, gpu.Completed(Trainer));
        gpu.AdvanceTo(135_000);
        Assert.Equal((1L, 135_000L), (gpu.Completed(Trainer), gpu.LastCompletionNs(Trainer)));
        Assert.Equal(long.MaxValue, gpu.NextEventNs());
    }

    [Fact]
    public void Started_WorkTheArbiterHolds_CountsAsStarted_OutOfTheDriversQueue()
    {
        // The trainer's kernels held while the request is open never reach the driver's queue:
        // they count as started, so the launch queue's depth does not hold the trainer's launches
        // behind the arbiter's own gate. Let go at 0 with at most 150 us outstanding, the first
        // runs (to 100 us) and the second goes at 50 us, to wait in the driver's queue.
        var gpu = Gpu(outstandingNs: 150_000);
        gpu.MarkOpen(Service, true);
        gpu.Enqueue(Trainer, new SimKernel(100_000));
        gpu.Enqueue(Trainer, new SimKernel(100_000));
        gpu.Enqueue(Trainer, new SimKernel(100_000));
        Assert.Equal((3L, 3L), (gpu.Held, gpu.Started(Trainer)));

        gpu.MarkOpen(Service, false);
        gpu.AdvanceTo(40_000);
        Assert.Equal((3, 3L), (gpu.Pending(Trainer), gpu.Started(Trainer))); // one running, two held
        gpu.AdvanceTo(60_000);
        Assert.Equal((3, 2L), (gpu.Pending(Trainer), gpu.Started(Trainer))); // one running, one queued, one held
    }

    [Fact]
    public void Enqueue_SpatialArbiter_BestEffortGoesBesideAnOpenRequest()
    {
        // HoldWhileOpen false (arbiter: spatial): the open request holds nothing; the trainer's
        // 100 us kernel runs 0-100 at once, and the service's 20 us kernel, arriving at 10 us,
        // waits for it time-sliced (the inner policy runs what reaches it as it would anyway).
        var gpu = new ArbiterScheduler(new TimeSliceScheduler(2, 2_000_000, 0, 0, 0), 2, new ArbiterPolicy(500_000, HoldWhileOpen: false));
        gpu.Configure(Service, new SimContext(Priority: 10));
        gpu.Configure(Trainer, SimContext.Default);
        gpu.MarkOpen(Service, true);
        gpu.Enqueue(Trainer, new SimKernel(100_000));
        Assert.Equal(0, gpu.Held);

        gpu.AdvanceTo(10_000);
        gpu.Enqueue(Service, new SimKernel(20_000));
        gpu.AdvanceTo(120_000);
        Assert.Equal((1L, 100_000L), (gpu.Completed(Trainer), gpu.LastCompletionNs(Trainer)));
        Assert.Equal((1L, 120_000L), (gpu.Completed(Service), gpu.LastCompletionNs(Service)));
    }

    [Theory]
    [InlineData(false, 1L)]
    [InlineData(true, 0L)]
    public void Enqueue_TwoTrainers_OneQueueForTheGpu_OrAQueueEach(bool perTenant, long held)
    {
        // Two trainers' 300 us kernels at 0, at most 500 us outstanding: on the GPU's one queue the
        // second goes when 200 us are left of the first (at 100 us); each with a queue of its own
        // (CONTENTION_ARBITER_QUEUE=tenant), both go at once.
        var gpu = Gpu(contexts: 3, queuePerTenant: perTenant);
        gpu.Enqueue(1, new SimKernel(300_000));
        gpu.Enqueue(2, new SimKernel(300_000));
        gpu.AdvanceTo(99_999);

        Assert.Equal(held, gpu.Held);
        Assert.Equal(perTenant ? 0 : 300_000, gpu.QueueEndNs);
    }

    [Fact]
    public void Enqueue_BestEffortBeyondTheOutstandingBound_LetGoAsThePredictedQueueDrains()
    {
        // Four 300 us trainer kernels at 0 with at most 500 us outstanding: the first goes (the
        // queue ends at 300), the second when 200 us are left of it (at 100; the queue ends at
        // 600). A request opens then with a 10 us kernel: time-sliced behind the trainer's two,
        // it runs 600-610 — behind the bound's 500 us, not all four (to 1200). The trainer's
        // third is held until the request ends at 620 (620-920), its fourth goes when 200 us
        // are left of the third (at 720) and runs 920-1220.
        var gpu = Gpu();
        for (var i = 0; i < 4; i++)
        {
            gpu.Enqueue(Trainer, new SimKernel(300_000));
        }

        gpu.AdvanceTo(99_999);
        Assert.Equal((300_000L, 3), (gpu.QueueEndNs, gpu.Pending(Trainer) - 1));
        gpu.AdvanceTo(100_000);
        Assert.Equal(600_000, gpu.QueueEndNs);
        gpu.MarkOpen(Service, true);
        gpu.Enqueue(Service, new SimKernel(10_000));
        gpu.AdvanceTo(620_000);
        Assert.Equal((1L, 610_000L), (gpu.Completed(Service), gpu.LastCompletionNs(Service)));
        Assert.Equal((2L, 600_000L), (gpu.Completed(Trainer), gpu.LastCompletionNs(Trainer)));
        Assert.Equal(2, gpu.Pending(Trainer));

        gpu.MarkOpen(Service, false);
        Assert.Equal(920_000, gpu.QueueEndNs);
        gpu.AdvanceTo(720_000);
        Assert.Equal(1_220_000, gpu.QueueEndNs);
        long[] ends = [920_000, 1_220_000];
        for (var i = 0; i < ends.Length; i++)
        {
            gpu.AdvanceTo(ends[i] - 1);
            Assert.Equal(i + 2, gpu.Completed(Trainer));
            gpu.AdvanceTo(ends[i]);
            Assert.Equal((i + 3L, ends[i]), (gpu.Completed(Trainer), gpu.LastCompletionNs(Trainer)));
        }

        Assert.Equal(long.MaxValue, gpu.NextEventNs());
    }

    [Fact]
    public void Release_TwoTrainers_InTurnAsTheQueueDrains_ReachingTheGpuALaunchLater()
    {
        // Two trainers' 100 us kernels at 0, two each, 150 us outstanding, a release of 5 us: the
        // first trainer's goes at 0 (on the GPU 5-105; the queue ends at 100), the other's when
        // 50 us are left (let go at 50, there at 55, time-sliced after the first: 105-205), the
        // first's second at 150 (205-305), the other's second at 250 (305-405): turns alternate.
        var gpu = Gpu(outstandingNs: 150_000, releaseNs: 5_000, contexts: 3);
        for (var i = 0; i < 2; i++)
        {
            gpu.Enqueue(1, new SimKernel(100_000));
            gpu.Enqueue(2, new SimKernel(100_000));
        }

        Assert.Equal(5_000, gpu.NextEventNs());
        var completions = new List<(int Context, long AtNs)>();
        while (gpu.NextEventNs() is var next && next != long.MaxValue)
        {
            var before = (gpu.Completed(1), gpu.Completed(2));
            gpu.AdvanceTo(next);
            if (gpu.Completed(1) > before.Item1)
            {
                completions.Add((1, gpu.LastCompletionNs(1)));
            }

            if (gpu.Completed(2) > before.Item2)
            {
                completions.Add((2, gpu.LastCompletionNs(2)));
            }
        }

        Assert.Equal([(1, 105_000L), (2, 205_000L), (1, 305_000L), (2, 405_000L)], completions);
    }

    [Fact]
    public void Account_TrainerDoneEarlierThanPredicted_TakesBackItsRest()
    {
        // Under MPS, kernels of half the GPU run side by side, though the queue counts them one
        // after the other. 350 us outstanding: trainer 1's 300 us goes at 0 (the queue ends at
        // 300), trainer 2's 100 us when 250 are left (at 50; to 400) and runs 50-150 beside it.
        // Done at 150, trainer 2 takes back the 100 us the queue still counted for it (to 300), so
        // trainer 3's 300 us goes when 50 us are left (at 250, runs 250-550) instead of at 350.
        var gpu = new ArbiterScheduler(new SpatialScheduler(4), 4, new ArbiterPolicy(350_000));
        gpu.Configure(Service, new SimContext(Priority: 10));
        for (var context = 1; context < 4; context++)
        {
            gpu.Configure(context, SimContext.Default);
        }

        gpu.Enqueue(1, new SimKernel(300_000, SmShare: 0.5));
        gpu.Enqueue(2, new SimKernel(100_000, SmShare: 0.5));
        gpu.Enqueue(3, new SimKernel(300_000, SmShare: 0.5));
        gpu.AdvanceTo(150_000);
        Assert.Equal((1L, 150_000L), (gpu.Completed(2), gpu.LastCompletionNs(2)));
        Assert.Equal(300_000, gpu.QueueEndNs);

        gpu.AdvanceTo(1_000_000);
        Assert.Equal((1L, 300_000L), (gpu.Completed(1), gpu.LastCompletionNs(1)));
        Assert.Equal((1L, 550_000L), (gpu.Completed(3), gpu.LastCompletionNs(3)));
    }

    [Theory]
    [InlineData(1.0, 3, 300_000)] // uncapped: 100 us each, three fit within 350 us
    [InlineData(0.25, 1, 400_000)] // at 25 % of the multiprocessors a GPU-filling kernel takes 400 us: the next waits
    public void Enqueue_CappedTrainer_PredictsItsKernelsAtItsShare(double share, int letGo, long queueEndNs)
    {
        // Under MPS a trainer capped at a quarter of the multiprocessors runs a kernel that would
        // fill them at a quarter of its speed; the arbiter predicts what the real tenant's
        // predictor learns from its measured times, so its outstanding bound counts that.
        var gpu = new ArbiterScheduler(new SpatialScheduler(2), 2, new ArbiterPolicy(350_000));
        gpu.Configure(Service, new SimContext(Priority: 10));
        gpu.Configure(1, new SimContext(GpuShare: share));
        for (var i = 0; i < 3; i++)
        {
            gpu.Enqueue(1, new SimKernel(100_000, SmShare: 1));
        }

        Assert.Equal((3L - letGo, queueEndNs), (gpu.Held, gpu.QueueEndNs));
        Assert.Equal(queueEndNs / letGo, gpu.PredictedNs(1, new SimKernel(100_000, SmShare: 1)));
    }

    // Two trainers (contexts 1 and 2) behind a 50 us bound whose threads spin 50 us, then sleep
    // and run 5 us late whatever they slept (scaled by drift's levels, with one); each lateness
    // asked for is noted (how long that sleep was).
    private static (ArbiterScheduler Gpu, List<long> Slept) Racing(long releaseNs = 0, WakeUpDrift? drift = null, int seed = 0)
    {
        var slept = new List<long>();
        var gpu = new ArbiterScheduler(new TimeSliceScheduler(3, 2_000_000, 0, 0, 0), 3, new ArbiterPolicy(50_000, releaseNs), new ArbiterWaits(50_000, 20_000_000, ns =>
        {
            slept.Add(ns);
            return 5_000;
        }, drift, seed));
        gpu.Configure(Service, new SimContext(Priority: 10));
        gpu.Configure(1, SimContext.Default);
        gpu.Configure(2, SimContext.Default);
        return (gpu, slept);
    }

    // The predicted end of the let-go work stands at before just short of atNs and is after at atNs: a kernel let go exactly then.
    private static void QueueEndMovesAt(ArbiterScheduler gpu, long atNs, long before, long after)
    {
        gpu.AdvanceTo(atNs - 1);
        Assert.Equal(before, gpu.QueueEndNs);
        gpu.AdvanceTo(atNs);
        Assert.Equal(after, gpu.QueueEndNs);
    }

    [Fact]
    public void Waits_ASleepingThreadWakesLate_TheSpinningOneGoesFirst()
    {
        // Trainer 1's 200 us kernel goes at 0 (the queue ends at 200). Trainer 2's 30 us kernel,
        // launched at 0, may go once 20 us are left (at 180): its thread spins to 50, then sleeps
        // to 180 and runs at 185. Trainer 1 launches a 30 us kernel at 150: spinning, it looks at
        // 180 and goes (to 230); trainer 2, awake at 185, is held again to 210 and runs at 215
        // and goes then (to 260). Taking turns, trainer 2 would
        // have gone at 180 and trainer 1 at 210. Each sleep runs late by a wake-up of its own
        // length (130 us, then 25): on the H200 host the arbiter's sleeps woke later the longer
        // each was, not the longer the thread had slept since it last spun.
        var (gpu, slept) = Racing();
        gpu.Enqueue(1, new SimKernel(200_000));
        gpu.Enqueue(2, new SimKernel(30_000));
        Assert.Equal(200_000, gpu.QueueEndNs);
        gpu.AdvanceTo(150_000);
        gpu.Enqueue(1, new SimKernel(30_000));
        QueueEndMovesAt(gpu, 180_000, 200_000, 230_000);
        gpu.AdvanceTo(214_999);
        Assert.Equal((230_000L, 1), (gpu.QueueEndNs, gpu.Pending(2)));
        gpu.AdvanceTo(215_000);
        Assert.Equal(260_000, gpu.QueueEndNs);
        Assert.Equal([130_000L, 25_000L], slept);

        // As the real tenants count them: trainer 1 held once (150-180), trainer 2 once (0-215),
        // asleep twice (at 50 and again at 185); nobody woke anyone (nothing was taken back).
        Assert.Equal(new ArbiterTally(1, 30_000, 230_000, 0, 0), gpu.Tally(1));
        Assert.Equal(new ArbiterTally(1, 215_000, 30_000, 2, 0), gpu.Tally(2));

        // The turn-taking arbiter of threads that never sleep, for contrast.
        var turns = Gpu(outstandingNs: 50_000, contexts: 3);
        turns.Enqueue(1, new SimKernel(200_000));
        turns.Enqueue(2, new SimKernel(30_000));
        turns.AdvanceTo(150_000);
        turns.Enqueue(1, new SimKernel(30_000));
        turns.AdvanceTo(180_000);
        Assert.Equal(230_000, turns.QueueEndNs);
        QueueEndMovesAt(turns, 210_000, 230_000, 260_000);
    }

    [Fact]
    public void RecordAdmitsInto_TheFirstRace_EachLaunchAsTheRealTenantsRecordThem()
    {
        // The first race's timeline, recorded: trainer 1's 200 us kernel asked and went at 0, its
        // 30 us one asked at 150 and went at 180; trainer 2's asked at 0, slept twice, went at 215.
        var (admits, sleeps) = Recorded(gpu =>
        {
            gpu.Enqueue(1, new SimKernel(200_000));
            gpu.Enqueue(2, new SimKernel(30_000));
            gpu.AdvanceTo(150_000);
            gpu.Enqueue(1, new SimKernel(30_000));
            gpu.AdvanceTo(300_000);
        });
        Assert.Equal(2, admits.Length);
        Assert.All(admits, r => Assert.Equal("asked_ns,went_ns,predicted_ns,sleeps", r[0]));
        Assert.Equal(["0,0,200000,0", "150000,180000,30000,0"], admits[0][1..]);
        Assert.Equal(["0,215000,30000,2"], admits[1][1..]);

        // Beside each, its thread's sleeps: trainer 1 none; trainer 2 from its spin's end at 50
        // to 180, running at 185, then to 210, running at 215; no change woke either.
        Assert.All(sleeps, r => Assert.Equal("slept_ns,due_ns,returned_ns,asked_ns,changed", r[0]));
        Assert.Empty(sleeps[0][1..]);
        Assert.Equal(["50000,180000,185000,0,0", "185000,210000,215000,0,0"], sleeps[1][1..]);
    }

    // The first race's timeline where trainer 2 wakes before 210 us from its first sleep and
    // secondLate after 210 from its second: it goes then.
    private static void SecondSleepDecides(ArbiterScheduler gpu, long secondLate)
    {
        gpu.Enqueue(1, new SimKernel(200_000));
        gpu.Enqueue(2, new SimKernel(30_000));
        gpu.AdvanceTo(150_000);
        gpu.Enqueue(1, new SimKernel(30_000));
        QueueEndMovesAt(gpu, 180_000, 200_000, 230_000);
        QueueEndMovesAt(gpu, 210_000 + secondLate, 230_000, 260_000);
    }

    [Fact]
    public void Waits_WithDrift_EachWakeUpScaledByItsThreadsLevelAtThatTime()
    {
        // The first test's timeline with each thread's wake-ups scaled by exp(its level): trainer
        // 2's first sleep is due at 180 (its first level, drawn fresh), it wakes late by 5 us times
        // that, is held again to 210 (its level 30 us on) and goes at 210 plus its second lateness.
        var drift = new WakeUpDrift(0.5, 100_000);
        var (gpu, _) = Racing(drift: drift, seed: 5);
        var replica = new Random(5);
        var first = drift.Next(0, long.MaxValue, replica);
        var second = drift.Next(first, 30_000, replica);
        var firstLate = (long)(5_000 * Math.Exp(first));
        var secondLate = (long)(5_000 * Math.Exp(second));
        Assert.True(firstLate < 30_000, $"first lateness {firstLate} ns: trainer 2 must wake before 210 us for this timeline");
        SecondSleepDecides(gpu, secondLate);
        Assert.NotEqual(5_000, secondLate);
    }

    [Fact]
    public void Waits_WithSharedDrift_EachWakeUpScaledByItsOwnLevelAndTheHostsThen()
    {
        // As above, each lateness scaled by exp(own level + the host's level then): each wake-up
        // draws the thread's own level, then the host's (moved on from its last draw).
        // Both scaled by the share of a level a sleep that short gets: (its length / 1 ms) ^ 0.5,
        // the first 130 us, the second from its wake-up to 210 us.
        var drift = new WakeUpDrift(0.2, 100_000) { Shared = new WakeUpDrift(0.5, 1_000_000), FullAtNs = 1_000_000, LengthExponent = 0.5 };
        var (gpu, _) = Racing(drift: drift, seed: 9);
        var replica = new Random(9);
        var own = drift.Next(0, long.MaxValue, replica);
        var host = drift.Shared!.Next(0, long.MaxValue, replica);
        var firstLate = (long)(5_000 * Math.Exp(Math.Sqrt(0.13) * (own + host)));
        own = drift.Next(own, 30_000, replica);
        host = drift.Shared.Next(host, 30_000, replica);
        var secondWeight = Math.Sqrt((30_000 - firstLate) / 1e6);
        var secondLate = (long)(5_000 * Math.Exp(secondWeight * (own + host)));
        Assert.True(firstLate < 30_000, $"first lateness {firstLate} ns: trainer 2 must wake before 210 us for this timeline");
        SecondSleepDecides(gpu, secondLate);

        // Without the host's part, or with every sleep's level whole, the same seed wakes trainer 2 elsewhere.
        var ownOnly = new Random(9);
        var alone = drift.Next(drift.Next(0, long.MaxValue, ownOnly), 30_000, ownOnly);
        Assert.NotEqual(secondLate, (long)(5_000 * Math.Exp(secondWeight * alone)));
        Assert.NotEqual(secondLate, (long)(5_000 * Math.Exp(own + host)));
    }

    [Fact]
    public void Waits_WithDrift_ALevelMovesForwardInTimeOnly()
    {
        // The close's timeline below with drift (a level lasting 100 us): trainer 2's first sleep
        // draws its level at its lease's end (20.05 ms); the close at 300 us brings its wake-up
        // forward, and its next sleep is due at 400 us, both before that: neither draws again
        // (time does not run back and forth), so both wake-ups are late by the first level's.
        var drift = new WakeUpDrift(0.5, 100_000);
        var (gpu, _) = Racing(drift: drift, seed: 3);
        var late = (long)(5_000 * Math.Exp(drift.Next(0, long.MaxValue, new Random(3))));
        OpenThenCloseAt300(gpu);
        Assert.Equal(400_000, gpu.QueueEndNs);
        QueueEndMovesAt(gpu, 400_000 + late, 400_000, 500_000 + late);
    }

    [Fact]
    public void Waits_ARequestCloses_WakesTheSleepersLateAndASpinningThreadGoesFirst()
    {
        // A request is open from 0 to 300 us. Trainer 2's 100 us kernel, launched at 0, spins to
        // 50, then sleeps on its lease; trainer 1's, launched at 280, still spins at 300 and goes
        // (to 400). Woken by the close, trainer 2 runs at 305 (slept 250 us), is held by the
        // bound (a kernel longer than it waits for nothing outstanding) to 400 and runs at 405
        // (slept 95 us).
        var (gpu, slept) = Racing();
        gpu.MarkOpen(Service, true);
        gpu.Enqueue(2, new SimKernel(100_000));
        gpu.AdvanceTo(280_000);
        gpu.Enqueue(1, new SimKernel(100_000));
        gpu.AdvanceTo(300_000);
        Assert.Equal(0, gpu.QueueEndNs);
        gpu.MarkOpen(Service, false);
        Assert.Equal(400_000, gpu.QueueEndNs);
        QueueEndMovesAt(gpu, 405_000, 400_000, 505_000);
        Assert.Equal([20_000_000L, 250_000L, 95_000L], slept);

        // Trainer 2 slept twice (its lease, then the bound); the service's close woke it: one wake.
        Assert.Equal((2L, 0L), (gpu.Tally(2).Sleeps, gpu.Tally(2).Wakes));
        Assert.Equal((0L, 1L), (gpu.Tally(Service).Sleeps, gpu.Tally(Service).Wakes));
    }

    [Fact]
    public void RecordAdmitsInto_ASleepTheCloseWoke_IsMarkedChanged()
    {
        // The timeline above, recorded: trainer 2's first sleep (50, due at its lease's end) woken
        // by the close at 300 and running at 305; its second to the bound (due 400, ran 405).
        var (admits, sleeps) = Recorded(gpu =>
        {
            OpenThenCloseAt300(gpu);
            gpu.AdvanceTo(600_000);
        });
        var trainer2 = Array.FindIndex(admits, rows => rows[1].StartsWith("0,", StringComparison.Ordinal));
        Assert.Equal(["50000,20050000,305000,0,1", "305000,400000,405000,0,0"], sleeps[trainer2][1..]);
    }

    // The files a timeline recorded (RecordAdmitsInto): each context's launches and beside them its sleeps, in context order.
    private static (string[][] Admits, string[][] Sleeps) Recorded(Action<ArbiterScheduler> timeline)
    {
        var directory = Directory.CreateTempSubdirectory("contention-admits-").FullName;
        try
        {
            var (gpu, _) = Racing();
            gpu.RecordAdmitsInto(directory);
            timeline(gpu);
            var files = gpu.SaveAdmits();
            Assert.Empty(gpu.SaveAdmits());
            Assert.All(files, f => Assert.Matches(@"admit-v\d+-\d+-\d+\.csv$", f));
            return ([.. files.Select(File.ReadAllLines)], [.. files.Select(f => File.ReadAllLines(f.Replace("admit-", "arbiter-sleep-", StringComparison.Ordinal)))]);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    // A request open from 0 to 300 us; trainer 2's 100 us kernel launched at 0, trainer 1's at 280.
    private static void OpenThenCloseAt300(ArbiterScheduler gpu)
    {
        gpu.MarkOpen(Service, true);
        gpu.Enqueue(2, new SimKernel(100_000));
        gpu.AdvanceTo(280_000);
        gpu.Enqueue(1, new SimKernel(100_000));
        gpu.AdvanceTo(300_000);
        gpu.MarkOpen(Service, false);
    }

    [Fact]
    public void Waits_ALaunchLetGo_ItsThreadAsksForTheNextOnlyOnceItReachedTheGPU()
    {
        // 10 us to reach the GPU: trainer 1's two 20 us kernels, launched at 0; the first goes at
        // 0 (to 20), the thread asks for the second at 10 and it goes then (40 of the bound).
        var (gpu, _) = Racing(releaseNs: 10_000);
        gpu.Enqueue(1, new SimKernel(20_000));
        gpu.Enqueue(1, new SimKernel(20_000));
        Assert.Equal(20_000, gpu.QueueEndNs);
        QueueEndMovesAt(gpu, 10_000, 20_000, 40_000);
    }

    [Fact]
    public void Synchronised_KernelsStretchedBesideAnother_PredictsTheNextLonger()
    {
        // Under MPS two trainers' GPU-filling 100 us kernels, both let go at 0 (1 ms bound): the
        // second waits for the first's blocks (0-100, then 100-200), so its kernel's measured time
        // from its launch is 200 us. At its synchronise it learns a correction of 2 (the least
        // ratio of its batches, as the real predictor does) and its next 100 us kernel is
        // predicted 200 us; the first learns 1, the service nothing.
        var gpu = new ArbiterScheduler(new SpatialScheduler(3), 3, new ArbiterPolicy(1_000_000));
        gpu.Configure(Service, new SimContext(Priority: 10));
        gpu.Configure(1, SimContext.Default);
        gpu.Configure(2, SimContext.Default);
        gpu.Enqueue(1, new SimKernel(100_000));
        gpu.Enqueue(2, new SimKernel(100_000));
        gpu.AdvanceTo(200_000);
        Assert.Equal((100_000L, 200_000L), (gpu.LastCompletionNs(1), gpu.LastCompletionNs(2)));
        Assert.Equal(1.0, gpu.Correction(2));
        gpu.Synchronised(1);
        gpu.Synchronised(2);
        gpu.Synchronised(Service);
        Assert.Equal((1.0, 2.0, 1.0), (gpu.Correction(1), gpu.Correction(2), gpu.Correction(Service)));
        gpu.Enqueue(2, new SimKernel(100_000));
        Assert.Equal(400_000, gpu.QueueEndNs);
    }

    [Fact]
    public void Reset_ATrainerWithHeldWork_ForgetsItAndFreesTheBound()
    {
        var gpu = Gpu(outstandingNs: 100_000, contexts: 3);
        gpu.Enqueue(1, new SimKernel(100_000));
        gpu.Enqueue(1, new SimKernel(100_000));
        gpu.Enqueue(2, new SimKernel(50_000));
        Assert.Equal((2, 1), (gpu.Pending(1), gpu.Pending(2)));

        // The first trainer leaves: its kernels are forgotten (the GPU's and the queue's), and the other's goes at once.
        gpu.Reset(1);
        Assert.Equal(0, gpu.Pending(1));
        Assert.Equal(50_000, gpu.QueueEndNs);
        gpu.AdvanceTo(50_000);
        Assert.Equal((1L, 50_000L), (gpu.Completed(2), gpu.LastCompletionNs(2)));
    }

    [Fact]
    public void Policy_Negative_Refused()
    {
        Assert.Contains("outstanding work must be 0 or more", Assert.Throws<ArgumentException>(() => new ArbiterScheduler(new TimeSliceScheduler(1, 1_000, 0), 1, new ArbiterPolicy(-1))).Message, StringComparison.Ordinal);
        Assert.Contains("release time must be 0 or more", new ArbiterPolicy(ReleaseNs: -5).Problem(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(GpuSharing.Timeslice)]
    [InlineData(GpuSharing.Mps)]
    public void VirtualGpu_ServiceBesideTrainers_ArbiterKeepsItsTailNearAlone(GpuSharing sharing)
    {
        // An MLP service at 1,000 requests/s (priority 10) beside two ResNet-50 trainers on the
        // h200 profile, 1 s: its p99 alone, shared, and shared under the arbiter's gating (500 us
        // outstanding, the launch's CPU time to reach the GPU).
        var profile = DeviceProfile.Load("h200");
        var service = new VirtualTenant("svc", new WorkloadSpec { Kind = WorkloadKind.Inference, Model = "mlp", BatchSize = 1, RatePerSecond = 1_000, Seed = 3 }, SyncMode.Block, new SimContext(Priority: 10));
        VirtualTenant Trainer(int seed) => new($"train-{seed}", new WorkloadSpec { Kind = WorkloadKind.Training, Model = "resnet50", BatchSize = 32, Seed = seed }, SyncMode.Block, SimContext.Default);
        (double P99Ms, double Steps) Run(IReadOnlyList<VirtualTenant> tenants, ArbiterPolicy? arbiter)
        {
            var gpu = new VirtualGpu(profile, sharing, tenants, 0, arbiter: arbiter);
            gpu.Measure(200_000_000, 1_000_000_000);
            var steps = tenants.Count > 1 ? gpu.Result(1).Completed + gpu.Result(2).Completed : 0;
            return (gpu.Result(0).Latency.GetValueAtPercentile(99) / 1e6, steps);
        }

        var alone = Run([service], null);
        var shared = Run([service, Trainer(5), Trainer(6)], null);
        var gated = Run([service, Trainer(5), Trainer(6)], new ArbiterPolicy(500_000, profile.LaunchCpuNs));

        Assert.True(shared.P99Ms > 3 * alone.P99Ms, $"shared p99 {shared.P99Ms} ms against {alone.P99Ms} alone");
        Assert.True(gated.P99Ms < 0.5 * shared.P99Ms, $"gated p99 {gated.P99Ms} ms against {shared.P99Ms} shared, {alone.P99Ms} alone");
        Assert.InRange(gated.Steps, 1, shared.Steps);
    }

    [Fact]
    public void VirtualGpu_ServiceFallingBehind_HoldsTheTrainerWhileRequestsAreQueued()
    {
        // The MLP service offered 20,000 requests/s (over four times what it can serve alone on
        // the h200) beside a trainer under the arbiter's gating: from its first request on the
        // next one is always due when one ends, so its operation never closes and the trainer,
        // held while a request is pending, runs no step in the window (as WorkloadRunner keeps
        // the operation open on a real GPU). At 200 requests/s its queue empties between
        // requests and the trainer runs between them.
        var profile = DeviceProfile.Load("h200");
        long Steps(double rate)
        {
            VirtualTenant[] tenants =
            [
                new("svc", new WorkloadSpec { Kind = WorkloadKind.Inference, Model = "mlp", BatchSize = 1, RatePerSecond = rate, Seed = 3 }, SyncMode.Block, new SimContext(Priority: 10)),
                new("train-5", new WorkloadSpec { Kind = WorkloadKind.Training, Model = "resnet50", BatchSize = 32, Seed = 5 }, SyncMode.Block, SimContext.Default),
            ];
            var gpu = new VirtualGpu(profile, GpuSharing.Mps, tenants, 0, arbiter: new ArbiterPolicy(500_000, profile.LaunchCpuNs));
            gpu.Measure(200_000_000, 1_000_000_000);
            return gpu.Result(1).Completed;
        }

        Assert.Equal(0, Steps(20_000));
        Assert.True(Steps(200) > 2, "the trainer runs while the service's queue is empty");
    }

    [Fact]
    public void Slice_AKernelOfTenWaves_WholeWavesAQuantumEachWithTheFixedCost()
    {
        // 1 ms in ten 100 us waves, a 300 us quantum, 4 us a kernel: min(4, 10) = 4 slices of
        // 3, 3, 2 and 2 waves; each 4 us plus its waves' share of the other 996 us.
        var policy = new ArbiterPolicy(QuantumNs: 300_000, SliceOverheadNs: 4_000);
        var kernel = new SimKernel(1_000_000, 1, 0.5, 100_000, 20);

        var slices = policy.Slice(kernel);

        Assert.Equal([302_800L, 302_800L, 203_200L, 203_200L], slices.Select(s => s.DurationNs));
        Assert.Equal([6.0, 6.0, 4.0, 4.0], slices.Select(s => Math.Round(s.Spread, 9)));
        Assert.All(slices, s => Assert.Equal((1.0, 0.5, 100_000L), (s.SmShare, s.BandwidthShare, s.WaveNs)));
        Assert.Equal(kernel.DurationNs + (3 * 4_000), slices.Sum(s => s.DurationNs));

        // The arbiter predicts them as the real one does its parts: the whole kernel's time and
        // the three slices' costs beyond the first in equal shares (what they take together).
        Assert.Equal([253_000L, 253_000L, 253_000L, 253_000L], slices.Select(s => s.ArbiterPriorNs));
        Assert.Equal(slices.Sum(s => s.DurationNs), slices.Sum(s => s.ArbiterPriorNs));
    }

    [Fact]
    public void SliceCount_ATenantsCorrection_SlicesTheCorrectedPredictionAsTheRealTenantDoes()
    {
        // 1 ms in ten waves, a 300 us quantum: 4 slices at correction 1; a tenant that has learnt
        // its kernels take 1.5x what it predicts slices ⌈1500 / 300⌉ = 5, one that learnt 0.25x
        // does not slice (250 us is within the quantum); at most its 10 waves (correction 20).
        var policy = new ArbiterPolicy(QuantumNs: 300_000);
        var kernel = new SimKernel(1_000_000, 1, 0.5, 100_000);

        Assert.Equal((4, 4, 5, 1, 10), (policy.SliceCount(kernel), policy.SliceCount(kernel, 1), policy.SliceCount(kernel, 1.5), policy.SliceCount(kernel, 0.25), policy.SliceCount(kernel, 20)));

        // A slice (3 of the 10 waves and the 20 us cost) counts by its prior, an equal share of
        // the kernel and the slices' costs beyond the first.
        var slice = ArbiterPolicy.Part(kernel, 0, 4, 20_000);
        Assert.Equal((314_000L, 265_000L), (slice.DurationNs, slice.ArbiterPriorNs));
        Assert.Equal(1, policy.SliceCount(slice));
    }

    [Fact]
    public void Slice_AOneWaveGemmDeepInK_QuantumSlicesOverItsDepth_EachWithAllItsBlocks()
    {
        // 1 ms in one wave, but a GEMM that can be taken in 8 ranges of its depth: a 300 us
        // quantum gives ⌈1000 / 300⌉ = 4 slices, each 4 us plus a quarter of the other 996 us,
        // each as wide as the kernel (its blocks, multiprocessors) and one wave of its own.
        var policy = new ArbiterPolicy(QuantumNs: 300_000, SliceOverheadNs: 4_000);
        var kernel = new SimKernel(1_000_000, 0.8, 0.5, 1_000_000, 2.2, Parts: 8);

        var slices = policy.Slice(kernel);

        Assert.Equal([253_000L, 253_000L, 253_000L, 253_000L], slices.Select(s => s.DurationNs));
        Assert.All(slices, s => Assert.Equal((0.8, 0.5, 253_000L, 2.2), (s.SmShare, s.BandwidthShare, s.WaveNs, s.Spread)));
        // Fewer parts than the quantum asks for: no more than it has.
        Assert.Equal(8, new ArbiterPolicy(QuantumNs: 50_000).SliceCount(kernel));
    }

    [Fact]
    public void PartCost_TheH200sMeasuredCost_ElseTheKernelsFixedCost()
    {
        // The H200's 24 us a part was measured (docs/results/h200/arbiter); a profile without one
        // charges a part what any kernel costs.
        var h200 = DeviceProfile.Load("h200");
        var h100 = DeviceProfile.Load("h100");

        Assert.Equal(24_000, h200.PartCostNs());
        Assert.Equal((0L, h100.KernelOverheadNs), (h100.SlicePartNs, h100.PartCostNs()));
        var gemm = new CostModel(h200).Kernel(KernelSpec.Gemm(1152, 128, 25088));
        var slices = new ArbiterPolicy(QuantumNs: 50_000, SliceOverheadNs: h200.PartCostNs()).Slice(gemm);
        Assert.Equal(gemm.DurationNs + ((slices.Length - 1) * 24_000L), slices.Sum(s => s.DurationNs), 1.0 * slices.Length);
    }

    [Fact]
    public void CostModel_ResNet50TrainingGemms_ThatAreOneWave_AreSlicedOverTheirDepth()
    {
        // The H200's largest ResNet-50 batch-32 weight-gradient GEMM: 36 tiles of C, 288 blocks
        // (one wave of 132 x 5), each 3,136 deep; in ranges of at least 128: 196 parts.
        var model = new CostModel(DeviceProfile.Load("h200"));
        var gemm = model.Kernel(KernelSpec.Gemm(1152, 128, 25088));

        Assert.Equal(1, ArbiterPolicy.Waves(gemm));
        Assert.Equal(25088 / GemmSlicing.MinDepth, gemm.Parts);
        var slices = new ArbiterPolicy(QuantumNs: 50_000).Slice(gemm);
        Assert.Equal((int)((gemm.DurationNs + 49_999) / 50_000), slices.Length);
        Assert.All(slices, s => Assert.InRange(s.DurationNs, 40_000, 50_000));
        Assert.Equal(0, model.Kernel(KernelSpec.Elementwise(1 << 20)).Parts);
    }

    [Theory]
    [InlineData(1_000_000, 1, 1_000_000, 300_000)] // one wave: blocks run to their end, no shorter slice
    [InlineData(200_000, 1, 20_000, 300_000)] // within the quantum
    [InlineData(1_000_000, 0, 0, 300_000)] // a copy
    [InlineData(1_000_000, 1, 100_000, 0)] // slicing off
    public void Slice_WhatCannotOrNeedNotBeSliced_AsItIs(long durationNs, double smShare, long waveNs, long quantumNs)
    {
        var kernel = new SimKernel(durationNs, smShare, 0, waveNs);

        Assert.Equal([kernel], new ArbiterPolicy(QuantumNs: quantumNs, SliceOverheadNs: 4_000).Slice(kernel));
    }

    [Fact]
    public void VirtualGpu_ServiceBesideTrainersUnderMps_SlicingShortensWhatARequestWaitsFor()
    {
        // The MLP service at 1,000/s beside two trainers under MPS, 1 s (h200): gating alone lets
        // a trainer's millisecond kernels go whole; sliced to 100 us the service waits less.
        var profile = DeviceProfile.Load("h200");
        VirtualTenant[] tenants =
        [
            new("svc", new WorkloadSpec { Kind = WorkloadKind.Inference, Model = "mlp", BatchSize = 1, RatePerSecond = 1_000, Seed = 3 }, SyncMode.Block, new SimContext(Priority: 10)),
            new("train-5", new WorkloadSpec { Kind = WorkloadKind.Training, Model = "resnet50", BatchSize = 32, Seed = 5 }, SyncMode.Block, SimContext.Default),
            new("train-6", new WorkloadSpec { Kind = WorkloadKind.Training, Model = "resnet50", BatchSize = 32, Seed = 6 }, SyncMode.Block, SimContext.Default),
        ];
        (double P99Ms, long Launches) Run(ArbiterPolicy arbiter)
        {
            var gpu = new VirtualGpu(profile, GpuSharing.Mps, tenants, 0, arbiter: arbiter);
            gpu.Measure(200_000_000, 1_000_000_000);
            return (gpu.Result(0).Latency.GetValueAtPercentile(99) / 1e6, gpu.Result(1).Host.Launches + gpu.Result(2).Host.Launches);
        }

        var gated = Run(new ArbiterPolicy(200_000, profile.LaunchCpuNs));
        var sliced = Run(new ArbiterPolicy(200_000, profile.LaunchCpuNs, 100_000, profile.KernelOverheadNs));

        Assert.True(sliced.P99Ms < 0.9 * gated.P99Ms, $"p99 {sliced.P99Ms} ms sliced against {gated.P99Ms} ms gated"); // 0.97 against 1.23 ms
        Assert.True(sliced.Launches > gated.Launches, "the trainers launch their slices");
    }
}
