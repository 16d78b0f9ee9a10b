using System.Diagnostics;
using Contention.Workloads.Arbiter;
using Contention.Workloads.Sim;

namespace Contention.Workloads.Tests;

public sealed class ArbiterGateTests : IDisposable
{
    private readonly string path = Path.Combine(Path.GetTempPath(), $"contention-arbiter-{Guid.NewGuid():N}");

    private static ArbiterSlotState Sensitive(long openSinceNs) => new(1, 1, true, openSinceNs);

    private static readonly ArbiterSlotState BestEffort = new(2, 1, false, 0);

    [Fact]
    public void Decide_SensitiveOperationOpen_HoldsBestEffortWhateverItsWork()
    {
        ArbiterSlotState[] slots = [BestEffort, Sensitive(900), default];

        Assert.Equal((ArbiterVerdict.HeldBySensitive, 1), ArbiterRules.Decide(slots, 0, 1_000, 1, 500_000));
        slots[1] = Sensitive(0);
        Assert.Equal((ArbiterVerdict.Go, -1), ArbiterRules.Decide(slots, 0, 1_000, 1, 500_000));
        slots[1] = Sensitive(900) with { Owner = 0 };
        Assert.Equal((ArbiterVerdict.Go, -1), ArbiterRules.Decide(slots, 0, 1_000, 1, 500_000));
    }

    [Fact]
    public async Task Admit_HeldLaunch_RunsBeforeWaitOnceBeforeWaiting_ALaunchThatGoesNever()
    {
        using var gate = ArbiterGate.Create(path, 4, 500_000, 0);
        using var service = gate.Join(sensitive: true);
        using var trainer = gate.Join(sensitive: false);
        var calls = 0;
        var closedWhenCalled = new List<bool>();
        var open = true;

        Assert.Equal(0, trainer.Admit(1_000, narrow: false, () => calls++));
        Assert.Equal(0, calls);
        trainer.Drained();

        service.Open();
        var held = Task.Run(() => trainer.Admit(1_000, narrow: false, () =>
        {
            calls++;
            closedWhenCalled.Add(!Volatile.Read(ref open));
        }));
        var clock = Stopwatch.StartNew();
        while (trainer.Sleeps == 0 && !held.IsCompleted && clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(10);
        }

        Volatile.Write(ref open, false);
        service.Close();
        await held.WaitAsync(TimeSpan.FromSeconds(30));

        // Once, while the request was still open (the launch was held): not again at each wake.
        Assert.Equal(1, calls);
        Assert.Equal([false], closedWhenCalled);
    }

    [Fact]
    public void Decide_SpatialArbiter_AnOpenRequestHoldsNothingButTheBoundStill()
    {
        ArbiterSlotState[] slots = [BestEffort, Sensitive(900)];

        Assert.Equal((ArbiterVerdict.Go, -1), ArbiterRules.Decide(slots, 0, 1_000, 1, 500_000, holdWhileOpen: false));
        Assert.Equal((ArbiterVerdict.HeldByOutstanding, -1), ArbiterRules.Decide(slots, 401_000, 1_000, 100_001, 500_000, holdWhileOpen: false));
    }

    [Fact]
    public async Task Admit_SpatialArbiter_NarrowLaunchesGoBesideAnOpenRequest_WideOnesWaitForItsEnd()
    {
        using var gate = ArbiterGate.Create(path, 4, 500_000, 0, holdWhileOpen: false);
        using var service = gate.Join(sensitive: true);
        using var trainer = gate.Join(sensitive: false);
        Assert.False(gate.HoldsWhileOpen);
        service.Open();

        Assert.Equal(0, trainer.Admit(1_000, narrow: true));
        trainer.Drained();
        var wide = Task.Run(() => trainer.Admit(1_000, narrow: false));
        // Closed only once the launch is held asleep (a loaded host may start the task late).
        var clock = Stopwatch.StartNew();
        while (trainer.Sleeps == 0 && !wide.IsCompleted && clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(10);
        }

        Assert.False(wide.IsCompleted, "a wide launch (a reduction, a copy) went while the request was open");
        service.Close();
        await wide.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(trainer.Held >= 1);
    }

    [Theory]
    [InlineData(1_000, 0, 400_000, true)] // nothing outstanding: even a kernel past the bound goes
    [InlineData(1_000, 0, 900_000, true)]
    [InlineData(1_000, 201_000, 300_000, true)] // 200 us out + 300 us = the bound
    [InlineData(1_000, 201_000, 300_001, false)]
    [InlineData(1_000, 900, 499_999, true)] // work predicted done already counts as none
    public void Decide_BestEffortWorkOutstanding_HeldBeyondTheBound(long nowNs, long queueEndNs, long predictedNs, bool goes)
    {
        ArbiterSlotState[] slots = [BestEffort, BestEffort, Sensitive(0)];

        var (verdict, _) = ArbiterRules.Decide(slots, queueEndNs, nowNs, predictedNs, 500_000);

        Assert.Equal(goes ? ArbiterVerdict.Go : ArbiterVerdict.HeldByOutstanding, verdict);
    }

    [Fact]
    public void QueueEndAfter_QueuesBehindEarlierWork_OrFromNow()
    {
        Assert.Equal(1_300, ArbiterRules.QueueEndAfter(1_000, 500, 300));
        Assert.Equal(2_300, ArbiterRules.QueueEndAfter(1_000, 2_000, 300));
    }

    [Fact]
    public void Open_NotAnArbiterFile_SaysSo()
    {
        File.WriteAllBytes(path, new byte[256]);

        var error = Assert.Throws<InvalidOperationException>(() => ArbiterGate.Open(path));

        Assert.Contains("is not a GPU arbiter's file", error.Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", Assert.Throws<InvalidOperationException>(() => ArbiterGate.Open(path + "-missing")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Join_AllSlotsTakenByLiveTenants_SaysWhatToDo_AndALeftSlotIsReused()
    {
        using var gate = ArbiterGate.Create(path, 2, 500_000, 0);
        using var other = ArbiterGate.Open(path);
        var first = gate.Join(sensitive: true);
        using var second = other.Join(sensitive: false);

        var error = Assert.Throws<InvalidOperationException>(() => gate.Join(sensitive: false));
        first.Dispose();
        using var third = gate.Join(sensitive: false);

        Assert.Contains("has room for 2 tenants and all are taken", error.Message, StringComparison.Ordinal);
        Assert.Equal(first.Slot, third.Slot);
        Assert.Equal([false, false], gate.Read().Select(s => s.Sensitive));
    }

    [Fact]
    public async Task Admit_WhileASensitiveOperationIsOpen_SleepsUntilItCloses()
    {
        // Held 300 ms by an open request: past its 50 us spin the launch sleeps on the arbiter's
        // futex, waking only at a lease's end (20 ms: the holders' life is checked) or when the
        // request closes — a few sleeps, where looking every 20 us took thousands. The service's
        // close bumped the wake word once (and woke it).
        using var gate = ArbiterGate.Create(path, 4, 500_000, 0);
        using var service = gate.Join(sensitive: true);
        using var trainer = gate.Join(sensitive: false);
        service.Open();
        var bumps = gate.WakeCount;
        var closer = Task.Run(async () =>
        {
            await Task.Delay(300);
            var closedAt = MonotonicClock.NowNs();
            service.Close();
            return closedAt;
        });

        var waited = trainer.Admit(1_000);
        var returned = MonotonicClock.NowNs();
        var closedAt = await closer;

        // It returns only once the request closed (however late a loaded host ran either side).
        Assert.True(returned >= closedAt, "the best-effort launch went while the request was open");
        Assert.InRange(waited, 1, 10_000_000_000);
        Assert.Equal((1, 1), (trainer.Launches, trainer.Held));
        Assert.Equal(waited, trainer.LongestHeldNs);
        // A few sleeps per 20 ms lease of the time it was held (a loaded host can close late:
        // 52 sleeps once, for a close that came long after 300 ms), not one per 20 us look.
        Assert.InRange(trainer.Sleeps, 1, ((waited / 20_000_000) + 1) * 3);
        Assert.Equal(bumps + 1, gate.WakeCount);
    }

    [Fact]
    public void Admit_OutstandingWork_GoesOnceTheGpusPredictedQueueDrains()
    {
        using var gate = ArbiterGate.Create(path, 4, 500_000_000, 0);
        using var a = gate.Join(sensitive: false);
        using var b = gate.Join(sensitive: false);

        // A's 300 ms and B's 100 ms queue one after the other on the GPU (queues of their own,
        // drained side by side, would end at 300 and 100): B's next 200 ms fits the 500 ms bound
        // once 100 ms are done, not before (a loaded host may call it later; never earlier).
        Assert.Equal(0, a.Admit(300_000_000));
        var afterA = gate.QueueEnd;
        Assert.Equal(0, b.Admit(100_000_000));
        Assert.Equal(afterA + 100_000_000, gate.QueueEnd);
        var fits = gate.QueueEnd - (500_000_000 - 200_000_000);
        b.Admit(200_000_000);

        Assert.True(MonotonicClock.NowNs() >= fits, "B's kernel went before the queue had room for it");
        Assert.True(gate.QueueEnd >= afterA + 300_000_000, "B's kernel was not queued after the work before it");
    }

    [Fact]
    public void Admit_QueuePerTenant_EachTenantBoundedByItsOwnWork()
    {
        // CONTENTION_ARBITER_QUEUE=tenant: A's 300 s do not hold B's 300 s (a 500 s bound); A's
        // next 300 s, beyond its own bound, would wait (its own queue ends 300 s on), so it is not asked.
        using var gate = ArbiterGate.Create(path, 4, 500_000_000_000, 0);
        using var a = gate.Join(sensitive: false, queuePerTenant: true);
        using var b = gate.Join(sensitive: false, queuePerTenant: true);

        Assert.Equal(0, a.Admit(300_000_000_000));
        Assert.Equal(0, b.Admit(300_000_000_000));
        Assert.Equal((0L, 0L, 0L), (a.Held, b.Held, gate.QueueEnd));

        // Done: its own queue is empty again, and its next goes at once.
        a.Drained();
        Assert.Equal(0, a.Admit(300_000_000_000));
    }

    [Fact]
    public void Drained_TakesBackOnlyWhatTheTenantLetGo_NotWhatOthersQueuedBeforeIt()
    {
        // Seconds of predicted work, so no host delay drains them meanwhile: A's 30 s then B's
        // 10 s. B synchronises (its work done, 40 s before its predicted end): the queue keeps
        // A's 30 s. A synchronises: nothing is left, and A's next kernel goes at once.
        using var gate = ArbiterGate.Create(path, 4, 50_000_000_000, 0);
        using var a = gate.Join(sensitive: false);
        using var b = gate.Join(sensitive: false);
        a.Admit(30_000_000_000);
        b.Admit(10_000_000_000);

        b.Drained();
        Assert.InRange(ArbiterRules.Outstanding(gate.QueueEnd, MonotonicClock.NowNs()), 25_000_000_000, 30_000_000_000);
        a.Drained();
        Assert.Equal(0, ArbiterRules.Outstanding(gate.QueueEnd, MonotonicClock.NowNs()));
        Assert.Equal(0, a.Admit(45_000_000_000));
    }

    [Fact]
    public async Task Admit_HeldWhenTheTenantIsLetGo_Returns()
    {
        // A tenant being stopped finishes its operation even while a live service hangs open.
        using var gate = ArbiterGate.Create(path, 2, 500_000, 0);
        using var service = gate.Join(sensitive: true);
        using var trainer = gate.Join(sensitive: false);
        service.Open();
        var admit = Task.Run(() => trainer.Admit(1_000));
        // Let go only once it is held (a loaded host once started the task after a fixed 100 ms
        // wait, and the launch found itself let go before it asked).
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (trainer.Sleeps == 0 && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(10);
        }

        Assert.False(admit.IsCompleted);

        trainer.LetGo();

        // Held until let go (from when the task began, which a loaded host may start late).
        Assert.InRange(await admit.WaitAsync(TimeSpan.FromSeconds(10)), 1, 10_000_000_000);
        Assert.Equal(1, trainer.Held);
    }

    [Fact]
    public void Admit_StoppedGate_LetsEverythingGo()
    {
        using var gate = ArbiterGate.Create(path, 2, 500_000, 0);
        using var service = gate.Join(sensitive: true);
        using var trainer = gate.Join(sensitive: false);
        service.Open();
        gate.Stop();

        Assert.Equal(0, trainer.Admit(1_000));
        Assert.True(gate.Stopped);
    }

    [Fact]
    public void Admit_SensitiveTenantsProcessIsGone_FreesItsSlotAfterALease()
    {
        // A process that exited holds its slot open (written as it would have left it).
        using var gate = ArbiterGate.Create(path, 2, 500_000, 0);
        using var trainer = gate.Join(sensitive: false);
        using var service = gate.Join(sensitive: true);
        service.Open();
        gate.SetPid(service.Slot, ExitedPid());

        var waited = trainer.Admit(1_000);

        Assert.InRange(waited, ArbiterGate.LeaseNs, 5_000_000_000);
        Assert.Equal(1, trainer.Freed);
        Assert.Equal(0, gate.Read()[service.Slot].Owner);
        Assert.Equal(0, gate.OpenRequests);
    }

    [Fact]
    public void OpenRequests_CountsSlotsWithARequestOpen_ThroughOpenCloseAndLeave()
    {
        // Best-effort launches read this one word instead of every slot while it is 0, so it must
        // never be 0 while a slot has a request open.
        using var gate = ArbiterGate.Create(path, 4, 500_000, 0);
        using var a = gate.Join(sensitive: true);
        var b = gate.Join(sensitive: true);

        a.Open();
        a.Open(); // again: still one
        b.Open();
        Assert.Equal(2, gate.OpenRequests);
        a.Close();
        a.Close();
        Assert.Equal(1, gate.OpenRequests);
        b.Dispose(); // leaving with its request open
        Assert.Equal(0, gate.OpenRequests);
        a.Open();
        Assert.Equal(1, gate.OpenRequests);
        Assert.Equal(1, gate.Read().Count(s => s.OpenSinceNs != 0));
    }

    [Fact]
    public void ProcessAlive_AZombieNotYetReaped_IsDead()
    {
        // The shell's background child exits after 0.3 s, by when the shell has become a sleep
        // (exec) that never reaps it: a zombie, which still answers kill(pid, 0). (A child that
        // ended before the exec was reaped by the shell itself: a CI host showed it with `true`.)
        using var parent = Process.Start(new ProcessStartInfo("sh", ["-c", "sleep 0.3 & echo $!; exec sleep 10"]) { RedirectStandardOutput = true, UseShellExecute = false })!;
        var zombie = int.Parse(parent.StandardOutput.ReadLine()!, System.Globalization.CultureInfo.InvariantCulture);
        var stat = $"/proc/{zombie}/stat";
        Assert.True(SpinWait.SpinUntil(() => !File.Exists(stat) || File.ReadAllText(stat).Contains(") Z ", StringComparison.Ordinal), 10_000), "the child neither ended nor became a zombie");
        Assert.True(File.Exists(stat), "the child was reaped before the test could see it as a zombie");

        Assert.False(ArbiterGate.ProcessAlive(zombie));
        Assert.True(ArbiterGate.ProcessAlive(parent.Id));
        parent.Kill();
    }

    private static int ExitedPid()
    {
        using var process = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        process.WaitForExit();
        Assert.False(ArbiterGate.ProcessAlive(process.Id));
        return process.Id;
    }

    public void Dispose() => File.Delete(path);
}
