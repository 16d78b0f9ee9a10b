using System.CommandLine;
using System.Globalization;
using Contention.Workloads.Checks;
using Contention.Workloads.Devices;
using Contention.Workloads.Sim;
using Spectre.Console;

namespace Contention.Client.Commands;

/// <summary><c>contention devices</c>: what this machine offers; with <c>--check</c> whether its GPUs compute what the cpu device computes; with <c>--compile</c> whether this build compiles the CUDA kernels (no GPU needed).</summary>
internal static class DevicesCommand
{
    private static readonly bool[] HostMemoryKinds = [true, false];

    public static Command Create()
    {
        var check = new Option<bool>("--check") { Description = "run every kernel on each CUDA device in every sync mode, pinned and pageable, and compare with the cpu device; check the tenants' sampled GPU time against timing every kernel (each sync mode), and a high-priority stream's results" };
        var compile = new Option<bool>("--compile") { Description = "compile every kernel of the cuda device to PTX with ILGPU (no GPU needed): checks that this build can compile its kernels before it goes to a GPU host" };
        var arch = new Option<string>("--arch") { Description = "the GPU architecture --compile compiles for: sm_70, sm_75, sm_80, sm_86, sm_89 or sm_90 (the H100's and H200's)", DefaultValueFactory = _ => "sm_90" };
        var command = new Command("devices", "list this machine's devices; --check verifies CUDA results against the cpu device; --compile compiles the CUDA kernels without a GPU") { check, compile, arch };
        command.SetAction(parse =>
        {
            var console = AnsiConsole.Console;
            var cudaCount = CudaDevice.CountDevices();
            var table = new Table().AddColumns("device", "description");
            using (var cpu = new CpuDevice(new DeviceOptions { Id = new DeviceId(DeviceKind.Cpu, 0) }))
            {
                table.AddRow("cpu", Markup.Escape(cpu.Description));
            }

            for (var i = 0; i < cudaCount; i++)
            {
                using var cuda = new CudaDevice(new DeviceOptions { Id = new DeviceId(DeviceKind.Cuda, i) });
                table.AddRow($"cuda:{i.ToString(CultureInfo.InvariantCulture)}", Markup.Escape(cuda.Description));
            }

            table.AddRow("sim:N", Markup.Escape($"{DeviceProfile.Load("h100").Name}, as many as a node is configured with (--sim-devices)"));
            console.Write(table);
            if (parse.GetValue(compile))
            {
                return Compile(console, parse.GetValue(arch)!);
            }

            if (!parse.GetValue(check))
            {
                return 0;
            }

            if (cudaCount == 0)
            {
                console.MarkupLine("[yellow]no CUDA device found (ILGPU saw none): nothing to check[/]");
                return 0;
            }

            var results = new Table().AddColumns("case", "max rel. error", "tolerance", "result");
            var failed = 0;
            void Add(DeviceCheckResult result)
            {
                failed += result.Passed ? 0 : 1;
                results.AddRow(result.Case, result.MaxRelativeError.ToString("0.###e+0", CultureInfo.InvariantCulture), result.Tolerance.ToString("0.###e+0", CultureInfo.InvariantCulture), result.Passed ? "[green]ok[/]" : "[red]MISMATCH[/]");
            }

            for (var i = 0; i < cudaCount; i++)
            {
                foreach (var sync in Enum.GetValues<SyncMode>())
                {
                    foreach (var pinned in HostMemoryKinds)
                    {
                        using var cuda = new CudaDevice(new DeviceOptions { Id = new DeviceId(DeviceKind.Cuda, i), SyncMode = sync, PinnedHost = pinned });
                        foreach (var result in DeviceCheck.Run(cuda, $"cuda:{i} {sync.ToString().ToLowerInvariant()} {(pinned ? "pinned" : "pageable")}"))
                        {
                            Add(result);
                        }
                    }

                    if (sync == SyncMode.Spin)
                    {
                        // A tenant with a positive priority gets a stream of the greatest priority.
                        using var high = new CudaDevice(new DeviceOptions { Id = new DeviceId(DeviceKind.Cuda, i), SyncMode = sync, HighPriorityStream = true });
                        foreach (var result in DeviceCheck.Run(high, $"cuda:{i} spin, {high.Description.Split(", ").Last().TrimEnd(')')}"))
                        {
                            Add(result);
                        }
                    }

                    var timing = DeviceCheck.KernelTiming(new DeviceId(DeviceKind.Cuda, i), sync);
                    Add(timing);
                    Add(DeviceCheck.KernelTimingAfterSleep(new DeviceId(DeviceKind.Cuda, i), sync, TimeSpan.FromMilliseconds(20)));
                }
            }

            console.Write(results);
            console.MarkupLineInterpolated($"{results.Rows.Count - failed} agree, {failed} differ");
            return failed == 0 ? 0 : 1;
        });
        return command;
    }

    private static int Compile(IAnsiConsole console, string architecture)
    {
        if (!KernelCompilation.Architectures.ContainsKey(architecture))
        {
            console.MarkupLine($"[red]unknown architecture '{Markup.Escape(architecture)}'[/]: use one of {string.Join(", ", KernelCompilation.Architectures.Keys)}");
            return 2;
        }

        IReadOnlyList<CompiledKernelInfo> kernels;
        try
        {
            kernels = KernelCompilation.CompileAll(architecture);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // ILGPU reads the IL of every method a kernel calls: a build trimmed of framework code it needs fails here.
            var inner = ex.GetBaseException();
            var cause = ReferenceEquals(inner, ex) ? "" : $" (at bottom: {inner.GetType().Name}: {inner.Message})";
            console.MarkupLine($"[red]the kernels do not compile for {Markup.Escape(architecture)}[/]: {Markup.Escape(ex.GetType().Name)}: {Markup.Escape(ex.Message + cause)}");
            return 1;
        }

        var table = new Table().AddColumns("kernel", "PTX entry", "target", "PTX bytes");
        foreach (var kernel in kernels)
        {
            table.AddRow(kernel.Kernel, kernel.Entry, kernel.Target, kernel.PtxBytes.ToString("N0", CultureInfo.InvariantCulture));
        }

        console.Write(table);
        console.MarkupLine($"[green]every kernel compiles to PTX for {Markup.Escape(architecture)}[/] (ILGPU's PTX backend; loading it needs the GPU's driver)");
        return 0;
    }
}
