using System.Diagnostics;
using Contention.Workloads.Arbiter;
using Contention.Workloads.Devices;
using Contention.Workloads.Kernels;

namespace Contention.Workloads.Tests;

/// <summary>
/// The spatial arbiter with pauses (issue 13, <c>CONTENTION_PAUSE=1</c>): what each tenant asks of
/// its device, on a device that records it (the GPU side — CUDA IPC, the stream's write, the
/// kernel's looks — runs on a GPU only; the kernel's pause is tested on the CPU emulator in
/// CudaKernelsTests).
/// </summary>
public sealed class PausingArbiterTests : IDisposable
{
    private readonly string path = Path.Combine(Path.GetTempPath(), $"contention-pause-{Guid.NewGuid():N}");

    public PausingArbiterTests() => ArbiterGate.Create(path, 4, 500_000, 0, holdWhileOpen: false).Dispose();

    [Fact]
    public void LatencySensitiveTenant_SetsItsWordBeforeTheFirstKernelOfAnOperation_ClearsItBeforeTheSynchronise()
    {
        var recorder = new Recorder("service");
        using var service = new ArbitratedDevice(recorder, ArbiterGate.Open(path), sensitive: true, new DurationPredictor(_ => 1_000), pause: true, mps: true);
        var kernel = KernelSpec.Elementwise(1 << 10);

        for (var operation = 0; operation < 2; operation++)
        {
            service.BeginOperation();
            service.Launch(kernel);
            service.Launch(kernel);
            service.Launch(kernel);
            service.Synchronize();
            service.EndOperation();
        }

        // Set once per operation, before its first kernel; cleared after the last, on the stream.
        string[] operationCalls = ["set 1", "launch", "launch", "launch", "set 0", "synchronize"];
        Assert.Equal(["share", .. operationCalls, .. operationCalls], recorder.Calls);
        Assert.Contains("spatial with pauses", service.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void BestEffortTenant_OpensTheWordPublished_AndLetsItGoWhenItsPublisherLeaves()
    {
        var trainerDevice = new Recorder("trainer");
        using var trainer = new ArbitratedDevice(trainerDevice, ArbiterGate.Open(path), sensitive: false, new DurationPredictor(_ => 1_000), pause: true, mps: true);
        var kernel = KernelSpec.Gemm(64, 64, 64);

        // No word yet: its GEMMs go pausable, looking at none.
        trainer.Launch(kernel);
        Assert.Equal(["pause at none", "launch"], trainerDevice.Calls);

        // A service publishes one: the next launch opens it, once.
        var service = new ArbitratedDevice(new Recorder("service"), ArbiterGate.Open(path), sensitive: true, new DurationPredictor(_ => 1_000), pause: true, mps: true);
        trainer.Launch(kernel);
        trainer.Launch(kernel);
        Assert.Equal(["pause at none", "launch", "pause at service", "launch", "launch"], trainerDevice.Calls);

        // It leaves: the next launch closes it.
        service.Dispose();
        trainer.Launch(kernel);
        Assert.Equal(["pause at none", "launch", "pause at service", "launch", "launch", "pause at none", "launch"], trainerDevice.Calls);
    }

    [Fact]
    public void BestEffortTenant_ThePublishersProcessDied_LetsTheWordGo()
    {
        // A service killed with its word set leaves the word set: the trainer's GEMMs would pause
        // until their looks ran out, every one; once its slot is freed the trainer stops looking.
        var trainerDevice = new Recorder("trainer");
        using var gate = ArbiterGate.Open(path);
        using var trainer = new ArbitratedDevice(trainerDevice, ArbiterGate.Open(path), sensitive: false, new DurationPredictor(_ => 1_000), pause: true, mps: true);
        using var service = new ArbitratedDevice(new Recorder("service"), ArbiterGate.Open(path), sensitive: true, new DurationPredictor(_ => 1_000), pause: true, mps: true);
        var kernel = KernelSpec.Gemm(64, 64, 64);
        trainer.Launch(kernel);
        Assert.Equal("pause at service", trainerDevice.Calls[^2]);

        gate.SetPid(service.Member.Slot, ExitedPid());
        Assert.Equal(1, gate.FreeDead(gate.Read()));
        trainer.Launch(kernel);

        Assert.Equal(["pause at none", "pause at service", "launch", "pause at none", "launch"], trainerDevice.Calls);
    }

    [Fact]
    public void Pause_OffOrUnderGating_AsksNothingOfTheDevice()
    {
        // Without pause, or with it but under gating (an open request holds every launch there), the
        // device is asked for no word and its GEMMs launch as they would.
        var gating = path + "-gating";
        ArbiterGate.Create(gating, 4, 500_000, 0).Dispose();
        try
        {
            var off = new Recorder("off");
            var gated = new Recorder("gated");
            using (var a = new ArbitratedDevice(off, ArbiterGate.Open(path), sensitive: true, new DurationPredictor(_ => 1_000), pause: false))
            using (var b = new ArbitratedDevice(gated, ArbiterGate.Open(gating), sensitive: true, new DurationPredictor(_ => 1_000), pause: true, mps: true))
            {
                a.Launch(KernelSpec.Gemm(64, 64, 64));
                b.Launch(KernelSpec.Gemm(64, 64, 64));
            }

            Assert.Equal(["launch"], off.Calls);
            Assert.Equal(["launch"], gated.Calls);
        }
        finally
        {
            File.Delete(gating);
        }
    }

    [Fact]
    public void Pause_NotAnMpsClient_NothingPauses_AndTheDescriptionSaysWhy()
    {
        // Time-sliced, a paused kernel would keep its context's time slice: the service would wait
        // for it all the same, and the trainer would do nothing meanwhile.
        var device = new Recorder("trainer");
        using var trainer = new ArbitratedDevice(device, ArbiterGate.Open(path), sensitive: false, new DurationPredictor(_ => 1_000), pause: true, mps: false);

        trainer.Launch(KernelSpec.Gemm(64, 64, 64));

        Assert.Equal(["launch"], device.Calls);
        Assert.Contains("no MPS client", trainer.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void Gate_StopWord_ReadFromAnotherMappingAsPublished()
    {
        using var first = ArbiterGate.Open(path);
        using var second = ArbiterGate.Open(path);
        using var service = first.Join(sensitive: true);
        var handle = Enumerable.Range(0, CudaDriver.IpcHandleBytes).Select(i => (byte)(i * 3)).ToArray();
        var read = new byte[CudaDriver.IpcHandleBytes];

        Assert.Equal(0, second.ReadStopWord(read));
        first.PublishStopWord(service, handle);

        Assert.Equal(service.Token, second.ReadStopWord(read));
        Assert.Equal(handle, read);
        Assert.Throws<ArgumentException>(() => first.PublishStopWord(service, new byte[8]));
        service.Dispose();
        Assert.Equal(0, second.StopWordOwner);
        Assert.Equal(0, second.ReadStopWord(read));
        Assert.All(read, b => Assert.Equal(0, b));
    }

    [Fact]
    public async Task StreamGate_BestEffortTenant_WaitsAtTheWordOnItsStream_SlicedByTheQuantum_NotHeldByAnOpenRequest()
    {
        // CONTENTION_PAUSE=stream: the trainer's stream waits at the service's word on the GPU, so
        // neither an open request (a reduction, which the spatial arbiter would hold, included) nor
        // the outstanding bound holds its launches on the host, and its kernels go in slices of the
        // arbiter's quantum.
        var sliced = path + "-sliced";
        // A bound of 1 us: it would hold every slice after the first if it applied.
        ArbiterGate.Create(sliced, 4, 1_000, 100_000, holdWhileOpen: false).Dispose();
        try
        {
            var trainerDevice = new Recorder("trainer");
            using var trainer = new ArbitratedDevice(trainerDevice, ArbiterGate.Open(sliced), sensitive: false, new DurationPredictor(_ => 250_000), mps: true, streamGate: true);
            using var service = new ArbitratedDevice(new Recorder("service"), ArbiterGate.Open(sliced), sensitive: true, new DurationPredictor(_ => 1_000), mps: true, streamGate: true);
            Assert.Contains("stream waits", trainer.Description, StringComparison.Ordinal);
            Assert.Contains("slices of 100 us", trainer.Description, StringComparison.Ordinal);

            service.BeginOperation();
            var launched = Task.Run(() =>
            {
                trainer.Launch(KernelSpec.Reduce(1 << 20));
                trainer.Launch(KernelSpec.Gemm(512, 512, 512));
            });
            Assert.True(await Task.WhenAny(launched, Task.Delay(TimeSpan.FromSeconds(10))) == launched, "a request open held the stream-gated trainer's launches on the host");
            service.EndOperation();

            // The word opened first; each kernel 250 us predicted, so three slices of the quantum.
            Assert.Equal(["wait at none", "wait at service", "part 0/3", "part 1/3", "part 2/3", "part 0/3", "part 1/3", "part 2/3"], trainerDevice.Calls);
            Assert.Equal((0L, 6L), (trainer.Member.Held, trainer.Member.Launches));
        }
        finally
        {
            File.Delete(sliced);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void StreamGate_LatencySensitiveTenant_KeepsItsWordSetUntilItsOperationEnds_OrClearsItAfterEachRequest(bool eachRequest)
    {
        // Trainers waiting at the word on the GPU would slip a slice in between two requests queued
        // in one operation if it were cleared at each synchronise (CONTENTION_PAUSE=stream-request).
        var recorder = new Recorder("service");
        using var service = new ArbitratedDevice(recorder, ArbiterGate.Open(path), sensitive: true, new DurationPredictor(_ => 1_000), mps: true, streamGate: true, clearEachRequest: eachRequest);
        var kernel = KernelSpec.Elementwise(1 << 10);

        service.BeginOperation();
        for (var request = 0; request < 2; request++)
        {
            service.Launch(kernel);
            service.Launch(kernel);
            service.Synchronize();
        }

        service.EndOperation();

        string[] expected = eachRequest
            ? ["share", "set 1", "launch", "launch", "set 0", "synchronize", "set 1", "launch", "launch", "set 0", "synchronize"]
            : ["share", "set 1", "launch", "launch", "synchronize", "launch", "launch", "synchronize", "set 0"];
        Assert.Equal(expected, recorder.Calls);
    }

    [Fact]
    public void StreamGate_ClearUnlessQueued_ClearsAfterARequestOnlyWhenTheNextHasNotArrived()
    {
        // CONTENTION_PAUSE=stream-next: the first request's successor has already arrived (the
        // word stays set into it); the second's arrives an hour on (cleared after its last kernel).
        var recorder = new Recorder("service");
        using var service = new ArbitratedDevice(recorder, ArbiterGate.Open(path), sensitive: true, new DurationPredictor(_ => 1_000), mps: true, streamGate: true, clearUnlessQueued: true);
        var kernel = KernelSpec.Elementwise(1 << 10);

        service.BeginOperation();
        service.NextArrival(Sim.MonotonicClock.NowNs() - 1_000);
        service.Launch(kernel);
        service.Synchronize();
        service.NextArrival(Sim.MonotonicClock.NowNs() + 3_600_000_000_000);
        service.Launch(kernel);
        service.Synchronize();
        service.EndOperation();

        Assert.Equal(["share", "set 1", "launch", "synchronize", "launch", "set 0", "synchronize"], recorder.Calls);
    }

    [Fact]
    public void StreamGate_ThePublishersProcessDied_TheWatchdogClearsTheWordOnce()
    {
        // A stream waiting at a word has no bound of its own: killed with its word set, the service
        // would hold the trainers' streams (and their threads, in their synchronise) for good.
        var trainerDevice = new Recorder("trainer");
        using var gate = ArbiterGate.Open(path);
        using var trainer = new ArbitratedDevice(trainerDevice, ArbiterGate.Open(path), sensitive: false, new DurationPredictor(_ => 1_000), mps: true, streamGate: true, watchdogPeriod: Timeout.InfiniteTimeSpan);
        using var service = new ArbitratedDevice(new Recorder("service"), ArbiterGate.Open(path), sensitive: true, new DurationPredictor(_ => 1_000), mps: true, streamGate: true);
        trainer.Launch(KernelSpec.Gemm(64, 64, 64));
        Assert.Equal("wait at service", trainerDevice.Calls[^2]);

        // Alive: nothing cleared.
        Assert.False(trainer.WatchPublisher());
        Assert.DoesNotContain("clear", trainerDevice.Calls);

        gate.SetPid(service.Member.Slot, ExitedPid());
        Assert.True(trainer.WatchPublisher());
        Assert.False(trainer.WatchPublisher());
        Assert.Single(trainerDevice.Calls, "clear");
        Assert.Equal(0, gate.StopWordOwner);
        Assert.All(gate.Read(), state => Assert.NotEqual(service.Member.Token, state.Owner));

        // The next launch lets the dead word go.
        trainer.Launch(KernelSpec.Gemm(64, 64, 64));
        Assert.Equal(["clear", "wait at none", "launch"], trainerDevice.Calls[^3..]);
    }

    [Fact]
    public void StreamGate_TheWatchdogLooksByItself()
    {
        var trainerDevice = new Recorder("trainer");
        using var gate = ArbiterGate.Open(path);
        using var trainer = new ArbitratedDevice(trainerDevice, ArbiterGate.Open(path), sensitive: false, new DurationPredictor(_ => 1_000), mps: true, streamGate: true);
        using var service = new ArbitratedDevice(new Recorder("service"), ArbiterGate.Open(path), sensitive: true, new DurationPredictor(_ => 1_000), mps: true, streamGate: true);
        trainer.Launch(KernelSpec.Gemm(64, 64, 64));
        gate.SetPid(service.Member.Slot, ExitedPid());

        var deadline = Stopwatch.StartNew();
        while (!trainerDevice.Cleared && deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            Thread.Sleep(10);
        }

        Assert.True(trainerDevice.Cleared, "the watchdog did not clear a dead publisher's word within 30 s");
    }

    [Fact]
    public void StreamGate_NotAnMpsClient_NoWaits()
    {
        var device = new Recorder("trainer");
        using var trainer = new ArbitratedDevice(device, ArbiterGate.Open(path), sensitive: false, new DurationPredictor(_ => 1_000), mps: false, streamGate: true);

        trainer.Launch(KernelSpec.Gemm(64, 64, 64));

        Assert.Equal(["launch"], device.Calls);
        Assert.Contains("no MPS client", trainer.Description, StringComparison.Ordinal);
    }

    private static int ExitedPid()
    {
        using var process = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        process.WaitForExit();
        return process.Id;
    }

    public void Dispose() => File.Delete(path);

    // A device that records what it is asked; its shared word's handle is its name, padded.
    private sealed class Recorder(string name) : IComputeDevice, IPausingDevice, ISlicingDevice
    {
        private volatile bool cleared;

        public List<string> Calls { get; } = [];

        public bool Cleared => cleared;

        public DeviceId Id { get; } = new(DeviceKind.Sim, 0);

        public string Description => name;

        public SyncMode SyncMode => SyncMode.Spin;

        public long? KernelNs => 0;

        public void Prepare(IEnumerable<KernelSpec> kernels)
        {
        }

        public void Release()
        {
        }

        public void Launch(in KernelSpec kernel) => Calls.Add("launch");

        public void Synchronize() => Calls.Add("synchronize");

        public byte[] ShareStopWord()
        {
            Calls.Add("share");
            var handle = new byte[CudaDriver.IpcHandleBytes];
            System.Text.Encoding.ASCII.GetBytes(name).CopyTo(handle, 0);
            return handle;
        }

        public void SetStopWord(bool stopped) => Calls.Add(stopped ? "set 1" : "set 0");

        public void PauseAt(ReadOnlySpan<byte> handle) => Calls.Add(handle.IsEmpty ? "pause at none" : "pause at " + System.Text.Encoding.ASCII.GetString(handle).TrimEnd('\0'));

        public void WaitAt(ReadOnlySpan<byte> handle) => Calls.Add(handle.IsEmpty ? "wait at none" : "wait at " + System.Text.Encoding.ASCII.GetString(handle).TrimEnd('\0'));

        public bool ClearWaitedWord()
        {
            lock (Calls)
            {
                Calls.Add("clear");
            }

            cleared = true;
            return true;
        }

        public int MaxParts(in KernelSpec kernel) => 64;

        public void LaunchPart(in KernelSpec kernel, int part, int parts) => Calls.Add($"part {part}/{parts}");

        public void Dispose()
        {
        }
    }
}
