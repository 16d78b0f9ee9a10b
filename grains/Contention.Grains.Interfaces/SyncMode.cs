namespace Contention.Grains;

/// <summary>How a tenant's host thread waits for its device (written in lower case in mixes and results).</summary>
[GenerateSerializer]
public enum SyncMode
{
    /// <summary>Busy-polls: lowest latency, one core busy.</summary>
    Spin,

    /// <summary>Polls, yielding the core between polls.</summary>
    Yield,

    /// <summary>Sleeps until the device signals completion.</summary>
    Block,
}
