using System.CommandLine;
#if !NO_REPORTS
using Contention.Client.Reports;
#endif
using Contention.Client.Results;
using Spectre.Console;

namespace Contention.Client.Commands;

/// <summary>
/// <c>contention report RESULTS</c>: writes a report of a sweep or a run (report.md, tidy CSVs,
/// LaTeX tables, figures) and prints its findings; for a single run also its per-tenant table.
/// </summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var results = new Argument<string>("RESULTS") { Description = "a results directory written by 'contention run': a sweep's (with sweep.json) or a run's (with results.json); or by 'contention simulate TRACE' (tenants-*.csv: CDFs of inference p99 against alone and of host CPU per node)" };
        var output = new Option<string?>("--out") { Description = "where the report goes (default: RESULTS/report)" };
        var markdown = new Option<bool>("--markdown") { Description = "print a single run's summary.md and write nothing" };
        var includeInvalid = new Option<bool>("--include-invalid") { Description = "keep a sweep's runs judged invalid (a busy or stolen CPU, a short window: sweep.json says why) in the report's numbers; without it they are left out and listed" };
        var command = new Command("report", "write a report of saved results: report.md, tidy CSVs, LaTeX tables (booktabs), figures (PNG and SVG) and generated findings") { results, output, markdown, includeInvalid };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(results)!;
#if NO_REPORTS
            return Lean(path, parse.GetValue(markdown));
#else
            if (TraceFigures.Holds(path) && !File.Exists(Path.Combine(path, ResultsFiles.Json)))
            {
                return Written(parse.GetValue(output) ?? Path.Combine(path, "report"), directory => TraceFigures.Write(path, directory));
            }

            ReportInput input;
            try
            {
                input = ReportInput.Load(path, parse.GetValue(includeInvalid));
            }
            catch (Exception ex) when (ex is FileNotFoundException or InvalidDataException or System.Text.Json.JsonException)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {ex.Message}");
                return 2;
            }

            if (parse.GetValue(markdown))
            {
                if (input.Runs.Count != 1 || input.Axes.Count > 0)
                {
                    AnsiConsole.MarkupLine("[red]error:[/] --markdown prints one run's summary.md; for a sweep, read the report it writes (contention report DIR)");
                    return 2;
                }

                Console.Out.Write(ResultsFiles.Markdown(input.Runs[0].Document));
                return 0;
            }

            if (input.Runs.Count == 1 && input.Axes.Count == 0)
            {
                TenantTable.Print(AnsiConsole.Console, input.Runs[0].Document);
            }

            return Written(parse.GetValue(output) ?? Path.Combine(path, "report"), directory => ReportWriter.Write(input, directory));
#endif
        });
        return command;
    }

#if !NO_REPORTS
    /// <summary>Writes a report into <paramref name="directory"/> by <paramref name="write"/>, prints its findings and files; the exit code.</summary>
    private static int Written(string directory, Func<string, (IReadOnlyList<string> Files, IReadOnlyList<string> Findings)> write)
    {
        try
        {
            var (files, findings) = write(directory);
            foreach (var paragraph in findings)
            {
                AnsiConsole.WriteLine(paragraph);
            }

            AnsiConsole.MarkupLineInterpolated($"report: [bold]{Path.GetFullPath(directory)}[/] ({string.Join(", ", files.Where(f => !f.EndsWith(".svg", StringComparison.Ordinal)))}; figures also as SVG)");
            return 0;
        }
        catch (InvalidOperationException ex)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {ex.Message}");
            return 2;
        }
    }
#endif

#if NO_REPORTS
    /// <summary>A lean build (-p:ContentionReports=false, for GPU hosts) prints a run's table or summary.md only.</summary>
    private static int Lean(string path, bool markdown)
    {
        try
        {
            var document = ResultsFiles.Read(path);
            if (markdown)
            {
                Console.Out.Write(ResultsFiles.Markdown(document));
            }
            else
            {
                TenantTable.Print(AnsiConsole.Console, document);
            }

            AnsiConsole.MarkupLine("this build has no reports (-p:ContentionReports=false): run 'contention report' with the full build for report.md, tables and figures");
            return 0;
        }
        catch (Exception ex) when (ex is FileNotFoundException or InvalidDataException or System.Text.Json.JsonException)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {ex.Message}");
            return 2;
        }
    }
#endif
}
