namespace Contention.Workloads.Devices;

/// <summary>One batch of a tenant's kernels (launches up to a synchronise) as CUDA events timed it on the GPU.</summary>
/// <param name="Number">How many batches had been timed with this one (1 for the first).</param>
/// <param name="Kernels">The batch's kernels.</param>
/// <param name="KernelNs">Their times summed, each from its start event to its end event, ns.</param>
/// <param name="SpanNs">From the first kernel's start event to the last kernel's end event, ns: the kernels and the GPU's gaps between them.</param>
internal readonly record struct TimedBatch(long Number, int Kernels, long KernelNs, long SpanNs);

/// <summary>A device that times batches of its kernels on the GPU (a cuda device): its latest timed batch, for benchmarks that take a request apart.</summary>
internal interface IBatchTiming
{
    /// <summary>The latest timed batch, null before the first.</summary>
    TimedBatch? LastTimedBatch { get; }
}
