using System.Diagnostics;
using Contention.Workloads.Devices;
using Contention.Workloads.Kernels;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Contention.Workloads.Benchmarks;

/// <summary>Per-launch times of one side of the launch benchmark, microseconds per launch + synchronise.</summary>
/// <param name="Name">bare ILGPU or Contention cuda device.</param>
/// <param name="Samples">One value per repetition.</param>
public sealed record LaunchSeries(string Name, IReadOnlyList<double> Samples)
{
    /// <summary>The median.</summary>
    public double Median => Percentile(50);

    /// <summary>A percentile by linear interpolation.</summary>
    public double Percentile(double p)
    {
        var sorted = Samples.Order().ToArray();
        var rank = p / 100 * (sorted.Length - 1);
        var low = (int)Math.Floor(rank);
        var high = (int)Math.Ceiling(rank);
        return sorted[low] + ((sorted[high] - sorted[low]) * (rank - low));
    }
}

/// <summary>
/// Launch + synchronise of a small element-wise kernel, through a bare ILGPU loop (the baseline)
/// and through <see cref="Devices.CudaDevice"/>, and optionally through the cuda device behind a
/// GPU arbiter of its own as a best-effort tenant alone on it (gating: the cost of asking before
/// every launch, and of handing back what was predicted at each synchronise), in one process.
/// <see cref="Run"/> interleaves repetitions so drift in clocks or temperature hits every side
/// alike; BenchmarkDotNet's <c>LaunchBenchmarks</c> in bench/ drives the same loops.
/// </summary>
public sealed class LaunchBenchmark : IDisposable
{
    private readonly Context context;
    private readonly CudaAccelerator accelerator;
    private readonly AcceleratorStream stream;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int> kernel;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> x;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> y;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> z;
    private readonly Devices.CudaDevice ours;
    private readonly IComputeDevice? arbitrated;
    private readonly string? gatePath;
    private readonly KernelSpec spec;
    private readonly int elements;

    /// <summary>Opens the sides on CUDA device <paramref name="device"/> with the same sync mode and warms them up; the arbiter's side too when <paramref name="arbiter"/>.</summary>
    public LaunchBenchmark(int device, SyncMode sync, int elements, bool arbiter = false)
    {
        this.elements = elements;
        context = Context.Create(builder => builder.Cuda());
        var flags = sync switch
        {
            SyncMode.Spin => CudaAcceleratorFlags.ScheduleSpin,
            SyncMode.Yield => CudaAcceleratorFlags.ScheduleYield,
            _ => CudaAcceleratorFlags.ScheduleBlockingSync,
        };
        accelerator = context.CreateCudaAccelerator(device, flags);
        stream = accelerator.CreateStream();
        kernel = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(CudaKernels.Elementwise);
        x = accelerator.Allocate1D<float>(elements);
        y = accelerator.Allocate1D<float>(elements);
        z = accelerator.Allocate1D<float>(elements);
        ours = new Devices.CudaDevice(new DeviceOptions { Id = new DeviceId(DeviceKind.Cuda, device), SyncMode = sync });
        spec = KernelSpec.Elementwise(elements, ElementwiseOp.AddRelu);
        ours.Prepare([spec]);

        if (arbiter)
        {
            gatePath = Path.Combine(Sim.SimGpuHost.ChannelDirectory, $"contention-arbiter-{Environment.ProcessId}-bench-{Guid.NewGuid():N}");
            Arbiter.ArbiterGate.Create(gatePath, 64, 500_000, 0).Dispose();
            arbitrated = DeviceFactory.Open(new DeviceOptions { Id = new DeviceId(DeviceKind.Cuda, device), SyncMode = sync, Arbiter = new Arbiter.ArbiterOptions(gatePath, Sensitive: false) });
            arbitrated.Prepare([spec]);
        }

        WarmRounds = WarmUp();
    }

    /// <summary>Warm-up rounds before <see cref="WarmUp"/> found the JIT done (<see cref="MaxWarmRounds"/>: it may not be).</summary>
    public int WarmRounds { get; }

    /// <summary>The fewest warm-up rounds (each ~0.1 s of idle plus a round of every side): on this machine the optimised code came in the 5th-6th.</summary>
    public const int MinWarmRounds = 8;

    /// <summary>The most warm-up rounds.</summary>
    public const int MaxWarmRounds = 30;

    /// <summary>
    /// Warms every side up — PTX compilation, the driver's first-launch work, and the JIT's tiers:
    /// .NET runs a method's first calls unoptimised and recompiles it optimised only once it has
    /// been called often and the process has stopped compiling new methods for 100 ms, so loops
    /// timed right after a first call measure code several times slower than a tenant runs for
    /// most of its life (here the arbiter's bookkeeping ran 0.25-0.35 µs a launch unoptimised, 0.08-0.1
    /// optimised). Rounds of every side, each followed by a pause longer than that delay, at least
    /// <see cref="MinWarmRounds"/> (the count of compiled methods stands still for a few rounds
    /// before the optimised versions come) and until two rounds in a row compiled nothing
    /// (<see cref="System.Runtime.JitInfo.GetCompiledMethodCount"/>). Returns the rounds it took.
    /// </summary>
    private int WarmUp()
    {
        var compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
        var still = 0;
        for (var round = 1; round <= MaxWarmRounds; round++)
        {
            Bare(100);
            Ours(100);
            if (arbitrated is not null)
            {
                Arbitrated(100);
                Direct(100);
                Bookkeeping(100);
            }

            Thread.Sleep(120);
            var now = System.Runtime.JitInfo.GetCompiledMethodCount();
            still = now == compiled ? still + 1 : 0;
            if (still >= 2 && round >= MinWarmRounds)
            {
                return round;
            }

            compiled = now;
        }

        return MaxWarmRounds;
    }

    /// <summary>The baseline: <paramref name="launches"/> launch + synchronise pairs straight through ILGPU.</summary>
    public void Bare(int launches)
    {
        for (var i = 0; i < launches; i++)
        {
            kernel(stream, elements, x.View, y.View, z.View, (int)ElementwiseOp.AddRelu, 0);
            stream.Synchronize();
        }
    }

    /// <summary>The same through <see cref="Devices.CudaDevice"/>.</summary>
    public void Ours(int launches)
    {
        for (var i = 0; i < launches; i++)
        {
            ours.Launch(spec);
            ours.Synchronize();
        }
    }

    /// <summary>
    /// The same straight through the device the arbiter's side wraps (its own CUDA context, the
    /// arbiter's side without the arbiter): what the arbiter's ratio is taken against, so that a
    /// second context in the process is not counted as the arbiter's cost.
    /// </summary>
    public void Direct(int launches)
    {
        var device = (arbitrated as Arbiter.ArbitratedDevice)?.Inner ?? throw new InvalidOperationException("the benchmark was opened without the arbiter's side");
        for (var i = 0; i < launches; i++)
        {
            device.Launch(spec);
            device.Synchronize();
        }
    }

    /// <summary>
    /// The arbiter's side's own bookkeeping without the GPU: a prediction, asking the arbiter and
    /// handing back at a synchronise, as each launch + synchronise behind it does (what of its
    /// cost is the host's work, the rest being how that work meets the launch and the wait).
    /// </summary>
    public void Bookkeeping(int launches)
    {
        var device = arbitrated as Arbiter.ArbitratedDevice ?? throw new InvalidOperationException("the benchmark was opened without the arbiter's side");
        for (var i = 0; i < launches; i++)
        {
            device.Member.Admit(device.Predictor.Predict(spec));
            device.Member.Drained();
            device.Predictor.Observe(0);
        }
    }

    /// <summary>The same through the cuda device behind the arbiter, a best-effort tenant alone on it (open with the arbiter's side).</summary>
    public void Arbitrated(int launches)
    {
        var device = arbitrated ?? throw new InvalidOperationException("the benchmark was opened without the arbiter's side");
        for (var i = 0; i < launches; i++)
        {
            device.Launch(spec);
            device.Synchronize();
        }
    }

    /// <summary>Runs the comparison; returns (baseline, ours) in µs per launch + synchronise.</summary>
    public static (LaunchSeries Baseline, LaunchSeries Ours) Run(int device, SyncMode sync, int elements, int launches, int repetitions)
    {
        var series = RunAll(device, sync, elements, launches, repetitions, arbiter: false);
        return (series[0], series[1]);
    }

    /// <summary>
    /// Runs the comparison; returns baseline, ours and (with <paramref name="arbiter"/>) ours behind
    /// the arbiter and the device behind it launched directly, in µs per launch + synchronise.
    /// </summary>
    public static IReadOnlyList<LaunchSeries> RunAll(int device, SyncMode sync, int elements, int launches, int repetitions, bool arbiter)
    {
        using var bench = new LaunchBenchmark(device, sync, elements, arbiter);
        var baseline = new List<double>();
        var measured = new List<double>();
        var gated = new List<double>();
        var direct = new List<double>();
        var bookkeeping = new List<double>();
        for (var r = 0; r < repetitions; r++)
        {
            baseline.Add(Time(() => bench.Bare(launches), launches));
            measured.Add(Time(() => bench.Ours(launches), launches));
            if (arbiter)
            {
                gated.Add(Time(() => bench.Arbitrated(launches), launches));
                direct.Add(Time(() => bench.Direct(launches), launches));
                bookkeeping.Add(Time(() => bench.Bookkeeping(launches), launches));
            }
        }

        LastArbiterCounters = bench.ArbiterCounters;
        LastWarmRounds = bench.WarmRounds;
        List<LaunchSeries> series = [new("bare ILGPU loop", baseline), new("Contention cuda device", measured)];
        if (arbiter)
        {
            series.Add(new("behind the arbiter (best-effort, gating)", gated));
            series.Add(new("the arbiter's device, direct", direct));
            series.Add(new("the arbiter's bookkeeping alone (no GPU)", bookkeeping));
        }

        return series;
    }

    private static readonly int[] StepSlots = [64, 2];
    private static readonly KernelSpec StepKernel = KernelSpec.Elementwise(1 << 20, ElementwiseOp.AddRelu);

    /// <summary>The warm-up rounds of the latest <see cref="RunAll"/>.</summary>
    public static int LastWarmRounds { get; private set; }

    /// <summary>
    /// <paramref name="a"/> over <paramref name="b"/> in each repetition (their loops ran one after
    /// the other, so a slow stretch of the host hits both): the median ratio and its range.
    /// </summary>
    public static (double Median, double Low, double High) PairedRatio(LaunchSeries a, LaunchSeries b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var ratios = new LaunchSeries("ratio", [.. a.Samples.Zip(b.Samples, (x, y) => x / y)]);
        return (ratios.Median, ratios.Percentile(0), ratios.Percentile(100));
    }

    /// <summary>The arbiter's side's counters of the latest <see cref="RunAll"/> (null without it).</summary>
    public static string? LastArbiterCounters { get; private set; }

    /// <summary>The arbiter's side's counters: launches asked for, held, time held (ns), sleeps, and its prediction's correction; null without it.</summary>
    public string? ArbiterCounters => arbitrated is Arbiter.ArbitratedDevice device
        ? FormattableString.Invariant($"asked {device.Member.Launches}, held {device.Member.Held} for {device.Member.HeldNs / 1e6:0.###} ms, slept {device.Member.Sleeps} times; predicted {device.Predictor.Predict(spec)} ns a launch (correction {device.Predictor.Correction:0.###})")
        : null;

    /// <summary>
    /// Where the arbiter's bookkeeping goes on this host, without a GPU: per call, the median over
    /// <paramref name="repetitions"/> runs of <paramref name="calls"/> calls, ns — reading a
    /// 64-slot and a 2-slot arbiter's slots, queueing and taking back work (the compare-and-swaps
    /// on the shared page), reading the clock, and a whole ask + hand-back in each arbiter.
    /// </summary>
    public static IReadOnlyList<(string Step, double Ns)> ArbiterSteps(int calls = 100_000, int repetitions = 7)
    {
        var paths = StepSlots.Select(slots => (slots, path: Path.Combine(Sim.SimGpuHost.ChannelDirectory, $"contention-arbiter-{Environment.ProcessId}-steps{slots}-{Guid.NewGuid():N}"))).ToArray();
        var gates = paths.Select(p => Arbiter.ArbiterGate.Create(p.path, p.slots, 500_000, 0)).ToArray();
        var members = gates.Select(g => g.Join(sensitive: false)).ToArray();
        try
        {
            var model = new Sim.CostModel(Sim.DeviceProfile.Load("h200"));
            var predictor = new Arbiter.DurationPredictor(k => model.Kernel(k).DurationNs);
            var states64 = new Arbiter.ArbiterSlotState[64];
            var states2 = new Arbiter.ArbiterSlotState[2];
            var sink = 0L;
            (string, Action)[] steps =
            [
                ("clock read", () => sink += Sim.MonotonicClock.NowNs()),
                ("prediction (a dictionary look-up)", () => sink += predictor.Predict(StepKernel)),
                ("slots read, 64-slot arbiter", () => gates[0].ReadInto(states64)),
                ("slots read, 2-slot arbiter", () => gates[1].ReadInto(states2)),
                ("queue + take back (2 compare-and-swaps)", () =>
                {
                    var now = Sim.MonotonicClock.NowNs();
                    var end = gates[0].Enqueue(now, 10_000);
                    gates[0].TakeBack(now, end - now);
                }),
                ("ask + hand back, 64-slot arbiter", () =>
                {
                    members[0].Admit(10_000);
                    members[0].Drained();
                }),
                ("ask + hand back, 2-slot arbiter", () =>
                {
                    members[1].Admit(10_000);
                    members[1].Drained();
                }),
            ];
            var result = new List<(string, double)>();
            foreach (var (name, step) in steps)
            {
                var samples = new double[repetitions];
                for (var r = 0; r < repetitions; r++)
                {
                    var start = Stopwatch.GetTimestamp();
                    for (var i = 0; i < calls; i++)
                    {
                        step();
                    }

                    samples[r] = Stopwatch.GetElapsedTime(start).TotalNanoseconds / calls;
                }

                Array.Sort(samples);
                result.Add((name, samples[repetitions / 2]));
            }

            GC.KeepAlive(sink);
            return result;
        }
        finally
        {
            foreach (var member in members)
            {
                member.Dispose();
            }

            foreach (var gate in gates)
            {
                gate.Dispose();
            }

            foreach (var (_, path) in paths)
            {
                File.Delete(path);
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        arbitrated?.Dispose();
        if (gatePath is not null)
        {
            File.Delete(gatePath);
        }

        ours.Dispose();
        x.Dispose();
        y.Dispose();
        z.Dispose();
        stream.Dispose();
        accelerator.Dispose();
        context.Dispose();
    }

    private static double Time(Action action, int launches)
    {
        var start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start).TotalMicroseconds / launches;
    }
}
