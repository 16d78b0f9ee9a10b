using Contention.Workloads.Devices;
using Contention.Workloads.Kernels;

namespace Contention.Workloads.Tests;

[Trait("Category", "Gpu")]
public class CudaDeviceTests
{
    [GpuFact]
    public void Kernels_AllSyncModes_AgreeWithCpuDevice()
    {
        using var cpu = new CpuDevice(new DeviceOptions { Id = new DeviceId(DeviceKind.Cpu, 0) });
        var random = new Random(11);
        foreach (var sync in new[] { SyncMode.Spin, SyncMode.Yield, SyncMode.Block })
        {
            foreach (var pinned in new[] { true, false })
            {
                using var cuda = new CudaDevice(new DeviceOptions { Id = new DeviceId(DeviceKind.Cuda, 0), SyncMode = sync, PinnedHost = pinned });
                var (m, n, k) = (301, 257, 123);
                var a = CpuDeviceTests.Random(random, m * k);
                var b = CpuDeviceTests.Random(random, k * n);
                AssertClose(cpu.Gemm(a, b, m, n, k), cuda.Gemm(a, b, m, n, k), 1e-3f);
                var x = CpuDeviceTests.Random(random, 1_000_003);
                var y = CpuDeviceTests.Random(random, 1_000_003);
                foreach (var op in Enum.GetValues<ElementwiseOp>())
                {
                    AssertClose(cpu.Elementwise(op, x, y), cuda.Elementwise(op, x, y), 1e-6f);
                }

                Assert.Equal(cpu.Reduce(x), cuda.Reduce(x), 0.5f);
                Assert.Equal(x, cuda.RoundTrip(x));
            }
        }
    }

    [GpuFact]
    public void Launch_ResNetTrainingStep_Completes()
    {
        using var cuda = new CudaDevice(new DeviceOptions { Id = new DeviceId(DeviceKind.Cuda, 0), SyncMode = SyncMode.Block });
        var step = Workloads.ModelShapes.TrainingStep("resnet50", 8);
        cuda.Prepare(step);

        foreach (var kernel in step)
        {
            cuda.Launch(kernel);
        }

        cuda.Synchronize();
    }

    private static void AssertClose(float[] expected, float[] actual, float tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * Math.Max(1, Math.Abs(expected[i])), $"[{i}] cuda {actual[i]} vs cpu {expected[i]}");
        }
    }
}
