using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Contention.Client.Results;

/// <summary>
/// A trace's results directory: trace.json, syscalls.csv, ioctls.csv, sched.csv,
/// thread_syscalls.csv where each thread's calls were counted (tidy rows, one per phase and item)
/// and summary.md; files are replaced atomically.
/// </summary>
public static class TraceFiles
{

    /// <summary>The document as JSON.</summary>
    public static string Json(TraceDocument document) => JsonSerializer.Serialize(document, TraceJson.Default.TraceDocument);

    /// <summary>Writes every file into <paramref name="directory"/>.</summary>
    public static void Write(string directory, TraceDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        Directory.CreateDirectory(directory);
        ResultsFiles.Replace(Path.Combine(directory, "trace.json"), Json(document));
        ResultsFiles.Replace(Path.Combine(directory, "syscalls.csv"), ResultsFiles.Tidy(document.Phases.SelectMany(p => p.Summary.Syscalls.Select(s => new { phase = p.Phase, syscall = s.Name, category = s.Category, count = s.Count, errors = s.Errors, seconds = s.Seconds, timed_calls = s.TimedCalls }))));
        ResultsFiles.Replace(Path.Combine(directory, "ioctls.csv"), ResultsFiles.Tidy(document.Phases.SelectMany(p => p.Summary.Ioctls.Select(i => new { phase = p.Phase, device = i.Device, operation = i.Operation, detail = i.Detail, raw = i.Raw, count = i.Count, errors = i.Errors, seconds = i.Seconds, timed_calls = i.TimedCalls }))));
        ResultsFiles.Replace(Path.Combine(directory, "sched.csv"), ResultsFiles.Tidy(document.Phases.SelectMany(p => p.Summary.Threads.Select(t => new { phase = p.Phase, tgid = t.Tgid, tid = t.Tid, name = t.Name, voluntary = t.Voluntary, involuntary = t.Involuntary, offcpu_seconds = t.OffCpuSeconds, runqueue_seconds = t.RunQueueSeconds }))));
        if (document.Phases.Any(p => p.Summary.ThreadCalls.Count > 0))
        {
            ResultsFiles.Replace(Path.Combine(directory, "thread_syscalls.csv"), ResultsFiles.Tidy(document.Phases.SelectMany(p => p.Summary.ThreadCalls.Select(c => new { phase = p.Phase, tgid = c.Tgid, tid = c.Tid, thread = c.Name, syscall = c.Syscall, category = c.Category, count = c.Count, seconds = c.Seconds, timed_calls = c.TimedCalls }))));
        }

        ResultsFiles.Replace(Path.Combine(directory, "summary.md"), Markdown(document));
    }

    /// <summary>A phase's busiest (thread, system call) pairs: the <paramref name="top"/> most frequent, by thread.</summary>
    public static IReadOnlyList<Contention.Tracer.Trace.ThreadCallRow> BusiestThreadCalls(Contention.Tracer.Trace.TraceSummary summary, int top)
    {
        ArgumentNullException.ThrowIfNull(summary);
        return [.. summary.ThreadCalls.OrderByDescending(c => c.Count).Take(top).OrderBy(c => c.Tid).ThenByDescending(c => c.Count)];
    }

    /// <summary>summary.md: per phase, categories, the busiest system calls and the ioctls.</summary>
    public static string Markdown(TraceDocument document, int top = 15)
    {
        ArgumentNullException.ThrowIfNull(document);
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"# trace: {string.Join(' ', document.Command)}\n\n");
        text.Append(CultureInfo.InvariantCulture, $"- exit status {document.ExitCode}, {document.WallSeconds:0.###} s, started {document.StartedUtc:u}; tracer {document.Tracer}{(document.SplitAtSeconds is { } split ? $", start-up = first {split:0.###} s" : "")}\n");
        text.Append(CultureInfo.InvariantCulture, $"- tool {document.Tool.Name} {document.Tool.Version} ({document.Tool.Commit}); host {document.Host.Describe()}; NVIDIA driver {document.NvidiaDriver ?? "none"}\n");
        if (document.Dropped.Length > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"- **not counted**: {document.Dropped}\n");
        }

        foreach (var phase in document.Phases)
        {
            var s = phase.Summary;
            text.Append(CultureInfo.InvariantCulture, $"\n## {phase.Phase} ({phase.Seconds:0.###} s): {s.TotalCalls} system calls, off-CPU {s.OffCpuSeconds:0.###} s, run-queue wait {s.RunQueueSeconds:0.###} s\n\n");
            text.Append("| category | calls | seconds |\n|---|---:|---:|\n");
            foreach (var c in s.Categories.Where(c => c.Count > 0))
            {
                text.Append(CultureInfo.InvariantCulture, $"| {c.Category} | {c.Count} | {c.Seconds:0.######} |\n");
            }

            text.Append("\n| system call | category | calls | errors | seconds | timed calls |\n|---|---|---:|---:|---:|---:|\n");
            foreach (var r in s.Syscalls.Take(top))
            {
                text.Append(CultureInfo.InvariantCulture, $"| {r.Name} | {r.Category} | {r.Count} | {r.Errors} | {r.Seconds:0.######} | {r.TimedCalls} |\n");
            }

            if (s.Syscalls.Any(r => r.TimedCalls > 0 && r.TimedCalls < r.Count))
            {
                text.Append("\nWhere timed calls are fewer than calls, seconds are estimates: a thread making calls faster than the tracer's sampling rate had a random sample of them timed, each weighted by the inverse of its chance (docs/tracer.md).\n");
            }

            if (s.ThreadCalls.Count > 0)
            {
                text.Append("\n| thread | tid | system call | category | calls | seconds |\n|---|---:|---|---|---:|---:|\n");
                foreach (var c in BusiestThreadCalls(s, top))
                {
                    text.Append(CultureInfo.InvariantCulture, $"| {c.Name} | {c.Tid} | {c.Syscall} | {c.Category} | {c.Count} | {c.Seconds:0.######} |\n");
                }
            }

            if (s.Ioctls.Count > 0)
            {
                text.Append("\n| device | ioctl | calls | errors | seconds |\n|---|---|---:|---:|---:|\n");
                foreach (var i in s.Ioctls)
                {
                    text.Append(CultureInfo.InvariantCulture, $"| {i.Device} | {i.Name} | {i.Count} | {i.Errors} | {i.Seconds:0.######} |\n");
                }
            }
        }

        return text.ToString();
    }
}
