using System.Diagnostics;
using System.Globalization;

namespace Contention.Tracer.Bpf;

/// <summary>
/// Drives the native eBPF helper (<c>contention-ctrace</c>, tracer/native): one per node. It
/// follows the tgids added (with their threads and children) and counts their system calls in
/// the kernel; <see cref="SnapshotAsync"/> reads the counters. Commands are answered in order,
/// so an <see cref="AddAsync"/> that has returned counts every later call.
/// </summary>
public sealed class BpfTracer : IAsyncDisposable
{
    /// <summary>The line format this class reads.</summary>
    public const int FormatVersion = 5;

    /// <summary>The helper's file name.</summary>
    public const string HelperName = "contention-ctrace";

    /// <summary>
    /// How long the helper may take to answer a command or a whole snapshot unless told otherwise:
    /// far above what it needs (a snapshot of 30 tenants' threads with calls per thread took
    /// 0.36 s), far below what a node can go unsampled.
    /// </summary>
    public static readonly TimeSpan DefaultAnswerTimeout = TimeSpan.FromSeconds(30);

    private readonly Process process;
    private readonly SemaphoreSlim gate = new(1, 1);

    // Why the helper can be asked nothing more (it exited, or it was stopped for not answering).
    private string? gone;

    private BpfTracer(Process process, TimeSpan answerTimeout)
    {
        this.process = process;
        AnswerTimeout = answerTimeout;
    }

    /// <summary>
    /// Where the helper is: <c>CONTENTION_CTRACE</c>, else beside this program, else
    /// tracer/native/build of a source tree above it; null when none exists.
    /// </summary>
    public static string? FindHelper()
    {
        var configured = Environment.GetEnvironmentVariable("CONTENTION_CTRACE");
        if (!string.IsNullOrEmpty(configured))
        {
            return File.Exists(configured) ? configured : null;
        }

        var beside = Path.Combine(AppContext.BaseDirectory, HelperName);
        return File.Exists(beside) ? beside : FindInSourceTree(HelperName);
    }

    /// <summary>A file of tracer/native/build in a source tree above this program, or null.</summary>
    public static string? FindInSourceTree(string fileName)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var built = Path.Combine(dir.FullName, "tracer", "native", "build", fileName);
            if (File.Exists(built))
            {
                return built;
            }
        }

        return null;
    }

    /// <summary>What the helper measures (<see cref="BpfMode.Full"/> unless asked otherwise).</summary>
    public BpfMode Mode { get; private init; }

    /// <summary>Whether the helper counts each traced thread's system calls too (<see cref="BpfSnapshot.ThreadCalls"/>).</summary>
    public bool ThreadCalls { get; private init; }

    /// <summary>The helper's process id (its own cost can be traced, by another helper).</summary>
    public int ProcessId => process.Id;

    /// <summary>
    /// How long the helper may take to start or to answer a command or a whole snapshot: one that
    /// takes longer is judged hung, killed, and the call throws <see cref="BpfUnavailableException"/>
    /// (a hung helper would otherwise hold its node's sampling, and every run on it, for good).
    /// </summary>
    public TimeSpan AnswerTimeout { get; }

    /// <summary>
    /// Starts the helper and waits until its programs are attached. With
    /// <paramref name="threadCalls"/> it counts each traced thread's system calls too (one
    /// hash-map lookup more per call: off unless asked for).
    /// </summary>
    /// <exception cref="BpfUnavailableException">It could not load (no privilege, no BTF), is missing, or did not say it was ready within <paramref name="answerTimeout"/>.</exception>
    public static async Task<BpfTracer> StartAsync(string? helperPath = null, BpfMode mode = BpfMode.Full, bool threadCalls = false, TimeSpan? answerTimeout = null)
    {
        var timeout = answerTimeout ?? DefaultAnswerTimeout;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero, nameof(answerTimeout));
        var path = helperPath ?? FindHelper()
            ?? throw new BpfUnavailableException($"the eBPF helper {HelperName} is not built: run 'make -C tracer/native' (or set CONTENTION_CTRACE); running with /proc metrics only");
        if (!File.Exists(path))
        {
            throw new BpfUnavailableException($"the eBPF helper {path} does not exist: run 'make -C tracer/native' (or set CONTENTION_CTRACE); running with /proc metrics only");
        }

        var info = new ProcessStartInfo(path) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("--mode");
        info.ArgumentList.Add(mode == BpfMode.Exact ? "full" : mode.ToString().ToLowerInvariant());
        if (mode == BpfMode.Exact)
        {
            info.ArgumentList.Add("--sample-above");
            info.ArgumentList.Add("0");
        }

        if (threadCalls)
        {
            info.ArgumentList.Add("--thread-calls");
        }

        var process = Process.Start(info) ?? throw new BpfUnavailableException($"failed to start {path}");
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        string? first;
        try
        {
            first = await process.StandardOutput.ReadLineAsync(CancellationToken.None).AsTask().WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            process.Kill();
            await process.WaitForExitAsync().ConfigureAwait(false);
            process.Dispose();
            throw new BpfUnavailableException(string.Create(CultureInfo.InvariantCulture, $"the eBPF helper {path} did not say it was ready within {timeout.TotalSeconds:0.#} s and was stopped; running with /proc metrics only"));
        }

        if (first != string.Create(CultureInfo.InvariantCulture, $"ctrace {FormatVersion} ready"))
        {
            await process.WaitForExitAsync().ConfigureAwait(false);
            process.Dispose();
            var why = first is null ? "it exited without a word" : first.StartsWith("error ", StringComparison.Ordinal) ? first[6..] : $"it said '{first}'";
            throw new BpfUnavailableException($"eBPF tracing unavailable ({why}): it needs root or CAP_BPF + CAP_PERFMON and a kernel with BTF; running with /proc metrics only");
        }

        return new BpfTracer(process, timeout) { Mode = mode, ThreadCalls = threadCalls };
    }

    /// <summary>Traces <paramref name="tgid"/> from now on, with its threads and future children.</summary>
    public Task AddAsync(int tgid) => CommandAsync($"add {tgid}", $"ok add {tgid}");

    /// <summary>Stops tracing <paramref name="tgid"/> (its counters stay).</summary>
    public Task RemoveAsync(int tgid) => CommandAsync($"remove {tgid}", $"ok remove {tgid}");

    /// <summary>Reads every counter.</summary>
    public async Task<BpfSnapshot> SnapshotAsync()
    {
        await gate.WaitAsync().ConfigureAwait(false);
        try
        {
            using var deadline = new CancellationTokenSource(AnswerTimeout);
            await SendAsync("snapshot").ConfigureAwait(false);
            var lines = new List<string>();
            while (true)
            {
                var line = await ReadAsync("snapshot", deadline.Token).ConfigureAwait(false);
                lines.Add(line);
                if (line.StartsWith("end ", StringComparison.Ordinal))
                {
                    return BpfSnapshotParser.Parse(lines);
                }
            }
        }
        finally
        {
            gate.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        try
        {
            process.StandardInput.Close();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or TimeoutException)
        {
            process.Kill();
        }

        process.Dispose();
        gate.Dispose();
    }

    private async Task CommandAsync(string command, string expected)
    {
        await gate.WaitAsync().ConfigureAwait(false);
        try
        {
            using var deadline = new CancellationTokenSource(AnswerTimeout);
            await SendAsync(command).ConfigureAwait(false);
            var answer = await ReadAsync(command, deadline.Token).ConfigureAwait(false);
            if (answer != expected)
            {
                throw new InvalidOperationException($"the eBPF helper answered '{answer}' to '{command}'");
            }
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task SendAsync(string line)
    {
        if (gone is { } why)
        {
            throw new BpfUnavailableException(why);
        }

        try
        {
            await process.StandardInput.WriteLineAsync(line).ConfigureAwait(false);
            await process.StandardInput.FlushAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
            // Its end of the pipe is closed: it exited.
            throw new BpfUnavailableException(gone ??= Exited());
        }
    }

    /// <summary>The helper's next line, asked by <paramref name="asked"/>; it is killed if the line does not come by <paramref name="deadline"/>.</summary>
    private async Task<string> ReadAsync(string asked, CancellationToken deadline)
    {
        string? line;
        try
        {
            // Waited for, not cancelled: the read is left behind with the killed helper, whose
            // closed pipe ends it.
            line = await process.StandardOutput.ReadLineAsync(CancellationToken.None).AsTask().WaitAsync(deadline).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            gone = string.Create(CultureInfo.InvariantCulture, $"the eBPF helper (pid {process.Id}) did not answer '{asked}' within {AnswerTimeout.TotalSeconds:0.#} s and was stopped; tracing goes on with /proc metrics only");
            try
            {
                process.Kill();
            }
            catch (InvalidOperationException)
            {
                // It exited meanwhile.
            }

            throw new BpfUnavailableException(gone);
        }

        return line ?? throw new BpfUnavailableException(gone ??= Exited());
    }

    private static string Exited() => "the eBPF helper exited; tracing goes on with /proc metrics only";
}
