using Contention.Workloads.Devices;
using Contention.Workloads.Kernels;

namespace Contention.Workloads.Benchmarks;

/// <summary>
/// Measures how many launched kernels of one context the driver lets wait to start before it holds
/// the next launch (<see cref="Sim.DeviceProfile.LaunchQueueDepth"/>): a long kernel is launched,
/// then tiny kernels back to back, each launch's call timed, until one is held longer than
/// <see cref="HeldNs"/> (it returns only once a queued kernel starts: when the long one ends).
/// The depth is how many tiny kernels were launched before it; the long kernel is running, so
/// they are the ones waiting. Repeated; the median is taken.
/// </summary>
public static class LaunchQueueProbe
{
    /// <summary>The long kernel launched first: a 8192^3 GEMM (about 0.1 s through ILGPU on an H200).</summary>
    public static KernelSpec Head { get; } = KernelSpec.Gemm(8192, 8192, 8192);

    /// <summary>
    /// The tiny kernels launched behind it: an element-wise kernel of 4 KiB, a 32^3 GEMM (their
    /// launches take different arguments) and a 512^3 GEMM, which the cuda device launches as a
    /// memset of its result and a kernel over two slices of K on a GPU of more than 32
    /// multiprocessors (<see cref="CudaDevice.LaunchesMemsetFirst"/>), as it does a trainer's split-K GEMMs: how
    /// much of the queue a memset takes.
    /// </summary>
    public static IReadOnlyList<KernelSpec> Tiny { get; } =
    [
        Workloads.WorkloadRunner.MicrobenchKernel(Workloads.MicrobenchOp.Elementwise, 4096),
        KernelSpec.Gemm(32, 32, 32),
        KernelSpec.Gemm(512, 512, 512),
    ];

    /// <summary>A launch that takes longer than this is held (unheld ones take microseconds), ns.</summary>
    public const long HeldNs = 1_000_000;

    /// <summary>The most tiny kernels launched behind the long one in one repetition.</summary>
    public const int MaxLaunches = 4096;

    /// <summary>
    /// How many launches returned before the first that took longer than <paramref name="heldNs"/>
    /// (the depth), or null where none did.
    /// </summary>
    public static int? FirstHeld(ReadOnlySpan<long> launchNs, long heldNs = HeldNs)
    {
        for (var i = 0; i < launchNs.Length; i++)
        {
            if (launchNs[i] > heldNs)
            {
                return i;
            }
        }

        return null;
    }

    /// <summary>
    /// The depth seen in each of <paramref name="repetitions"/> repetitions on
    /// <paramref name="device"/> with <paramref name="tiny"/> behind <paramref name="head"/> (null
    /// where no launch was held within <paramref name="launches"/>: the long kernel ended first),
    /// timed on <paramref name="clockNs"/> (default: the monotonic clock).
    /// </summary>
    public static IReadOnlyList<int?> Measure(IComputeDevice device, in KernelSpec head, in KernelSpec tiny, int repetitions = 5, int launches = MaxLaunches, Func<long>? clockNs = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentOutOfRangeException.ThrowIfLessThan(repetitions, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(launches, 1);
        clockNs ??= Sim.MonotonicClock.NowNs;
        device.Prepare([head, tiny]);
        device.Launch(tiny);
        device.Synchronize();
        var times = new long[launches];
        var depths = new List<int?>(repetitions);
        for (var r = 0; r < repetitions; r++)
        {
            device.Launch(head);
            var count = 0;
            while (count < launches)
            {
                var called = clockNs();
                device.Launch(tiny);
                var took = times[count++] = clockNs() - called;
                if (took > HeldNs)
                {
                    break; // held: the rest would only wait behind it
                }
            }

            device.Synchronize();
            depths.Add(FirstHeld(times.AsSpan(0, count)));
        }

        return depths;
    }

    /// <summary>The median of the depths seen, or null where none was (every repetition's long kernel ended first).</summary>
    public static int? Depth(IReadOnlyList<int?> depths)
    {
        ArgumentNullException.ThrowIfNull(depths);
        var seen = depths.Where(d => d.HasValue).Select(d => d!.Value).Order().ToArray();
        return seen.Length == 0 ? null : seen[seen.Length / 2];
    }
}
