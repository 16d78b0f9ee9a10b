using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Contention.Workloads.Benchmarks;
using Contention.Workloads.Devices;
using Contention.Workloads.Kernels;
using Contention.Workloads.Sim;
using Contention.Workloads.Workloads;
using Spectre.Console;

namespace Contention.Client.Commands;

/// <summary>
/// <c>contention bench idle</c>: an inference request's time after idle gaps of growing length,
/// asleep or busy-waiting, on a real GPU or the real-time modelled GPU, against back-to-back
/// requests (<see cref="IdleBenchmark"/>).
/// </summary>
internal static class BenchIdleCommand
{
    private const string DefaultGaps = "0,200us,1ms,5ms,20ms,100ms";

    public static Command Create()
    {
        var device = new Option<string>("--device") { Description = "cuda:N (a real GPU; under MPS when CUDA_MPS_PIPE_DIRECTORY names a running daemon's pipes) or sim:N (the real-time modelled GPU, its engine on a thread of this process)", DefaultValueFactory = _ => "cuda:0" };
        var sync = new Option<string>("--sync") { Description = Contention.Grains.Words.List<SyncMode>(), DefaultValueFactory = _ => "block" };
        sync.AcceptOnlyFromAmong([.. Contention.Grains.Words.All<SyncMode>()]);
        var model = new Option<string>("--model") { Description = $"the request's model: {string.Join(", ", ModelShapes.Names)}", DefaultValueFactory = _ => "mlp" };
        model.AcceptOnlyFromAmong([.. ModelShapes.Names]);
        var batch = new Option<int>("--batch") { Description = "the request's batch size", DefaultValueFactory = _ => 1 }.Within(1, 256);
        var gaps = new Option<string>("--gaps") { Description = "idle gaps before each request, comma-separated durations (0: back to back)", DefaultValueFactory = _ => DefaultGaps };
        gaps.Validators.Add(result =>
        {
            if (ParseGaps(result.GetValueOrDefault<string>() ?? "") is null)
            {
                result.AddError("--gaps: expected comma-separated durations such as 0,200us,1ms,20ms");
            }
        });
        var ways = new Option<string>("--idle") { Description = "how the thread spends each gap, comma-separated: sleep (a timed sleep, as an open-loop tenant), spin (busy-waiting: only the device idles), both (sleep and spin); evict (the device first streams --evict-mb through its memory: the request finds its data out of the L2, as after another tenant's kernels) and gemm (first a 4096^3 GEMM, ~10 ms: the L2 cold and the power drawn as beside a trainer), each then busy-waiting the gap, at gap 0 too", DefaultValueFactory = _ => "both" };
        ways.Validators.Add(result =>
        {
            if (ParseWays(result.GetValueOrDefault<string>() ?? "") is null)
            {
                result.AddError("--idle: expected one or more of sleep, spin, both, evict, gemm, comma-separated");
            }
        });
        var seconds = new Option<double>("--seconds") { Description = "about how long each gap is timed (at least 50 requests)", DefaultValueFactory = _ => 3 };
        var profile = OptionChecks.SimProfile("the modelled GPU's profile with --device sim:N", "h200");
        var sharing = new Option<string>("--sharing") { Description = "with --device sim:N: how the modelled GPU is shared (its measured round trips differ): timeslice or mps", DefaultValueFactory = _ => "timeslice" };
        sharing.AcceptOnlyFromAmong("timeslice", "mps");
        var json = new Option<string?>("--json") { Description = "also write every request's times to this JSON file" };
        var output = new Option<string?>("--out") { Description = "write --base with these idle costs (for this run's sharing: time-sliced, or MPS when CUDA_MPS_PIPE_DIRECTORY is set) to this profile file, the others kept; needs a cuda device, --sync block, gap 0 and sleeping gaps" };
        var based = OptionChecks.Profile("--base", "the profile --out starts from", "h200");
        var evictMb = new Option<int>("--evict-mb") { Description = "how much --idle evict streams through the device's memory before each request, MB (read and written; an H200's L2 is 60 MB)", DefaultValueFactory = _ => 768 }.Within(1, 16_384);
        var evictPasses = new Option<int>("--evict-passes") { Description = "how many times --idle evict goes over its --evict-mb before each request (the same span, its bytes moved that many times: what a small working set passed over again and again leaves of the L2)", DefaultValueFactory = _ => 1 }.Within(1, 4_096);
        var from = new Option<string?>("--from") { Description = "measure nothing: take the requests a run saved with --json (its table again; with --out, its profile's idle costs; no GPU needed)" };
        var prefetch = new Option<string?>("--prefetch") { Description = "begin each request with: data (an element-wise kernel over its workspace, its operands' and results' buffers, on the whole GPU: its data back into the L2 at once instead of kernel by kernel) or code (one launch of each of its kernel functions on one element: their code back, next to no data); experimental (issue 13), not with --out" }.AcceptOnlyFromAmong("data", "code");
        var timeKernels = new Option<bool>("--time-kernels") { Description = "with a cuda device: time every request's kernels with CUDA events and say how much of the wait they and the GPU's gaps between them take (columns kernels, GPU span, wait beyond span); each request is then queued whole before the GPU starts it (the worker's held timed batch), so its launches no longer overlap its kernels; not with --out" };
        var highPriority = new Option<bool>("--high-priority") { Description = "with a cuda device: launch on a stream of the GPU's greatest priority, as a tenant with a positive priority does (under MPS its blocks are dispatched ahead of other clients' waiting ones)" };
        var command = new Command("idle", "an inference request's time after idle gaps (asleep or busy-waiting) against back-to-back requests: what an open-loop service pays for being idle") { device, sync, model, batch, gaps, ways, seconds, profile, sharing, json, output, based, from, evictMb, evictPasses, prefetch, timeKernels, highPriority };
        command.Validators.Add(result =>
        {
            // With --from, the saved run is checked when it is read.
            if (result.GetValue(output) is null || result.GetValue(from) is not null)
            {
                return;
            }

            if (result.GetValue(prefetch) is not null)
            {
                result.AddError("--out measures a profile's idle costs of the plain request: leave out --prefetch");
                return;
            }

            if (result.GetValue(timeKernels))
            {
                result.AddError("--out measures a profile's idle costs of the untimed request: leave out --time-kernels");
                return;
            }

            // A command's validators see the options given, not their defaults.
            if ((result.GetValue(sync) ?? "block") != "block" || !(ParseWays(result.GetValue(ways) ?? "both")?.Contains(IdleWay.Sleep) ?? false) || !(ParseGaps(result.GetValue(gaps) ?? DefaultGaps)?.Contains(0) ?? false) || !(result.GetValue(device) ?? "cuda:0").StartsWith("cuda:", StringComparison.Ordinal))
            {
                result.AddError("--out measures a profile's idle costs: it needs a cuda device, --sync block, a gap of 0 among --gaps and --idle sleep or both");
            }
        });
        command.SetAction((parse, cancel) =>
        {
            if (parse.GetValue(from) is { } saved)
            {
                return Task.FromResult(Replay(saved, parse.GetValue(output), parse.GetValue(based)!));
            }

            if (!DeviceId.TryParse(parse.GetValue(device)!, out var id) || id.Kind is not (DeviceKind.Cuda or DeviceKind.Sim) || (id.Kind == DeviceKind.Cuda && CudaDevice.CountDevices() <= id.Index))
            {
                AnsiConsole.MarkupLineInterpolated($"[red]error:[/] --device {parse.GetValue(device)}: expected a CUDA device of this machine (see 'contention devices') or sim:N");
                return Task.FromResult(2);
            }

            var (timed, high) = (parse.GetValue(timeKernels), parse.GetValue(highPriority));
            if ((timed || high) && id.Kind != DeviceKind.Cuda)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {(timed ? "--time-kernels times a real GPU's kernels with CUDA events" : "--high-priority asks a real GPU for a stream priority")}: give a cuda device, not {parse.GetValue(device)}");
                return Task.FromResult(2);
            }

            var mode = Contention.Grains.Words.Parse<SyncMode>(parse.GetValue(sync));
            var plain = ModelShapes.InferenceRequest(parse.GetValue(model)!, parse.GetValue(batch));
            var prefetched = parse.GetValue(prefetch);
            IReadOnlyList<KernelSpec> first = prefetched switch
            {
                "data" => [IdleBenchmark.Prefetch(plain)],
                "code" => IdleBenchmark.WarmCode(plain),
                _ => [],
            };
            IReadOnlyList<KernelSpec> request = [.. first, .. plain];
            var idle = ParseWays(parse.GetValue(ways)!)!;
            var sim = id.Kind == DeviceKind.Sim ? new SimGpuHost(id.Index, 1, DeviceProfile.Load(parse.GetValue(profile)!), TimeSpan.FromMicroseconds(20), spin: true) : null;
            try
            {
                var channel = sim?.Acquire(parse.GetValue(sharing) == "mps" ? GpuSharing.Mps : GpuSharing.Timeslice, SimContext.Default);
                using var opened = DeviceFactory.Open(new DeviceOptions { Id = id, SyncMode = mode, SimChannel = channel, TimeKernels = timed, KernelTimingBudget = 1, HighPriorityStream = high });
                var results = new List<IdleGapTimes>();
                foreach (var gap in ParseGaps(parse.GetValue(gaps)!)!)
                {
                    // At gap 0 the back-to-back baseline, and the ways that first run other work on the device.
                    foreach (var way in gap == 0 ? [IdleWay.Sleep, .. idle.Where(w => IdleBenchmark.Before(w) is not null)] : idle)
                    {
                        results.Add(IdleBenchmark.Measure(opened, request, gap, way, parse.GetValue(seconds), cancellation: cancel, evictElements: EvictElements(parse.GetValue(evictMb)), evictPasses: parse.GetValue(evictPasses)));
                    }
                }

                var mps = id.Kind == DeviceKind.Cuda && !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CUDA_MPS_PIPE_DIRECTORY"));
                AnsiConsole.Write(Table(results, $"{parse.GetValue(model)} batch {parse.GetValue(batch)}{Prefetched(prefetched, first)} on {opened.Description}{(mps ? ", CUDA_MPS_PIPE_DIRECTORY set (an MPS client if its daemon runs)" : "")}"));
                if (parse.GetValue(json) is { } jsonPath)
                {
                    File.WriteAllText(jsonPath, JsonSerializer.Serialize(new IdleBenchResult(opened.Description, parse.GetValue(model)!, parse.GetValue(batch), mps, results) { Kind = id.Kind.ToString().ToLowerInvariant(), Sync = Contention.Grains.Words.Word(mode), Prefetch = prefetched, EvictMb = parse.GetValue(evictMb), EvictPasses = parse.GetValue(evictPasses) }, BenchJson.Default.IdleBenchResult));
                }

                if (cancel.IsCancellationRequested)
                {
                    return Task.FromResult(130);
                }

                if (parse.GetValue(output) is { } profilePath)
                {
                    WriteProfile(DeviceProfile.Load(parse.GetValue(based)!), results, mps ? GpuSharing.Mps : GpuSharing.Timeslice, $"the {parse.GetValue(model)} batch-{parse.GetValue(batch)} request on {opened.Description}", profilePath);
                }

                return Task.FromResult(0);
            }
            finally
            {
                sim?.Dispose();
            }
        });
        return command;
    }

    // A saved run's table again, and with --out its profile: what a measuring run's --out would have written.
    private static int Replay(string path, string? output, string baseProfile)
    {
        IdleBenchResult? run;
        try
        {
            run = JsonSerializer.Deserialize(File.ReadAllText(path), BenchJson.Default.IdleBenchResult);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]error:[/] --from {path}: {ex.Message} (give a file 'bench idle --json' wrote)");
            return 2;
        }

        if (run?.Gaps is not { Count: > 0 })
        {
            AnsiConsole.MarkupLineInterpolated($"[red]error:[/] --from {path}: no requests in it (give a file 'bench idle --json' wrote)");
            return 2;
        }

        AnsiConsole.Write(Table(run.Gaps, $"{run.Model} batch {run.Batch}{Prefetched(run.Prefetch, [])} on {run.Device} (saved in {path})"));
        if (output is null)
        {
            return 0;
        }

        if (run.Prefetch is not null)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]error:[/] --from {path}: its requests began with a prefetch; --out takes a plain request's idle costs");
            return 2;
        }

        // Files written before the kind and sync mode were saved say both in the device's description.
        var cuda = run.Kind is { } kind ? kind == "cuda" : run.Device.Contains("CUDA", StringComparison.Ordinal);
        var block = run.Sync is { } sync ? sync == "block" : run.Device.Contains("sync block", StringComparison.Ordinal);
        if (!cuda || !block || !run.Gaps.Any(g => g.GapNs == 0) || !run.Gaps.Any(g => g.GapNs > 0 && g.Way == IdleWay.Sleep))
        {
            AnsiConsole.MarkupLineInterpolated($"[red]error:[/] --from {path}: --out needs a run on a cuda device with --sync block, a gap of 0 and sleeping gaps");
            return 2;
        }

        WriteProfile(DeviceProfile.Load(baseProfile), run.Gaps, run.MpsPipeSet ? GpuSharing.Mps : GpuSharing.Timeslice, $"the {run.Model} batch-{run.Batch} request on {run.Device}", output);
        return 0;
    }

    // What the table's title says each request began with.
    private static string Prefetched(string? prefetch, IReadOnlyList<KernelSpec> kernels) => prefetch switch
    {
        "data" => $", each request after a prefetch of its data{(kernels.Count > 0 ? $" (element-wise over {kernels[0].Elements:N0} floats)" : "")}",
        "code" => $", each request after its kernel functions on one element{(kernels.Count > 0 ? $" ({kernels.Count} launches)" : "")}",
        _ => "",
    };

    private static void WriteProfile(DeviceProfile profile, IReadOnlyList<IdleGapTimes> results, GpuSharing mode, string request, string path)
    {
        File.WriteAllText(path, WithIdleCosts(profile, results, mode, request, "contention bench idle --out").ToJson());
        AnsiConsole.MarkupLineInterpolated($"wrote {path}: {(mode == GpuSharing.Mps ? "MPS" : "time-sliced")} idle costs {Points(IdleBenchmark.Costs(results, mode))}");
    }

    /// <summary>
    /// <paramref name="profile"/> with the idle costs of <paramref name="results"/> for <paramref name="mode"/>
    /// in place of its own for that mode, its source saying how they were measured (by <paramref name="command"/>, of <paramref name="request"/>).
    /// </summary>
    public static DeviceProfile WithIdleCosts(DeviceProfile profile, IReadOnlyList<IdleGapTimes> results, GpuSharing mode, string request, string command)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var costs = IdleBenchmark.Costs(results, mode);
        var word = mode == GpuSharing.Mps ? "MPS" : "time-sliced";
        return profile with
        {
            IdleCosts = [.. profile.IdleCosts.Where(c => c.Sharing != mode), .. costs],
            Source = profile.SourceWith($"idle costs ({word})", $"idle costs ({word}): '{command}' ({DateTime.UtcNow:yyyy-MM-dd}), {request}, after sleeping each gap against back to back, extra launch / wait means: {Points(costs)}"),
        };
    }

    private static string Points(IReadOnlyList<MeasuredIdleCost> costs) =>
        string.Join(", ", costs.Where(c => c.GapNs > 0).Select(c => FormattableString.Invariant($"{Gap(c.GapNs)} +{c.LaunchNs / 1e3:0} / +{c.WaitNs / 1e3:0} us")));

    /// <summary>The ways of <c>--idle</c> from a comma-separated list (<c>both</c>: sleep and spin), in order, each once; null when one is unknown or none is given.</summary>
    public static IReadOnlyList<IdleWay>? ParseWays(string text)
    {
        var ways = new List<IdleWay>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            IdleWay[]? named = part switch
            {
                "sleep" => [IdleWay.Sleep],
                "spin" => [IdleWay.Spin],
                "both" => [IdleWay.Sleep, IdleWay.Spin],
                "evict" => [IdleWay.Evict],
                "gemm" => [IdleWay.Gemm],
                _ => null,
            };
            if (named is null)
            {
                return null;
            }

            ways.AddRange(named.Where(w => !ways.Contains(w)));
        }

        return ways.Count == 0 ? null : ways;
    }

    /// <summary>Gaps in ns from a comma-separated list of durations; null when one is not a duration.</summary>
    public static IReadOnlyList<long>? ParseGaps(string text)
    {
        var gaps = new List<long>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!Mixes.Units.TryParseSeconds(part, out var s) || s > 10)
            {
                return null;
            }

            gaps.Add((long)Math.Round(s * 1e9));
        }

        return gaps.Count == 0 ? null : gaps;
    }

    /// <summary>
    /// The table: per gap and way, requests, wake-up, launch, wait and whole request (median and
    /// p99, µs), and the median request against back-to-back ones; where the requests' kernels were
    /// timed (<see cref="IdleGapTimes.KernelNs"/>), their summed time, their span on the GPU and the
    /// wait beyond that span (the GPU starting the request and the completion reaching the thread),
    /// each over the timed requests.
    /// </summary>
    public static Table Table(IReadOnlyList<IdleGapTimes> results, string title)
    {
        ArgumentNullException.ThrowIfNull(results);
        var table = new Table().Title(title).AddColumns("gap", "idle", "requests", "wake p50/p99 us", "launch p50/p99 us", "wait p50/p99 us", "request p50/p99 us", "request p50 extra us");
        var kernels = results.Any(r => r.KernelNs is not null);
        if (kernels)
        {
            table.AddColumns("kernels p50/p99 us", "GPU span p50/p99 us", "wait beyond span p50/p99 us");
        }

        var baseline = results.FirstOrDefault(IsBaseline) is { } closed ? Percentile(Totals(closed), 50) : double.NaN;
        foreach (var r in results)
        {
            var totals = Totals(r);
            var p50 = Percentile(totals, 50);
            List<string> row = [Gap(r.GapNs), IsBaseline(r) ? "-" : r.Way.ToString().ToLowerInvariant(), r.LaunchNs.Count.ToString(CultureInfo.InvariantCulture), Pair(r.WakeNs), Pair(r.LaunchNs), Pair(r.WaitNs), Pair(totals), double.IsNaN(baseline) ? "-" : Us(p50 - baseline)];
            if (kernels)
            {
                var timed = TimedIndices(r);
                row.AddRange([Pair([.. timed.Select(i => r.KernelNs![i])]), Pair([.. timed.Select(i => r.SpanNs![i])]), Pair([.. timed.Select(i => r.WaitNs[i] - r.SpanNs![i])])]);
            }

            table.AddRow([.. row]);
        }

        return table;
    }

    // The requests whose kernels were timed (none where the run timed none).
    private static List<int> TimedIndices(IdleGapTimes r) =>
        r.KernelNs is null || r.SpanNs is null ? [] : [.. Enumerable.Range(0, Math.Min(r.KernelNs.Count, Math.Min(r.SpanNs.Count, r.WaitNs.Count))).Where(i => r.KernelNs[i] >= 0 && r.SpanNs[i] >= 0)];

    /// <summary>The floats of an element-wise kernel that moves <paramref name="megabytes"/> MB through memory (two operands read, one written, 4 bytes each).</summary>
    public static long EvictElements(int megabytes) => Math.Max(1, (megabytes * (1L << 20)) / 12);

    // Back to back: no gap, and nothing else run on the device before each request.
    private static bool IsBaseline(IdleGapTimes r) => r.GapNs == 0 && IdleBenchmark.Before(r.Way) is null;

    private static List<long> Totals(IdleGapTimes r) => [.. r.LaunchNs.Zip(r.WaitNs, (l, w) => l + w)];

    private static string Pair(IReadOnlyList<long> values) => values.Count == 0 ? "-" : $"{Us(Percentile(values, 50))} / {Us(Percentile(values, 99))}";

    private static string Us(double ns) => (ns / 1e3).ToString("0.0", CultureInfo.InvariantCulture);

    private static string Gap(long ns) => ns == 0 ? "0" : ns >= 1_000_000 ? FormattableString.Invariant($"{ns / 1e6:0.###} ms") : FormattableString.Invariant($"{ns / 1e3:0.###} us");

    /// <summary>A percentile by the nearest rank.</summary>
    private static double Percentile(IReadOnlyList<long> values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];
    }
}
