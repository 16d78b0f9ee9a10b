namespace Contention.Workloads.Workloads;

/// <summary>
/// One buffer set of a microbenchmark grid: <see cref="Op"/> over <see cref="Bytes"/>, allocated
/// once (the setup phase), run for each launch count in <see cref="Iterations"/> (one steady
/// phase each), then freed (the teardown phase).
/// </summary>
/// <param name="Op">The operation.</param>
/// <param name="Bytes">Bytes it touches.</param>
/// <param name="Iterations">Launches of each steady phase (one synchronise at its end).</param>
public sealed record MicrobenchGroup(MicrobenchOp Op, long Bytes, IReadOnlyList<int> Iterations);
