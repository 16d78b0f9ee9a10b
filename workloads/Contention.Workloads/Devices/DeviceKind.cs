namespace Contention.Workloads.Devices;

/// <summary>The three device implementations behind <see cref="IComputeDevice"/>.</summary>
public enum DeviceKind
{
    /// <summary>Vectorised .NET code on the host CPU: the CPU execution model.</summary>
    Cpu,

    /// <summary>A real NVIDIA GPU through ILGPU's CUDA back end.</summary>
    Cuda,

    /// <summary>A modelled GPU shared by the tenants placed on it.</summary>
    Sim,
}
