using System.CommandLine;
using Contention.Client.Results;
using Spectre.Console;

namespace Contention.Client.Commands;

/// <summary><c>contention report RESULTS</c>: prints a saved run's per-tenant table again.</summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var results = new Argument<string>("RESULTS") { Description = "a results directory written by 'contention run' (or its results.json)" };
        var markdown = new Option<bool>("--markdown") { Description = "print summary.md instead of the table" };
        var command = new Command("report", "print the per-tenant table of a saved run") { results, markdown };
        command.SetAction(parse =>
        {
            ResultsDocument document;
            try
            {
                document = ResultsFiles.Read(parse.GetValue(results)!);
            }
            catch (Exception ex) when (ex is FileNotFoundException or InvalidDataException or System.Text.Json.JsonException)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {ex.Message}");
                return 2;
            }

            if (parse.GetValue(markdown))
            {
                Console.Out.Write(ResultsFiles.Markdown(document));
            }
            else
            {
                TenantTable.Print(AnsiConsole.Console, document);
            }

            return 0;
        });
        return command;
    }
}
