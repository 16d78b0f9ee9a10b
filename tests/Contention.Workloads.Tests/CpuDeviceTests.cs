using Contention.Workloads.Devices;
using Contention.Workloads.Kernels;

namespace Contention.Workloads.Tests;

public class CpuDeviceTests
{
    private static readonly CpuDevice Device = new(new DeviceOptions { Id = new DeviceId(DeviceKind.Cpu, 0) });

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(7, 13, 5)]
    [InlineData(64, 48, 33)]
    [InlineData(129, 17, 200)]
    public void Gemm_RandomMatrices_MatchesNaiveReference(int m, int n, int k)
    {
        var random = new Random(m * 1000 + n * 10 + k);
        var a = Random(random, m * k);
        var b = Random(random, k * n);

        var result = Device.Gemm(a, b, m, n, k);

        var expected = Reference.Gemm(a, b, m, n, k);
        Assert.Equal(expected.Length, result.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - result[i]) <= 1e-4 * Math.Max(1, Math.Abs(expected[i])), $"C[{i}] = {result[i]}, expected {expected[i]}");
        }
    }

    [Theory]
    [InlineData(ElementwiseOp.Add)]
    [InlineData(ElementwiseOp.Multiply)]
    [InlineData(ElementwiseOp.AddRelu)]
    public void Elementwise_OddLength_MatchesScalarDefinition(ElementwiseOp op)
    {
        var random = new Random(3);
        var x = Random(random, 100_003);
        var y = Random(random, 100_003);

        var z = Device.Elementwise(op, x, y);

        for (var i = 0; i < x.Length; i++)
        {
            Assert.Equal(Reference.Elementwise(op, x[i], y[i]), z[i]);
        }
    }

    [Fact]
    public void Reduce_LargeArray_MatchesDoubleSum()
    {
        var x = Random(new Random(5), 1_000_001);

        var sum = Device.Reduce(x);

        Assert.Equal(x.Sum(v => (double)v), sum, 1e-1);
    }

    [Fact]
    public void Launch_GemmOnWorkspace_WritesProductOfFilledBuffers()
    {
        using var device = new CpuDevice(new DeviceOptions { Id = new DeviceId(DeviceKind.Cpu, 0) });
        var gemm = KernelSpec.Gemm(8, 8, 16);
        device.Prepare([gemm]);

        device.Launch(gemm);
        device.Synchronize();

        // Workspace A is filled with 0.5 and B with 0.25: every C element is 16 · 0.125.
        var check = device.Gemm(Enumerable.Repeat(0.5f, 8 * 16).ToArray(), Enumerable.Repeat(0.25f, 16 * 8).ToArray(), 8, 8, 16);
        Assert.All(check, v => Assert.Equal(2f, v));
    }

    internal static float[] Random(Random random, int length) => Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
}
