using System.Globalization;
using System.Text.Json;

namespace Contention.Workloads.Replay;

/// <summary>A kernel trace made from a profiler trace, and what the import noticed on the way (ops left out and why).</summary>
public sealed record ChromeTraceImportResult(KernelTrace Trace, IReadOnlyList<string> Notes);

/// <summary>
/// Turns a PyTorch profiler trace (Kineto's Chrome trace JSON, what
/// <c>torch.profiler.profile(...).export_chrome_trace</c> writes) into a <see cref="KernelTrace"/>:
/// steps from its <c>ProfilerStep#N</c> annotations; each CUDA runtime or driver call whose
/// correlation id has GPU activity (kernel, memcpy, memset) becomes a launch op with that
/// activity's GPU time, and the synchronise calls (device, stream, event; a synchronous
/// <c>cudaMemcpy</c> after its copy) sync ops; every other host time between them, whichever
/// thread it was on (PyTorch's backward pass launches from its autograd thread), is the gap
/// before the next op. Kernels take their grid, block, registers and shared memory from the
/// activity, the device its limits from the trace's <c>deviceProperties</c>.
/// </summary>
public static class ChromeTraceImport
{
    private static readonly HashSet<string> Syncs = new(StringComparer.Ordinal)
    {
        "cudaDeviceSynchronize", "cudaStreamSynchronize", "cudaEventSynchronize", "cudaThreadSynchronize",
        "cuCtxSynchronize", "cuStreamSynchronize", "cuEventSynchronize",
    };

    // Copies whose call returns only when the copy is done (the runtime's and driver's synchronous forms).
    private static readonly HashSet<string> SynchronousCopies = new(StringComparer.Ordinal)
    {
        "cudaMemcpy", "cudaMemcpy2D", "cuMemcpyDtoH_v2", "cuMemcpyHtoD_v2", "cuMemcpyDtoD_v2", "cuMemcpy",
    };

    /// <summary>
    /// Imports <paramref name="json"/> (named <paramref name="file"/> in errors) as a trace named
    /// <paramref name="name"/>; <paramref name="kind"/> null: training when the trace shows an
    /// optimizer step (<c>Optimizer.step</c>), else inference; <paramref name="device"/> stands in
    /// for the trace's own device properties when it has none.
    /// </summary>
    /// <exception cref="KernelTraceException">Not a profiler trace, or one with no steps or no GPU work in them.</exception>
    public static ChromeTraceImportResult Import(ReadOnlyMemory<byte> json, string file, string name, TraceRecording recorded, TraceKind? kind = null, TraceDevice? device = null)
    {
        ArgumentNullException.ThrowIfNull(recorded);
        using (var document = KernelTraceFile.ParseJson(json, file, new JsonDocumentOptions { AllowTrailingCommas = true }))
        {
            var root = document.RootElement;
            var events = root.ValueKind == JsonValueKind.Array ? root
                : root.ValueKind == JsonValueKind.Object && root.TryGetProperty("traceEvents", out var list) && list.ValueKind == JsonValueKind.Array ? list
                : throw new KernelTraceException($"{file}: not a Chrome trace: expected a JSON array of events or an object with a traceEvents array (torch.profiler's export_chrome_trace writes one)");
            return Build(Read(events, file), root, file, name, recorded, kind, device);
        }
    }

    private sealed record Span(string Name, double Ts, double Dur, long Correlation, int Index);

    private sealed record Activity(TraceOpKind Kind, string Name, double Ts, double Dur, int Stream, int Device, Dim3 Grid, Dim3 Block, int Registers, int SharedMemory, long Bytes, CopyDirection Direction, bool Pinned, int Index);

    // Host: when each event the profiler recorded on the host began (operators, annotations, runtime calls), in order.
    private sealed record Events(List<Span> Steps, List<Span> Calls, Dictionary<long, List<Activity>> Gpu, bool Optimizer, double[] Host);

    private static Events Read(JsonElement events, string file)
    {
        var steps = new List<Span>();
        var calls = new List<Span>();
        var gpu = new Dictionary<long, List<Activity>>();
        var host = new List<double>();
        var optimizer = false;
        var index = 0;
        foreach (var e in events.EnumerateArray())
        {
            index++;
            if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty("ph", out var ph) || ph.GetString() != "X")
            {
                continue;
            }

            var cat = e.TryGetProperty("cat", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()!.ToLowerInvariant() : "";
            var name = e.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : "";
            optimizer |= name.StartsWith("Optimizer.step", StringComparison.Ordinal);
            var where = $"event {index - 1} ({(name.Length > 60 ? name[..60] + "…" : name)})";
            switch (cat)
            {
                case "user_annotation" or "cpu_op" or "user_defined" when name.StartsWith("ProfilerStep#", StringComparison.Ordinal):
                    steps.Add(new Span(name, Time(e, "ts", file, where), Time(e, "dur", file, where), 0, index));
                    break;
                case "cpu_op" or "user_annotation" or "user_defined":
                    host.Add(Time(e, "ts", file, where));
                    break;
                case "cuda_runtime" or "cuda_driver" or "runtime":
                    var call = new Span(name, Time(e, "ts", file, where), Time(e, "dur", file, where), Correlation(e), index);
                    calls.Add(call);
                    host.Add(call.Ts);
                    break;
                case "kernel" or "gpu_memcpy" or "memcpy" or "gpu_memset" or "memset":
                    var activity = GpuActivity(e, cat, name, file, where, index);
                    var correlation = Correlation(e);
                    if (!gpu.TryGetValue(correlation, out var same))
                    {
                        gpu[correlation] = same = [];
                    }

                    same.Add(activity);
                    break;
            }
        }

        host.Sort();
        return new Events(steps, calls, gpu, optimizer, [.. host]);
    }

    private static Activity GpuActivity(JsonElement e, string cat, string name, string file, string where, int index)
    {
        var args = e.TryGetProperty("args", out var a) && a.ValueKind == JsonValueKind.Object ? a : default;
        int Arg(string key, int fallback) => args.ValueKind == JsonValueKind.Object && args.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) ? (int)Math.Round(d) : fallback;
        var stream = Arg("stream", e.TryGetProperty("tid", out var tid) && tid.ValueKind == JsonValueKind.Number ? tid.GetInt32() : 0);
        var device = Arg("device", 0);
        var (ts, dur) = (Time(e, "ts", file, where), Time(e, "dur", file, where));
        if (cat == "kernel")
        {
            var (grid, block) = (Dims(args, "grid"), Dims(args, "block"));
            return new Activity(TraceOpKind.Kernel, name, ts, dur, stream, device, grid, block, Arg("registers per thread", 0), Arg("shared memory", 0), 0, CopyDirection.None, true, index);
        }

        long bytes = args.ValueKind == JsonValueKind.Object && args.TryGetProperty("bytes", out var b) && b.TryGetInt64(out var count) ? count : 0;
        if (cat is "gpu_memset" or "memset")
        {
            return new Activity(TraceOpKind.Memset, name, ts, dur, stream, device, default, default, 0, 0, bytes, CopyDirection.None, true, index);
        }

        // Kineto names copies "Memcpy HtoD (Pinned -> Device)", "Memcpy DtoH (Device -> Pageable)", …
        var direction = name.Contains("HtoD", StringComparison.Ordinal) ? CopyDirection.HostToDevice
            : name.Contains("DtoH", StringComparison.Ordinal) ? CopyDirection.DeviceToHost
            : CopyDirection.DeviceToDevice;
        var pinned = !name.Contains("Pageable", StringComparison.Ordinal);
        return new Activity(TraceOpKind.Copy, name, ts, dur, stream, device, default, default, 0, 0, bytes, direction, pinned, index);
    }

    private static ChromeTraceImportResult Build(Events events, JsonElement root, string file, string name, TraceRecording recorded, TraceKind? kind, TraceDevice? fallback)
    {
        var notes = new List<string>();
        if (events.Steps.Count == 0)
        {
            throw new KernelTraceException($"{file}: no ProfilerStep#N annotations: the profiler was not stepped; record with 'contention record -- CMD' (its hook steps it at each optimizer step or top-level forward) or call prof.step() after each step");
        }

        if (events.Gpu.Count == 0)
        {
            throw new KernelTraceException($"{file}: no GPU activity (kernel, gpu_memcpy, gpu_memset events): the profiler did not record CUDA; give it ProfilerActivity.CUDA");
        }

        var steps = events.Steps.OrderBy(s => s.Ts).ToList();
        var calls = events.Calls.OrderBy(c => c.Ts).ThenBy(c => c.Index).ToList();
        var kernels = new List<TraceKernel>();
        var kernelIndex = new Dictionary<TraceKernel, int>();
        var devices = new Dictionary<int, int>();
        var used = new HashSet<long>();
        var traceSteps = new List<TraceStep>();
        var ignoredCalls = 0;
        for (var s = 0; s < steps.Count; s++)
        {
            var step = steps[s];
            var end = step.Ts + step.Dur;
            var ops = new List<TraceOp>();
            var previousEnd = step.Ts;
            var previousCall = double.NegativeInfinity;
            foreach (var call in calls.Where(c => c.Ts >= step.Ts && c.Ts < end))
            {
                var gap = Math.Max(0, call.Ts - previousEnd);

                // The profiler's events since the last op's call (the step's start for the first), this call among them.
                var profiled = HostEvents(events.Host, Math.Max(previousCall, step.Ts), call.Ts, previousCall == double.NegativeInfinity);
                if (call.Correlation != 0 && events.Gpu.TryGetValue(call.Correlation, out var activities))
                {
                    used.Add(call.Correlation);
                    var first = true;
                    foreach (var activity in activities.OrderBy(a => a.Ts))
                    {
                        devices[activity.Device] = devices.GetValueOrDefault(activity.Device) + 1;
                        ops.Add(Op(activity, first ? gap : 0, first ? call.Dur : 0, activity.Ts - step.Ts, first ? profiled : 0, kernels, kernelIndex));
                        first = false;
                    }

                    if (SynchronousCopies.Contains(call.Name))
                    {
                        // The call returned when its copy was done: the host waited in it.
                        ops.Add(new TraceOp(TraceOpKind.Sync, -1, -1, 0, 0, call.Ts + call.Dur - step.Ts, 0));
                    }
                }
                else if (Syncs.Contains(call.Name))
                {
                    ops.Add(new TraceOp(TraceOpKind.Sync, -1, -1, gap, call.Dur, call.Ts - step.Ts, 0, Events: profiled));
                }
                else
                {
                    ignoredCalls++;
                    continue;
                }

                previousEnd = Math.Max(previousEnd, call.Ts + call.Dur);
                previousCall = call.Ts;
            }

            if (ops.Count == 0)
            {
                notes.Add($"{step.Name} has no GPU work: left out");
                continue;
            }

            traceSteps.Add(new TraceStep(1, step.Dur, Math.Max(0, end - previousEnd), ops, HostEvents(events.Host, previousCall, end - 1e-6, false)));
        }

        if (traceSteps.Count == 0)
        {
            throw new KernelTraceException($"{file}: none of its {steps.Count} steps launched GPU work");
        }

        var unlaunched = events.Gpu.Where(g => !used.Contains(g.Key)).Sum(g => g.Value.Count);
        var (from, to) = (steps[0].Ts, steps[^1].Ts + steps[^1].Dur);
        var outside = events.Gpu.Where(g => !used.Contains(g.Key)).SelectMany(g => g.Value).Count(a => a.Ts >= from && a.Ts < to);
        if (unlaunched > 0)
        {
            notes.Add($"{unlaunched} GPU activities have no launch call inside a step ({outside} of them ran within the steps: launched before the first step or by a call the profiler missed): left out");
        }

        if (ignoredCalls > 0)
        {
            notes.Add($"{ignoredCalls} runtime calls neither launch nor synchronise (e.g. cudaStreamIsCapturing, cudaEventRecord): their time counts in the gaps");
        }

        var streams = traceSteps.SelectMany(t => t.Ops).Where(o => o.Kind != TraceOpKind.Sync).Select(o => o.Stream).Distinct().Count();
        if (streams > 1)
        {
            notes.Add($"GPU work on {streams} streams: a replay issues it on one stream, in launch order");
        }

        if (devices.Count > 1)
        {
            notes.Add($"GPU work on {devices.Count} devices: a replay issues it on one");
        }

        var deviceId = devices.OrderByDescending(d => d.Value).First().Key;
        var traceDevice = Device(root, deviceId) ?? fallback
            ?? throw new KernelTraceException($"{file}: no deviceProperties for device {deviceId} (torch.profiler writes them): give the recording GPU's name (--gpu)");
        var traceKind = kind ?? (events.Optimizer ? TraceKind.Training : TraceKind.Inference);
        return new ChromeTraceImportResult(new KernelTrace(name, traceKind, recorded, traceDevice, kernels, traceSteps), notes);
    }

    // Events in host (sorted start times) that began after `from` (or at it, when `fromIncluded`) and by `to`.
    private static int HostEvents(double[] host, double from, double to, bool fromIncluded)
    {
        static int After(double[] times, double t, bool strictly)
        {
            // The first index whose time is > t (strictly) or >= t.
            var (lo, hi) = (0, times.Length);
            while (lo < hi)
            {
                var mid = (lo + hi) / 2;
                if (strictly ? times[mid] <= t : times[mid] < t)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid;
                }
            }

            return lo;
        }

        return Math.Max(0, After(host, to, strictly: true) - After(host, from, strictly: !fromIncluded));
    }

    private static TraceOp Op(Activity a, double gap, double call, double start, int events, List<TraceKernel> kernels, Dictionary<TraceKernel, int> index)
    {
        if (a.Kind != TraceOpKind.Kernel)
        {
            return new TraceOp(a.Kind, -1, a.Stream, gap, call, start, a.Dur, a.Bytes, a.Direction, a.Pinned, events);
        }

        var kernel = new TraceKernel(a.Name, a.Grid, a.Block, a.Registers, a.SharedMemory);
        if (!index.TryGetValue(kernel, out var k))
        {
            index[kernel] = k = kernels.Count;
            kernels.Add(kernel);
        }

        return new TraceOp(TraceOpKind.Kernel, k, a.Stream, gap, call, start, a.Dur, Events: events);
    }

    // The trace's deviceProperties entry for the device (Kineto's keys: numSms, maxThreadsPerMultiprocessor, regsPerMultiprocessor, sharedMemPerMultiprocessor, computeMajor).
    private static TraceDevice? Device(JsonElement root, int id)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("deviceProperties", out var list) || list.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        foreach (var d in list.EnumerateArray())
        {
            int Get(string key, int fallback) => d.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? (int)Math.Min(n, int.MaxValue) : fallback;
            if (d.ValueKind != JsonValueKind.Object || Get("id", 0) != id)
            {
                continue;
            }

            var major = Get("computeMajor", 9);
            var name = d.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : $"device {id}";
            return new TraceDevice(name, Get("numSms", 0) is > 0 and var sms ? sms : throw new KernelTraceException($"deviceProperties of device {id} has no numSms"), Get("maxThreadsPerMultiprocessor", 2048), Get("regsPerMultiprocessor", 65536), Get("sharedMemPerMultiprocessor", 233472), MaxBlocks(major, Get("computeMinor", 0)));
        }

        return null;
    }

    /// <summary>Blocks resident on one multiprocessor at most, by compute capability (CUDA's table: 16 on 7.5, 8.6 and 8.7, 24 on 8.9, 32 on 7.0, 8.0, 9.0 and the rest).</summary>
    public static int MaxBlocks(int major, int minor) => (major, minor) switch
    {
        (7, 5) or (8, 6) or (8, 7) => 16,
        (8, 9) => 24,
        _ => 32,
    };

    private static long Correlation(JsonElement e) =>
        e.TryGetProperty("args", out var args) && args.ValueKind == JsonValueKind.Object && args.TryGetProperty("correlation", out var c) && c.ValueKind == JsonValueKind.Number && c.TryGetInt64(out var id) ? id : 0;

    private static double Time(JsonElement e, string key, string file, string where)
    {
        if (e.TryGetProperty(key, out var v))
        {
            if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && double.IsFinite(d))
            {
                return d;
            }

            // Some exporters write timestamps as strings.
            if (v.ValueKind == JsonValueKind.String && double.TryParse(v.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out d))
            {
                return d;
            }
        }

        throw new KernelTraceException($"{file}: {where}: field {key}: expected a number of microseconds");
    }

    private static Dim3 Dims(JsonElement args, string key)
    {
        if (args.ValueKind == JsonValueKind.Object && args.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Array && v.GetArrayLength() == 3
            && v.EnumerateArray().All(x => x.ValueKind == JsonValueKind.Number && x.TryGetInt32(out var n) && n >= 1))
        {
            return new Dim3(v[0].GetInt32(), v[1].GetInt32(), v[2].GetInt32());
        }

        // A graph-replayed kernel's launch configuration is not recorded: one block of one thread stands for it.
        return new Dim3(1, 1, 1);
    }
}
