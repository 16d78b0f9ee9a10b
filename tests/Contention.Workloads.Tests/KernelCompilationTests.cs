using Contention.Workloads.Devices;

namespace Contention.Workloads.Tests;

/// <summary>The cuda device's kernels compiled to PTX without a GPU (<c>contention devices --compile</c>).</summary>
// Compiling takes both cores of a 2-core machine for a while: not beside the timed modelled-GPU tests
// (a spin-mode wait took 111 ms against a 63 ms bound beside it).
[Collection(SimTiming.Name)]
public class KernelCompilationTests
{
    [Theory]
    [InlineData("sm_90")]
    [InlineData("SM_75")]
    public void CompileAll_EveryKernelBecomesAPtxEntry(string architecture)
    {
        var kernels = KernelCompilation.CompileAll(architecture, out var assemblies);

        Assert.Equal(["Gemm", "GemmTiled", "Elementwise", "Reduce", "Busy", "GemmAvoiding", "ElementwiseAvoiding"], kernels.Select(k => k.Kernel));
        Assert.All(kernels, k => Assert.True(k.PtxBytes > 1000, $"{k.Kernel}: {k.PtxBytes} bytes of PTX"));
        Assert.Equal(["Kernel_Gemm", "Kernel_GemmTiled", "Kernel_Elementwise", "Kernel_Reduce", "Kernel_Busy", "Kernel_GemmAvoiding", "Kernel_ElementwiseAvoiding"], kernels.Select(k => k.Entry));

        // The replay's busy kernel reads the GPU's timer in its loop (twice: before it and in it), not once hoisted.
        Assert.Equal(2, assemblies[4].Split("%globaltimer").Length - 1);
        // The kernels that keep off reserved multiprocessors read which one they run on, once.
        Assert.All(assemblies.Skip(5), ptx => Assert.Equal(1, ptx.Split("%smid").Length - 1));
        Assert.All(assemblies, ptx => Assert.Contains(".target sm_", ptx, StringComparison.Ordinal));
        Assert.All(kernels, k => Assert.StartsWith("sm_", k.Target, StringComparison.Ordinal));
    }

    [PtxasFact]
    public void CompileAll_EveryKernelAssembles_AsTheDriverWouldLoadIt()
    {
        // The driver JIT-compiles a module when a cuda tenant opens its GPU: one kernel it refuses
        // fails every tenant. First that the assembler refuses what the driver refused on the H200
        // (an immediate global address), so a pass below means something.
        var refused = Ptxas.Assemble("""
            .version 8.0
            .target sm_80
            .address_size 64
            .visible .entry Refused(.param .b64 out)
            {
                .reg .b32 %r<2>;
                .reg .b64 %rd<2>;
                ld.volatile.global.u32 %r1, [0];
                ld.param.u64 %rd1, [out];
                st.global.u32 [%rd1], %r1;
                ret;
            }
            """, "sm_90");
        Assert.True(refused.ExitCode != 0 && refused.Output.Contains("Immediate addresses", StringComparison.Ordinal), refused.Output);

        var kernels = KernelCompilation.CompileAll("sm_90", out var assemblies);

        Assert.All(kernels.Zip(assemblies), k =>
        {
            var (code, output) = Ptxas.Assemble(k.Second, "sm_90");
            Assert.True(code == 0, $"{k.First.Kernel}: ptxas exited {code}: {output}");
        });
    }

    [Fact]
    public void CompileAll_UnknownArchitecture_SaysWhichAreKnown()
    {
        var error = Assert.Throws<ArgumentException>(() => KernelCompilation.CompileAll("sm_12", out _));

        Assert.Contains("sm_90", error.Message, StringComparison.Ordinal);
    }
}
