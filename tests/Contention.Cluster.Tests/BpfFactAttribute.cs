using Contention.Tracer.Bpf;

namespace Contention.Cluster.Tests;

/// <summary>A fact that needs the eBPF helper built and the privilege to load it; skipped, with the reason, otherwise.</summary>
public sealed class BpfFactAttribute : FactAttribute
{
    public BpfFactAttribute()
    {
        if (BpfTracer.FindHelper() is null)
        {
            Skip = "the eBPF helper is not built: run 'make -C tracer/native' (scripts/test.sh does)";
        }
        else if (Environment.UserName != "root")
        {
            Skip = "eBPF needs root (or CAP_BPF + CAP_PERFMON)";
        }
    }
}
