using System.ComponentModel.DataAnnotations;

namespace Contention.Workloads.Sim;

/// <summary>
/// One point of what a kernel pays after other work went through the GPU's memory, measured on the
/// profiled GPU (<c>contention bench idle --idle evict --evict-mb N</c>): a request that followed
/// <paramref name="AfterBytes"/> bytes of another kernel's traffic waited <paramref name="ExtraNs"/>
/// longer for its kernels than back-to-back requests do (the L2 and whatever else the traffic
/// displaced: on the H200 nothing while it fits the L2, about half once it overflows, the rest
/// growing with the span touched).
/// </summary>
/// <param name="AfterBytes">Bytes the other traffic moved (reads and writes of its kernels).</param>
/// <param name="ExtraNs">How much longer the request's kernels took, ns (never below 0).</param>
public sealed record MeasuredColdStart(long AfterBytes, long ExtraNs);

/// <summary>
/// The modelled GPU's cold starts (<see cref="DeviceProfile.ColdStarts"/>): a context whose queue
/// ran dry pays, on the compute kernel that starts its next busy period, the profile's curve at
/// the bytes the other contexts' kernels moved through the GPU's memory meanwhile. What that
/// kernel itself moves ages its cache as others' bytes do: the extra is the curve at the others'
/// bytes and the kernel's less the curve at the kernel's alone (for a part of a sliced kernel, the
/// whole kernel's bytes: its parts work on the same data). So a request that starts with a small
/// kernel pays the curve whole after a trainer's kernels, however much the whole request moves
/// (on the H200 ResNet-50 at batch 1, 350 MiB a request, pays what the MLP's 16 MiB do), and a
/// kernel that streams hundreds of MB pays little (ResNet-50 at batch 8 and 32: nothing
/// measurable). Within a busy period nothing is added (kernels of several contexts running at
/// once slow each other by the fitted MPS terms instead). Kernels count their bytes
/// (<see cref="SimKernel.BandwidthShare"/> of the achievable bandwidth over their time alone) when
/// they start; copies neither pay nor count. Fitted to no mix: the curve is the measurement's;
/// the footprint rule was checked against five requests' measured extras
/// (docs/results/h200/validation/virtual, "The footprint is the first kernel's").
/// </summary>
public sealed class ColdStart
{
    private readonly MeasuredColdStart[] points;
    private readonly double bytesPerNs;
    private readonly double[] seen;
    private readonly bool[] idle;
    private double moved;

    /// <summary>A tracker for <paramref name="contexts"/> contexts on a GPU of <paramref name="bytesPerNs"/> achievable memory bandwidth.</summary>
    public ColdStart(IReadOnlyList<MeasuredColdStart> curve, int contexts, double bytesPerNs)
    {
        ArgumentNullException.ThrowIfNull(curve);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(contexts);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytesPerNs);
        points = Checked(curve);
        this.bytesPerNs = bytesPerNs;
        seen = new double[contexts];
        idle = new bool[contexts];
        Array.Fill(idle, true);
    }

    /// <summary>The curve's points in order of their bytes; refuses an empty curve, bytes not rising or a negative extra (<see cref="Problem"/>).</summary>
    public static MeasuredColdStart[] Checked(IReadOnlyList<MeasuredColdStart> curve)
    {
        ArgumentNullException.ThrowIfNull(curve);
        return Problem(curve) is { } problem ? throw new ArgumentException(problem, nameof(curve)) : [.. curve];
    }

    /// <summary>What is wrong with a curve (none, bytes not rising, a negative extra), or null.</summary>
    public static string? Problem(IReadOnlyList<MeasuredColdStart> curve)
    {
        ArgumentNullException.ThrowIfNull(curve);
        if (curve.Count == 0)
        {
            return "a cold-start curve needs at least one point (afterBytes, extraNs)";
        }

        for (var i = 0; i < curve.Count; i++)
        {
            if (curve[i].AfterBytes <= 0 || curve[i].ExtraNs < 0)
            {
                return $"cold-start point {i + 1}: afterBytes must be above 0 and extraNs 0 or more (got {curve[i].AfterBytes} and {curve[i].ExtraNs})";
            }

            if (i > 0 && curve[i].AfterBytes <= curve[i - 1].AfterBytes)
            {
                return $"cold-start point {i + 1}: afterBytes must rise from point to point ({curve[i - 1].AfterBytes} then {curve[i].AfterBytes})";
            }
        }

        return null;
    }

    /// <summary>
    /// The curve at <paramref name="bytes"/>, ns: 0 up to the first point's bytes (the extra rises
    /// from 0 there, linear in the bytes' logarithm, to the first point's), between points linear
    /// in the bytes' logarithm, past the last its extra.
    /// </summary>
    public long ExtraNs(double bytes)
    {
        if (bytes <= 0)
        {
            return 0;
        }

        var first = points[0];
        if (bytes <= first.AfterBytes)
        {
            // From half the first point's bytes (nothing there) to the first point.
            var from = first.AfterBytes / 2.0;
            return bytes <= from ? 0 : (long)Math.Round(first.ExtraNs * Math.Log(bytes / from) / Math.Log(first.AfterBytes / from));
        }

        for (var i = 1; i < points.Length; i++)
        {
            if (bytes <= points[i].AfterBytes)
            {
                var (a, b) = (points[i - 1], points[i]);
                var t = Math.Log(bytes / a.AfterBytes) / Math.Log((double)b.AfterBytes / a.AfterBytes);
                return (long)Math.Round(a.ExtraNs + (t * (b.ExtraNs - a.ExtraNs)));
            }
        }

        return points[^1].ExtraNs;
    }

    /// <summary>The bytes a kernel moves: its share of the achievable bandwidth over its time alone.</summary>
    public double Bytes(in SimKernel kernel) => kernel.BandwidthShare * kernel.DurationNs * bytesPerNs;

    /// <summary>The bytes the kernel it belongs to moves (<see cref="SimKernel.WholeKernelNs"/>): a part's footprint.</summary>
    public double WholeBytes(in SimKernel kernel) => kernel.BandwidthShare * kernel.WholeKernelNs * bytesPerNs;

    /// <summary>A kernel of <paramref name="context"/> starts: how much longer it runs, ns (0 for a copy), its bytes counted.</summary>
    public long Start(int context, in SimKernel kernel) => kernel.SmShare > 0 ? Start(context, Bytes(kernel), WholeBytes(kernel)) : 0;

    /// <summary>
    /// A compute kernel of <paramref name="context"/> moving <paramref name="bytes"/> starts: how
    /// much longer it runs, ns. <paramref name="wholeBytes"/>: for a part of a sliced kernel, the
    /// whole kernel's bytes (0: <paramref name="bytes"/>).
    /// </summary>
    public long Start(int context, double bytes, double wholeBytes = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        ArgumentOutOfRangeException.ThrowIfNegative(wholeBytes);
        var extra = 0L;
        if (idle[context])
        {
            var others = moved - seen[context];
            if (others > 0)
            {
                var footprint = Math.Max(bytes, wholeBytes);
                extra = Math.Max(0, ExtraNs(others + footprint) - ExtraNs(footprint));
            }

            idle[context] = false;
        }

        moved += bytes;
        return extra;
    }

    /// <summary>The queue of <paramref name="context"/> ran dry: its next kernel starts a busy period.</summary>
    public void Idle(int context)
    {
        if (idle[context])
        {
            return;
        }

        idle[context] = true;
        seen[context] = moved;
    }

    /// <summary>A context's slot is taken afresh: what went before it is no one's cache.</summary>
    public void Reset(int context)
    {
        idle[context] = true;
        seen[context] = moved;
    }
}

/// <summary>Validates <see cref="DeviceProfile.ColdStarts"/>: none, or a curve <see cref="ColdStart.Checked"/> takes.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ValidColdStartsAttribute : ValidationAttribute
{
    /// <inheritdoc />
    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext) =>
        value is IReadOnlyList<MeasuredColdStart> { Count: > 0 } curve && ColdStart.Problem(curve) is { } problem ? new ValidationResult(problem) : ValidationResult.Success;
}
