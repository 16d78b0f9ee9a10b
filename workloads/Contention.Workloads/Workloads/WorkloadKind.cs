namespace Contention.Workloads.Workloads;

/// <summary>What a tenant runs.</summary>
public enum WorkloadKind
{
    /// <summary>Training steps: a kernel sequence and a synchronise per step.</summary>
    Training,

    /// <summary>Requests arriving open-loop (Poisson) or closed-loop; latency from arrival to completion.</summary>
    Inference,

    /// <summary>One operation of a set size, a set number of times per repetition.</summary>
    Microbench,

    /// <summary>A recorded job's steps (<see cref="WorkloadSpec.Trace"/>), closed loop or as requests at <see cref="WorkloadSpec.RatePerSecond"/>.</summary>
    Replay,
}
