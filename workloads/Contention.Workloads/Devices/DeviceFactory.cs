namespace Contention.Workloads.Devices;

/// <summary>Opens the device implementation an options record names.</summary>
public static class DeviceFactory
{
    /// <summary>Opens <c>options.Id</c> for one tenant.</summary>
    public static IComputeDevice Open(DeviceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Id.Kind switch
        {
            DeviceKind.Cpu => new CpuDevice(options),
            DeviceKind.Cuda => new CudaDevice(options),
            _ => new SimDevice(options),
        };
    }
}
