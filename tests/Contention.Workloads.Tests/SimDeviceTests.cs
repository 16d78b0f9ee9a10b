using System.Diagnostics;
using System.IO.MemoryMappedFiles;
using Contention.Workloads.Devices;
using Contention.Workloads.Kernels;
using Contention.Workloads.Sim;

namespace Contention.Workloads.Tests;

// Timed against the modelled GPU: not beside the other timed modelled-GPU tests on a 2-core machine.
[Collection(SimTiming.Name)]
public sealed class SimDeviceTests : IDisposable
{
    private readonly SimGpuHost host = new(0, 4, DeviceProfile.Load("h100") with { LaunchCpuNs = 0 }, TimeSpan.FromMicroseconds(50));

    [Theory]
    [InlineData(SyncMode.Spin)]
    [InlineData(SyncMode.Yield)]
    [InlineData(SyncMode.Block)]
    public void Synchronize_AnySyncMode_WaitsForTheModelledDuration(SyncMode mode)
    {
        var channel = host.Acquire();
        try
        {
            using var device = new SimDevice(new DeviceOptions { Id = new DeviceId(DeviceKind.Sim, 0), SyncMode = mode, SimChannel = channel });
            var kernel = KernelSpec.Gemm(4096, 4096, 4096);
            var expectedNs = device.Model.DurationNs(kernel);
            device.Prepare([kernel]);

            var watch = Stopwatch.StartNew();
            device.Launch(kernel);
            device.Synchronize();
            watch.Stop();

            // Never before the modelled end; after it by no more than a busy 2-core host delays a thread (a CI host's yield loop returned 121 ms late).
            Assert.InRange(watch.Elapsed.TotalMilliseconds, expectedNs / 1e6, (expectedNs / 1e6) + 500);
            Assert.Equal(expectedNs, host.BusyNs(channel.Slot));
            Assert.Equal(expectedNs, device.KernelNs);
        }
        finally
        {
            host.Release(channel.Slot);
        }
    }

    [Fact]
    public void SleepTimings_EachBlockingWaitsSleeps_ItsLastWithoutAnother_WokenNoSoonerThanDue()
    {
        var directory = Directory.CreateTempSubdirectory("contention-sleeps-").FullName;
        var channel = host.Acquire();
        try
        {
            string path;
            using (var device = new SimDevice(new DeviceOptions { Id = new DeviceId(DeviceKind.Sim, 0), SyncMode = SyncMode.Block, SimChannel = channel })
            {
                SleepTimings = HostTimings.Into(directory, "sleep", SimDevice.SleepColumns, 1000),
            })
            {
                var kernel = KernelSpec.Gemm(2048, 2048, 2048);
                Assert.InRange(device.Model.DurationNs(kernel), 200_000, 20_000_000); // long enough that a wait sleeps
                device.Prepare([kernel]);
                for (var i = 0; i < 20; i++)
                {
                    device.Launch(kernel);
                    device.Synchronize();
                }

                path = device.SleepTimings!.Save();
            }

            var lines = File.ReadAllLines(path);
            Assert.Equal("due_ns,woke_ns,spun_ns,lead_ns,again", lines[0]);
            var rows = lines.Skip(1).Select(l => l.Split(',').Select(long.Parse).ToArray()).ToList();
            // Each wait's last sleep has 0 (but on a busy machine: a wait whose thread was off its
            // core until its work was done never slept, or had its work done when it gave up).
            Assert.InRange(rows.Count(r => r[4] == 0), 15, 20);
            Assert.All(rows, r =>
            {
                Assert.InRange(r[0], 1, r[1]);
                Assert.InRange(r[2], 0, long.MaxValue);
                Assert.InRange(r[3], 0, 300_000);
                Assert.InRange(r[4], 0, 1);
            });
        }
        finally
        {
            host.Release(channel.Slot);
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Synchronize_ManyShortBlockingWaitsBesideASpinningEngine_NeverMissesAWakeUp()
    {
        // The tenant publishes its wait and reads the tail while the engine writes the tail and
        // reads the wait; both sides fence between the two, or each could read the other's old
        // value and the tenant would sleep on its FIFO with no one to wake it. A spinning engine
        // publishes within microseconds of the launch, where such races live. A regression
        // check, not a proof: the store-load race needs both sides within nanoseconds, and 20,000
        // waits did not hit it on a 2-core VM with the fences taken out.
        using var spinning = new SimGpuHost(1, 1, DeviceProfile.Load("h100") with { LaunchCpuNs = 0 }, TimeSpan.FromMicroseconds(50), spin: true);
        var channel = spinning.Acquire();
        using var device = new SimDevice(new DeviceOptions { Id = new DeviceId(DeviceKind.Sim, 1), SyncMode = SyncMode.Block, SimChannel = channel });
        var kernel = KernelSpec.Elementwise(1);
        device.Prepare([kernel]);
        var waits = Task.Run(() =>
        {
            for (var i = 0; i < 20_000; i++)
            {
                device.Launch(kernel);
                device.Synchronize();
            }
        });

        var finished = await Task.WhenAny(waits, Task.Delay(TimeSpan.FromSeconds(120)));
        Assert.True(finished == waits, "a blocking synchronise was never woken");
        spinning.Release(channel.Slot);
    }

    [Fact]
    public void Counters_ReadAfterDispose_KeepTheirLastValuesInsteadOfTouchingTheUnmappedFile()
    {
        // A node's tracer may sample a tenant while the node stops its modelled GPUs.
        var stopped = new SimGpuHost(2, 1, DeviceProfile.Load("h100") with { LaunchCpuNs = 0 }, TimeSpan.FromMicroseconds(50));
        var channel = stopped.Acquire();
        using (var device = new SimDevice(new DeviceOptions { Id = new DeviceId(DeviceKind.Sim, 2), SyncMode = SyncMode.Spin, SimChannel = channel }))
        {
            var kernel = KernelSpec.Elementwise(1_000_000);
            device.Prepare([kernel]);
            device.Launch(kernel);
            device.Synchronize();
        }

        var kernelNs = stopped.KernelNs(channel.Slot);
        stopped.Dispose();

        Assert.True(kernelNs > 0);
        Assert.Equal(kernelNs, stopped.KernelNs(channel.Slot));
        Assert.Equal(kernelNs, stopped.BusyNs(channel.Slot));
        Assert.True(stopped.LateNs >= 0 && stopped.Switches >= 0);
    }

    [Fact]
    public void ReleaseAndAcquire_AfterDispose_TouchNothingUnmappedAndSaySo()
    {
        // A tenant may let go of its slot after its node stopped the modelled GPU (a grain
        // deactivated late as the cluster went away): that must not write the unmapped channel.
        var stopped = new SimGpuHost(3, 2, DeviceProfile.Load("h100") with { LaunchCpuNs = 0 }, TimeSpan.FromMicroseconds(50));
        var channel = stopped.Acquire();
        stopped.Dispose();

        stopped.Release(channel.Slot);
        Assert.Null(stopped.TryAcquire(GpuSharing.Timeslice, SimContext.Default, out var why));
        Assert.Contains("stopping", why, StringComparison.Ordinal);
        stopped.Dispose(); // twice: nothing more to do
    }

    [Fact]
    public void Synchronize_TwoTenantsSaturating_EachGetsAboutHalfTheGpu()
    {
        var a = host.Acquire();
        var b = host.Acquire();
        try
        {
            using var first = new SimDevice(new DeviceOptions { Id = new DeviceId(DeviceKind.Sim, 0), SyncMode = SyncMode.Block, SimChannel = a });
            using var second = new SimDevice(new DeviceOptions { Id = new DeviceId(DeviceKind.Sim, 0), SyncMode = SyncMode.Block, SimChannel = b });
            var kernel = KernelSpec.Elementwise(50_000_000);
            var alone = first.Model.DurationNs(kernel) * 40;

            first.Prepare([kernel]);
            second.Prepare([kernel]);
            // Up to three tries: a busy CI machine once held the model's engine thread ~50 ms, and
            // the engine, catching up, ran the first queue out before the second (1 switch).
            var tries = new List<string>();
            for (var attempt = 0; attempt < 3; attempt++)
            {
                // Both queues filled within microseconds from one thread: the GPU model sees two
                // contexts with pending work from the start, however the OS schedules test threads
                // (from two threads, a busy CI machine could start the second 10 ms late: no overlap).
                var switchesBefore = host.Switches;
                var watch = Stopwatch.StartNew();
                for (var i = 0; i < 40; i++)
                {
                    first.Launch(kernel);
                    second.Launch(kernel);
                }

                first.Synchronize();
                second.Synchronize();
                watch.Stop();

                // Both finish near 2·alone plus switch overheads: time-slicing, not parallel execution.
                Assert.True(watch.Elapsed.TotalMilliseconds >= 2 * alone / 1e6, $"took {watch.Elapsed.TotalMilliseconds} ms, alone {alone / 1e6} ms, busy {host.BusyNs(a.Slot)} + {host.BusyNs(b.Slot)} ns, {host.Switches} switches");
                var switches = host.Switches - switchesBefore;
                if (switches > 4)
                {
                    return;
                }

                tries.Add($"{switches} switches in {watch.Elapsed.TotalMilliseconds:0.#} ms (alone {alone / 1e6:0.#} ms)");
            }

            Assert.Fail("the two saturating tenants were not time-sliced in any of three tries: " + string.Join("; ", tries));
        }
        finally
        {
            host.Release(a.Slot);
            host.Release(b.Slot);
        }
    }

    [Fact]
    public void DriverEvents_EachBlockingWaitOfAnyTenant_WakesEveryTenantsEventThread_SpinningWaitsNone()
    {
        var a = host.Acquire();
        var b = host.Acquire();
        try
        {
            using var blocking = new SimDevice(new DeviceOptions { Id = new DeviceId(DeviceKind.Sim, 0), SyncMode = SyncMode.Block, SimChannel = a });
            using var spinning = new SimDevice(new DeviceOptions { Id = new DeviceId(DeviceKind.Sim, 0), SyncMode = SyncMode.Spin, SimChannel = b });
            var kernel = KernelSpec.Gemm(4096, 4096, 4096); // milliseconds: every blocking wait sleeps
            blocking.Prepare([kernel]);
            spinning.Prepare([kernel]);

            // Spinning waits poll: no interrupt.
            for (var i = 0; i < 3; i++)
            {
                spinning.Launch(kernel);
                spinning.Synchronize();
            }

            Assert.Equal(0, blocking.InterruptsSeen);
            Assert.Equal(0, spinning.InterruptsSeen);

            const int Waits = 5;
            for (var i = 0; i < Waits; i++)
            {
                blocking.Launch(kernel);
                blocking.Synchronize();
            }

            // One interrupt a wait (also where a thread held past its spin slept once more; none
            // where a busy host held the tenant until its work was done: SimGpuEngineTests has
            // the exact count), seen by both tenants' event threads: the spinning tenant's too.
            var deadline = Stopwatch.StartNew();
            var settled = 0;
            while (settled < 50 && deadline.Elapsed < TimeSpan.FromSeconds(10))
            {
                var seen = spinning.InterruptsSeen;
                Thread.Sleep(1);
                settled = seen > 0 && seen == spinning.InterruptsSeen && seen == blocking.InterruptsSeen ? settled + 1 : 0;
            }

            Assert.InRange(blocking.InterruptsSeen, 1, Waits);
            Assert.Equal(blocking.InterruptsSeen, spinning.InterruptsSeen);
            Assert.InRange(spinning.DriverEventWakes, 1, spinning.InterruptsSeen);
            Assert.InRange(blocking.DriverEventWakes, 1, blocking.InterruptsSeen);
        }
        finally
        {
            host.Release(a.Slot);
            host.Release(b.Slot);
        }
    }

    [Fact]
    public void Synchronize_FourTenantsOfQuarterGpuKernelsUnderMps_RunSideBySide()
    {
        var slots = Enumerable.Range(0, 4).Select(_ => host.Acquire(GpuSharing.Mps, SimContext.Default)).ToList();
        var devices = slots.Select(slot => new SimDevice(new DeviceOptions { Id = new DeviceId(DeviceKind.Sim, 0), SyncMode = SyncMode.Block, SimChannel = slot })).ToList();
        try
        {
            // 128 blocks, under a quarter of the GPU's resident blocks: four fit side by side.
            var kernel = KernelSpec.Gemm(64, 2048, 1024);
            Assert.InRange(devices[0].Model.Kernel(kernel).SmShare, 0.2, 0.25);
            const int launches = 500;
            var alone = devices[0].Model.DurationNs(kernel) * launches;
            devices.ForEach(d => d.Prepare([kernel]));

            var first = MonotonicClock.NowNs();
            for (var i = 0; i < launches; i++)
            {
                devices.ForEach(d => d.Launch(kernel));
            }

            var spread = MonotonicClock.NowNs() - first;
            devices.ForEach(d => d.Synchronize());

            // On the model's own timeline, so a busy machine cannot make it pass or fail: all four
            // finish about when one alone would (time-sliced, the last would need four times as long).
            var last = slots.Max(slot => host.CompletedAtNs(slot.Slot)) - first;
            Assert.Equal(0, host.Switches);
            Assert.True(last < (1.2 * alone) + spread, $"the last finished {last / 1e6} ms after the first launch; one alone takes {alone / 1e6} ms, launching took {spread / 1e6} ms");
            Assert.Equal(GpuSharing.Mps, host.Sharing);
        }
        finally
        {
            devices.ForEach(d => d.Dispose());
            slots.ForEach(slot => host.Release(slot.Slot));
        }
    }

    [Fact]
    public void Acquire_OtherSharingWhileTenantsAttached_IsRefusedUntilTheyLeave()
    {
        var a = host.Acquire();

        var error = Assert.Throws<InvalidOperationException>(() => host.Acquire(GpuSharing.Mps, SimContext.Default));
        host.Release(a.Slot);
        var b = host.Acquire(GpuSharing.Mps, new SimContext(1, 0.5));
        host.Release(b.Slot);

        Assert.Contains("sim:0 is shared by timeslice by the tenants on it, and this tenant asks for mps", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(0)]
    public void Launch_HeldWhileTheProfilesQueueDepthOfKernelsWaitToStart_UntilOneStarts(int depth)
    {
        // Time-sliced beside a context in a 200 ms slice, a tenant's kernels cannot start until the
        // slice ends. With a launch queue of 4 its fifth launch is held until then (its first
        // kernel starts), the sixth until that kernel (20 ms) ends and the second starts; the first
        // four return at once. With none (0: the ring's 1024 only) no launch is held. Judged by
        // when each launch returns, counted from the other context's launch (a busy machine that
        // holds this thread, or the engine's, makes none return earlier): the fifth after 150 ms,
        // the sixth not before the slice (200 ms) and the first kernel (20 ms) have ended — not by
        // its gap to the fifth, which an engine running 29 ms late on a loaded CI machine closed
        // (both released in one look); the others before 100 ms.
        var returned = LaunchesReturning(Lasting(new CostModel(DeviceProfile.Load("h100")), 20_000_000), 6, depth);
        var said = string.Join(", ", returned.Select(ns => $"{ns / 1e6:0.###} ms"));
        Assert.All(returned[..4], ns => Assert.True(ns < 100_000_000, $"the first four launches returned at once: {said}"));
        if (depth == 0)
        {
            Assert.All(returned[4..], ns => Assert.True(ns < 100_000_000, $"no launch held without a queue depth: {said}"));
        }
        else
        {
            Assert.True(returned[4] >= 150_000_000, $"the fifth launch held until the slice ended: {said}");
            Assert.True(returned[5] >= 219_000_000, $"the sixth launch held until the first kernel ended: {said}");
        }
    }

    [Fact]
    public void Launch_AGemmTheCudaDeviceLaunchesAfterAMemset_TakesTwoPlacesInTheQueue()
    {
        // As measured on an H100 (a 512^3 GEMM, which the cuda device launches as a memset and a
        // kernel over two K slices: 510 behind a long kernel where tiny kernels reach 1,021): with
        // a queue of 4, two such GEMMs fill it, so the third launch is held until the other
        // context's 200 ms slice ends; a 32^3 GEMM (no memset) takes one place, so four of them
        // return at once. Judged by return times, as above.
        var sms = DeviceProfile.Load("h100").Multiprocessors;
        var split = KernelSpec.Gemm(512, 512, 512);
        var whole = KernelSpec.Gemm(32, 32, 32);
        Assert.True(CudaKernels.LaunchesMemsetFirst(split, sms));
        Assert.False(CudaKernels.LaunchesMemsetFirst(whole, sms));
        var splits = LaunchesReturning(split, 3, 4);
        var wholes = LaunchesReturning(whole, 4, 4);
        var said = $"split: {string.Join(", ", splits.Select(ns => $"{ns / 1e6:0.###} ms"))}; whole: {string.Join(", ", wholes.Select(ns => $"{ns / 1e6:0.###} ms"))}";
        Assert.True(splits[0] < 100_000_000 && splits[1] < 100_000_000, $"two split GEMMs returned at once: {said}");
        Assert.True(splits[2] >= 150_000_000, $"the third held until the slice ended: {said}");
        Assert.All(wholes, ns => Assert.True(ns < 100_000_000, $"four whole GEMMs returned at once: {said}"));
    }

    // When each of count launches of kernel returned, ns after another context's 400 ms kernel was
    // launched, time-sliced in 200 ms slices, with a launch queue of depth.
    private static long[] LaunchesReturning(KernelSpec kernel, int count, int depth)
    {
        using var gpu = new SimGpuHost(3, 2, DeviceProfile.Load("h100") with { LaunchCpuNs = 0, TimesliceNs = 200_000_000, LaunchQueueDepth = depth }, TimeSpan.FromMicroseconds(50));
        var a = gpu.Acquire();
        var b = gpu.Acquire();
        using var hog = new SimDevice(new DeviceOptions { Id = new DeviceId(DeviceKind.Sim, 3), SyncMode = SyncMode.Spin, SimChannel = a });
        using var tenant = new SimDevice(new DeviceOptions { Id = new DeviceId(DeviceKind.Sim, 3), SyncMode = SyncMode.Spin, SimChannel = b });
        var start = MonotonicClock.NowNs();
        hog.Launch(Lasting(tenant.Model, 400_000_000));
        Thread.Sleep(20); // the engine takes the hog's kernel within a look (50 us)

        var returned = new long[count];
        for (var i = 0; i < count; i++)
        {
            tenant.Launch(kernel);
            returned[i] = MonotonicClock.NowNs() - start;
        }

        tenant.Synchronize();
        hog.Synchronize();
        gpu.Release(a.Slot);
        gpu.Release(b.Slot);
        return returned;
    }

    // An element-wise kernel the model runs for at least durationNs alone.
    private static KernelSpec Lasting(CostModel model, long durationNs)
    {
        var elements = 1L << 20;
        while (model.DurationNs(KernelSpec.Elementwise(elements)) < durationNs)
        {
            elements *= 2;
        }

        return KernelSpec.Elementwise(elements);
    }

    [Fact]
    public void Launch_LastsTheProfilesLaunchCpuFromItsCall_AndTheKernelLeavesWhenItEnds()
    {
        // The model's own work for a launch (costing the kernel, its draws, writing the queue) is
        // part of the launch's CPU time, not added to it: the call lasts the profile's value from
        // when it began, and the kernel is launched when the call ends (its completion is that
        // plus its duration). 2 ms, so that a loaded machine's noise stays small against it.
        const long launchNs = 2_000_000;
        using var slow = new SimGpuHost(2, 1, DeviceProfile.Load("h100") with { LaunchCpuNs = launchNs, IdleSwitchNs = 0 }, TimeSpan.FromMicroseconds(50));
        var channel = slow.Acquire();
        using var device = new SimDevice(new DeviceOptions { Id = new DeviceId(DeviceKind.Sim, 2), SyncMode = SyncMode.Spin, SimChannel = channel });
        var kernel = KernelSpec.Elementwise(1);
        device.Prepare([kernel]);
        device.Launch(kernel);
        device.Synchronize();
        var earliest = long.MaxValue;
        for (var i = 0; i < 5; i++)
        {
            var called = MonotonicClock.NowNs();
            device.Launch(kernel);
            var returned = MonotonicClock.NowNs();
            device.Synchronize();
            Assert.True(returned - called >= launchNs, $"a launch returned after {returned - called} ns, before the profile's {launchNs}");
            var launched = slow.CompletedAtNs(channel.Slot) - device.Model.DurationNs(kernel);
            Assert.InRange(launched, called + launchNs, returned);
            earliest = Math.Min(earliest, launched - (called + launchNs));
        }

        // The kernel leaves the profile's launch time after the call began, the model's own work
        // inside it: in the earliest of five, within a quarter of the launch time (a launch whose
        // CPU time were counted twice would be a whole launch time late; the model's own ~1 us
        // is below any bound a loaded machine allows). A loaded 2-core CI host preempted the launching thread in all five by up to 74 us, so
        // the bound is not tighter; the call itself may return later still, which says nothing
        // of the model.
        // The engine of a busy host may see the launch late (a CI host: 1.2 ms in all five): its
        // own longest lateness is allowed on top.
        Assert.InRange(earliest, 0, (launchNs / 4) + slow.LongestLateNs);
        slow.Release(channel.Slot);
    }

    [Fact]
    public unsafe void Channel_AnEntry_CarriesWhatTheGpuModelsAKernelBy_APartsWholeKernelToo()
    {
        // What the tenant writes into its ring the engine reads back: a part of a sliced kernel
        // keeps its whole kernel's time (its footprint for the cold starts); the predictor's
        // prior and the most parts stay with the tenant.
        var part = ArbiterPolicy.Part(new SimKernel(1_000_000, 0.75, 0.5, 250_000, 3.5), 1, 4, 0);
        var slot = (byte*)System.Runtime.InteropServices.NativeMemory.AllocZeroed((nuint)SimChannelLayout.SlotBytes);
        try
        {
            SimChannelLayout.WriteEntry(slot, SimChannelLayout.RingSize + 7, part);
            SimChannelLayout.WriteEntry(slot, 8, new SimKernel(5));
            Assert.Equal(part with { PriorNs = 0 }, SimChannelLayout.ReadEntry(slot, 7));
            Assert.Equal((250_000L, 1_000_000L), (part.DurationNs, SimChannelLayout.ReadEntry(slot, 7).WholeKernelNs));
            Assert.Equal(new SimKernel(5), SimChannelLayout.ReadEntry(slot, 8));
        }
        finally
        {
            System.Runtime.InteropServices.NativeMemory.Free(slot);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public unsafe void Engine_BlockedTenantAskingALead_IsWokenThatLongBeforeItsKernelEnds_ElseAtTheEnd(bool asks)
    {
        // A 200 ms kernel, a 150 ms lead: the engine writes the FIFO (and stamps when) between 50
        // and 200 ms after the launch, the kernel still running; without a lead, after the
        // completion is published. The stamp is the engine's, so a busy host that is slow to run
        // this thread when the FIFO fills cannot move it (a CI host once read the FIFO only
        // after a 60 ms kernel had ended, 20 ms after its write).
        const long kernelNs = 200_000_000, leadNs = 150_000_000;
        var channel = host.Acquire();
        using var file = MemoryMappedFile.CreateFromFile(channel.Path, FileMode.Open, null, 0, MemoryMappedFileAccess.ReadWrite);
        using var view = file.CreateViewAccessor();
        byte* pointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        var fifo = NativeMethods.Open(channel.FifoPath, NativeMethods.ORdWr | NativeMethods.OCloExec);
        try
        {
            var slot = SimChannelLayout.Slot(pointer + view.PointerOffset, channel.Slot);
            SimChannelLayout.Field(slot, SimChannelLayout.WakeLeadNs) = asks ? leadNs : 0;
            SimChannelLayout.WriteEntry(slot, 0, new SimKernel(kernelNs));
            var launched = MonotonicClock.NowNs();
            SimChannelLayout.Ring(slot, 0, launched);
            Interlocked.Exchange(ref SimChannelLayout.Field(slot, SimChannelLayout.WaitTarget), 1);

            var available = 0;
            var woke = 0L;
            var tail = -1L;
            while (MonotonicClock.NowNs() - launched < 5_000_000_000)
            {
                if (NativeMethods.Ioctl(fifo, NativeMethods.FionRead, out available) == 0 && available > 0)
                {
                    tail = Volatile.Read(ref SimChannelLayout.Field(slot, SimChannelLayout.CompleteTail));
                    woke = MonotonicClock.NowNs();
                    break;
                }

                Thread.Yield();
            }

            Assert.Equal(1, available);
            var wokenAt = Volatile.Read(ref SimChannelLayout.Field(slot, SimChannelLayout.WokenAtNs));
            Assert.InRange(wokenAt, launched + kernelNs - (asks ? leadNs : 0), woke);
            if (asks)
            {
                Assert.True(wokenAt < launched + kernelNs, $"woken {(wokenAt - launched) / 1e6:0.0} ms after the launch of a {kernelNs / 1e6:0} ms kernel");
            }
            else
            {
                Assert.Equal(1, tail);
            }
        }
        finally
        {
            _ = NativeMethods.Close(fifo);
            view.SafeMemoryMappedViewHandle.ReleasePointer();
            host.Release(channel.Slot);
        }
    }

    [Fact]
    public void Synchronize_BlockingBesideASpinningEngine_AsksALeadAfterItsFirstWakeUpsAndStillWaitsItsKernel()
    {
        // After MinSamples wake-ups the tenant asks to be woken ahead and spins the rest: each
        // synchronise still returns no sooner than its kernel's modelled end. (A wait that found
        // its work done, as a loaded host's may, is no wake-up: synchronise until a lead was asked
        // and ten more after it.)
        using var spinning = new SimGpuHost(1, 1, DeviceProfile.Load("h100") with { LaunchCpuNs = 0 }, TimeSpan.FromMicroseconds(50), spin: true);
        var channel = spinning.Acquire();
        try
        {
            using var device = new SimDevice(new DeviceOptions { Id = new DeviceId(DeviceKind.Sim, 1), SyncMode = SyncMode.Block, SimChannel = channel });
            var kernel = KernelSpec.Gemm(512, 512, 512);
            var expectedNs = device.Model.DurationNs(kernel);
            device.Prepare([kernel]);
            var asked = 0L;
            var count = 0;
            for (var after = 0; after < 10 && count < 5_000; count++)
            {
                var watch = Stopwatch.StartNew();
                device.Launch(kernel);
                device.Synchronize();
                Assert.True(watch.Elapsed.Ticks * 100 >= expectedNs, $"synchronise {count} returned after {watch.Elapsed.TotalMicroseconds:0} us, before its {expectedNs / 1e3:0} us kernel ended");
                after += asked > 0 ? 1 : 0;
                asked = Math.Max(asked, device.WakeLeadNs);
            }

            Assert.True(asked > 0, $"no lead asked in {count} synchronises");
            Assert.Equal(count * expectedNs, spinning.BusyNs(channel.Slot));
        }
        finally
        {
            spinning.Release(channel.Slot);
        }
    }

    [Fact]
    public void Engine_ReadsOnlyTheSlotsTenantsHaveHad_AndStillSeesResetsAndLaunchesInThem()
    {
        using var wide = new Benchmarks.EngineLookBenchmark(1024, 3);
        Assert.Equal(3, wide.ScannedSlots);
        Assert.Equal(1, wide.Launch(2, durationNs: 1_000));
        wide.Attach(700);
        Assert.Equal(701, wide.ScannedSlots);
        Assert.Equal(1, wide.Launch(700, durationNs: 1_000));
    }

    [Fact]
    public void Acquire_AllSlotsTaken_SaysHowToGetMore()
    {
        var taken = Enumerable.Range(0, 4).Select(_ => host.Acquire()).ToList();
        try
        {
            var error = Assert.Throws<InvalidOperationException>(() => host.Acquire());
            Assert.Contains("slot", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            taken.ForEach(c => host.Release(c.Slot));
        }
    }

    public void Dispose() => host.Dispose();
}

/// <summary>Test classes that time modelled-GPU waits run one after another: a spinning engine or tenant beside them would stretch their times.</summary>
[CollectionDefinition(Name)]
public sealed class SimTiming
{
    public const string Name = "modelled GPU timing";
}
