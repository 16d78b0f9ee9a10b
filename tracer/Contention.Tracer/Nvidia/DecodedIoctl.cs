namespace Contention.Tracer.Nvidia;

/// <summary>An ioctl kind in words.</summary>
/// <param name="Device">nvidiactl, nvidiaN, nvidia-uvm, ...; "dev M:m" for another device; "-" when the fd is not a device.</param>
/// <param name="Nvidia">The device is an NVIDIA one (the call counts as gpu-driver).</param>
/// <param name="Operation">The escape or UVM op name, or the request in hex; "(xfer)" marks one unwrapped from NV_ESC_IOCTL_XFER_CMD.</param>
/// <param name="Detail">The RM control or RM alloc class name, or its code in hex; empty when the operation has none.</param>
public sealed record DecodedIoctl(string Device, bool Nvidia, string Operation, string Detail)
{
    /// <summary>One line: operation and detail.</summary>
    public string Name => Detail.Length == 0 ? Operation : $"{Operation} {Detail}";
}
