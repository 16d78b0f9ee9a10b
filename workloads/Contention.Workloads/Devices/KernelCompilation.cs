using System.Reflection;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Contention.Workloads.Devices;

/// <summary>One kernel compiled to PTX: its name, and the PTX's size, entry point and target.</summary>
/// <param name="Kernel">The kernel method.</param>
/// <param name="PtxBytes">Size of the PTX assembly, bytes.</param>
/// <param name="Entry">The PTX <c>.entry</c> name.</param>
/// <param name="Target">The PTX <c>.target</c> (the architecture ILGPU compiled for).</param>
public sealed record CompiledKernelInfo(string Kernel, int PtxBytes, string Entry, string Target);

/// <summary>
/// Compiles every kernel the cuda device loads to PTX for a GPU architecture with ILGPU's PTX
/// backend, on any machine: no GPU or driver is needed. ILGPU compiles a kernel from its IL and
/// the IL of every framework method it calls, so a build whose framework code was trimmed away
/// fails here as it would on the GPU host (<c>contention devices --compile</c>).
/// </summary>
public static class KernelCompilation
{
    /// <summary>The architectures <c>--arch</c> accepts, by their <c>sm_XY</c> name.</summary>
    public static IReadOnlyDictionary<string, CudaArchitecture> Architectures { get; } = new Dictionary<string, CudaArchitecture>(StringComparer.OrdinalIgnoreCase)
    {
        ["sm_70"] = CudaArchitecture.SM_70,
        ["sm_75"] = CudaArchitecture.SM_75,
        ["sm_80"] = CudaArchitecture.SM_80,
        ["sm_86"] = CudaArchitecture.SM_86,
        ["sm_89"] = CudaArchitecture.SM_89,
        ["sm_90"] = CudaArchitecture.SM_90,
    };

    /// <summary>
    /// Compiles the cuda device's kernels for <paramref name="architecture"/> (e.g. <c>sm_90</c>, the
    /// H100's and H200's; ILGPU 1.5 emits <c>sm_80</c> PTX for it, which the driver compiles for the GPU).
    /// </summary>
    /// <exception cref="ArgumentException">An architecture not in <see cref="Architectures"/>.</exception>
    public static IReadOnlyList<CompiledKernelInfo> CompileAll(string architecture = "sm_90") => CompileAll(architecture, out _);

    /// <summary>As <see cref="CompileAll(string)"/>, with each kernel's PTX in <paramref name="assemblies"/>.</summary>
    public static IReadOnlyList<CompiledKernelInfo> CompileAll(string architecture, out IReadOnlyList<string> assemblies)
    {
        if (!Architectures.TryGetValue(architecture, out var arch))
        {
            throw new ArgumentException($"unknown architecture '{architecture}': use one of {string.Join(", ", Architectures.Keys)}", nameof(architecture));
        }

        using var context = Context.Create(builder => builder.Cuda());
        using var backend = new PTXBackend(context, arch, CudaInstructionSet.ISA_80, null!); // no NVVM: ILGPU's own PTX generator
        (string Name, bool Grouped)[] kernels = [(nameof(CudaKernels.Gemm), true), (nameof(CudaKernels.GemmTiled), true), (nameof(CudaKernels.Elementwise), false), (nameof(CudaKernels.Reduce), true), (nameof(CudaKernels.Busy), true), (nameof(CudaKernels.GemmAvoiding), true), (nameof(CudaKernels.ElementwiseAvoiding), true)];
        var compiled = kernels.Select(k => Compile(backend, k.Name, k.Grouped)).ToArray();
        assemblies = [.. compiled.Select(c => c.Ptx)];
        return [.. compiled.Select(c => c.Info)];
    }

    private static (CompiledKernelInfo Info, string Ptx) Compile(PTXBackend backend, string name, bool grouped)
    {
        var method = typeof(CudaKernels).GetMethod(name, BindingFlags.Public | BindingFlags.Static) ?? throw new MissingMethodException(nameof(CudaKernels), name);
        var entry = grouped ? EntryPointDescription.FromExplicitlyGroupedKernel(method) : EntryPointDescription.FromImplicitlyGroupedKernel(method);
        var compiled = (PTXCompiledKernel)backend.Compile(entry, KernelSpecialization.Empty);
        var ptx = compiled.PTXAssembly;
        return (new CompiledKernelInfo(name, System.Text.Encoding.UTF8.GetByteCount(ptx), Directive(ptx, ".entry "), Directive(ptx, ".target ")), ptx);
    }

    // The word after a PTX directive ("" where there is none).
    private static string Directive(string ptx, string directive)
    {
        var at = ptx.IndexOf(directive, StringComparison.Ordinal);
        return at < 0 ? "" : new string([.. ptx.Skip(at + directive.Length).TakeWhile(c => c != '(' && c != ',' && !char.IsWhiteSpace(c))]);
    }
}
