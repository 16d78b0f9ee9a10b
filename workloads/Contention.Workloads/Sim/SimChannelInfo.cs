namespace Contention.Workloads.Sim;

/// <summary>What a tenant needs to reach its slot of a node's modelled GPU.</summary>
/// <param name="Path">The shared-memory file of the modelled GPU.</param>
/// <param name="Slot">The tenant's slot (its GPU context).</param>
/// <param name="FifoPath">The FIFO the GPU writes to when it wakes a tenant that blocks.</param>
/// <param name="Profile">The device profile, so the tenant computes kernel durations itself.</param>
/// <param name="Sharing">How the modelled GPU is shared, for the host costs measured per sharing mode.</param>
public sealed record SimChannelInfo(string Path, int Slot, string FifoPath, DeviceProfile Profile, GpuSharing Sharing = GpuSharing.Timeslice);
