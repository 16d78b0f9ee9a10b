using System.CommandLine;
using Contention.Client.Commands;
using Spectre.Console;

// Redirected output (CI logs, files) gets Spectre's 80-column default, which folds the
// per-tenant table beyond reading; such output has no width limit to honour.
if (Console.IsOutputRedirected && AnsiConsole.Profile.Width < 180)
{
    AnsiConsole.Profile.Width = 180;
}

var root = new RootCommand("contention: multi-tenant GPU contention experiments on an Orleans cluster")
{
    RunCommand.Create(),
    ReportCommand.Create(),
    SiloCommand.Create(),
    WorkerCommandLine.Create(),
    ProbeCommand.Create(),
    DevicesCommand.Create(),
    BenchCommand.Create(),
    TraceCommand.Create(),
};
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(90) });
