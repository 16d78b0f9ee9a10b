using Contention.Workloads.Arbiter;
using Contention.Workloads.Devices;
using Contention.Workloads.Kernels;
using Contention.Workloads.Sim;

namespace Contention.Workloads.Tests;

// Timed against the modelled GPU: not beside the other timed modelled-GPU tests on a 2-core machine.
[Collection(SimTiming.Name)]
public sealed class ArbitratedDeviceTests : IDisposable
{
    private static readonly DeviceProfile Profile = DeviceProfile.Load("h100") with { LaunchCpuNs = 0 };
    private readonly SimGpuHost host = new(3, 4, Profile, TimeSpan.FromMicroseconds(50));
    private readonly string path = Path.Combine(Path.GetTempPath(), $"contention-arbiter-{Guid.NewGuid():N}");
    private readonly List<SimChannelInfo> channels = [];

    private ArbitratedDevice Open(bool sensitive, long quantumNs = 0)
    {
        if (!File.Exists(path))
        {
            ArbiterGate.Create(path, 4, 500_000, quantumNs).Dispose();
        }

        var channel = host.Acquire();
        channels.Add(channel);
        var device = (ArbitratedDevice)DeviceFactory.Open(new DeviceOptions
        {
            Id = new DeviceId(DeviceKind.Sim, 3),
            SyncMode = SyncMode.Spin,
            SimChannel = channel,
            Arbiter = new ArbiterOptions(path, sensitive),
        });
        return device;
    }

    [Fact]
    public async Task Launch_BestEffortWhileALatencySensitiveOperationIsOpen_WaitsUntilItEnds()
    {
        using var service = Open(sensitive: true);
        using var trainer = Open(sensitive: false);
        var kernel = KernelSpec.Elementwise(1 << 20);
        service.Prepare([kernel]);
        trainer.Prepare([kernel]);

        service.BeginOperation();
        service.Launch(kernel);
        service.Synchronize();
        var training = Task.Run(() =>
        {
            trainer.BeginOperation();
            trainer.Launch(kernel);
            trainer.Synchronize();
            trainer.EndOperation();
            return MonotonicClock.NowNs();
        });

        // Once the trainer asks (a loaded host may start its task late), it waits while the request is open.
        Assert.True(SpinWait.SpinUntil(() => trainer.Member.Launches >= 1, 10_000), "the trainer never launched");
        await Task.Delay(150);
        Assert.False(training.IsCompleted, "the best-effort launch went while the latency-sensitive operation was open");
        var ended = MonotonicClock.NowNs();
        service.EndOperation();
        var trained = await training;

        Assert.True(trained > ended);
        Assert.Equal((1, 1), (trainer.Member.Launches, trainer.Member.Held));
        Assert.InRange(trainer.Member.HeldNs, 1, 10_000_000_000);
        Assert.Equal(0, service.Member.Launches);
        Assert.Contains("arbiter (gating; best-effort", trainer.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void Launch_BestEffortKernelLongerThanTheQuantum_GoesAsPartsOfAboutAQuantum_WithTheKernelsWork()
    {
        using var trainer = Open(sensitive: false, quantumNs: 1_000_000);
        var kernel = KernelSpec.Gemm(8192, 8192, 1024);
        var sim = ((SimDevice)trainer.Inner).Model;
        var modelled = sim.Kernel(kernel);
        var parts = (int)Math.Min((modelled.DurationNs + 999_999) / 1_000_000, ArbiterPolicy.MaxParts(modelled));
        Assert.True(parts > 2, $"the kernel ({modelled.DurationNs} ns) should make several parts");
        trainer.Prepare([kernel]);

        trainer.Launch(kernel);
        trainer.Synchronize();

        Assert.Equal((1L, (long)parts), trainer.Sliced);
        Assert.Equal(parts, trainer.Member.Launches);

        // Each part costs the kernel's fixed cost again (this profile's cost of a part): the
        // kernel's time, and (parts - 1) of it more.
        Assert.Equal(Profile.KernelOverheadNs, trainer.PartCostNs);
        var expected = modelled.DurationNs + ((parts - 1) * Profile.KernelOverheadNs);
        Assert.InRange(trainer.KernelNs!.Value, expected - parts, expected + parts);

        // The parts' predictions add up to the whole kernel's and the parts' costs (the prior: nothing learnt before it).
        Assert.Equal(expected, trainer.Member.PredictedNs);

        // So the predictor learns the kernels' speed (the model's own: 1), not the slicing's cost.
        Assert.Equal(trainer.KernelNs!.Value / (double)expected, trainer.Predictor.Correction, 9);
        Assert.InRange(trainer.Predictor.Correction, 0.999, 1.001);
    }

    [Fact]
    public void PartsPriorNs_EachPartBeyondTheFirst_AtMostHalfTheKernel()
    {
        // 24 us a part (the H200's), a 1 ms kernel: 3 parts add 48 us; one part adds nothing; a
        // 30 us kernel in 2 parts adds at most half of it (15 us), as the model's parts cost.
        Assert.Equal((48_000L, 0L, 15_000L, 0L), (ArbitratedDevice.PartsPriorNs(1_000_000, 3, 24_000), ArbitratedDevice.PartsPriorNs(1_000_000, 1, 24_000), ArbitratedDevice.PartsPriorNs(30_000, 2, 24_000), ArbitratedDevice.PartsPriorNs(1_000_000, 3, 0)));
        var kernel = new SimKernel(30_000, 1, 0.5, 10_000);
        Assert.Equal(kernel.DurationNs + ArbitratedDevice.PartsPriorNs(30_000, 2, 24_000), ArbiterPolicy.Part(kernel, 0, 2, 24_000).ArbiterPriorNs + ArbiterPolicy.Part(kernel, 1, 2, 24_000).ArbiterPriorNs);
    }

    [Fact]
    public async Task Launch_LatencySensitiveRequestBesideASlicedKernel_WaitsForOnePartNotTheWholeKernel()
    {
        // A best-effort GEMM of ~50 ms in 2 ms parts; the service opens a request once three went:
        // the parts not yet launched wait until it ends (a whole kernel, launched at once, would
        // have nothing left to hold: time-slicing alone gave the request ~3 ms here): while it is
        // open — answered, then kept open 30 ms, when ~15 parts would otherwise go — the trainer
        // asks for at most two more (one let go as the request opened, one held).
        // (Its GPU time over the request is no measure on a loaded host: the engine publishes
        // completions late, so parts done before the request opened can count in it.)
        using var service = Open(sensitive: true, quantumNs: 2_000_000);
        using var trainer = Open(sensitive: false);
        var big = KernelSpec.Gemm(8192, 8192, 4096);
        var small = KernelSpec.Elementwise(1024);
        service.Prepare([small]);
        trainer.Prepare([big]);
        var whole = ((SimDevice)trainer.Inner).Model.DurationNs(big);
        Assert.True(whole > 20_000_000, $"the trainer's kernel ({whole} ns) should be long against a part");

        long trained = 0;
        var training = Task.Run(() =>
        {
            trainer.Launch(big);
            trainer.Synchronize();
            trained = MonotonicClock.NowNs();
        });
        Assert.True(SpinWait.SpinUntil(() => trainer.Member.Launches >= 3, 10_000), "the trainer launched nothing");
        service.BeginOperation();
        var before = trainer.Member.Launches;
        service.Launch(small);
        service.Synchronize();
        var answered = MonotonicClock.NowNs();
        Thread.Sleep(30);
        var during = trainer.Member.Launches - before;
        service.EndOperation();
        await training;

        Assert.True(trainer.Sliced.Parts > 10, $"{trainer.Sliced.Parts} parts");
        Assert.True(trainer.Member.Held >= 1, "no part waited for the open request");
        Assert.InRange(during, 0, 2);
        Assert.True(trained > answered);
    }

    [Fact]
    public void Open_ArbiterOnTheCpuDevice_SaysToUseAGpu()
    {
        ArbiterGate.Create(path, 2, 500_000, 0).Dispose();

        var error = Assert.Throws<InvalidOperationException>(() => DeviceFactory.Open(new DeviceOptions { Id = new DeviceId(DeviceKind.Cpu, 0), Arbiter = new ArbiterOptions(path, false) }));

        Assert.Contains("use device cuda or sim with arbiter: gating or slicing", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("NVIDIA H200 (ILGPU CUDA, sync block, pinned host memory)", "h200")]
    [InlineData("NVIDIA H100 80GB HBM3 (ILGPU CUDA, sync spin, pinned host memory)", "h100")]
    [InlineData("Tesla T4 (ILGPU CUDA, sync spin, pinned host memory)", "t4")]
    [InlineData("NVIDIA GeForce RTX 4090 (ILGPU CUDA, sync spin, pinned host memory)", "h200")]
    public void ProfileFor_TheShippedProfileTheGpusNameContains_ElseH200(string description, string profile) =>
        Assert.Equal(profile, DeviceFactory.ProfileFor(description));

    [Theory]
    [InlineData(false, 1.0)]
    [InlineData(true, 0.0)]
    public void TakeInterval_BehindAnArbiter_ReportsABestEffortTenantsPredictorCorrection(bool sensitive, double correction)
    {
        ArbiterGate.Create(path, 4, 500_000, 0).Dispose();
        var channel = host.Acquire();
        channels.Add(channel);
        using var session = new Contention.Workloads.Worker.WorkerSession(new Contention.Workloads.Worker.WorkerStart
        {
            Tenant = sensitive ? "svc" : "train",
            Device = "sim:3",
            SimChannel = channel,
            Arbiter = new ArbiterOptions(path, sensitive),
            Workload = new Contention.Workloads.Workloads.WorkloadSpec { Kind = sensitive ? Contention.Workloads.Workloads.WorkloadKind.Inference : Contention.Workloads.Workloads.WorkloadKind.Training, Model = "mlp", BatchSize = 1 },
        }, threadOnly: true);

        // Before any measurement a best-effort tenant's predictor trusts the profile (1); a
        // latency-sensitive tenant predicts nothing.
        Assert.Equal(correction, session.TakeInterval().ArbiterCorrection);
    }

    public void Dispose()
    {
        channels.ForEach(c => host.Release(c.Slot));
        host.Dispose();
        File.Delete(path);
    }
}

public sealed class DurationPredictorTests
{
    [Fact]
    public void Predict_BeforeAnyMeasurement_IsThePriorPerShape()
    {
        var calls = 0;
        var predictor = new DurationPredictor(k =>
        {
            calls++;
            return k.Elements;
        });

        Assert.Equal(1_000, predictor.Predict(KernelSpec.Elementwise(1_000)));
        Assert.Equal(1_000, predictor.Predict(KernelSpec.Elementwise(1_000)));
        Assert.Equal(5, predictor.Predict(KernelSpec.Elementwise(5)));
        Assert.Equal(2, calls);
    }

    [Fact]
    public void Observe_MeasuredOverPredicted_CorrectsEveryShape_AtTheLeastStretchedRecentBatch()
    {
        var predictor = new DurationPredictor(k => k.Elements);
        predictor.Predict(KernelSpec.Elementwise(1_000));
        predictor.Predict(KernelSpec.Elementwise(3_000));

        predictor.Observe(8_000); // 2x the 4,000 predicted
        Assert.Equal(2.0, predictor.Correction, 9);
        Assert.Equal(200, predictor.Predict(KernelSpec.Elementwise(100)));

        predictor.Observe(400); // this batch's prior was 100: 4x (a neighbour stretched it): the least stays
        Assert.Equal(2.0, predictor.Correction, 9);
        predictor.Predict(KernelSpec.Elementwise(100));
        predictor.Observe(150); // 1.5x: the least
        Assert.Equal(1.5, predictor.Correction, 9);

        predictor.Observe(0); // no measurement (and no prediction): nothing learnt
        Assert.Equal(1.5, predictor.Correction, 9);
        Assert.Equal(3, predictor.Observations);
    }

    [Fact]
    public void Observe_AnOldLeastBatch_LeavesTheWindow()
    {
        var predictor = new DurationPredictor(_ => 100);
        predictor.Predict(KernelSpec.Reduce(1));
        predictor.Observe(50); // 0.5x, then the window's worth of 3x
        for (var i = 0; i < DurationPredictor.Window; i++)
        {
            Assert.Equal(0.5, predictor.Correction, 9);
            predictor.Predict(KernelSpec.Reduce(1));
            predictor.Observe(300);
        }

        Assert.Equal(3.0, predictor.Correction, 9);
    }

    [Fact]
    public void Observe_WildMeasurement_IsBoundedToTwentyTimes()
    {
        var predictor = new DurationPredictor(_ => 10);
        predictor.Predict(KernelSpec.Reduce(1));

        predictor.Observe(1_000_000);

        Assert.Equal(DurationPredictor.MaxCorrection, predictor.Correction);
    }
}
