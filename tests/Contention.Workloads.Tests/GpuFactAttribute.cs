using Contention.Workloads.Devices;

namespace Contention.Workloads.Tests;

/// <summary>A fact that needs a CUDA GPU; skipped, with the reason, where ILGPU finds none.</summary>
public sealed class GpuFactAttribute : FactAttribute
{
    private static readonly Lazy<int> Devices = new(CudaDevice.CountDevices);

    public GpuFactAttribute()
    {
        if (Devices.Value == 0)
        {
            Skip = "needs a CUDA GPU: ILGPU found none on this machine (run on the GPU host; see docs/gpu.md)";
        }
    }
}
