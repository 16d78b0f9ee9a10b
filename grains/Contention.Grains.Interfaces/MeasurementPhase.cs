namespace Contention.Grains;

/// <summary>The part of an experiment a tenant's measurements belong to (written in lower case in results and metric labels).</summary>
[GenerateSerializer]
public enum MeasurementPhase
{
    /// <summary>Before the measured window: reported apart, never mixed into the results.</summary>
    Warmup,

    /// <summary>The measured window.</summary>
    Measure,
}
