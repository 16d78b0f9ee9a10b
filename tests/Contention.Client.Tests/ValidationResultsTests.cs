using Contention.Client.Validation;

namespace Contention.Client.Tests;

/// <summary>How <c>contention validate</c> takes a mix tenant's replicas together.</summary>
public sealed class ValidationResultsTests
{
    [Fact]
    public void Load_Replicas_RatesAreTheirMeanLatenciesTheirMedianAndTheSlowestOneIsSaid()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"contention-replicas-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        try
        {
            // Three trainers that shared unevenly (3, 4 and 6.5 steps/s: their mean 4.5, the
            // middle one 4) and a single service.
            File.WriteAllLines(Path.Combine(directory, "tenants.csv"),
            [
                "run,experiment,tenant,node,sharing,phase,seconds,completed,throughput_per_s,offered_per_s,p50_ms,p95_ms,p99_ms,gpu_s,user_cpu_s,system_cpu_s,voluntary_switches,node_cpu_steal",
                "r1,mix-20261203-120000-abcd,train-0,n,mps,measure,10,30,3,0,300,500,900,2,1,0.5,100,0",
                "r1,mix-20261203-120000-abcd,train-1,n,mps,measure,10,40,4,0,250,400,700,3,2,0.5,200,0",
                "r1,mix-20261203-120000-abcd,train-2,n,mps,measure,10,65,6.5,0,150,300,400,4,3,0.5,600,0",
                "r1,mix-20261203-120000-abcd,infer,n,mps,measure,10,2000,200,200,0.3,0.5,1.0,1,1,0.1,2000,0",
                "r1,mix-20261203-120000-abcd,train-0,n,mps,warmup,2,1,0.5,0,300,500,900,2,1,0.5,100,0",
                // A second run while the hypervisor took 2 % of the node's CPU: invalid, left out.
                "r2,mix-20261203-120000-abcd,infer,n,mps,measure,10,2000,200,200,0.3,0.5,1.0,1,1,0.1,2000,0.02",
            ]);

            var results = ValidationResults.Load(directory);

            var train = results.Samples.Single(s => s.Tenant == "train");
            Assert.Equal(3, train.Replicas);
            // Rates: the replicas' mean (their total per replica), not the middle one's 4.
            Assert.Equal(4.5, train.Values["throughput"], 9);
            Assert.Equal(0.3, train.Values["gpu_s_per_s"], 9);
            Assert.Equal(0.2, train.Values["user_cpu_s_per_s"], 9);
            Assert.Equal(30.0, train.Values["voluntary_switches_per_s"], 9);
            // Latencies: the middle replica's.
            Assert.Equal(700, train.Values["p99"], 9);
            Assert.Equal(250, train.Values["p50"], 9);
            // How evenly: the slowest over the mean.
            Assert.Equal(3 / 4.5, train.Values["slowest_replica"], 9);
            Assert.Equal(30, train.Operations);
            // The window of the measured rows (the warm-up's 2 s is another sample's).
            Assert.Equal(10.0, train.Seconds);
            // No gpu_timed_batches column: not known.
            Assert.Null(train.GpuTimedBatches);

            // One replica: nothing to share, no slowest_replica.
            var infer = results.Samples.Single(s => s.Tenant == "infer");
            Assert.Equal(200, infer.Values["throughput"], 9);
            Assert.False(infer.Values.ContainsKey("slowest_replica"));
            Assert.False(infer.Overloaded);

            // A run's directory without a sweep: named by its directory, no build or host said; one
            // of its two runs compared.
            Assert.Equal([new ResultsSource("mix", Path.GetFileName(directory), "", "", 2, 1)], results.Sources);
            Assert.Contains(results.Excluded, e => e.StartsWith("mix r2: invalid", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Load_SystemCalls_OnlyWhereTheSideCountedThem()
    {
        // Four services: eBPF-traced, virtual time's OS model, an untraced run (its call columns
        // read 0: no measurement) and a traced pair of replicas (their mean).
        var results = LoadTenants(
            "run,experiment,tenant,node,sharing,phase,seconds,completed,throughput_per_s,ebpf,os_modelled,syscalls,calls_sync_wait,calls_file_io,node_cpu_steal",
            "r1,mix-20261205-120000-abcd,traced,n,mps,measure,10,500,50,True,False,6000,4000,2000,0",
            "r1,mix-20261205-120000-abcd,fitted,n,mps,measure,10,500,50,False,True,300,200,100,0",
            "r1,mix-20261205-120000-abcd,untraced,n,mps,measure,10,500,50,False,False,0,0,0,0",
            "r1,mix-20261205-120000-abcd,pair-0,n,mps,measure,10,500,50,True,False,1000,500,100,0",
            "r1,mix-20261205-120000-abcd,pair-1,n,mps,measure,10,500,50,True,False,3000,1500,300,0");

        var traced = results.Samples.Single(s => s.Tenant == "traced").Values;
        Assert.Equal(400, traced["sync_wait_calls_per_s"], 9);
        Assert.Equal(200, traced["file_io_calls_per_s"], 9);
        Assert.Equal(600, traced["syscalls_per_s"], 9);
        Assert.Equal(20, results.Samples.Single(s => s.Tenant == "fitted").Values["sync_wait_calls_per_s"], 9);
        var untraced = results.Samples.Single(s => s.Tenant == "untraced").Values;
        Assert.False(untraced.ContainsKey("sync_wait_calls_per_s"));
        Assert.False(untraced.ContainsKey("file_io_calls_per_s"));
        Assert.False(untraced.ContainsKey("syscalls_per_s"));
        Assert.Equal(100, results.Samples.Single(s => s.Tenant == "pair").Values["sync_wait_calls_per_s"], 9);
    }

    [Fact]
    public void Load_GpuTimedBatches_TheFewestOfTheReplicasThatHaveThem()
    {
        // Two services on a real GPU (their GPU time from 12 and 5 timed batches) and one whose
        // GPU time is exact (a modelled GPU: an empty column).
        var results = LoadTenants(
            "run,experiment,tenant,node,sharing,phase,seconds,completed,throughput_per_s,gpu_s,node_cpu_steal,gpu_timed_batches",
            "r1,mix-20261204-120000-abcd,svc-0,n,mps,measure,10,500,50,0.1,0,12",
            "r1,mix-20261204-120000-abcd,svc-1,n,mps,measure,10,500,50,0.1,0,5",
            "r1,mix-20261204-120000-abcd,probe,n,mps,measure,10,500,50,0.1,0,");

        Assert.Equal(5, results.Samples.Single(s => s.Tenant == "svc").GpuTimedBatches);
        Assert.Null(results.Samples.Single(s => s.Tenant == "probe").GpuTimedBatches);
    }

    [Fact]
    public void Load_ARealGpuTenantTimedAboveTheDefault_StandsForGpuSecondsAloneAndIsSaid()
    {
        // The same service on a real GPU at the default 0.1 % and every batch timed (100 %), and
        // on a modelled GPU at 100 % (which times nothing: all its metrics stand).
        var results = LoadTenants(
            "run,experiment,tenant,node,device,sharing,phase,seconds,completed,throughput_per_s,p50_ms,p99_ms,gpu_s,node_cpu_steal,gpu_timed_batches,gpu_timing_pct",
            "r1,mix-20261204-120000-abcd,svc,n,cuda:0,mps,measure,10,2000,200,0.6,1.3,0.8,0,5,0.1",
            "r2,mix-20261204-120000-abcd,svc,n,cuda:0,mps,measure,10,2000,200,0.75,1.7,0.82,0,2000,100",
            "r3,mix-20261204-120000-abcd,svc,n,sim:0,mps,measure,10,2000,200,0.6,1.3,0.97,0,,100");

        var byRun = results.Samples.ToDictionary(s => s.Run);

        Assert.Equal(["gpu_s_per_s", "p50", "p99", "throughput"], byRun["r1"].Values.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["gpu_s_per_s"], byRun["r2"].Values.Keys);
        Assert.Equal(0.082, byRun["r2"].Values["gpu_s_per_s"], 9);
        Assert.Equal(["gpu_s_per_s", "p50", "p99", "throughput"], byRun["r3"].Values.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["mix r2 svc: compared for GPU seconds only"], results.Excluded.Select(e => e[..e.IndexOf(": a real", StringComparison.Ordinal)]));
    }

    // ValidationResults.Load of a run directory holding only these tenants.csv lines.
    private static ValidationResults LoadTenants(params string[] lines)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"contention-tenants-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        try
        {
            File.WriteAllLines(Path.Combine(directory, "tenants.csv"), lines);
            return ValidationResults.Load(directory);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
