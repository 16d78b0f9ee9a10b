using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Contention.Grains;
using CsvHelper;

namespace Contention.Client.Results;

/// <summary>
/// A sweep's results directory: sweep.json (the manifest), points/RUN/ (each run's own results
/// directory) and, over every finished run, tenants.csv, syscalls.csv and ioctls.csv with the
/// run's id, point, repetition, final state and axis values in front of each row (runs still
/// pending or running are left out), and summary.md.
/// </summary>
public static class SweepFiles
{
    /// <summary>The manifest's file name.</summary>
    public const string Manifest = "sweep.json";

    /// <summary>The run files combined over the sweep's finished runs, each row with its run's axis values.</summary>
    public static readonly string[] CombinedFiles = [ResultsFiles.Csv, ResultsFiles.SyscallsCsv, ResultsFiles.IoctlsCsv, ResultsFiles.PhasesCsv, ResultsFiles.PhaseSyscallsCsv, ResultsFiles.ThreadSyscallsCsv];

    /// <summary>Where each run's results directory is.</summary>
    public const string Points = "points";

    private static readonly string[] RunColumns = ["run", "point", "repetition", "state"];

    /// <summary>The results directory of one run.</summary>
    public static string RunDirectory(string directory, string run) => Path.Combine(directory, Points, run);

    /// <summary>The manifest in <paramref name="directory"/>, or null when there is none.</summary>
    public static SweepManifest? ReadManifest(string directory)
    {
        var file = Path.Combine(directory, Manifest);
        return File.Exists(file) ? JsonSerializer.Deserialize(File.ReadAllText(file), ResultsJson.Default.SweepManifest) : null;
    }

    /// <summary>Which finished runs a sweep invocation has put in the combined CSVs, in order.</summary>
    public sealed class CombinedRuns
    {
        internal bool Built { get; set; }

        internal List<string> Runs { get; set; } = [];
    }

    /// <summary>SHA-256 (hex) of the parts, each on a line of its own.</summary>
    public static string Fingerprint(params string[] parts) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', parts))));

    /// <summary>
    /// Writes the manifest, the combined CSVs of the finished runs and summary.md. With
    /// <paramref name="combined"/> (one per sweep invocation), the combined CSVs are rebuilt once
    /// and then only appended to with each newly finished run, so a long sweep reads each run's
    /// files once instead of every run's after every run; without it they are rebuilt.
    /// </summary>
    public static void Write(string directory, SweepManifest manifest, CombinedRuns? combined = null)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        Directory.CreateDirectory(directory);
        ResultsFiles.Replace(Path.Combine(directory, Manifest), JsonSerializer.Serialize(manifest, ResultsJson.Default.SweepManifest));
        var finished = manifest.Runs.Where(r => r.State is not ("Pending" or "Running") && File.Exists(Path.Combine(RunDirectory(directory, r.Id), ResultsFiles.Csv))).ToList();
        var ids = finished.Select(r => r.Id).ToList();
        var append = combined is { Built: true } && ids.Count >= combined.Runs.Count && ids.Take(combined.Runs.Count).SequenceEqual(combined.Runs, StringComparer.Ordinal)
            && CombinedFiles.All(f => File.Exists(Path.Combine(directory, f)));
        foreach (var file in CombinedFiles)
        {
            var path = Path.Combine(directory, file);
            if (append)
            {
                // A crash mid-append leaves at most a torn last line: the next invocation rebuilds.
                var header = File.ReadLines(path).FirstOrDefault();
                File.AppendAllText(path, Combine(directory, manifest.Axes, finished.Skip(combined!.Runs.Count).ToList(), file, header));
            }
            else
            {
                ResultsFiles.Replace(path, Combine(directory, manifest.Axes, finished, file, null));
            }
        }

        if (combined is not null)
        {
            combined.Built = true;
            combined.Runs = ids;
        }

        ResultsFiles.Replace(Path.Combine(directory, ResultsFiles.Summary), Markdown(manifest));
    }

    /// <summary>
    /// One run file of each of <paramref name="runs"/>, with run, point, repetition and axis columns
    /// in front; the header line too unless <paramref name="existingHeader"/> (the combined file's) is
    /// given, which the runs' columns must then match.
    /// </summary>
    private static string Combine(string directory, IReadOnlyList<string> axes, IReadOnlyList<SweepRun> runs, string file, string? existingHeader)
    {
        var text = new StringWriter(CultureInfo.InvariantCulture);
        using var writer = WordConverters.CsvWriter(text);
        string[]? header = null;
        foreach (var run in runs)
        {
            var path = Path.Combine(RunDirectory(directory, run.Id), file);
            if (!File.Exists(path))
            {
                continue;
            }

            using var reader = new CsvReader(new StringReader(File.ReadAllText(path)), CultureInfo.InvariantCulture);
            if (!reader.Read() || !reader.ReadHeader() || reader.HeaderRecord is not { } columns)
            {
                continue;
            }

            if (header is null)
            {
                header = columns;
                // A run column or an axis named like a column of the file (the run's state and the
                // tenant's; a sweep over 'device') is told apart: run_state, axis_device.
                var names = RunColumns.Select(r => columns.Contains(r) ? "run_" + r : r)
                    .Concat(axes.Select(a => RunColumns.Contains(a) || columns.Contains(a) ? "axis_" + a : a)).Concat(columns).ToList();
                if (!string.IsNullOrEmpty(existingHeader))
                {
                    if (existingHeader != HeaderLine(names))
                    {
                        throw new InvalidDataException($"{path}: its columns differ from the combined {file}'s; was it written by another version of contention?");
                    }
                }
                else
                {
                    names.ForEach(writer.WriteField);
                    writer.NextRecord();
                }
            }
            else if (!header.SequenceEqual(columns))
            {
                throw new InvalidDataException($"{path}: its columns differ from the other runs' ({string.Join(',', columns)}); was it written by another version of contention?");
            }

            while (reader.Read())
            {
                writer.WriteField(run.Id);
                writer.WriteField(run.Point);
                writer.WriteField(run.Repetition);
                writer.WriteField(run.State);
                foreach (var axis in axes)
                {
                    writer.WriteField(run.Values.GetValueOrDefault(axis, ""));
                }

                foreach (var field in reader.Parser.Record ?? [])
                {
                    writer.WriteField(field);
                }

                writer.NextRecord();
            }
        }

        writer.Flush();
        return text.ToString();
    }

    /// <summary>A header as CsvHelper writes it (quoted where a name needs it).</summary>
    private static string HeaderLine(IEnumerable<string> names)
    {
        var text = new StringWriter(CultureInfo.InvariantCulture);
        using (var writer = WordConverters.CsvWriter(text))
        {
            foreach (var name in names)
            {
                writer.WriteField(name);
            }

            writer.NextRecord();
        }

        return text.ToString().TrimEnd('\r', '\n');
    }

    private static string Markdown(SweepManifest manifest)
    {
        var text = new StringBuilder();
        var byState = manifest.Runs.GroupBy(r => r.State).Select(g => $"{g.Count()} {g.Key.ToLowerInvariant()}");
        text.Append(CultureInfo.InvariantCulture, $"# {manifest.Name}: sweep {manifest.Id}\n\n");
        text.Append(CultureInfo.InvariantCulture, $"- {manifest.Runs.Count} runs ({manifest.Runs.Count / Math.Max(1, manifest.Repetitions)} points x {manifest.Repetitions} repetitions): {string.Join(", ", byState)}\n");
        text.Append(CultureInfo.InvariantCulture, $"- mix {manifest.Mix.File}{(manifest.Mix.Overrides.Length > 0 ? $" ({manifest.Mix.Overrides})" : "")}; tool {manifest.Tool.Name} {manifest.Tool.Version} ({manifest.Tool.Commit}); host {manifest.Host.Name}\n");
        text.Append("- every run's own results: points/RUN/; all runs' rows: tenants.csv, syscalls.csv, ioctls.csv\n\n");
        text.Append(CultureInfo.InvariantCulture, $"| run | {string.Join(" | ", manifest.Axes)} | state | tenants: measured throughput, p99 |\n");
        text.Append(CultureInfo.InvariantCulture, $"|---|{string.Concat(manifest.Axes.Select(_ => "---|"))}---|---|\n");
        foreach (var run in manifest.Runs)
        {
            text.Append(CultureInfo.InvariantCulture, $"| {run.Id} | {string.Join(" | ", manifest.Axes.Select(a => run.Values.GetValueOrDefault(a, "")))} | {run.State} | {run.Outcome} |\n");
        }

        return text.ToString();
    }

    /// <summary>Each tenant's measured throughput and p99 in one line, for the manifest and the console.</summary>
    public static string Outcome(ResultsDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        return string.Join("; ", document.Tenants.Where(t => t.Phase == MeasurementPhase.Measure).Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Tenant} {t.ThroughputPerSecond:0.##}/s p99 {t.P99Ms:0.###} ms")));
    }
}
