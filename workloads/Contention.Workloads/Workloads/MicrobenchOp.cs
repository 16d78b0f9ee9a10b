namespace Contention.Workloads.Workloads;

/// <summary>The operation a microbenchmark repeats.</summary>
public enum MicrobenchOp
{
    /// <summary>Host-to-device copy.</summary>
    Copy,

    /// <summary>Element-wise add with ReLU over three arrays.</summary>
    Elementwise,

    /// <summary>Square GEMM.</summary>
    Gemm,

    /// <summary>Sum reduction.</summary>
    Reduce,
}
