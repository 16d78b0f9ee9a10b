using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Contention.Workloads.Tests;

/// <summary>
/// NVIDIA's PTX assembler, which does what the driver's JIT does when a cuda device loads our
/// kernels: ILGPU can write PTX the driver refuses (it did: an immediate global address), and only
/// a GPU host would show it otherwise. <c>scripts/test.sh</c> fetches it (Debian's non-free CUDA
/// 11.8 toolkit package) and names it in <c>CONTENTION_PTXAS</c>; else one on the PATH.
/// </summary>
internal static partial class Ptxas
{
    /// <summary>The assembler's path; null where there is none.</summary>
    public static string? Path { get; } = Find();

    /// <summary>Assembles <paramref name="ptx"/> for <paramref name="architecture"/>: its exit code and what it wrote.</summary>
    public static (int ExitCode, string Output) Assemble(string ptx, string architecture)
    {
        var file = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"contention-{Guid.NewGuid():N}.ptx");
        File.WriteAllText(file, ForThisAssembler(ptx));
        try
        {
            var (code, output) = Run($"-arch={architecture} {file} -o /dev/null");
            return (code, output.Replace(file, "<ptx>", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(file);
        }
    }

    // An assembler of CUDA 11.x takes PTX ISA up to 7.x (11.8: 7.8); ILGPU writes 8.0, whose
    // instructions we use all exist in 7.8: the version is lowered for it, nothing else.
    private static string ForThisAssembler(string ptx) => Release.Value is { } release && release.Groups[1].Value == "11"
        ? PtxVersion().Replace(ptx, $".version 7.{release.Groups[2].Value}")
        : ptx;

    // The assembler's CUDA release ("release 11.8"), asked once; null where it says none.
    private static readonly Lazy<Match?> Release = new(() => CudaRelease().Match(Run("--version").Output) is { Success: true } match ? match : null);

    private static (int ExitCode, string Output) Run(string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(Path!, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output.Result + error);
    }

    private static string? Find()
    {
        if (Environment.GetEnvironmentVariable("CONTENTION_PTXAS") is { Length: > 0 } named && File.Exists(named))
        {
            return named;
        }

        return (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => System.IO.Path.Combine(d, "ptxas")).FirstOrDefault(File.Exists);
    }

    [GeneratedRegex(@"release (\d+)\.(\d+)")]
    private static partial Regex CudaRelease();

    [GeneratedRegex(@"^\.version \d+\.\d+", RegexOptions.Multiline)]
    private static partial Regex PtxVersion();
}

/// <summary>A fact that needs NVIDIA's PTX assembler (<see cref="Ptxas"/>); skipped, with the reason, where there is none.</summary>
public sealed class PtxasFactAttribute : FactAttribute
{
    public PtxasFactAttribute()
    {
        if (Ptxas.Path is null)
        {
            Skip = "needs NVIDIA's ptxas: set CONTENTION_PTXAS or put it on the PATH (scripts/test.sh fetches Debian's)";
        }
    }
}
