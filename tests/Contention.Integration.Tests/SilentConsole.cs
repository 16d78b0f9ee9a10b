using Spectre.Console;

namespace Contention.Integration.Tests;

/// <summary>A console that swallows what a run prints (the tests read its results files).</summary>
internal static class SilentConsole
{
    public static IAnsiConsole Create() => AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(new StringWriter()), Interactive = InteractionSupport.No });
}
