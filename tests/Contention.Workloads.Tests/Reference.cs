using Contention.Workloads.Kernels;

namespace Contention.Workloads.Tests;

/// <summary>Plain, obviously correct definitions the devices are checked against.</summary>
internal static class Reference
{
    public static float[] Gemm(float[] a, float[] b, int m, int n, int k)
    {
        var c = new float[m * n];
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                double sum = 0;
                for (var p = 0; p < k; p++)
                {
                    sum += (double)a[i * k + p] * b[p * n + j];
                }

                c[i * n + j] = (float)sum;
            }
        }

        return c;
    }

    public static float Elementwise(ElementwiseOp op, float x, float y) => op switch
    {
        ElementwiseOp.Add => x + y,
        ElementwiseOp.Multiply => x * y,
        _ => Math.Max(x + y, 0f),
    };
}
