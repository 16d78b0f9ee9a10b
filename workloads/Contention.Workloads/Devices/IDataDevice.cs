using Contention.Workloads.Kernels;

namespace Contention.Workloads.Devices;

/// <summary>
/// A device that computes real values (cpu, cuda), so its results can be checked against a
/// reference or against another device. The modelled GPU computes durations, not values.
/// </summary>
public interface IDataDevice : IComputeDevice
{
    /// <summary>C = A·B with A row-major M×K and B row-major K×N.</summary>
    float[] Gemm(float[] a, float[] b, int m, int n, int k);

    /// <summary>z = f(x, y) element by element.</summary>
    float[] Elementwise(ElementwiseOp op, float[] x, float[] y);

    /// <summary>The sum of <paramref name="x"/>.</summary>
    float Reduce(float[] x);

    /// <summary>Copies <paramref name="x"/> to the device and back through the tenant's host buffers.</summary>
    float[] RoundTrip(float[] x);
}
