using System.CommandLine;
using Contention.Workloads.Sim;

namespace Contention.Client.Commands;

/// <summary><c>contention sim-gpu</c>: a node's modelled GPU engine in a process of its own (started by nodes, not by users).</summary>
internal static class SimGpuCommandLine
{
    public static Command Create()
    {
        var channel = new Argument<string>("CHANNEL") { Description = "the modelled GPU's shared-memory file, made by the node" };
        var profile = new Option<string>("--profile") { Description = "the device profile JSON the node wrote", Required = true };
        var poll = new Option<long>("--poll-ns") { Description = "how often to look for launches while tenants are attached", DefaultValueFactory = _ => 50_000 };
        var parent = new Option<int>("--parent") { Description = "the node's process id: the engine ends when that process is gone", Required = true };
        var spin = new Option<bool>("--spin") { Description = "poll without sleeping while tenants are attached" };
        var command = new Command("sim-gpu", "run a node's modelled GPU engine over its shared-memory file (internal)") { channel, profile, poll, parent, spin };
        command.Hidden = true;
        command.SetAction(parse =>
        {
            // Ctrl+C reaches the whole process group; the node stops its engine itself.
            Console.CancelKeyPress += (_, e) => e.Cancel = true;
            return SimGpuEngine.RunProcess(parse.GetValue(channel)!, parse.GetValue(profile)!, parse.GetValue(poll), parse.GetValue(parent), parse.GetValue(spin));
        });
        return command;
    }
}
