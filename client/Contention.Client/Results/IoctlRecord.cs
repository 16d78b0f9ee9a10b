using Contention.Grains;

namespace Contention.Client.Results;

/// <summary>One decoded ioctl kind of one tenant in one phase (ioctls.csv).</summary>
public sealed record IoctlRecord(string Tenant, MeasurementPhase Phase, string Device, string Ioctl, long Count, long Errors, double Seconds, long TimedCalls);
