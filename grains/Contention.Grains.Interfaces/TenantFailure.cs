namespace Contention.Grains;

/// <summary>A tenant's worker crashed or could not start.</summary>
/// <param name="Tenant">The tenant.</param>
/// <param name="Node">Where it ran.</param>
/// <param name="Message">What happened, in words a user can act on.</param>
/// <param name="ExitCode">The worker's exit status, or -1 when it never started.</param>
/// <param name="AtUtc">When it was noticed.</param>
/// <param name="WillRestart">Whether a restart follows.</param>
[GenerateSerializer, Immutable, Alias("contention.TenantFailure")]
public sealed record TenantFailure(
    [property: Id(0)] string Tenant,
    [property: Id(1)] string Node,
    [property: Id(2)] string Message,
    [property: Id(3)] int ExitCode,
    [property: Id(4)] DateTimeOffset AtUtc,
    [property: Id(5)] bool WillRestart);
