using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Contention.Client.Results;
using Contention.Grains;
using Contention.Tracer.Bpf;
using Contention.Tracer.Nvidia;
using Contention.Tracer.Processes;
using Contention.Tracer.Trace;
using Spectre.Console;

namespace Contention.Client.Commands;

/// <summary>
/// <c>contention trace -- CMD ...</c>: one command under the eBPF helper, no cluster, traced from
/// its first instruction (<see cref="TracedStart"/>). Its standard streams are the terminal's;
/// its exit status is ours.
/// </summary>
internal static class TraceCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "print trace.json instead of tables: the only thing on stdout (the command's own output goes to stderr), so it pipes into jq" };
        var output = new Option<string?>("--out") { Description = "results directory (default results/trace-<time>-<command>)" };
        var mode = new Option<string>("--mode") { Description = "full (system-call time too, sampled in threads making over 100,000 calls/s), exact (every call timed) or counts (no clock read per call: cheaper)", DefaultValueFactory = _ => "full" };
        mode.AcceptOnlyFromAmong([.. Words.All<BpfMode>()]);
        var split = new Option<double?>("--split-at") { Description = "seconds after start that end start-up: phases 'startup' and 'steady' are reported besides 'all'" }.Positive();
        var top = new Option<int>("--top") { Description = "system calls (and with --thread-calls, thread and call pairs) shown per phase", DefaultValueFactory = _ => 15 }.Within(1, 10_000);
        var threadCalls = new Option<bool>("--thread-calls") { Description = "count each thread's system calls too (thread_syscalls.csv; one more map lookup per call): which thread makes which calls, e.g. the application's against the CUDA driver's event thread" };
        var command = new Argument<string[]>("command") { Description = "the command and its arguments (after --)", Arity = ArgumentArity.OneOrMore };
        var trace = new Command("trace", "trace one command's system calls, NVIDIA ioctls and scheduling with the eBPF helper, without a cluster") { json, output, mode, split, top, threadCalls, command };
        trace.SetAction(async (parse, cancel) =>
        {
            await using var stderr = Console.OpenStandardError();
            return await ExecuteAsync(new TraceOptions(parse.GetValue(command)!, Words.Parse<BpfMode>(parse.GetValue(mode)), parse.GetValue(split), parse.GetValue(output), parse.GetValue(json), parse.GetValue(top), ThreadCalls: parse.GetValue(threadCalls)), AnsiConsole.Console, Console.Out, stderr);
        });
        return trace;
    }

    /// <summary>Traces the command; tables go to <paramref name="console"/>, --json output to <paramref name="stdout"/>; returns the command's exit status.</summary>
    internal static async Task<int> ExecuteAsync(TraceOptions options, IAnsiConsole console, TextWriter stdout, Stream? stderr = null)
    {
        var (command, mode, splitAt, output, json, top) = (options.Command, options.Mode, options.SplitAtSeconds, options.Output, options.Json, options.Top);
        BpfTracer? tracer = null;
        var tracerState = Words.Word(mode);
        try
        {
            tracer = await BpfTracer.StartAsync(options.HelperPath, mode, options.ThreadCalls);
        }
        catch (BpfUnavailableException ex)
        {
            var why = ex.Message.Replace("; running with /proc metrics only", "", StringComparison.Ordinal);
            tracerState = "unavailable: " + why;
            await Console.Error.WriteLineAsync($"contention trace: {why}; the command runs untraced");
        }

        // Ctrl+C reaches the command (same process group); we stay to save what it did.
        ConsoleCancelEventHandler keep = (_, e) => e.Cancel = true;
        Console.CancelKeyPress += keep;
        try
        {
            // With --json, stdout is the JSON's: the command's output is passed on to stderr.
            var info = new ProcessStartInfo(command[0]) { UseShellExecute = false, RedirectStandardOutput = json };
            foreach (var a in command[1..])
            {
                info.ArgumentList.Add(a);
            }

            var tracing = tracer is not null;
            async Task<BpfSnapshot?> SnapshotAsync()
            {
                try
                {
                    return tracing ? await tracer!.SnapshotAsync() : null;
                }
                catch (BpfUnavailableException ex)
                {
                    // The helper died: the command's status and what it did still get written.
                    tracerState = "failed: " + ex.Message;
                    tracing = false;
                    return null;
                }
            }

            var started = DateTimeOffset.UtcNow;
            Process process;
            try
            {
                // As a shell starts it (default signal dispositions), in the terminal's session: Ctrl+C is
                // the command's, as under strace.
                process = tracer is null ? await ChildStart.StartAsync(info, ChildOptions.None) : await TracedStart.StartAsync(tracer, info);
            }
            catch (System.ComponentModel.Win32Exception ex)
            {
                await Console.Error.WriteLineAsync($"contention trace: failed to run {command[0]}: {ex.Message}");
                return 127;
            }

            using var owned = process;
            var clock = Stopwatch.StartNew();
            var passOn = json ? PassOnAsync(process.StandardOutput.BaseStream, stderr) : Task.CompletedTask;
            BpfSnapshot? atSplit = null;
            double splitSeconds = 0;
            if (splitAt is { } at && tracer is not null)
            {
                // Whichever finished first, what counts is whether the command still runs now
                // (under a busy thread pool both tasks may be done when this resumes).
                await Task.WhenAny(Task.Delay(TimeSpan.FromSeconds(at)), process.WaitForExitAsync());
                if (!process.HasExited)
                {
                    atSplit = await SnapshotAsync();
                    splitSeconds = clock.Elapsed.TotalSeconds;
                }
            }

            await process.WaitForExitAsync();
            var wall = clock.Elapsed.TotalSeconds;

            // Its last output may still be in the pipe (a child it left behind may hold it open, so not for long).
            await Task.WhenAny(passOn, Task.Delay(TimeSpan.FromSeconds(2)));
            var document = new TraceDocument
            {
                Tool = RunRecorder.Tool(),
                Host = RunRecorder.Host(),
                Command = command,
                ExitCode = process.ExitCode,
                StartedUtc = started,
                WallSeconds = wall,
                NvidiaDriver = NvidiaDriver(),
                SplitAtSeconds = atSplit is null ? null : splitSeconds,
            };
            if (await SnapshotAsync() is { } end)
            {
                await tracer!.RemoveAsync(process.Id);
                var devices = NvidiaDevices.ReadHost();
                document.Phases.Add(new TracePhase("all", wall, TraceSummary.Of(end, process.Id, devices)));
                if (atSplit is not null)
                {
                    document.Phases.Add(new TracePhase("startup", splitSeconds, TraceSummary.Of(atSplit, process.Id, devices)));
                    document.Phases.Add(new TracePhase("steady", wall - splitSeconds, TraceSummary.Of(end, process.Id, devices, atSplit)));
                }

                document = document with { Dropped = end.Dropped.None ? "" : end.Dropped.ToString() };
            }

            document = document with { Tracer = tracerState };

            var directory = output ?? Path.Combine("results", string.Create(CultureInfo.InvariantCulture, $"trace-{started:yyyyMMdd-HHmmss}-{Path.GetFileName(command[0])}"));
            TraceFiles.Write(directory, document);
            if (json)
            {
                await stdout.WriteLineAsync(TraceFiles.Json(document));
            }
            else
            {
                Print(console, document, top);
                console.MarkupLineInterpolated($"results: [bold]{directory}[/] (trace.json, syscalls.csv, ioctls.csv, sched.csv{(document.Phases.Any(p => p.Summary.ThreadCalls.Count > 0) ? ", thread_syscalls.csv" : "")}, summary.md)");
            }

            return process.ExitCode;
        }
        finally
        {
            Console.CancelKeyPress -= keep;
            if (tracer is not null)
            {
                await tracer.DisposeAsync();
            }
        }
    }

    /// <summary>Copies the command's output to <paramref name="stderr"/> (or drops it when none) until the command closes it.</summary>
    private static async Task PassOnAsync(Stream output, Stream? stderr)
    {
        try
        {
            await output.CopyToAsync(stderr ?? Stream.Null);
            if (stderr is not null)
            {
                await stderr.FlushAsync();
            }
        }
        catch (IOException)
        {
            // Our stderr was closed: the command's output has nowhere to go, the trace goes on.
        }
    }

    private static void Print(IAnsiConsole console, TraceDocument document, int top)
    {
        console.MarkupLineInterpolated($"[bold]{string.Join(' ', document.Command)}[/]: exit {document.ExitCode}, {document.WallSeconds:0.###} s, tracer {document.Tracer}");
        foreach (var phase in document.Phases)
        {
            var s = phase.Summary;
            console.MarkupLineInterpolated($"[bold]{phase.Phase}[/]: {s.TotalCalls} system calls in {phase.Seconds:0.###} s; off-CPU {s.OffCpuSeconds:0.###} s, run-queue wait {s.RunQueueSeconds:0.###} s");
            var categories = new Table().AddColumns("category", "calls", "seconds");
            foreach (var c in s.Categories.Where(c => c.Count > 0))
            {
                categories.AddRow(c.Category, N(c.Count), F(c.Seconds));
            }

            console.Write(categories);
            var calls = new Table().AddColumns("system call", "category", "calls", "errors", "seconds", "timed calls");
            foreach (var r in s.Syscalls.Take(top))
            {
                calls.AddRow(Markup.Escape(r.Name), r.Category, N(r.Count), N(r.Errors), F(r.Seconds), N(r.TimedCalls));
            }

            console.Write(calls);
            if (s.Syscalls.Any(r => r.TimedCalls > 0 && r.TimedCalls < r.Count))
            {
                console.MarkupLine("seconds are estimated where timed calls < calls: a random sample was timed");
                console.MarkupLine("(docs/tracer.md, \"Modes\"; --mode exact times every call)");
            }

            if (s.ThreadCalls.Count > 0)
            {
                var perThread = new Table().AddColumns("thread", "tid", "system call", "category", "calls", "seconds");
                foreach (var r in TraceFiles.BusiestThreadCalls(s, top))
                {
                    perThread.AddRow(Markup.Escape(r.Name), N(r.Tid), Markup.Escape(r.Syscall), r.Category, N(r.Count), F(r.Seconds));
                }

                console.Write(perThread);
            }

            if (s.Ioctls.Count > 0)
            {
                var ioctls = new Table().AddColumns("device", "ioctl", "calls", "errors", "seconds");
                foreach (var i in s.Ioctls.Take(top * 2))
                {
                    ioctls.AddRow(Markup.Escape(i.Device), Markup.Escape(i.Name), N(i.Count), N(i.Errors), F(i.Seconds));
                }

                console.Write(ioctls);
            }
        }

        if (document.Dropped.Length > 0)
        {
            console.MarkupLineInterpolated($"[yellow]not counted:[/] {document.Dropped}");
        }
    }

    private static string? NvidiaDriver()
    {
        try
        {
            return File.Exists("/proc/driver/nvidia/version") ? File.ReadLines("/proc/driver/nvidia/version").FirstOrDefault()?.Trim() : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string F(double value) => value.ToString("0.000000", CultureInfo.InvariantCulture);
}
