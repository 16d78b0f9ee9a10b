using System.Diagnostics;
using System.Globalization;

namespace Contention.Tracer.Bpf;

/// <summary>
/// The tracer's overhead on a system-call storm: <c>getppid-storm</c> (tracer/native/test) makes
/// N getppid calls and times its own loop, untraced, under the helper in each mode, and under
/// <c>strace -f -c</c>. Sides are interleaved per repetition so drift hits all alike. A fresh
/// helper per run: what a tenant pays when its node traces it.
/// </summary>
public static class OverheadBenchmark
{
    /// <summary>The sides in the order they run (strace only when found); <c>full+threads</c> is full with each thread's calls counted too (<c>--thread-calls</c>).</summary>
    public static IReadOnlyList<string> Sides { get; } = ["untraced", "empty", "counts", "full", "full+threads", "exact", "strace"];

    /// <summary>Runs every side <paramref name="repetitions"/> times; strace makes <paramref name="straceCalls"/> calls (it is ~200x slower).</summary>
    public static async Task<IReadOnlyList<OverheadSeries>> RunAsync(string storm, string helper, string? strace, long calls, long straceCalls, int repetitions, Action<string>? progress = null)
    {
        var samples = Sides.Where(s => s != "strace" || strace is not null).ToDictionary(s => s, _ => new List<double>());
        for (var r = 0; r < repetitions; r++)
        {
            foreach (var (side, list) in samples)
            {
                var n = side == "strace" ? straceCalls : calls;
                list.Add(await RunOnceAsync(storm, side, helper, strace, n).ConfigureAwait(false) / n);
            }

            progress?.Invoke(string.Join(' ', samples.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Key}={s.Value[^1]:0}"))));
        }

        return samples.Select(s => new OverheadSeries(s.Key, s.Value)).ToList();
    }

    private static async Task<double> RunOnceAsync(string storm, string side, string helper, string? strace, long calls)
    {
        var info = new ProcessStartInfo(side == "strace" ? strace! : storm) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (side == "strace")
        {
            foreach (var a in new[] { "-f", "-c", "-o", "/dev/null", storm })
            {
                info.ArgumentList.Add(a);
            }
        }

        info.ArgumentList.Add(calls.ToString(CultureInfo.InvariantCulture));
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"failed to start {info.FileName}");
        if (await process.StandardOutput.ReadLineAsync().ConfigureAwait(false) != "ready")
        {
            throw new InvalidOperationException($"{storm} did not say ready");
        }

        BpfTracer? tracer = null;
        if (side is "empty" or "counts" or "full" or "full+threads" or "exact")
        {
            var threads = side.EndsWith("+threads", StringComparison.Ordinal);
            tracer = await BpfTracer.StartAsync(helper, Enum.Parse<BpfMode>(threads ? side[..side.IndexOf('+', StringComparison.Ordinal)] : side, ignoreCase: true), threads).ConfigureAwait(false);
            await tracer.AddAsync(process.Id).ConfigureAwait(false);
        }

        try
        {
            await process.StandardInput.WriteLineAsync("go").ConfigureAwait(false);
            await process.StandardInput.FlushAsync().ConfigureAwait(false);
            var line = await process.StandardOutput.ReadLineAsync().ConfigureAwait(false);
            await process.WaitForExitAsync().ConfigureAwait(false);
            return line is not null && line.StartsWith("ns ", StringComparison.Ordinal)
                ? double.Parse(line.AsSpan(3), CultureInfo.InvariantCulture)
                : throw new InvalidOperationException($"{storm} answered '{line}' instead of 'ns ELAPSED'");
        }
        finally
        {
            if (tracer is not null)
            {
                await tracer.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
