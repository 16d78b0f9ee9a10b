using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;

namespace Contention.Workloads.Worker;

/// <summary>
/// The main loop of a tenant worker process. Standard input: one <see cref="WorkerStart"/> JSON
/// line, then commands: <c>flush N</c> (report now), <c>phase-ok N</c> (the node has measured
/// phase N: the worker goes on), <c>stop</c> (finish the current operation, report, answer
/// <c>stopped</c> and stay idle until the next line or end of input, so the node can take a
/// final /proc sample of a quiescent process). End of input at any time means the parent is
/// gone: the worker stops and exits. Standard output: <see cref="WorkerMessage"/> lines, among
/// them one <c>phase</c> per phase boundary (the first, <c>init</c>, before <c>ready</c>) and
/// <c>finished</c> when a workload that ends by itself (a grid walk) has.
/// </summary>
public static class WorkerProgram
{
    /// <summary>Runs a worker; returns the process exit code (0 after a requested stop).</summary>
    public static async Task<int> RunAsync(TextReader input, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        var gate = new object();
        void Send(WorkerMessage message)
        {
            lock (gate)
            {
                output.WriteLine(WorkerJson.Line(message));
                output.Flush();
            }
        }

        WorkerStart start;
        try
        {
            var line = await input.ReadLineAsync().ConfigureAwait(false) ?? throw new InvalidDataException("no start line on standard input");
            start = JsonSerializer.Deserialize(line, WorkerJson.Default.WorkerStart) ?? throw new InvalidDataException("empty start line");
        }
        catch (Exception ex) when (ex is JsonException or InvalidDataException)
        {
            Send(new WorkerMessage { Type = "error", Message = $"bad start line: {ex.Message}" });
            return 2;
        }

        // Standard input is read by one task: acknowledgements of phases go to the thread that
        // waits at its boundary, every other line to the command loop below.
        var commands = Channel.CreateUnbounded<string>();
        using var phases = new PhaseHandshake(Send);
        var reading = Task.Run(async () =>
        {
            while (await input.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                if (!phases.TryAcknowledge(line))
                {
                    await commands.Writer.WriteAsync(line).ConfigureAwait(false);
                }
            }

            phases.Abandon();
            commands.Writer.Complete();
        });

        WorkerSession session;
        try
        {
            session = new WorkerSession(start, phases);
        }
        catch (Exception ex)
        {
            Send(new WorkerMessage { Type = "error", Message = $"failed to open {start.Device}: {ex.Message}" });
            return 3;
        }

        using (session)
        {
            session.Start();
            var tid = await session.Started.ConfigureAwait(false);
            Send(new WorkerMessage { Type = "ready", Pid = Environment.ProcessId, Tid = tid, Description = session.Description });

            using var reports = new CancellationTokenSource();
            var periodic = start.ReportIntervalMs <= 0 ? Task.CompletedTask : Task.Run(async () =>
            {
                using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(Math.Max(10, start.ReportIntervalMs)));
                while (await timer.WaitForNextTickAsync(reports.Token).ConfigureAwait(false))
                {
                    Report(session, Send, 0);
                }
            });

            var ended = session.Finished.ContinueWith(t => t, TaskScheduler.Default);
            var stopRequested = false;
            var finishedSent = false;
            while (true)
            {
                var read = commands.Reader.ReadAsync().AsTask();
                var first = await Task.WhenAny(read, ended).ConfigureAwait(false);
                if (first == ended)
                {
                    var fault = session.Finished.Exception?.GetBaseException();
                    if (fault is not null)
                    {
                        Send(new WorkerMessage { Type = "error", Message = $"workload failed: {fault.GetType().Name}: {fault.Message}" });
                        return 4;
                    }

                    if (!finishedSent)
                    {
                        // A grid walk has ended: its results are in; the worker idles until stopped.
                        Report(session, Send, 0);
                        Send(new WorkerMessage { Type = "finished" });
                        finishedSent = true;
                    }
                }

                string? command;
                try
                {
                    command = await read.ConfigureAwait(false);
                }
                catch (ChannelClosedException)
                {
                    command = null;
                }

                if (command is null || command.StartsWith("stop", StringComparison.Ordinal))
                {
                    stopRequested = command is not null;
                    break;
                }

                if (TryParseFlush(command, out var id))
                {
                    Report(session, Send, id);
                }
            }

            await reports.CancelAsync().ConfigureAwait(false);
            try
            {
                await periodic.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            await session.StopAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);
            Report(session, Send, 0);
            Send(new WorkerMessage { Type = "stopped" });
            if (stopRequested)
            {
                await foreach (var line in commands.Reader.ReadAllAsync().ConfigureAwait(false))
                {
                    if (!TryParseFlush(line, out var late))
                    {
                        break;
                    }

                    Report(session, Send, late);
                }
            }

            return 0;
        }
    }

    private static bool TryParseFlush(string command, out long id)
    {
        id = 0;
        return command.StartsWith("flush ", StringComparison.Ordinal) && long.TryParse(command.AsSpan(6), NumberStyles.None, CultureInfo.InvariantCulture, out id);
    }

    private static void Report(WorkerSession session, Action<WorkerMessage> send, long flush)
    {
        var interval = session.TakeInterval();
        send(new WorkerMessage { Type = "report", Completed = interval.Completed, Histogram = interval.Histogram, KernelNs = interval.KernelNs, Sampling = interval.Sampling, Gcs = interval.Gcs, GcPauseNs = interval.GcPauseNs, ArbiterHeld = interval.ArbiterHeld, ArbiterHeldNs = interval.ArbiterHeldNs, ArbiterPredictedNs = interval.ArbiterPredictedNs, ArbiterCorrection = interval.ArbiterCorrection, Flush = flush });
    }
}
