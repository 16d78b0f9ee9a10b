using Contention.Workloads.Kernels;

namespace Contention.Workloads.Devices;

/// <summary>Helpers over <see cref="IComputeDevice"/> for benchmarks and checks.</summary>
internal static class ComputeDeviceExtensions
{
    /// <summary>Launches <paramref name="kernels"/> in order and synchronises once: one request or step as a tenant issues it.</summary>
    public static void LaunchAndSynchronize(this IComputeDevice device, IReadOnlyList<KernelSpec> kernels)
    {
        for (var k = 0; k < kernels.Count; k++)
        {
            device.Launch(kernels[k]);
        }

        device.Synchronize();
    }
}
