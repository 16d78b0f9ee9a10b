using Contention.Tracer.Bpf;

namespace Contention.Client.Commands;

/// <summary>What <c>contention trace</c> was asked to do.</summary>
/// <param name="Command">The program and its arguments.</param>
/// <param name="Mode">What the tracer records.</param>
/// <param name="SplitAtSeconds">End of start-up, when the trace is split into phases.</param>
/// <param name="Output">Results directory; null for the default under results/.</param>
/// <param name="Json">Print trace.json instead of tables, alone on stdout (the command's output goes to stderr).</param>
/// <param name="Top">System calls shown per phase.</param>
/// <param name="HelperPath">The eBPF helper; null to look for it.</param>
/// <param name="ThreadCalls">Count each thread's system calls too (thread_syscalls.csv).</param>
internal sealed record TraceOptions(string[] Command, BpfMode Mode = BpfMode.Full, double? SplitAtSeconds = null, string? Output = null, bool Json = false, int Top = 15, string? HelperPath = null, bool ThreadCalls = false);
