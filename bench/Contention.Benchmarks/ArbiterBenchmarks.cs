using BenchmarkDotNet.Attributes;
using Contention.Workloads.Arbiter;
using Contention.Workloads.Kernels;
using Contention.Workloads.Sim;

namespace Contention.Benchmarks;

/// <summary>
/// What the GPU arbiter adds to a best-effort tenant's launch when it is let go at once (issue 13:
/// the arbiter's own cost on the fast path, no system call): the duration prediction and asking
/// the arbiter (reading its slots, queueing the prediction), with a synchronise's hand-back every
/// tenth launch, in a 64-slot arbiter (the node's) with 2 and with 64 tenants joined, against the
/// baseline of the prediction alone. The GPU side (launch + synchronise of a small kernel through
/// the arbiter against the cuda device) is <c>contention bench launch --arbiter</c>.
/// </summary>
[JsonExporterAttribute.Full]
[MarkdownExporterAttribute.GitHub]
public class ArbiterBenchmarks
{
    private const int Launches = 1000;
    private static readonly KernelSpec Kernel = KernelSpec.Elementwise(1 << 20);
    private readonly List<ArbiterMember> members = [];
    private string path = "";
    private ArbiterGate gate = null!;
    private DurationPredictor predictor = null!;
    private ArbiterMember few = null!;
    private ArbiterMember many = null!;
    private string fullPath = "";
    private ArbiterGate full = null!;

    [GlobalSetup]
    public void Setup()
    {
        var model = new CostModel(DeviceProfile.Load("h200"));
        predictor = new DurationPredictor(k => model.Kernel(k).DurationNs);
        path = Path.Combine(SimGpuHost.ChannelDirectory, $"contention-arbiter-{Environment.ProcessId}-bdn-{Guid.NewGuid():N}");
        gate = ArbiterGate.Create(path, 64, 500_000, 0);
        members.Add(gate.Join(sensitive: true));
        few = gate.Join(sensitive: false);
        fullPath = path + "-full";
        full = ArbiterGate.Create(fullPath, 64, 500_000, 0);
        for (var i = 0; i < 63; i++)
        {
            members.Add(full.Join(sensitive: i == 0));
        }

        many = full.Join(sensitive: false);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        members.ForEach(m => m.Dispose());
        few.Dispose();
        many.Dispose();
        gate.Dispose();
        full.Dispose();
        File.Delete(path);
        File.Delete(fullPath);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Launches, Description = "prediction alone")]
    public long Predict()
    {
        var sum = 0L;
        for (var i = 0; i < Launches; i++)
        {
            sum += predictor.Predict(Kernel);
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Launches, Description = "prediction + admit, 2 of 64 slots joined")]
    public long AdmitFew() => Admit(few);

    [Benchmark(OperationsPerInvoke = Launches, Description = "prediction + admit, 64 of 64 slots joined")]
    public long AdmitMany() => Admit(many);

    private long Admit(ArbiterMember member)
    {
        // A kernel predicted at 1 ns: let go at once, whatever the outstanding bound.
        var sum = 0L;
        for (var i = 0; i < Launches; i++)
        {
            sum += predictor.Predict(Kernel) + member.Admit(1);
            if (i % 10 == 9)
            {
                member.Drained();
            }
        }

        return sum;
    }
}
