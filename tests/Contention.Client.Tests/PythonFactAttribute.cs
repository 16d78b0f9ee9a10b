using System.Diagnostics;

namespace Contention.Client.Tests;

/// <summary>A test of the recording hook, which is Python: skipped where there is no python3 (or, with <see cref="WithoutTorch"/>, where python3 has torch).</summary>
public sealed class PythonFactAttribute : FactAttribute
{
    private static readonly Lazy<bool?> Torch = new(HasTorch);

    public PythonFactAttribute(bool withoutTorch = false)
    {
        WithoutTorch = withoutTorch;
        if (Torch.Value is not { } torch)
        {
            Skip = "no /usr/bin/python3 on this machine: the recording hook is Python";
        }
        else if (withoutTorch && torch)
        {
            Skip = "python3 has torch here: a job's refusal without it cannot be shown";
        }
    }

    /// <summary>The test shows what happens without torch.</summary>
    public bool WithoutTorch { get; }

    // null: no python3.
    private static bool? HasTorch()
    {
        if (!File.Exists("/usr/bin/python3"))
        {
            return null;
        }

        using var process = Process.Start(new ProcessStartInfo("/usr/bin/python3", ["-c", "import torch"]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0;
    }
}
