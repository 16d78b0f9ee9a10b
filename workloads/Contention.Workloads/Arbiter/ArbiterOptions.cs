namespace Contention.Workloads.Arbiter;

/// <summary>A tenant's place behind its GPU's arbiter.</summary>
/// <param name="Path">The arbiter's file, which the node created for the GPU (<see cref="ArbiterGate.Create"/>).</param>
/// <param name="Sensitive">Whether the tenant is latency-sensitive (a priority above 0); else best-effort.</param>
/// <param name="Profile">
/// The profile (a shipped name or a file) a real GPU's kernel times are first predicted from,
/// before the tenant's own measurements correct them (<see cref="DurationPredictor"/>); null:
/// the shipped profile whose name the GPU's name contains (h100, h200, …), else h200. A
/// modelled GPU predicts from its own model.
/// </param>
public sealed record ArbiterOptions(string Path, bool Sensitive, string? Profile = null);
