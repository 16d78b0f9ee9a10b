using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace Contention.Workloads.Replay;

/// <summary>A kernel trace file that cannot be read; the message names the file, the record and the field.</summary>
public sealed class KernelTraceException(string message) : FormatException(message);

/// <summary>
/// Reads and writes kernel trace files: JSON (gzip-compressed when the name ends in .gz), format
/// <c>contention-kernel-trace</c> version 1, documented in docs/replay.md. Ops are written one to a
/// line. Reading checks every field and names the record and field of the first fault.
/// </summary>
public static class KernelTraceFile
{
    /// <summary>The format's name, its <c>format</c> field.</summary>
    public const string Format = "contention-kernel-trace";

    /// <summary>The version this build writes and reads.</summary>
    public const int Version = 1;

    /// <summary>Reads <paramref name="path"/> (gzip-compressed or not, whatever its name).</summary>
    /// <exception cref="KernelTraceException">The file is not a valid kernel trace; the message says where and why.</exception>
    public static KernelTrace Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new KernelTraceException($"{path}: cannot read the kernel trace: {ex.Message}");
        }

        return Parse(Decompressed(bytes), path);
    }

    /// <summary>The file's bytes, gunzipped when they are gzip's (its magic bytes).</summary>
    public static byte[] Decompressed(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (bytes.Length < 2 || bytes[0] != 0x1f || bytes[1] != 0x8b)
        {
            return bytes;
        }

        using var input = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    /// <summary>Parses a kernel trace's JSON; <paramref name="file"/> names it in errors.</summary>
    /// <exception cref="KernelTraceException">It is not a valid kernel trace.</exception>
    public static KernelTrace Parse(ReadOnlyMemory<byte> json, string file)
    {
        using (var document = ParseJson(json, file, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip }))
        {
            return new Reader(file).Trace(document.RootElement);
        }
    }

    /// <summary>The JSON document in <paramref name="json"/>; an error naming <paramref name="file"/>, the line and byte where it is not JSON.</summary>
    /// <exception cref="KernelTraceException">It is not valid JSON.</exception>
    internal static JsonDocument ParseJson(ReadOnlyMemory<byte> json, string file, JsonDocumentOptions options)
    {
        try
        {
            return JsonDocument.Parse(json, options);
        }
        catch (JsonException ex)
        {
            throw new KernelTraceException($"{file}: line {(ex.LineNumber ?? 0) + 1}, byte {(ex.BytePositionInLine ?? 0) + 1}: not valid JSON: {ex.Message.Split(" Path:")[0]}");
        }
    }

    /// <summary>Writes <paramref name="trace"/> to <paramref name="path"/> (gzip-compressed when it ends in .gz).</summary>
    public static void Write(KernelTrace trace, string path)
    {
        ArgumentNullException.ThrowIfNull(trace);
        ArgumentNullException.ThrowIfNull(path);
        var text = Encoding.UTF8.GetBytes(ToJson(trace));
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } directory)
        {
            Directory.CreateDirectory(directory);
        }

        if (path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase))
        {
            using var file = File.Create(path);
            using var gzip = new GZipStream(file, CompressionLevel.SmallestSize);
            gzip.Write(text);
            return;
        }

        File.WriteAllBytes(path, text);
    }

    /// <summary>The trace as this format's JSON: the header indented, one kernel and one op to a line.</summary>
    public static string ToJson(KernelTrace trace)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var s = new StringBuilder();
        s.Append("{\n");
        s.Append(CultureInfo.InvariantCulture, $"  \"format\": {Str(Format)},\n  \"version\": {Version},\n");
        s.Append(CultureInfo.InvariantCulture, $"  \"name\": {Str(trace.Name)},\n  \"kind\": {Str(Word(trace.Kind))},\n");
        var r = trace.Recorded;
        s.Append(CultureInfo.InvariantCulture, $"  \"recorded\": {{ \"source\": {Str(r.Source)}, \"command\": {Str(r.Command)}, \"utc\": {Str(r.Utc)}, \"host\": {Str(r.Host)}, \"tool\": {Str(r.Tool)} }},\n");
        var d = trace.Device;
        s.Append(CultureInfo.InvariantCulture, $"  \"device\": {{ \"name\": {Str(d.Name)}, \"multiprocessors\": {d.Multiprocessors}, \"maxThreadsPerMultiprocessor\": {d.MaxThreadsPerMultiprocessor}, \"registersPerMultiprocessor\": {d.RegistersPerMultiprocessor}, \"sharedMemoryPerMultiprocessor\": {d.SharedMemoryPerMultiprocessor}, \"maxBlocksPerMultiprocessor\": {d.MaxBlocksPerMultiprocessor} }},\n");
        if (trace.Reference is { } reference)
        {
            s.Append(CultureInfo.InvariantCulture, $"  \"reference\": {{ \"stepUs\": {Num(reference.StepUs)}, \"steps\": {reference.Steps}, \"from\": {Str(reference.From)}, \"profiledStepUs\": {Num(reference.ProfiledStepUs)} }},\n");
        }

        if (trace.HostCorrection is { } correction)
        {
            s.Append(CultureInfo.InvariantCulture, $"  \"hostCorrection\": {{ \"usPerEvent\": {Num(correction.UsPerEvent)}, \"from\": {Str(correction.From)} }},\n");
        }

        s.Append("  \"kernels\": [\n");
        for (var k = 0; k < trace.Kernels.Count; k++)
        {
            var kernel = trace.Kernels[k];
            s.Append(CultureInfo.InvariantCulture, $"    {{ \"name\": {Str(kernel.Name)}, \"grid\": {Dim(kernel.Grid)}, \"block\": {Dim(kernel.Block)}, \"registers\": {kernel.Registers}, \"sharedMemory\": {kernel.SharedMemory} }}{(k < trace.Kernels.Count - 1 ? "," : "")}\n");
        }

        s.Append("  ],\n  \"steps\": [\n");
        for (var i = 0; i < trace.Steps.Count; i++)
        {
            var step = trace.Steps[i];
            var tailEvents = step.TailEvents > 0 ? string.Create(CultureInfo.InvariantCulture, $", \"tailEvents\": {step.TailEvents}") : "";
            s.Append(CultureInfo.InvariantCulture, $"    {{ \"repeat\": {step.Repeat}, \"durationUs\": {Num(step.DurationUs)}, \"tailUs\": {Num(step.TailUs)}{tailEvents}, \"ops\": [\n");
            for (var o = 0; o < step.Ops.Count; o++)
            {
                s.Append("      ").Append(Op(step.Ops[o])).Append(o < step.Ops.Count - 1 ? ",\n" : "\n");
            }

            s.Append(i < trace.Steps.Count - 1 ? "    ] },\n" : "    ] }\n");
        }

        s.Append("  ]\n}\n");
        return s.ToString();
    }

    /// <summary>
    /// Folds steps whose ops are the same (kind, kernel, stream, copy direction and bytes, in
    /// order) into one step repeated as often, each time the median of theirs; the first step of a
    /// run of alike steps keeps its place.
    /// </summary>
    public static KernelTrace Fold(KernelTrace trace)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var groups = new List<List<TraceStep>>();
        foreach (var step in trace.Steps)
        {
            var group = groups.FirstOrDefault(g => Alike(g[0], step));
            if (group is null)
            {
                groups.Add([step]);
            }
            else
            {
                group.Add(step);
            }
        }

        return trace with { Steps = [.. groups.Select(Merged)] };
    }

    private static TraceStep Merged(List<TraceStep> steps)
    {
        if (steps.Count == 1)
        {
            return steps[0];
        }

        var first = steps[0];
        var ops = new TraceOp[first.Ops.Count];
        for (var o = 0; o < ops.Length; o++)
        {
            var at = o;
            ops[o] = first.Ops[o] with
            {
                GapUs = Numbers.Median(steps.Select(s => s.Ops[at].GapUs)),
                CallUs = Numbers.Median(steps.Select(s => s.Ops[at].CallUs)),
                StartUs = Numbers.Median(steps.Select(s => s.Ops[at].StartUs)),
                DurationUs = Numbers.Median(steps.Select(s => s.Ops[at].DurationUs)),
                Events = (int)Math.Round(Numbers.Median(steps.Select(s => (double)s.Ops[at].Events))),
            };
        }

        return new TraceStep(steps.Sum(s => s.Repeat), Numbers.Median(steps.Select(s => s.DurationUs)), Numbers.Median(steps.Select(s => s.TailUs)), ops, (int)Math.Round(Numbers.Median(steps.Select(s => (double)s.TailEvents))));
    }

    private static bool Alike(TraceStep a, TraceStep b) =>
        a.Ops.Count == b.Ops.Count && a.Ops.Zip(b.Ops).All(p => p.First.Kind == p.Second.Kind && p.First.Kernel == p.Second.Kernel && p.First.Stream == p.Second.Stream && p.First.Direction == p.Second.Direction && p.First.Bytes == p.Second.Bytes && p.First.Pinned == p.Second.Pinned);

    private static string Op(TraceOp op)
    {
        var events = op.Events > 0 ? string.Create(CultureInfo.InvariantCulture, $", \"events\": {op.Events}") : "";
        var times = string.Create(CultureInfo.InvariantCulture, $"\"stream\": {op.Stream}, \"gapUs\": {Num(op.GapUs)}{events}, \"callUs\": {Num(op.CallUs)}, \"startUs\": {Num(op.StartUs)}");
        return op.Kind switch
        {
            TraceOpKind.Kernel => string.Create(CultureInfo.InvariantCulture, $"{{ \"op\": \"kernel\", \"kernel\": {op.Kernel}, {times}, \"durationUs\": {Num(op.DurationUs)} }}"),
            TraceOpKind.Copy => string.Create(CultureInfo.InvariantCulture, $"{{ \"op\": \"copy\", \"direction\": {Str(Word(op.Direction))}, \"bytes\": {op.Bytes}, \"pinned\": {(op.Pinned ? "true" : "false")}, {times}, \"durationUs\": {Num(op.DurationUs)} }}"),
            TraceOpKind.Memset => string.Create(CultureInfo.InvariantCulture, $"{{ \"op\": \"memset\", \"bytes\": {op.Bytes}, {times}, \"durationUs\": {Num(op.DurationUs)} }}"),
            _ => string.Create(CultureInfo.InvariantCulture, $"{{ \"op\": \"sync\", {times} }}"),
        };
    }

    /// <summary>The file's word for a trace kind.</summary>
    public static string Word(TraceKind kind) => kind == TraceKind.Training ? "training" : "inference";

    /// <summary>The file's word for a copy direction.</summary>
    public static string Word(CopyDirection direction) => direction switch
    {
        CopyDirection.HostToDevice => "HtoD",
        CopyDirection.DeviceToHost => "DtoH",
        CopyDirection.DeviceToDevice => "DtoD",
        _ => "none",
    };

    private static string Str(string value) => "\"" + JsonEncodedText.Encode(value, System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping).ToString() + "\"";

    private static string Num(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);

    private static string Dim(Dim3 d) => string.Create(CultureInfo.InvariantCulture, $"[{d.X}, {d.Y}, {d.Z}]");

    // Reads the document, naming the record and field of each fault.
    private sealed class Reader(string file)
    {
        public KernelTrace Trace(JsonElement root)
        {
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Fault("the file", "", "expected a JSON object");
            }

            var format = Text(root, "the file", "format");
            if (format != KernelTraceFile.Format)
            {
                throw Fault("the file", "format", $"expected \"{KernelTraceFile.Format}\", got \"{format}\": not a Contention kernel trace (a PyTorch profiler trace is turned into one by 'contention record --from-chrome FILE')");
            }

            var version = Int(root, "the file", "version", 1, int.MaxValue);
            if (version != Version)
            {
                throw Fault("the file", "version", $"version {version} is not one this build reads (it reads {Version}); use the Contention that wrote it, or record it again");
            }

            var name = Text(root, "the file", "name");
            var kindWord = Text(root, "the file", "kind");
            var kind = kindWord switch
            {
                "training" => TraceKind.Training,
                "inference" => TraceKind.Inference,
                _ => throw Fault("the file", "kind", $"expected training or inference, got \"{kindWord}\""),
            };
            var recorded = Object(root, "the file", "recorded");
            var recording = new TraceRecording(Text(recorded, "recorded", "source"), Text(recorded, "recorded", "command"), Text(recorded, "recorded", "utc"), Text(recorded, "recorded", "host"), Text(recorded, "recorded", "tool"));
            var d = Object(root, "the file", "device");
            var device = new TraceDevice(
                Text(d, "device", "name"),
                Int(d, "device", "multiprocessors", 1, 100_000),
                Int(d, "device", "maxThreadsPerMultiprocessor", 32, 1 << 20),
                Int(d, "device", "registersPerMultiprocessor", 1, 1 << 24),
                Int(d, "device", "sharedMemoryPerMultiprocessor", 0, 1 << 30),
                Int(d, "device", "maxBlocksPerMultiprocessor", 1, 1024));
            var kernels = Array(root, "the file", "kernels").Select((k, i) => Kernel(k, $"kernel {i}")).ToList();
            var steps = Array(root, "the file", "steps").Select((s, i) => Step(s, $"step {i}", kernels.Count)).ToList();
            if (steps.Count == 0)
            {
                throw Fault("the file", "steps", "expected at least one step");
            }

            TraceReference? reference = null;
            if (root.TryGetProperty("reference", out var r))
            {
                Require(r, "reference");
                reference = new TraceReference(Number(r, "reference", "stepUs"), Int(r, "reference", "steps", 1, int.MaxValue), Text(r, "reference", "from"), Number(r, "reference", "profiledStepUs"));
            }

            TraceHostCorrection? correction = null;
            if (root.TryGetProperty("hostCorrection", out var h))
            {
                Require(h, "hostCorrection");
                correction = new TraceHostCorrection(Number(h, "hostCorrection", "usPerEvent"), Text(h, "hostCorrection", "from"));
            }

            return new KernelTrace(name, kind, recording, device, kernels, steps) { Reference = reference, HostCorrection = correction };
        }

        private TraceKernel Kernel(JsonElement k, string where)
        {
            Require(k, where);
            var kernel = new TraceKernel(Text(k, where, "name"), Dims(k, where, "grid"), Dims(k, where, "block"), Int(k, where, "registers", 0, 255), Int(k, where, "sharedMemory", 0, 1 << 30));
            if (kernel.Threads > 1024)
            {
                throw Fault(where, "block", $"expected at most 1,024 threads a block, got {kernel.Threads}");
            }

            return kernel;
        }

        private TraceStep Step(JsonElement s, string where, int kernels)
        {
            Require(s, where);
            var ops = Array(s, where, "ops").Select((o, i) => Op(o, $"{where}, op {i}", kernels)).ToList();
            if (ops.Count == 0)
            {
                throw Fault(where, "ops", "expected at least one op");
            }

            return new TraceStep(Int(s, where, "repeat", 1, int.MaxValue), Number(s, where, "durationUs"), Number(s, where, "tailUs"), ops, Optional(s, where, "tailEvents"));
        }

        private TraceOp Op(JsonElement o, string where, int kernels)
        {
            Require(o, where);
            var word = Text(o, where, "op");
            var stream = Int(o, where, "stream", -1, int.MaxValue);
            var (gap, call, start) = (Number(o, where, "gapUs"), Number(o, where, "callUs"), Number(o, where, "startUs"));
            var events = Optional(o, where, "events");
            switch (word)
            {
                case "kernel":
                    var kernel = Int(o, where, "kernel", 0, int.MaxValue);
                    if (kernel >= kernels)
                    {
                        throw Fault(where, "kernel", $"expected an index into the file's {kernels} kernels (0 to {kernels - 1}), got {kernel}");
                    }

                    return new TraceOp(TraceOpKind.Kernel, kernel, stream, gap, call, start, Number(o, where, "durationUs"), Events: events);
                case "copy":
                    var directionWord = Text(o, where, "direction");
                    var direction = directionWord switch
                    {
                        "HtoD" => CopyDirection.HostToDevice,
                        "DtoH" => CopyDirection.DeviceToHost,
                        "DtoD" => CopyDirection.DeviceToDevice,
                        _ => throw Fault(where, "direction", $"expected HtoD, DtoH or DtoD, got \"{directionWord}\""),
                    };
                    return new TraceOp(TraceOpKind.Copy, -1, stream, gap, call, start, Number(o, where, "durationUs"), Long(o, where, "bytes"), direction, Bool(o, where, "pinned"), events);
                case "memset":
                    return new TraceOp(TraceOpKind.Memset, -1, stream, gap, call, start, Number(o, where, "durationUs"), Long(o, where, "bytes"), Events: events);
                case "sync":
                    return new TraceOp(TraceOpKind.Sync, -1, stream, gap, call, start, 0, Events: events);
                default:
                    throw Fault(where, "op", $"expected kernel, copy, memset or sync, got \"{word}\"");
            }
        }

        private void Require(JsonElement e, string where)
        {
            if (e.ValueKind != JsonValueKind.Object)
            {
                throw Fault(where, "", $"expected a JSON object, got {Kind(e)}");
            }
        }

        private JsonElement Field(JsonElement e, string where, string field) =>
            e.TryGetProperty(field, out var value) ? value : throw Fault(where, field, "missing");

        private JsonElement Object(JsonElement e, string where, string field)
        {
            var value = Field(e, where, field);
            return value.ValueKind == JsonValueKind.Object ? value : throw Fault(where, field, $"expected an object, got {Kind(value)}");
        }

        private JsonElement.ArrayEnumerator Array(JsonElement e, string where, string field)
        {
            var value = Field(e, where, field);
            return value.ValueKind == JsonValueKind.Array ? value.EnumerateArray() : throw Fault(where, field, $"expected an array, got {Kind(value)}");
        }

        private string Text(JsonElement e, string where, string field)
        {
            var value = Field(e, where, field);
            return value.ValueKind == JsonValueKind.String ? value.GetString()! : throw Fault(where, field, $"expected a string, got {Kind(value)}");
        }

        private bool Bool(JsonElement e, string where, string field)
        {
            var value = Field(e, where, field);
            return value.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Fault(where, field, $"expected true or false, got {Kind(value)}"),
            };
        }

        private double Number(JsonElement e, string where, string field)
        {
            var value = Field(e, where, field);
            if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var number) || !double.IsFinite(number))
            {
                throw Fault(where, field, $"expected a number of microseconds, got {Kind(value)}");
            }

            return number >= 0 ? number : throw Fault(where, field, string.Create(CultureInfo.InvariantCulture, $"expected at least 0, got {number}"));
        }

        private int Int(JsonElement e, string where, string field, int min, int max)
        {
            var value = Field(e, where, field);
            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var number))
            {
                throw Fault(where, field, $"expected a whole number, got {Kind(value)}");
            }

            return number >= min && number <= max ? (int)number : throw Fault(where, field, string.Create(CultureInfo.InvariantCulture, $"expected {min} to {max}, got {number}"));
        }

        // A count that may be left out (0 then).
        private int Optional(JsonElement e, string where, string field) => e.TryGetProperty(field, out _) ? Int(e, where, field, 0, int.MaxValue) : 0;

        private long Long(JsonElement e, string where, string field)
        {
            var value = Field(e, where, field);
            return value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) && number >= 0 ? number : throw Fault(where, field, $"expected a whole number of bytes of at least 0, got {Kind(value)}");
        }

        private Dim3 Dims(JsonElement e, string where, string field)
        {
            var value = Field(e, where, field);
            if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() != 3 || value.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out var n) || n < 1))
            {
                throw Fault(where, field, $"expected [x, y, z] of whole numbers of at least 1, got {Kind(value)}");
            }

            return new Dim3(value[0].GetInt32(), value[1].GetInt32(), value[2].GetInt32());
        }

        private static string Kind(JsonElement value) => value.ValueKind switch
        {
            JsonValueKind.Number or JsonValueKind.String or JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
            JsonValueKind.Null => "null",
            JsonValueKind.Array => "an array",
            JsonValueKind.Object => "an object",
            _ => "nothing",
        };

        private KernelTraceException Fault(string where, string field, string what) =>
            new($"{file}: {where}{(field.Length > 0 ? $", field {field}" : "")}: {what}");
    }
}
