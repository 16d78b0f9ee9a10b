using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Contention.Tracer.Processes;
using Contention.Workloads.Worker;

namespace Contention.Grains.Node;

/// <summary>
/// A tenant worker process (<c>contention worker</c>): one device context per tenant, as real
/// multi-tenancy has. Its standard output is read on a thread-pool task, never on a grain's
/// scheduler; reports go to the callback as they arrive.
/// </summary>
internal sealed class WorkerProcess : IWorker
{
    private const int StderrLines = 20;
    private readonly Process process;
    private readonly Action<WorkerInterval> onReport;
    private readonly Func<WorkerProcess, PhaseSample, Task> onPhase;
    private readonly TaskCompletionSource finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<long, TaskCompletionSource> flushes = new();
    private readonly ConcurrentQueue<string> stderr = new();
    private readonly TaskCompletionSource<WorkerMessage> ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim stdin = new(1, 1);
    private long nextFlush;
    private volatile bool stopping;
    private bool closed; // under stdin: the worker's input is closed (or its process object gone), nothing more is sent
    private Task reader = Task.CompletedTask;
    private string? reportedError;

    private WorkerProcess(Process process, Action<WorkerInterval> onReport, Func<WorkerProcess, PhaseSample, Task> onPhase)
    {
        this.process = process;
        this.onReport = onReport;
        this.onPhase = onPhase;
    }

    /// <inheritdoc />
    public int Pid { get; private set; }

    /// <inheritdoc />
    public int? Tid => null;

    /// <inheritdoc />
    public string Description { get; private set; } = "";

    /// <inheritdoc />
    public Task Completion => completion.Task;

    /// <inheritdoc />
    public Task Finished => finished.Task;

    /// <summary>Starts a worker and waits until its workload runs.</summary>
    /// <exception cref="WorkerCrashedException">The worker could not start its workload.</exception>
    /// <param name="command">The worker executable.</param>
    /// <param name="start">What it runs.</param>
    /// <param name="onReport">Called with each latency report.</param>
    /// <param name="onPhase">Called at each phase boundary, while the worker waits (the node measures then); the worker goes on when it completes.</param>
    /// <param name="startTimeout">How long its workload may take to start.</param>
    /// <param name="launch">Starts the process (the node's eBPF service, which traces it from its first instruction); null: untraced, as the node starts workers.</param>
    public static async Task<WorkerProcess> StartAsync(WorkerCommand command, WorkerStart start, Action<WorkerInterval> onReport, Func<WorkerProcess, PhaseSample, Task> onPhase, TimeSpan startTimeout, Func<ProcessStartInfo, Task<Process>>? launch = null)
    {
        var info = command.StartInfo(["worker"]);
        info.RedirectStandardInput = true;
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;

        // A worker is one tenant: no background GC thread beside its workload (the node's own
        // process runs background GC for its modelled GPUs' threads).
        info.Environment["DOTNET_gcConcurrent"] = "0";

        // Nor tiered compilation: each method is compiled once, optimised, when first called
        // (mostly in the warm-up). Tiered, the worker recompiles its report path on a background
        // thread at the node's sampling ticks, long after the warm-up; with 30 workers on the H200's
        // 16 cores that took about 3 cores at every tick, and 0.6-1.1 % of requests, woken then,
        // started 1-14 ms late (the real-time model and cuda alike).
        info.Environment["DOTNET_TieredCompilation"] = "0";
        Process process;
        try
        {
            process = await (launch ?? (i => ChildStart.StartAsync(i, NodeBpf.WorkerOptions)))(info).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new WorkerCrashedException(-1, $"failed to start worker {command.FileName}: {ex.Message}");
        }

        process.EnableRaisingEvents = true;
        var worker = new WorkerProcess(process, onReport, onPhase);

        worker.Pid = process.Id;
        worker.reader = Task.Run(worker.ReadStdoutAsync);
        _ = Task.Run(worker.ReadStderrAsync);
        await worker.SendAsync(JsonSerializer.Serialize(start, WorkerJson.Default.WorkerStart)).ConfigureAwait(false);
        try
        {
            var message = await worker.ready.Task.WaitAsync(startTimeout).ConfigureAwait(false);
            worker.Description = message.Description ?? "";
            return worker;
        }
        catch (Exception ex) when (ex is TimeoutException or WorkerCrashedException)
        {
            await worker.DisposeAsync().ConfigureAwait(false);
            if (ex is WorkerCrashedException)
            {
                throw;
            }

            throw new WorkerCrashedException(-1, $"worker for {start.Tenant} did not start its workload within {startTimeout.TotalSeconds:0} s; {worker.StderrTail()}");
        }
    }

    /// <inheritdoc />
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var id = Interlocked.Increment(ref nextFlush);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        flushes[id] = done;
        try
        {
            await SendAsync($"flush {id.ToString(CultureInfo.InvariantCulture)}").ConfigureAwait(false);
            await Task.WhenAny(done.Task, completion.Task).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The worker is gone; its crash is reported through Completion.
        }
        finally
        {
            flushes.TryRemove(id, out _);
        }
    }

    /// <inheritdoc />
    public async Task StopAsync(TimeSpan timeout)
    {
        stopping = true;
        try
        {
            await SendAsync("stop").ConfigureAwait(false);
        }
        catch (IOException)
        {
        }

        try
        {
            await Task.WhenAny(stopped.Task, completion.Task).WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"worker {Pid} did not stop within {timeout.TotalSeconds:0} s and was killed");
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        stopping = true;

        // End of input tells a stopped worker to exit; one that does not is killed.
        await CloseInputAsync().ConfigureAwait(false);
        if (!process.HasExited)
        {
            try
            {
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync().ConfigureAwait(false);
            }
        }

        // The reader reads the exit code and ends Completion: the process object must outlive it.
        try
        {
            await reader.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }

        process.Dispose();
    }

    // No line is sent once the input is closed: a node's sampling tick may still flush a worker
    // being disposed, and gets an IOException, as from a worker that exited, instead of the
    // closed writer's or the disposed process's exceptions (one once ended the node's tracer).
    private async Task CloseInputAsync()
    {
        await stdin.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!closed)
            {
                closed = true;
                process.StandardInput.Close();
            }
        }
        catch (IOException)
        {
            // A worker that is gone (killed, crashed) broke the pipe: its input is closed all the same.
        }
        finally
        {
            stdin.Release();
        }
    }

    private async Task SendAsync(string line)
    {
        await stdin.WaitAsync().ConfigureAwait(false);
        try
        {
            if (closed)
            {
                throw new IOException($"worker {Pid} is gone");
            }

            await process.StandardInput.WriteLineAsync(line).ConfigureAwait(false);
            await process.StandardInput.FlushAsync().ConfigureAwait(false);
        }
        finally
        {
            stdin.Release();
        }
    }

    private async Task ReadStdoutAsync()
    {
        try
        {
            while (await process.StandardOutput.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                Handle(line);
            }
        }
        catch (IOException)
        {
        }

        await process.WaitForExitAsync().ConfigureAwait(false);

        // Stderr may still be draining; give it a moment so the crash message carries it.
        await Task.Delay(50).ConfigureAwait(false);
        var exitCode = process.ExitCode;
        var clean = stopping && exitCode == 0;
        if (clean)
        {
            completion.TrySetResult();
        }
        else
        {
            var why = reportedError ?? (exitCode >= 128 ? $"killed by signal {exitCode - 128}" : $"exited with status {exitCode}");
            var crash = new WorkerCrashedException(exitCode, $"worker {Pid} {why}; {StderrTail()}");
            ready.TrySetException(crash);
            completion.TrySetException(crash);
        }

        foreach (var flush in flushes.Values)
        {
            flush.TrySetResult();
        }
    }

    private void Handle(string line)
    {
        WorkerMessage? message;
        try
        {
            message = JsonSerializer.Deserialize(line, WorkerJson.Default.WorkerMessage);
        }
        catch (JsonException)
        {
            stderr.Enqueue($"(stdout) {line}");
            return;
        }

        switch (message?.Type)
        {
            case "ready":
                ready.TrySetResult(message);
                break;
            case "report":
                onReport(new WorkerInterval(message.Completed, message.Histogram ?? [], message.KernelNs, message.Gcs, message.GcPauseNs, message.ArbiterHeld, message.ArbiterHeldNs, message.ArbiterPredictedNs, message.Sampling, message.ArbiterCorrection));
                if (message.Flush != 0 && flushes.TryGetValue(message.Flush, out var done))
                {
                    done.TrySetResult();
                }

                break;
            case "error":
                reportedError = message.Message;
                break;
            case "stopped":
                stopped.TrySetResult();
                break;
            case "finished":
                finished.TrySetResult();
                break;
            case "phase" when message.Phase is { } phase:
                // The worker waits at its boundary until answered; the answer goes out whatever
                // the measurement did, or the workload would stall.
                _ = Task.Run(async () =>
                {
                    try
                    {
                        await onPhase(this, phase).ConfigureAwait(false);
                    }
                    finally
                    {
                        try
                        {
                            await SendAsync($"phase-ok {phase.Index.ToString(CultureInfo.InvariantCulture)}").ConfigureAwait(false);
                        }
                        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
                        {
                        }
                    }
                });
                break;
        }
    }

    private async Task ReadStderrAsync()
    {
        try
        {
            while (await process.StandardError.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                stderr.Enqueue(line);
                while (stderr.Count > StderrLines && stderr.TryDequeue(out _))
                {
                }
            }
        }
        catch (IOException)
        {
        }
    }

    private string StderrTail() => stderr.IsEmpty ? "it wrote nothing to stderr" : "its stderr ended: " + string.Join(" | ", stderr);
}
