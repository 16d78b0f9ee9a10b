using Contention.Client.Commands;
using Contention.Client.Mixes;
using Contention.Client.Simulation;

namespace Contention.Client.Tests;

public sealed class PlacementTests : IDisposable
{
    private const string NodesHeader = "sn,cpu_milli,memory_mib,gpu,model";
    private const string PodsHeader = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time";
    private readonly string directory = Directory.CreateTempSubdirectory("contention-trace-").FullName;

    private ClusterTrace Trace(string nodes, string pods) => Alibaba(directory, nodes, pods);

    /// <summary>An Alibaba-format trace of <paramref name="nodes"/> and <paramref name="pods"/> (lines without headers) written into <paramref name="directory"/> and read.</summary>
    internal static ClusterTrace Alibaba(string directory, string nodes, string pods)
    {
        File.WriteAllText(Path.Combine(directory, ClusterTrace.AlibabaNodes), $"{NodesHeader}\n{nodes}");
        File.WriteAllText(Path.Combine(directory, ClusterTrace.AlibabaPods), $"{PodsHeader}\n{pods}");
        return ClusterTrace.LoadAlibaba(directory);
    }

    [Fact]
    public void LoadAlibaba_WellFormed_ReadsNodesAndPods()
    {
        var trace = Trace("n0,32000,262144,2,T4\nn1,16000,65536,0,\n", "p0,6000,12288,1,460,,LS,Running,0,100,0\np1,4000,8192,0,0,,BE,Pending,5,9,\np2,8000,16384,2,1000,V100M16|T4,Burstable,Failed,7,70,8\n");

        Assert.Equal([new TraceNode("n0", 32000, 262144, 2, "T4"), new TraceNode("n1", 16000, 65536, 0, "")], trace.Nodes);
        Assert.Equal(3, trace.Pods.Count);
        Assert.Equal((1, 460, "LS", 0L, 100L, (long?)0), (trace.Pods[0].Gpus, trace.Pods[0].GpuMilli, trace.Pods[0].Qos, trace.Pods[0].CreationSeconds, trace.Pods[0].DeletionSeconds, trace.Pods[0].ScheduledSeconds));
        Assert.Null(trace.Pods[1].ScheduledSeconds);
        Assert.Equal(["V100M16", "T4"], trace.Pods[2].GpuModels);
    }

    [Theory]
    [InlineData("p0,6000,12288,1,abc,,LS,Running,0,100,0", "openb_pod_list_default.csv:2:17: gpu_milli: 'abc' is not a whole number")]
    [InlineData("p0,6000,12288,1,460,,XX,Running,0,100,0", "openb_pod_list_default.csv:2:22: qos: 'XX' is no class of service")]
    [InlineData("p0,6000,12288,2,500,,LS,Running,0,100,0", "openb_pod_list_default.csv:2:17: gpu_milli: a pod of 2 GPUs takes them whole")]
    [InlineData("p0,6000,12288,1,1001,,LS,Running,0,100,0", "openb_pod_list_default.csv:2:17: gpu_milli: 1001 is outside 0..1000")]
    [InlineData("p0,6000,12288,1,460,,LS,Running,50,10,0", "openb_pod_list_default.csv:2:36: deletion_time: deleted (10) before it was created (50)")]
    [InlineData("p0,6000,12288,1,460,,LS", "openb_pod_list_default.csv:2:1: line: expected 11 fields")]
    public void LoadAlibaba_BadPod_NamesFileLineColumnAndField(string pod, string expected)
    {
        var error = Assert.Throws<MixException>(() => Trace("n0,32000,262144,2,T4\n", pod + "\n"));

        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadAlibaba_NodeWithGpusButNoModelOrMissingFiles_SaysWhat()
    {
        Assert.StartsWith("openb_node_list_all_node.csv:2:19: model: a node with GPUs needs its GPU model", Assert.Throws<MixException>(() => Trace("n0,32000,262144,2,\n", "")).Message, StringComparison.Ordinal);
        File.Delete(Path.Combine(directory, ClusterTrace.AlibabaPods));
        Assert.Contains("expected the Alibaba GPU trace v2023", Assert.Throws<MixException>(() => ClusterTrace.LoadAlibaba(directory)).Message, StringComparison.Ordinal);
    }

    // Node a: 2 GPUs; node b: 1 GPU; node c: 2 GPUs of another model. Plenty of CPU and memory.
    private const string HandMade = "a,64000,262144,2,T4\nb,64000,262144,1,T4\nc,64000,262144,2,V100M16\n";

    private static string Pod(string name, int gpus, int milli, int created, string spec = "") => $"{name},1000,1024,{gpus},{milli},{spec},LS,Running,{created},1000,{created}\n";

    [Fact]
    public void Place_FirstFit_TakesTheFirstNodeAndGpuThatFit()
    {
        var trace = Trace(HandMade, Pod("half", 1, 500, 0) + Pod("whole", 1, 1000, 1) + Pod("quarter", 1, 250, 2) + Pod("pair", 2, 1000, 3));
        var snapshot = PlacementSnapshot.Run(trace, PlacementPolicy.FirstFit);

        // half -> a/0; whole -> a/1 (a/0 is not free); quarter -> a/0 (first with room); pair -> c (a and b lack two free GPUs).
        Assert.Equal([(0, "0"), (0, "1"), (0, "0"), (2, "0,1")], snapshot.Placements.Select(p => (p.Node, string.Join(',', p.Gpus))));
        Assert.Equal(250, snapshot.Capacity.FreeGpuMilli(0, 0));
        Assert.Equal((1, 1, 250L), (snapshot.Capacity.IdleGpus, snapshot.Capacity.PartlyUsedGpus, snapshot.Capacity.StrandedGpuMilli));
    }

    [Fact]
    public void Place_BestFitPacksAndWorstFitSpreads()
    {
        // A 0.6 pod, then a 0.4 one: best-fit puts both on b's single GPU (the node left with least
        // free each time), worst-fit the first on a (most left free, first of a tie with c) and the
        // second on c (2000 left free against a's 1000), stranding 0.4 and 0.6 of two GPUs.
        var pods = Pod("seed", 1, 600, 0) + Pod("small", 1, 400, 1);
        var best = PlacementSnapshot.Run(Trace(HandMade, pods), PlacementPolicy.BestFit);
        var worst = PlacementSnapshot.Run(Trace(HandMade, pods), PlacementPolicy.WorstFit);

        Assert.Equal((1, 0), (best.Placements[0].Node, best.Placements[0].Gpus[0])); // the 0.6 packs onto b (400 left there, 1400 on a or c)
        Assert.Equal((1, 0), (best.Placements[1].Node, best.Placements[1].Gpus[0])); // and the 0.4 fills b's GPU exactly
        Assert.Equal(0, best.Capacity.StrandedGpuMilli);
        Assert.Equal(0, worst.Placements[0].Node); // a: 2 GPUs free, first of the most-free
        Assert.Equal((2, 0), (worst.Placements[1].Node, worst.Placements[1].Gpus[0])); // c: 2000 left free against a's 1400
        Assert.Equal(400 + 600, worst.Capacity.StrandedGpuMilli);
    }

    [Fact]
    public void Place_NamedModelsCapacityAndOrder_AreHonoured()
    {
        // Created out of file order: "later" (created at 5) is tried after "first" (created at 1).
        var trace = Trace(HandMade, Pod("later", 1, 1000, 5, "V100M16") + Pod("first", 2, 1000, 1) + Pod("big", 8, 1000, 2) + Pod("cpu", 0, 0, 3));
        var snapshot = PlacementSnapshot.Run(trace, PlacementPolicy.FirstFit);

        Assert.Equal(["first", "big", "cpu", "later"], snapshot.Placements.Select(p => p.Pod.Name));
        Assert.Equal(0, snapshot.Placements[0].Node); // two whole GPUs: a
        Assert.False(snapshot.Placements[1].Placed); // eight GPUs: no node has them
        Assert.Equal((0, 0), (snapshot.Placements[2].Node, snapshot.Placements[2].Gpus.Count)); // CPU only: a has the CPU
        Assert.Equal(2, snapshot.Placements[3].Node); // V100M16 only: c
        Assert.Equal("big", snapshot.FirstUnplacedGpuPod!.Pod.Name);
    }

    public void Dispose() => Directory.Delete(directory, recursive: true);
}

public sealed class ContentionAwarePlacementTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("contention-aware-").FullName;

    private ClusterTrace Trace(string nodes, string pods) => PlacementTests.Alibaba(directory, nodes, pods);

    private static string Pod(string name, string qos, int milli, int created) => $"{name},1000,1024,1,{milli},,{qos},Running,{created},1000,{created}\n";

    private static SimulatedHarm Harm(Contention.Grains.GpuSharing sharing) =>
        new(TraceSimulation.CheckMapping(MixParser.Load(Path.Combine(AppContext.BaseDirectory, "mixes", "traces", "alibaba-v2023.yaml"))), m => m.ToLowerInvariant(), sharing);

    [Fact]
    public void Place_ServiceAfterServiceAndTrainer_GoesBesideTheServiceNotTheTrainer()
    {
        // Two nodes of one A10. A service takes a; a trainer then prefers the empty b (no harm)
        // to sharing a; a second service fits both: best-fit packs it beside the trainer (b is the
        // fuller GPU), contention-aware beside the first service (a trainer's time slices would
        // multiply its tail under time-slicing).
        var trace = Trace("a,64000,262144,1,A10\nb,64000,262144,1,A10\n", Pod("s1", "LS", 300, 0) + Pod("t", "BE", 500, 1) + Pod("s2", "LS", 300, 2));

        var aware = PlacementSnapshot.Run(trace, PlacementPolicy.ContentionAwareTimeslice, Harm(Contention.Grains.GpuSharing.Timeslice));
        var packed = PlacementSnapshot.Run(trace, PlacementPolicy.BestFit);

        Assert.Equal([0, 1, 0], aware.Placements.Select(p => p.Node));
        Assert.Equal(1, packed.Placements.Single(p => p.Pod.Name == "s2").Node);
    }

    [Fact]
    public void Harm_EmptyGpuNothing_TrainerBesideServiceMoreThanServiceBesideService()
    {
        var harm = Harm(Contention.Grains.GpuSharing.Timeslice);
        var trace = Trace("a,64000,262144,1,A10\n", Pod("s1", "LS", 300, 0) + Pod("t", "BE", 500, 1) + Pod("s2", "LS", 300, 2));
        var (s1, t, s2) = (trace.Pods[0], trace.Pods[1], trace.Pods[2]);

        Assert.Equal(0, harm.Harm("A10", [], s2));
        Assert.True(harm.Harm("A10", [t], s2) > 5 * harm.Harm("A10", [s1], s2), $"beside the trainer {harm.Harm("A10", [t], s2)}, beside the service {harm.Harm("A10", [s1], s2)}");
        Assert.Equal(harm.Harm("A10", [t], s2), harm.Harm("A10", [t], s2)); // remembered, the same
        Assert.Equal(4, harm.Simulations); // t with s2, t alone, s1 with s2, a service alone (s1 and s2 alike)
    }

    [Fact]
    public void Place_ContentionAwareWithoutAPrediction_SaysWhatIsMissing()
    {
        var trace = Trace("a,64000,262144,1,A10\n", Pod("s1", "LS", 300, 0));

        var error = Assert.Throws<InvalidOperationException>(() => PlacementSnapshot.Run(trace, PlacementPolicy.ContentionAwareMps));

        Assert.Contains("give the cluster an IPlacementHarm", error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(directory, recursive: true);
}

public sealed class TraceSimulationTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("contention-trace-sim-").FullName;

    private static Mix Mapping() => TraceSimulation.CheckMapping(MixParser.Load(Path.Combine(AppContext.BaseDirectory, "mixes", "traces", "alibaba-v2023.yaml")));

    private ClusterTrace Trace(string nodes, string pods) => PlacementTests.Alibaba(directory, nodes, pods);

    private static string Pod(string name, string qos, int gpus, int milli, int created) => $"{name},1000,1024,{gpus},{milli},,{qos},Running,{created},1000,{created}\n";

    [Fact]
    public void CoresFor_PodsOutnumberingTheirGpusShareOfTheNodesCores_ShareThemAndTheKeySaysSo()
    {
        // a: 4 cores over 2 GPUs (2 each); b: 64 cores over 1 GPU; c: no CPUs given.
        var trace = Trace("a,4000,262144,2,A10\nb,64000,262144,1,A10\nc,0,262144,1,A10\n", Pod("s1", "LS", 1, 200, 0));
        var simulation = new TraceSimulation(trace, Mapping(), new Dictionary<string, string>(), 0.5, 2);

        Assert.Equal(0, simulation.CoresFor(0, 2)); // two pods, two cores: a core each
        Assert.Equal(2, simulation.CoresFor(0, 3));
        Assert.Equal(0, simulation.CoresFor(1, 30));
        Assert.Equal(64, simulation.CoresFor(1, 65));
        Assert.Equal(0, simulation.CoresFor(2, 10));
        var pods = trace.Pods.Take(1).ToList();
        Assert.EndsWith("|cores 2", TraceSimulation.Key("A10", Contention.Grains.GpuSharing.Mps, pods, 2), StringComparison.Ordinal);
        Assert.DoesNotContain("cores", TraceSimulation.Key("A10", Contention.Grains.GpuSharing.Mps, pods), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Simulate_WeightedSlices_AFifthGpuTrainerHoldsTheGpuAQuarterAsLongAsAService()
    {
        // One A10: a service with 800 milli beside a trainer with 200, time-sliced. Weighted, the
        // trainer's slice is a quarter of the service's, so the service waits a shorter slice out;
        // the light service's queue runs dry long before its own slice ends, so the trainer loses nothing.
        var trace = Trace("a,64000,262144,1,A10\n", Pod("s1", "LS", 1, 800, 0) + Pod("t1", "BE", 1, 200, 1));
        var snapshot = PlacementSnapshot.Run(trace, PlacementPolicy.FirstFit);
        var results = new Dictionary<bool, IReadOnlyList<TraceTenantResult>>();
        foreach (var weighted in new[] { false, true })
        {
            var simulation = new TraceSimulation(trace, Mapping(), new Dictionary<string, string>(), 0.5, 2) { WeightedSlices = weighted };
            simulation.Plan(snapshot, Contention.Grains.GpuSharing.Timeslice);
            await using var node = await SimulateCommand.OpenAsync(new RunOptions(Mapping(), null, null, 0, 1, t => t, ""), CancellationToken.None);
            Assert.False((await simulation.SimulateAsync(node.Client, Consoles.Plain(new StringWriter()), CancellationToken.None)).Interrupted);
            results[weighted] = simulation.Results(snapshot, Contention.Grains.GpuSharing.Timeslice).Tenants;
        }

        double P99(bool weighted) => results[weighted].Single(r => r.Pod.Name == "s1").P99Ms;
        double Steps(bool weighted) => results[weighted].Single(r => r.Pod.Name == "t1").Throughput;
        Assert.True(P99(true) < 0.6 * P99(false), $"service p99 {P99(true)} ms weighted, {P99(false)} ms not");

        // Within 5 %, or a step of the 2 s window: where a step ends in the window moves with the
        // trainer's phase.
        Assert.InRange(Steps(true), (0.95 * Steps(false)) - 0.5, (1.05 * Steps(false)) + 0.5);
    }

    [Fact]
    public async Task Simulate_ServiceBesideTrainer_HarmedTimeSlicedLessUnderMpsAndIdenticalGpusReused()
    {
        // Two nodes of one A10 each (datasheet-scaled profile): on each, a half-GPU service (LS) and
        // a half-GPU trainer (BE), placed first-fit; then a 2-GPU trainer on a two-GPU node.
        var trace = Trace("a,64000,262144,1,A10\nb,64000,262144,1,A10\nc,64000,262144,2,T4\n",
            Pod("s1", "LS", 1, 500, 0) + Pod("t1", "BE", 1, 500, 1) + Pod("s2", "LS", 1, 500, 2) + Pod("t2", "BE", 1, 500, 3) + Pod("pair", "BE", 2, 1000, 4));
        var snapshot = PlacementSnapshot.Run(trace, PlacementPolicy.FirstFit);
        var simulation = new TraceSimulation(trace, Mapping(), new Dictionary<string, string>(), 0.5, 2) { OsModel = Contention.Workloads.Sim.OsCostModel.Shipped("h200") };

        simulation.Plan(snapshot, Contention.Grains.GpuSharing.Timeslice);
        var units = simulation.Plan(snapshot, Contention.Grains.GpuSharing.Mps);
        await using (var node = await SimulateCommand.OpenAsync(new RunOptions(Mapping(), null, null, 0, 1, t => t, ""), CancellationToken.None))
        {
            var outcome = await simulation.SimulateAsync(node.Client, Consoles.Plain(new StringWriter()), CancellationToken.None);
            Assert.False(outcome.Interrupted);
        }

        var (sliced, gpus, simulated, events) = simulation.Results(snapshot, Contention.Grains.GpuSharing.Timeslice);
        var (spatial, _, _, _) = simulation.Results(snapshot, Contention.Grains.GpuSharing.Mps);

        // Per mode: a's and b's GPU alike, c's two GPUs alike, LS and BE alone on an A10 (the pair's
        // trainer alone on a T4 is its co-location): 4 units, 8 for both modes.
        Assert.Equal(8, units);
        Assert.Equal((4, 2), (gpus, simulated));
        Assert.True(events > 0);
        Assert.Equal(6, sliced.Count); // one row per pod and GPU: the pair has two
        Assert.Equal(2, sliced.Count(r => r.Pod.Name == "pair"));
        var s1 = sliced.Single(r => r.Pod.Name == "s1");
        // The host side from the shipped H200 OS model (block sync): some CPU, and sync-wait calls.
        Assert.InRange(s1.CpuCores, 0.001, 1);
        Assert.True(s1.Os["calls_sync-wait"] > 0);
        Assert.InRange(s1.KernelShare, 0.001, 1);
        var s2 = sliced.Single(r => r.Pod.Name == "s2");
        Assert.False(s1.Reused);
        Assert.True(s2.Reused);
        Assert.Equal((s1.P99Ms, s1.Throughput), (s2.P99Ms, s2.Throughput));

        // Time-sliced, the service waits out the trainer's slices; under MPS it runs beside it,
        // slowed by the trainer's blocks on its multiprocessors (on the H200 a batch-1 service
        // beside one MPS trainer had a p99 of 1.8 ms, several times its own alone) but waiting
        // for no slice: well under the time-sliced tail.
        Assert.False(s1.SloMet(2), $"time-sliced p99 {s1.P99Ms} ms, alone {s1.AloneP99Ms} ms");
        var m1 = spatial.Single(r => r.Pod.Name == "s1");
        Assert.True(m1.P99Ms < 0.5 * s1.P99Ms, $"mps p99 {m1.P99Ms} ms, time-sliced {s1.P99Ms} ms");
        // The trainer gives the GPU up for each request (and two switches): slower, a little.
        Assert.InRange(sliced.Single(r => r.Pod.Name == "t1").Slowdown, 1.01, 1.5);
        Assert.All(sliced.Where(r => r.Pod.Name == "pair"), r => Assert.Equal((1, 1.0), (r.Sharers, Math.Round(r.Slowdown, 2))));
    }

    [Theory]
    [InlineData("name: m\ntenants:\n  - name: LS\n    kind: inference\n  - name: BE\n    kind: training\n", "no tenant named Burstable")]
    [InlineData("name: m\ntenants:\n  - name: LS\n    kind: microbench\n  - name: BE\n    kind: training\n  - name: Burstable\n    kind: training\n  - name: Guaranteed\n    kind: training\n", "tenant LS: a pod runs an inference or a training tenant")]
    [InlineData("name: m\ntenants:\n  - name: LS\n    kind: inference\n  - name: BE\n    kind: training\n  - name: Burstable\n    kind: training\n  - name: Guaranteed\n    kind: training\n  - name: other\n    kind: training\n", "tenant other: the mapping's tenants are named by class of service")]
    public void CheckMapping_NotOneTenantPerClass_SaysWhat(string text, string expected) =>
        Assert.Contains(expected, Assert.Throws<MixException>(() => TraceSimulation.CheckMapping(MixParser.Parse(text, "m.yaml"))).Message, StringComparison.Ordinal);

    public void Dispose() => Directory.Delete(directory, recursive: true);
}

public sealed class TraceTimelineTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("contention-timeline-").FullName;

    private ClusterTrace Trace(string nodes, string pods) => PlacementTests.Alibaba(directory, nodes, pods);

    private static string Pod(string name, string qos, int milli, int created, int deleted) => $"{name},1000,1024,1,{milli},,{qos},Running,{created},{deleted},{created}\n";

    [Fact]
    public void Run_OneGpu_PodsWaitForAPlaceLeaveAndCutItsLifeIntoSpans()
    {
        // One GPU. s (600) lives 0-100; t (400) 10-50 beside it; w (500, lifetime 180) arrives at 20
        // and waits: t's 400 freed at 50 are not enough; g (300, lifetime 90) arrives at 60 and fits
        // beside s at once; q (800, lifetime 20) arrives at 70 and waits. s leaves at 100: w starts
        // (beside g), runs 180 s to 280; q waits for w; z lives no time; x asks a model not there.
        var trace = Trace("a,64000,262144,1,A10\n",
            Pod("s", "LS", 600, 0, 100) + Pod("t", "BE", 400, 10, 50) + Pod("w", "BE", 500, 20, 200) + Pod("g", "LS", 300, 60, 150) + Pod("q", "BE", 800, 70, 90) + Pod("z", "BE", 100, 80, 80)
            + "x,1000,1024,1,100,T4,BE,Pending,85,95,\n");

        var timeline = TraceTimeline.Run(trace, PlacementPolicy.FirstFit);

        var stays = timeline.Stays.ToDictionary(s => s.Pod.Name);
        Assert.Equal(["s", "t", "w", "g", "q", "x"], timeline.Stays.Select(s => s.Pod.Name));
        Assert.Equal((0L, 0L, 100L), (stays["s"].StartSeconds!.Value, stays["s"].WaitSeconds, stays["s"].EndSeconds));
        Assert.Equal((100L, 80L, 180L, 280L), (stays["w"].StartSeconds!.Value, stays["w"].WaitSeconds, stays["w"].RunSeconds, stays["w"].EndSeconds));
        Assert.Equal((60L, 150L), (stays["g"].StartSeconds!.Value, stays["g"].EndSeconds));
        Assert.Equal((280L, 210L, 300L), (stays["q"].StartSeconds!.Value, stays["q"].WaitSeconds, stays["q"].EndSeconds));
        Assert.Null(stays["x"].StartSeconds);
        Assert.Equal((2, 2), (timeline.PeakRunning, timeline.PeakWaiting));
        Assert.Equal(
            ["0-10 s", "10-50 t,s", "50-60 s", "60-100 g,s", "100-150 w,g", "150-280 w", "280-300 q"],
            timeline.Spans.Select(s => $"{s.StartSeconds}-{s.EndSeconds} {string.Join(',', s.Pods.Select(p => p.Name))}"));
    }

    [Fact]
    public void Run_LoadFactor_ArrivalsCloserLifetimesKept()
    {
        var trace = Trace("a,64000,262144,1,A10\n", Pod("s", "LS", 1000, 0, 100) + Pod("t", "BE", 1000, 400, 450));

        var alone = TraceTimeline.Run(trace, PlacementPolicy.FirstFit);
        var squeezed = TraceTimeline.Run(trace, PlacementPolicy.FirstFit, loadFactor: 8);

        Assert.Equal(0, alone.Stays.Sum(s => s.WaitSeconds)); // t comes long after s left
        var t = squeezed.Stays.Single(s => s.Pod.Name == "t");
        Assert.Equal((50L, 100L, 50L), (t.Pod.CreationSeconds, t.StartSeconds!.Value, t.RunSeconds)); // arrives at 400/8, waits for s
        Assert.Equal(8, squeezed.LoadFactor);
    }

    [Fact]
    public async Task TimelineResults_ServiceAloneThenBesideATrainer_EachSpanWeightedByItsLength()
    {
        // A service alone for 100 s, then beside a time-sliced trainer for 300 s: its life's
        // throughput is the offered rate (it keeps up in both), its p99 lies between the spans'
        // (three quarters of its requests are in the shared span), and a second service with the
        // same life reuses both co-locations.
        var trace = Trace("a,64000,262144,1,A10\nb,64000,262144,1,A10\n",
            Pod("s1", "LS", 500, 0, 400) + Pod("t1", "BE", 500, 100, 400) + Pod("s2", "LS", 500, 1000, 1400) + Pod("t2", "BE", 500, 1100, 1400));
        var mapping = TraceSimulation.CheckMapping(MixParser.Load(Path.Combine(AppContext.BaseDirectory, "mixes", "traces", "alibaba-v2023.yaml")));
        var timeline = TraceTimeline.Run(trace, PlacementPolicy.FirstFit);
        var simulation = new TraceSimulation(trace, mapping, new Dictionary<string, string>(), 0.5, 16, Contention.Grains.SimConvergence.Default);
        Assert.Equal(3, simulation.PlanTimeline(timeline, Contention.Grains.GpuSharing.Timeslice)); // LS alone, LS+BE, BE alone

        await using (var node = await SimulateCommand.OpenAsync(new RunOptions(mapping, null, null, 0, 1, t => t, ""), CancellationToken.None))
        {
            Assert.False((await simulation.SimulateAsync(node.Client, Consoles.Plain(new StringWriter()), CancellationToken.None)).Interrupted);
        }

        var (tenants, colocations, _) = simulation.TimelineResults(timeline, Contention.Grains.GpuSharing.Timeslice);

        Assert.Equal(2, colocations); // the spans: LS alone, LS beside BE (BE alone is the trainer's baseline)
        var s1 = tenants.Single(t => t.Stay.Pod.Name == "s1");
        var s2 = tenants.Single(t => t.Stay.Pod.Name == "s2");
        Assert.Equal((2, 0, 2, 300L), (s1.Spans, s1.ReusedSpans, s1.MaxSharers, s1.SharedSeconds));
        Assert.Equal((2, 2), (s2.Spans, s2.ReusedSpans));
        Assert.Equal((s1.P99Ms, s1.Throughput), (s2.P99Ms, s2.Throughput));
        Assert.InRange(s1.Throughput, 190, 210); // 200/s offered, kept up with
        Assert.Equal(0, s1.OverloadedSeconds);
        var units = simulation.Outcomes.Values.ToDictionary(u => u.Tenants.Count == 2 ? "shared" : u.Id.Contains("LS", StringComparison.Ordinal) ? "alone" : "trainer");
        var aloneP99 = units["alone"].Tenants[0].P99Ns / 1e6;
        var sharedP99 = units["shared"].Tenants.Single(t => t.Name.StartsWith("LS", StringComparison.Ordinal)).P99Ns / 1e6;
        Assert.Equal(aloneP99, s1.AloneP99Ms);
        Assert.True(sharedP99 > 3 * aloneP99, $"shared p99 {sharedP99} ms, alone {aloneP99} ms");
        static double Rate(Contention.Grains.SimUnitOutcome unit, int tenant) => unit.Tenants[tenant].Completed / (unit.MeasuredNs / 1e9);
        var sharedService = units["shared"].Tenants.ToList().FindIndex(t => t.Name.StartsWith("LS", StringComparison.Ordinal));
        Assert.Equal(((100 * Rate(units["alone"], 0)) + (300 * Rate(units["shared"], sharedService))) / 400, s1.Throughput, 9);
        Assert.Equal(Rate(units["shared"], 1 - sharedService), tenants.Single(t => t.Stay.Pod.Name == "t1").Throughput, 9);
        // 3/4 of the requests from the shared span: the life's p99 is its p98.7 or so, near the shared p99.
        Assert.InRange(s1.P99Ms, aloneP99 * 1.5, sharedP99 * 1.01);
        Assert.InRange(s1.P50Ms, units["alone"].Tenants[0].P50Ns / 1e6 * 0.9, units["shared"].Tenants.Single(t => t.Name.StartsWith("LS", StringComparison.Ordinal)).P50Ns / 1e6 * 1.1);
    }

    public void Dispose() => Directory.Delete(directory, recursive: true);
}

public sealed class JobTraceTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("contention-jobs-").FullName;

    private string Write(string name, string text)
    {
        var path = Path.Combine(directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    private const string Cluster = "name: c\nnodes:\n  - name: big\n    count: 2\n    cpu: 64\n    memory_gib: 512\n    gpus: 8\n    model: H200\n  - { name: small, gpus: 2, model: A10, profile: a10 }\n";

    [Fact]
    public void Load_SpecAndJobs_NodesExpandedAndJobsAsPods()
    {
        var spec = ClusterSpec.Load(Write("c.yaml", Cluster));
        var trace = ClusterTrace.LoadJobs(Write("j.csv", "job_id,submit_time,duration,gpus,gpu_fraction,qos,kind\nsvc,10.4,3600,1,0.25,,inference\nt,20,60,4,,BE,\nx,30,5,1,,,training\n"), spec);

        Assert.Equal(["big-0", "big-1", "small"], spec.Nodes.Select(n => n.Name));
        Assert.Equal(new TraceNode("big-0", 64_000, 512 * 1024, 8, "H200"), spec.Nodes[0]);
        Assert.Equal((64_000, 512L * 1024), (spec.Nodes[2].CpuMilli, spec.Nodes[2].MemoryMiB)); // defaults
        Assert.Equal("a10", spec.Profiles["A10"]);
        Assert.Equal(("svc", 1, 250, "LS", 10L, 3610L), (trace.Pods[0].Name, trace.Pods[0].Gpus, trace.Pods[0].GpuMilli, trace.Pods[0].Qos, trace.Pods[0].CreationSeconds, trace.Pods[0].DeletionSeconds));
        Assert.Equal((4, 1000, "BE"), (trace.Pods[1].Gpus, trace.Pods[1].GpuMilli, trace.Pods[1].Qos));
        Assert.Equal("BE", trace.Pods[2].Qos); // training: best effort
        Assert.Same(spec.Nodes, trace.Nodes);
    }

    [Theory]
    [InlineData("job_id,submit_time,duration,gpus\nj,0,10,1,\n", "j.csv:2:1: line: expected 4 fields")]
    [InlineData("job_id,submit_time,gpus\nj,0,1\n", "j.csv:1:1: duration: no such column")]
    [InlineData("job_id,submit_time,duration,gpus,gpu_fraction,qos\nj,0,10,1,1.5,LS\n", "j.csv:2:10: gpu_fraction: 1.5 is outside 0..1")]
    [InlineData("job_id,submit_time,duration,gpus,gpu_fraction,qos\nj,0,10,2,0.5,LS\n", "j.csv:2:10: gpu_fraction: a job of 2 GPUs takes them whole")]
    [InlineData("job_id,submit_time,duration,gpus,qos\nj,abc,10,1,LS\n", "j.csv:2:3: submit_time: 'abc' is not a number")]
    [InlineData("job_id,submit_time,duration,gpus\nj,0,10,1\n", "j.csv:2:1: kind: a job needs its class of service (qos) or its kind")]
    [InlineData("job_id,submit_time,duration,gpus,kind\nj,0,10,1,batch\n", "j.csv:2:10: kind: 'batch' is no kind of job")]
    public void LoadJobs_BadLine_NamesFileLineColumnAndField(string csv, string expected)
    {
        var spec = ClusterSpec.Load(Write("c.yaml", Cluster));

        var error = Assert.Throws<MixException>(() => ClusterTrace.LoadJobs(Write("j.csv", csv), spec));

        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("nodes:\n  - { name: a, gpus: 2 }\n", "c.yaml:2:5: nodes[0].model: a node group with GPUs needs their model")]
    [InlineData("nodes:\n  - { name: a, cores: 2 }\n", "c.yaml:2:16: nodes[0].cores: not a field of a node group")]
    [InlineData("nodes:\n  - { name: a, count: many }\n", "c.yaml:2:23: nodes[0].count: 'many' is not a whole number")]
    [InlineData("nodes:\n  - { name: a, gpus: 1, model: X, profile: nope }\n", "c.yaml:2:44: nodes[0].profile: no device profile 'nope'")]
    [InlineData("nodes:\n  - { name: a }\n  - { name: a }\n", "c.yaml:3:5: nodes[1].name: node a is named twice")]
    [InlineData("name: c\n", "c.yaml:1:1: nodes: expected a list of node groups")]
    [InlineData("nodes:\n  - { name: a, gpus: 8, model: B200 }\n", "c.yaml:2:32: nodes[0].model: no device profile is named 'b200' for GPU model B200")]
    public void LoadSpec_BadField_NamesFileLineColumnAndField(string yaml, string expected)
    {
        var error = Assert.Throws<MixException>(() => ClusterSpec.Load(Write("c.yaml", yaml)));

        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Shipped_ExampleClusterAndJobs_PlaceAlongTheTimeline()
    {
        var spec = ClusterSpec.Load(Path.Combine(AppContext.BaseDirectory, "examples", "jobs", "cluster.yaml"));
        var trace = ClusterTrace.LoadJobs(Path.Combine(AppContext.BaseDirectory, "examples", "jobs", "jobs.csv"), spec);

        var timeline = TraceTimeline.Run(trace, PlacementPolicy.BestFit);

        Assert.Equal(60, trace.Pods.Count);
        Assert.Equal(60, timeline.Stays.Count);
        Assert.All(timeline.Stays, s => Assert.NotNull(s.StartSeconds)); // every job fits the cluster at some time
        Assert.Contains(timeline.Spans, s => s.Pods.Count > 1); // fractions share GPUs
    }

    public void Dispose() => Directory.Delete(directory, recursive: true);
}
