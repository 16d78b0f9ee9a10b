using System.CommandLine;
using Contention.Workloads.Worker;

namespace Contention.Client.Commands;

/// <summary><c>contention worker</c>: a tenant worker process (started by nodes, not by users).</summary>
internal static class WorkerCommandLine
{
    public static Command Create()
    {
        var command = new Command("worker", "run one tenant's workload, driven over standard input/output by a node (internal)") { Hidden = true };
        command.SetAction(async _ =>
        {
            // Ctrl+C in the terminal reaches the whole process group; the node stops its
            // workers itself, in order, so a worker must not die of the signal.
            Console.CancelKeyPress += (_, e) => e.Cancel = true;
            return await WorkerProgram.RunAsync(Console.In, Console.Out).ConfigureAwait(false);
        });
        return command;
    }
}
