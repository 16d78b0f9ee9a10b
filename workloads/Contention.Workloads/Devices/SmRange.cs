namespace Contention.Workloads.Devices;

/// <summary>
/// The multiprocessors a persistent kernel's groups may work on (experimental, issue 13): those
/// numbered (<c>%smid</c>) from <see cref="From"/> up to, not including, <see cref="To"/>. A group
/// that lands on another leaves at once, so the others stay free for another tenant's blocks
/// (<see cref="CudaKernels.GemmAvoiding"/>, <see cref="CudaKernels.ElementwiseAvoiding"/>).
/// </summary>
internal readonly record struct SmRange
{
    /// <summary>The greatest multiprocessor number a range can name (its bounds travel to the kernel in 16 bits each).</summary>
    public const int Greatest = 0xFFFF;

    public SmRange(int from, int to)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(from);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(to, Greatest);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(to, from);
        From = from;
        To = to;
    }

    public int From { get; }

    public int To { get; }

    /// <summary>Every multiprocessor.</summary>
    public static SmRange All { get; } = new(0, Greatest);

    /// <summary>All but the first <paramref name="count"/> (0: every one).</summary>
    public static SmRange AfterFirst(int count) => new(count, Greatest);

    /// <summary>The first <paramref name="count"/> only.</summary>
    public static SmRange First(int count) => new(0, count);

    /// <summary>Whether the range is every multiprocessor.</summary>
    public bool IsAll => From == 0 && To == Greatest;

    /// <summary>Both bounds in one kernel argument: <see cref="From"/> in the low 16 bits, <see cref="To"/> in the high.</summary>
    public int Packed => From | (To << 16);

    /// <summary>How many of a GPU's <paramref name="multiprocessors"/> lie outside the range.</summary>
    public int OutsideOf(int multiprocessors) => multiprocessors - Math.Max(0, Math.Min(To, multiprocessors) - Math.Min(From, multiprocessors));

    /// <summary>Whether multiprocessor <paramref name="sm"/> lies outside the range <paramref name="packed"/> (<see cref="Packed"/>); kernels call it.</summary>
    public static bool Outside(int packed, uint sm) => sm < (uint)(packed & Greatest) || sm >= ((uint)packed >> 16);

    /// <summary>"SMs 0-65" (the numbers inside, on a GPU of <paramref name="multiprocessors"/>).</summary>
    public string Describe(int multiprocessors) => $"SMs {From}-{Math.Min(To, multiprocessors) - 1}";
}
