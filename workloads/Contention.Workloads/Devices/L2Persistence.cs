using System.Globalization;

namespace Contention.Workloads.Devices;

/// <summary>
/// Experimental (issue 13): a latency-sensitive tenant's weights kept in the GPU's L2 beside
/// best-effort tenants, from <c>CONTENTION_L2_PERSIST=P</c> in the node's environment. On the H200
/// an MLP request found its weights out of the L2 (after 768 MB streamed through it, as after a
/// trainer's kernels: <c>bench idle --idle evict</c>) took 40 µs more of its 163 µs on the GPU.
/// The node's private MPS daemon sets P % of the L2 aside for persisting accesses (MPS allows it only
/// there: <see cref="MpsVariable"/>); a cuda tenant with a positive priority marks its weights
/// (the GEMMs' B operand) persisting on its stream (an access policy window), so the other
/// tenants' accesses cannot evict them from the set-aside. Without MPS nothing sets L2 aside here.
/// </summary>
public static class L2Persistence
{
    /// <summary>The variable that asks for it: a whole percentage of the L2, 1-100.</summary>
    public const string Variable = "CONTENTION_L2_PERSIST";

    /// <summary>The MPS control daemon's variable for the L2 set aside for persisting accesses, a percentage.</summary>
    public const string MpsVariable = "CUDA_DEVICE_DEFAULT_PERSISTING_L2_CACHE_PERCENTAGE_LIMIT";

    /// <summary>The percentage <see cref="Variable"/> asks for in this process's environment; 0 when unset.</summary>
    /// <exception cref="InvalidOperationException">It is set to something other than a whole percentage.</exception>
    public static int Requested() => Parse(Environment.GetEnvironmentVariable(Variable));

    /// <summary>The percentage <paramref name="text"/> asks for; 0 for none (null or empty).</summary>
    /// <exception cref="InvalidOperationException">Not a whole number from 1 to 100.</exception>
    public static int Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return 0;
        }

        return int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var percent) && percent is >= 1 and <= 100
            ? percent
            : throw new InvalidOperationException($"{Variable}={text}: expected the percentage of the GPU's L2 to set aside for a latency-sensitive tenant's weights, a whole number from 1 to 100 (or unset it)");
    }

    /// <summary>
    /// The access policy window over <paramref name="weightsBytes"/> of weights with
    /// <paramref name="setAsideBytes"/> of L2 set aside: as much of them as one window covers
    /// (<paramref name="maxWindowBytes"/>), and the share of its accesses marked persisting — all of
    /// them while they fit the set-aside, else as many as fit (more would evict each other).
    /// </summary>
    public static (long Bytes, float HitRatio) Window(long weightsBytes, long setAsideBytes, long maxWindowBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(weightsBytes);
        ArgumentOutOfRangeException.ThrowIfNegative(setAsideBytes);
        ArgumentOutOfRangeException.ThrowIfNegative(maxWindowBytes);
        var bytes = Math.Min(weightsBytes, maxWindowBytes);
        return bytes == 0 || setAsideBytes == 0 ? (bytes, 0f) : (bytes, (float)Math.Min(1.0, setAsideBytes / (double)bytes));
    }
}
