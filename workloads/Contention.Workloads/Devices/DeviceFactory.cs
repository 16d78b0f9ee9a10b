using Contention.Workloads.Arbiter;
using Contention.Workloads.Sim;

namespace Contention.Workloads.Devices;

/// <summary>Opens the device implementation an options record names.</summary>
public static class DeviceFactory
{
    /// <summary>Opens <c>options.Id</c> for one tenant.</summary>
    /// <exception cref="InvalidOperationException">An arbiter was asked for on the cpu device, or its file cannot be opened.</exception>
    public static IComputeDevice Open(DeviceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Arbiter is not null && options.Id.Kind == DeviceKind.Cpu)
        {
            throw new InvalidOperationException($"{options.Id} has no GPU arbiter: the arbiter orders launches on a GPU, so use device cuda or sim with arbiter: gating or slicing");
        }

        IComputeDevice device = options.Id.Kind switch
        {
            DeviceKind.Cpu => new CpuDevice(options),
            DeviceKind.Cuda => new CudaDevice(options),
            _ => new SimDevice(options),
        };
        return options.Arbiter is null ? device : WithArbiter(device, options.Arbiter);
    }

    /// <summary>The shipped profile whose name a GPU's description contains as a word (an "NVIDIA H200 …" is h200); h200 when none does.</summary>
    public static string ProfileFor(string description)
    {
        ArgumentNullException.ThrowIfNull(description);
        var words = description.Split([' ', '(', ')', ',', '-'], StringSplitOptions.RemoveEmptyEntries);
        return DeviceProfile.BuiltInNames.FirstOrDefault(name => words.Any(w => w.Equals(name, StringComparison.OrdinalIgnoreCase))) ?? "h200";
    }

    private static ArbitratedDevice WithArbiter(IComputeDevice device, ArbiterOptions options)
    {
        ArbiterGate? gate = null;
        try
        {
            var model = device is SimDevice sim ? sim.Model : new CostModel(DeviceProfile.Load(options.Profile ?? ProfileFor(device.Description)));
            gate = ArbiterGate.Open(options.Path);
            return new ArbitratedDevice(device, gate, options.Sensitive, new DurationPredictor(kernel => model.Kernel(kernel).DurationNs), partCostNs: model.Profile.PartCostNs());
        }
        catch
        {
            gate?.Dispose();
            device.Dispose();
            throw;
        }
    }
}
