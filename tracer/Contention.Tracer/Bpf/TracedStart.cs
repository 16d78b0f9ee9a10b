using System.Diagnostics;
using System.Runtime.InteropServices;
using Contention.Tracer.Processes;

namespace Contention.Tracer.Bpf;

/// <summary>
/// Starts a program so that the eBPF helper follows it from its first instruction: it starts
/// under <c>contention-exec-stopped</c>, which stops itself; once it is stopped its pid is added
/// and it is continued into the program's execve. Nothing of it runs untraced, and nothing extra
/// is counted but that execve (which strace counts too). It starts as <see cref="ChildStart"/> starts
/// programs: as a shell would start it.
/// </summary>
public static partial class TracedStart
{
    private const int SigCont = 18;

    private const int SigTerm = 15;

    /// <summary>Starts <paramref name="info"/>'s program traced by <paramref name="tracer"/>, as <paramref name="options"/> say besides; its streams are as <paramref name="info"/> says.</summary>
    /// <exception cref="BpfUnavailableException">The wrapper is not built.</exception>
    public static async Task<Process> StartAsync(BpfTracer tracer, ProcessStartInfo info, ChildOptions options = ChildOptions.None, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tracer);
        ArgumentNullException.ThrowIfNull(info);
        if (ChildStart.FindWrapper() is null)
        {
            throw new BpfUnavailableException($"{ChildStart.WrapperName} is not built beside the eBPF helper: run 'make -C tracer/native'");
        }

        var process = await ChildStart.StartAsync(info, options | ChildOptions.Stopped).ConfigureAwait(false);
        try
        {
            var deadline = Stopwatch.StartNew();
            while (!IsStopped(process.Id))
            {
                if (process.HasExited || deadline.Elapsed > TimeSpan.FromSeconds(30))
                {
                    throw new InvalidOperationException($"{ChildStart.WrapperName} did not stop itself (exited: {process.HasExited})");
                }

                await Task.Delay(1, cancellationToken).ConfigureAwait(false);
            }

            await tracer.AddAsync(process.Id).ConfigureAwait(false);
            if (Kill(process.Id, SigCont) != 0)
            {
                throw new InvalidOperationException($"failed to continue {process.Id}: errno {Marshal.GetLastPInvokeError()}");
            }

            return process;
        }
        catch
        {
            process.Kill();
            process.Dispose();
            throw;
        }
    }

    /// <summary>Sends SIGTERM to <paramref name="pid"/> (a program asked to finish and exit); false when it is gone.</summary>
    public static bool Terminate(int pid) => Kill(pid, SigTerm) == 0;

    private static bool IsStopped(int pid) => ProcessState.Of(pid) == 'T';

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
