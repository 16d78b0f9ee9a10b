using Spectre.Console;

namespace Contention.Client.Tests;

/// <summary>Consoles the commands write to in tests.</summary>
internal static class Consoles
{
    /// <summary>A plain console (no terminal, no colours, 200 columns) writing to <paramref name="output"/>.</summary>
    public static IAnsiConsole Plain(StringWriter output)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Interactive = InteractionSupport.No, Ansi = AnsiSupport.No });
        console.Profile.Width = 200;
        return console;
    }
}
