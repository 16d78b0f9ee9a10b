using Contention.Grains;
using Contention.Workloads.Kernels;

namespace Contention.Client.Mixes;

/// <summary>
/// The compute kernels a mix's tenants launch, over every point of its sweep: what
/// <c>bench calibrate --mix</c> times into a profile's table, so the modelled GPU runs the mix on
/// measured times instead of the roofline.
/// </summary>
public static class MixKernels
{
    /// <summary>
    /// Every distinct GEMM, element-wise and reduction kernel of <paramref name="mix"/>'s training,
    /// inference and microbench tenants (a microbench grid's every size) at every point of its
    /// sweep, in the order first met; <paramref name="skipped"/> gets the tenants that have none
    /// to time (replays run recorded durations, commands their own programs), each once.
    /// </summary>
    public static IReadOnlyList<KernelSpec> Of(Mix mix, ICollection<string> skipped)
    {
        ArgumentNullException.ThrowIfNull(mix);
        ArgumentNullException.ThrowIfNull(skipped);
        var kernels = new List<KernelSpec>();
        var seen = new HashSet<KernelSpec>();
        var mixes = mix.Sweep is { } sweep ? sweep.Points.Where(p => p.Repetition == 1).Select(p => p.Mix) : [mix];
        foreach (var tenant in mixes.SelectMany(m => m.Tenants))
        {
            if (tenant.Kind is TenantKind.Replay or TenantKind.Command)
            {
                var why = $"{tenant.Name} ({tenant.Kind.ToString().ToLowerInvariant()})";
                if (!skipped.Contains(why))
                {
                    skipped.Add(why);
                }

                continue;
            }

            // Its rate does not change its kernels: a rate of its capacity, measured only before a run, is left out.
            var workload = Grains.Node.TenantWorkload.Of(tenant with { RateOfCapacity = 0 });
            var launched = workload.Grid is { } grid
                ? grid.Select(g => Workloads.Workloads.WorkloadRunner.MicrobenchKernel(g.Op, g.Bytes))
                : Workloads.Workloads.WorkloadRunner.KernelsOf(workload);
            foreach (var kernel in launched)
            {
                if (kernel.Kind is (KernelKind.Gemm or KernelKind.Elementwise or KernelKind.Reduce) && seen.Add(kernel))
                {
                    kernels.Add(kernel);
                }
            }
        }

        return kernels;
    }
}
