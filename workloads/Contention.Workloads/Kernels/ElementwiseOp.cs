namespace Contention.Workloads.Kernels;

/// <summary>Element-wise functions z = f(x, y).</summary>
public enum ElementwiseOp
{
    /// <summary>z = x + y.</summary>
    Add,

    /// <summary>z = x · y.</summary>
    Multiply,

    /// <summary>z = max(x + y, 0): a bias add fused with ReLU, as a framework would fuse it.</summary>
    AddRelu,
}
