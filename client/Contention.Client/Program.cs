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
    SimGpuCommandLine.Create(),
    ProbeCommand.Create(),
    DevicesCommand.Create(),
    BenchCommand.Create(),
    TraceCommand.Create(),
    ValidateCommand.Create(),
    SimulateCommand.Create(),
    RecordCommand.Create(),
    StatusCommand.Create(),
    StatusCommand.CreateStop(),
    DetachCommands.CreateAttach(),
    DetachCommands.CreateResults(),
};
var parsed = root.Parse(args);
if (parsed.Action is System.CommandLine.Invocation.ParseErrorAction errors)
{
    // A bad option is one line naming it (--help shows the rest), not the whole help text.
    errors.ShowHelp = false;
}

return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(90) });
