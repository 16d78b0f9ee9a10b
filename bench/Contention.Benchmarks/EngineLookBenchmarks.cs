using BenchmarkDotNet.Attributes;
using Contention.Workloads.Benchmarks;

namespace Contention.Benchmarks;

/// <summary>
/// One look of the real-time modelled GPU's engine with nothing launched (what a spinning tenant
/// waits half of, on average, for its launch to be seen and again for its completion): against
/// the baseline of one attached tenant, with 8 and 32 attached tenants of a 32-slot GPU (the
/// node's default) and of a 1,024-slot one, whose unattached slots a look does not read.
/// </summary>
[JsonExporterAttribute.Full]
[MarkdownExporterAttribute.GitHub]
public class EngineLookBenchmarks
{
    private const int Looks = 1000;
    private EngineLookBenchmark one = null!;
    private EngineLookBenchmark eight = null!;
    private EngineLookBenchmark full = null!;
    private EngineLookBenchmark wide = null!;

    [GlobalSetup]
    public void Setup()
    {
        one = new EngineLookBenchmark(32, 1);
        eight = new EngineLookBenchmark(32, 8);
        full = new EngineLookBenchmark(32, 32);
        wide = new EngineLookBenchmark(1024, 1);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        one.Dispose();
        eight.Dispose();
        full.Dispose();
        wide.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Looks, Description = "32 slots, 1 attached")]
    public long One() => one.Look(Looks);

    [Benchmark(OperationsPerInvoke = Looks, Description = "32 slots, 8 attached")]
    public long Eight() => eight.Look(Looks);

    [Benchmark(OperationsPerInvoke = Looks, Description = "32 slots, 32 attached")]
    public long Full() => full.Look(Looks);

    [Benchmark(OperationsPerInvoke = Looks, Description = "1,024 slots, 1 attached")]
    public long Wide() => wide.Look(Looks);
}
