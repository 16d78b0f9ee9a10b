namespace Contention.Grains;

/// <summary>What a tenant runs (written in lower case in mixes, results and metric labels).</summary>
[GenerateSerializer]
public enum TenantKind
{
    /// <summary>Training steps of a modelled network (forward, backward, optimizer).</summary>
    Training,

    /// <summary>Inference requests, closed loop or open-loop Poisson arrivals.</summary>
    Inference,

    /// <summary>One operation (copy, elementwise, gemm, reduce) repeated, or a grid of them.</summary>
    Microbench,

    /// <summary>An external program; a matching line of its output is one operation.</summary>
    Command,

    /// <summary>A recorded job's kernel trace replayed step by step (docs/replay.md): closed-loop steps, or requests at a rate.</summary>
    Replay,
}
