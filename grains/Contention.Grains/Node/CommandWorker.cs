using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Contention.Workloads.Metrics;
using Contention.Workloads.Worker;

namespace Contention.Grains.Node;

/// <summary>
/// A <c>command</c> tenant: an external program run as the tenant's worker process (traced from
/// its first instruction like any worker). Each line it prints that matches the tenant's latency
/// pattern is one operation with that latency; the rest of its output is kept for error messages.
/// It ends by itself (finished, exit status 0) or when stopped (SIGTERM, then SIGKILL).
/// </summary>
internal sealed class CommandWorker : IWorker
{
    private const int OutputLines = 20;
    private static readonly TimeSpan TermGrace = TimeSpan.FromSeconds(10);
    private readonly Process process;
    private readonly Regex pattern;
    private readonly double unitNs;
    private readonly Action<WorkerInterval> onReport;
    private readonly Action<long> onRejected;
    private long rejected;
    private readonly LatencyRecorder latency = new();
    private readonly ConcurrentQueue<string> output = new();
    private readonly TaskCompletionSource completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool stopping;

    private CommandWorker(Process process, Regex pattern, double unitNs, Action<WorkerInterval> onReport, Action<long> onRejected, string description)
    {
        this.process = process;
        this.pattern = pattern;
        this.unitNs = unitNs;
        this.onReport = onReport;
        this.onRejected = onRejected;
        Description = description;
        Pid = process.Id;
    }

    /// <inheritdoc />
    public int Pid { get; }

    /// <inheritdoc />
    public int? Tid => null;

    /// <inheritdoc />
    public string Description { get; }

    /// <inheritdoc />
    public Task Completion => completion.Task;

    /// <inheritdoc />
    public Task Finished => finished.Task;

    /// <summary>Nanoseconds in one of <paramref name="unit"/> (ns, us, µs, ms, s); null for anything else.</summary>
    public static double? UnitNs(string unit) => unit switch
    {
        "ns" => 1,
        "us" or "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        _ => null,
    };

    /// <summary>Starts the tenant's command (through <paramref name="launch"/>, which traces it) with the device in its environment.</summary>
    /// <exception cref="WorkerCrashedException">The program could not be started.</exception>
    /// <param name="spec">The tenant.</param>
    /// <param name="device">The device it was placed on.</param>
    /// <param name="onReport">Takes each interval's completions and encoded latency histogram.</param>
    /// <param name="onRejected">Takes each interval's count of lines that matched the latency pattern but held no usable latency.</param>
    /// <param name="launch">Starts (and traces) the program.</param>
    public static async Task<CommandWorker> StartAsync(TenantSpec spec, string device, Action<WorkerInterval> onReport, Action<long> onRejected, Func<ProcessStartInfo, Task<Process>> launch)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var argv = (spec.Command ?? []).Select(a => a.Replace("{batch}", spec.BatchSize.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)).ToList();
        if (argv.Count == 0)
        {
            throw new WorkerCrashedException(-1, $"tenant {spec.Name} has kind command and no command to run");
        }

        var info = new ProcessStartInfo(argv[0]) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var argument in argv.Skip(1))
        {
            info.ArgumentList.Add(argument);
        }

        // The device the node placed the tenant on, for the program to use.
        info.Environment["CONTENTION_DEVICE"] = device;
        info.Environment["CONTENTION_TENANT"] = spec.Name;
        if (device.StartsWith("cuda:", StringComparison.Ordinal))
        {
            info.Environment["CUDA_VISIBLE_DEVICES"] = MpsDaemons.PhysicalDevice(int.Parse(device["cuda:".Length..], CultureInfo.InvariantCulture));
        }

        Process process;
        try
        {
            process = await launch(info).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new WorkerCrashedException(-1, $"failed to start '{string.Join(' ', argv)}': {ex.Message}");
        }

        process.EnableRaisingEvents = true;
        var worker = new CommandWorker(process, new Regex(spec.LatencyPattern, RegexOptions.CultureInvariant), UnitNs(spec.LatencyUnit) ?? 1e6, onReport, onRejected, $"command: {string.Join(' ', argv)}");
        var readers = Task.WhenAll(Task.Run(() => worker.ReadAsync(process.StandardOutput, parse: true)), Task.Run(() => worker.ReadAsync(process.StandardError, parse: false)));
        _ = Task.Run(() => worker.WaitAsync(readers));
        return worker;
    }

    /// <inheritdoc />
    public Task FlushAsync(CancellationToken cancellationToken)
    {
        var (count, encoded) = latency.TakeEncodedInterval();
        onReport(new WorkerInterval(count, count == 0 ? [] : encoded, null));
        onRejected(Interlocked.Exchange(ref rejected, 0));
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task StopAsync(TimeSpan timeout)
    {
        stopping = true;
        if (!process.HasExited)
        {
            // SIGTERM first, so the program can finish its step and flush its output.
            _ = Contention.Tracer.Bpf.TracedStart.Terminate(Pid);

            try
            {
                await process.WaitForExitAsync().WaitAsync(TermGrace < timeout ? TermGrace : timeout).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync().ConfigureAwait(false);
            }
        }

        await FlushAsync(CancellationToken.None).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        stopping = true;
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().ConfigureAwait(false);
        }

        completion.TrySetResult();
        process.Dispose();
    }

    private async Task ReadAsync(StreamReader reader, bool parse)
    {
        try
        {
            while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                if (parse && pattern.Match(line) is { Success: true } match)
                {
                    if (TryLatencyNs(line, match, out var ns))
                    {
                        latency.Record(ns);
                        continue;
                    }

                    // A latency line without a usable latency: not an operation, and counted.
                    Interlocked.Increment(ref rejected);
                }

                output.Enqueue(line);
                while (output.Count > OutputLines && output.TryDequeue(out _))
                {
                }
            }
        }
        catch (IOException)
        {
        }
    }

    private bool TryLatencyNs(string line, Match match, out long ns)
    {
        ns = 0;
        var unit = match.Groups["unit"] is { Success: true } named ? UnitNs(named.Value) : unitNs;
        var group = match.Groups["value"] is { Success: true } value ? value : match.Groups[1];

        // A pattern's number group may leave out a sign the line has: "step -5 ms" is not 5 ms.
        var signed = group.Index > 0 && line[group.Index - 1] == '-';
        if (unit is null || signed || !double.TryParse(group.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var amount)
            || !double.IsFinite(amount) || amount < 0)
        {
            return false;
        }

        // Beyond what the histogram holds (an hour) the value is not clamped into it: it is no latency.
        var scaled = amount * unit.Value;
        if (scaled > Histograms.HighestNs)
        {
            return false;
        }

        ns = (long)Math.Round(scaled);
        return true;
    }

    private async Task WaitAsync(Task readers)
    {
        await process.WaitForExitAsync().ConfigureAwait(false);

        // Its last lines may still be in the pipes: read them before judging how it ended (a
        // child it left behind may hold the pipes open, so not for long).
        await Task.WhenAny(readers, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
        if (stopping)
        {
            completion.TrySetResult();
            return;
        }

        if (process.ExitCode == 0)
        {
            // Done by itself: the tenant is finished; the node keeps it until the experiment stops it.
            finished.TrySetResult();
            return;
        }

        var tail = output.IsEmpty ? "it printed nothing else" : "its output ended: " + string.Join(" | ", output);
        completion.TrySetException(new WorkerCrashedException(process.ExitCode, $"command {Pid} exited with status {process.ExitCode}; {tail}"));
    }
}
