using BenchmarkDotNet.Attributes;
using Contention.Workloads.Benchmarks;
using Contention.Workloads.Devices;

namespace Contention.Benchmarks;

/// <summary>
/// Launch + synchronise of a 1M-float element-wise kernel: Contention's cuda device against a
/// bare ILGPU loop (the baseline), per sync mode; one operation is one launch + synchronise.
/// Needs a CUDA GPU and the .NET SDK on the same host; where the GPU host has no SDK, run
/// <c>contention bench launch</c>, which drives the same two loops (see docs/gpu.md).
/// </summary>
[MemoryDiagnoser]
[JsonExporterAttribute.Full]
[MarkdownExporterAttribute.GitHub]
public class LaunchBenchmarks
{
    private const int Launches = 1000;
    private LaunchBenchmark bench = null!;

    [Params(SyncMode.Spin, SyncMode.Yield, SyncMode.Block)]
    public SyncMode Sync { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        if (CudaDevice.CountDevices() == 0)
        {
            throw new InvalidOperationException("LaunchBenchmarks needs a CUDA GPU: ILGPU found none; on a GPU host without .NET use 'contention bench launch'");
        }

        bench = new LaunchBenchmark(0, Sync, 1 << 20);
    }

    [GlobalCleanup]
    public void Cleanup() => bench.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Launches, Description = "bare ILGPU loop")]
    public void Bare() => bench.Bare(Launches);

    [Benchmark(OperationsPerInvoke = Launches, Description = "Contention cuda device")]
    public void Ours() => bench.Ours(Launches);
}
