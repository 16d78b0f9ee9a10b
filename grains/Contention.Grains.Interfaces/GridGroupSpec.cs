namespace Contention.Grains;

/// <summary>One buffer set of a microbenchmark grid: an operation over some bytes, run for each launch count.</summary>
/// <param name="Op">copy, elementwise, gemm or reduce.</param>
/// <param name="Bytes">Bytes the operation touches.</param>
/// <param name="Iterations">Launches of each steady phase.</param>
[GenerateSerializer, Immutable, Alias("contention.GridGroupSpec")]
public sealed record GridGroupSpec(
    [property: Id(0)] string Op,
    [property: Id(1)] long Bytes,
    [property: Id(2)] IReadOnlyList<int> Iterations);
