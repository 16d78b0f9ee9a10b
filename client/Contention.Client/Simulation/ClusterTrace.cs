using System.Globalization;
using Contention.Client.Mixes;
using CsvHelper;
using CsvHelper.Configuration;

namespace Contention.Client.Simulation;

/// <summary>A node of a cluster trace.</summary>
/// <param name="Name">Its name.</param>
/// <param name="CpuMilli">CPU, thousandths of a core.</param>
/// <param name="MemoryMiB">Memory, MiB.</param>
/// <param name="Gpus">GPUs (0 for a CPU-only node).</param>
/// <param name="Model">The GPU model ("" without GPUs).</param>
public sealed record TraceNode(string Name, int CpuMilli, long MemoryMiB, int Gpus, string Model);

/// <summary>A pod (task) of a cluster trace.</summary>
/// <param name="Name">Its name.</param>
/// <param name="CpuMilli">CPU asked, thousandths of a core.</param>
/// <param name="MemoryMiB">Memory asked, MiB.</param>
/// <param name="Gpus">GPUs asked (0-8).</param>
/// <param name="GpuMilli">With one GPU: the share of it asked, thousandths (under 1000: a fraction of a GPU); with several, 1000.</param>
/// <param name="GpuModels">GPU models it may run on; empty: any.</param>
/// <param name="Qos">Its class of service: LS (latency-sensitive), BE (best effort), Burstable or Guaranteed.</param>
/// <param name="Phase">Its phase in the trace (Running, Failed, Pending, Succeeded).</param>
/// <param name="CreationSeconds">When it was created, seconds from the trace's start.</param>
/// <param name="DeletionSeconds">When it was deleted.</param>
/// <param name="ScheduledSeconds">When it was scheduled; null for a pod never scheduled.</param>
public sealed record TracePod(string Name, int CpuMilli, long MemoryMiB, int Gpus, int GpuMilli, IReadOnlyList<string> GpuModels, string Qos, string Phase, long CreationSeconds, long DeletionSeconds, long? ScheduledSeconds);

/// <summary>
/// A production GPU cluster trace: its nodes and its pods. Reads the Alibaba GPU cluster trace
/// v2023 ("openb", Weng et al., ATC 2023): <c>openb_node_list_all_node.csv</c> and
/// <c>openb_pod_list_default.csv</c> in one directory; a bad value is an error naming file, line,
/// column and field.
/// </summary>
public sealed record ClusterTrace(IReadOnlyList<TraceNode> Nodes, IReadOnlyList<TracePod> Pods, string Source)
{
    /// <summary>The node list's file name.</summary>
    public const string AlibabaNodes = "openb_node_list_all_node.csv";

    /// <summary>The pod list's file name.</summary>
    public const string AlibabaPods = "openb_pod_list_default.csv";

    /// <summary>The classes of service a pod may have.</summary>
    public static IReadOnlyList<string> QosClasses { get; } = ["LS", "BE", "Burstable", "Guaranteed"];

    /// <summary>Whether <paramref name="directory"/> holds an Alibaba v2023 trace.</summary>
    public static bool IsAlibaba(string directory) => File.Exists(Path.Combine(directory, AlibabaNodes)) && File.Exists(Path.Combine(directory, AlibabaPods));

    /// <summary>Reads the trace in <paramref name="directory"/>.</summary>
    /// <exception cref="MixException">A file is missing, or a value is not what its column holds.</exception>
    public static ClusterTrace LoadAlibaba(string directory)
    {
        if (!IsAlibaba(directory))
        {
            throw new MixException(directory, 0, 0, "trace", $"expected the Alibaba GPU trace v2023's {AlibabaNodes} and {AlibabaPods} in this directory (../shared/traces/alibaba-gpu-v2023 has them)");
        }

        var nodes = Read(Path.Combine(directory, AlibabaNodes), ["sn", "cpu_milli", "memory_mib", "gpu", "model"], row =>
        {
            var gpus = row.Int("gpu", 0, 64);
            var model = row.Text("model");
            if (gpus > 0 && model.Length == 0)
            {
                throw row.Error("model", "a node with GPUs needs its GPU model");
            }

            return new TraceNode(row.Text("sn", required: true), row.Int("cpu_milli", 0, int.MaxValue), row.Long("memory_mib", 0, long.MaxValue), gpus, model);
        });
        var pods = Read(Path.Combine(directory, AlibabaPods), ["name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli", "gpu_spec", "qos", "pod_phase", "creation_time", "deletion_time", "scheduled_time"], row =>
        {
            var gpus = row.Int("num_gpu", 0, 64);
            var milli = row.Int("gpu_milli", 0, 1000);
            if (gpus > 1 && milli != 1000)
            {
                throw row.Error("gpu_milli", $"a pod of {gpus} GPUs takes them whole (1000), not {milli}");
            }

            if (gpus == 1 && milli == 0)
            {
                throw row.Error("gpu_milli", "a pod of one GPU asks for a share of it above 0 (1-1000 thousandths)");
            }

            var qos = row.Text("qos", required: true);
            if (!QosClasses.Contains(qos, StringComparer.Ordinal))
            {
                throw row.Error("qos", $"'{qos}' is no class of service; expected one of {string.Join(", ", QosClasses)}");
            }

            var created = row.Long("creation_time", 0, long.MaxValue);
            var deleted = row.Long("deletion_time", 0, long.MaxValue);
            if (deleted < created)
            {
                throw row.Error("deletion_time", $"deleted ({deleted}) before it was created ({created})");
            }

            var scheduled = row.Text("scheduled_time").Length == 0 ? (long?)null : row.Long("scheduled_time", 0, long.MaxValue);
            var spec = row.Text("gpu_spec");
            return new TracePod(row.Text("name", required: true), row.Int("cpu_milli", 0, int.MaxValue), row.Long("memory_mib", 0, long.MaxValue), gpus, gpus == 0 ? 0 : milli, spec.Length == 0 ? [] : spec.Split('|'), qos, row.Text("pod_phase"), created, deleted, scheduled);
        });
        return new ClusterTrace(nodes, pods, Path.GetFullPath(directory));
    }

    /// <summary>The generic job trace's columns: required, then optional (docs/sim.md, "Other traces").</summary>
    public static IReadOnlyList<string> JobColumns { get; } = ["job_id", "submit_time", "duration", "gpus"];

    /// <summary>The generic job trace's optional columns.</summary>
    public static IReadOnlyList<string> OptionalJobColumns { get; } = ["gpu_fraction", "qos", "kind", "cpu_milli", "memory_mib", "gpu_model"];

    /// <summary>
    /// Reads a trace of jobs in the generic CSV schema (one line per job: <c>job_id</c>,
    /// <c>submit_time</c> and <c>duration</c> in seconds, <c>gpus</c>; optionally
    /// <c>gpu_fraction</c> (0-1, of one GPU), <c>qos</c> (LS, BE, Burstable, Guaranteed),
    /// <c>kind</c> (inference or training: the class when qos is empty, LS or BE),
    /// <c>cpu_milli</c>, <c>memory_mib</c>, <c>gpu_model</c>) onto the nodes of <paramref name="cluster"/>.
    /// </summary>
    /// <exception cref="MixException">A column is missing or a value is not what its column holds.</exception>
    public static ClusterTrace LoadJobs(string path, ClusterSpec cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        if (!File.Exists(path))
        {
            throw new MixException(Path.GetFileName(path), 0, 0, "trace", $"no such file: {path}");
        }

        var pods = Read(path, [.. JobColumns], row =>
        {
            var gpus = row.Int("gpus", 0, 64);
            var fraction = row.Optional("gpu_fraction").Length > 0 ? row.Double("gpu_fraction", 0, 1) : 1;
            if (gpus > 1 && fraction != 1)
            {
                throw row.Error("gpu_fraction", $"a job of {gpus} GPUs takes them whole (1), not {fraction.ToString(CultureInfo.InvariantCulture)}");
            }

            var milli = gpus == 0 ? 0 : (int)Math.Round(fraction * 1000);
            if (gpus == 1 && milli == 0)
            {
                throw row.Error("gpu_fraction", "a job of one GPU asks for a share of it above 0 (up to 1)");
            }

            var kind = row.Optional("kind");
            if (kind.Length > 0 && kind is not ("inference" or "training"))
            {
                throw row.Error("kind", $"'{kind}' is no kind of job; expected inference or training");
            }

            var qos = row.Optional("qos");
            if (qos.Length == 0)
            {
                qos = kind switch
                {
                    "inference" => "LS",
                    "training" => "BE",
                    _ => throw row.Error(row.Has("qos") ? "qos" : "kind", "a job needs its class of service (qos) or its kind (inference: LS, training: BE)"),
                };
            }
            else if (!QosClasses.Contains(qos, StringComparer.Ordinal))
            {
                throw row.Error("qos", $"'{qos}' is no class of service; expected one of {string.Join(", ", QosClasses)}");
            }

            var submit = (long)Math.Round(row.Double("submit_time", 0, double.MaxValue));
            var duration = (long)Math.Round(row.Double("duration", 0, double.MaxValue));
            var model = row.Optional("gpu_model");
            return new TracePod(
                row.Text("job_id", required: true),
                row.Optional("cpu_milli").Length > 0 ? row.Int("cpu_milli", 0, int.MaxValue) : 0,
                row.Optional("memory_mib").Length > 0 ? row.Long("memory_mib", 0, long.MaxValue) : 0,
                gpus,
                milli,
                model.Length == 0 ? [] : model.Split('|'),
                qos,
                "",
                submit,
                submit + duration,
                null);
        });
        return new ClusterTrace(cluster.Nodes, pods, $"{Path.GetFullPath(path)} on cluster {cluster.Name} ({cluster.Nodes.Count} nodes)");
    }

    private static List<T> Read<T>(string path, string[] columns, Func<Row, T> parse)
    {
        var file = Path.GetFileName(path);
        using var reader = new CsvReader(new StreamReader(path), new CsvConfiguration(CultureInfo.InvariantCulture) { DetectColumnCountChanges = true });
        if (!reader.Read() || !reader.ReadHeader() || reader.HeaderRecord is not { } header)
        {
            throw new MixException(file, 1, 1, "header", "the file is empty; expected a header line");
        }

        foreach (var column in columns.Where(c => !header.Contains(c, StringComparer.Ordinal)))
        {
            throw new MixException(file, 1, 1, column, $"no such column; the header needs {string.Join(",", columns)}");
        }

        var rows = new List<T>();
        try
        {
            while (reader.Read())
            {
                rows.Add(parse(new Row(reader, header, file)));
            }
        }
        catch (CsvHelperException ex) when (ex.Context?.Parser is { } parser)
        {
            // A line with another number of fields than the header (a stray comma or quote).
            throw new MixException(file, parser.Row, 1, "line", $"expected {header.Length} fields as the header has, found {parser.Count}");
        }

        return rows;
    }

    /// <summary>One line of a trace file: its fields by column name, and errors that point at them.</summary>
    private sealed class Row(CsvReader reader, string[] header, string file)
    {
        public string Text(string column, bool required = false)
        {
            var value = reader.GetField(Array.IndexOf(header, column))?.Trim() ?? "";
            if (required && value.Length == 0)
            {
                throw Error(column, "empty; it needs a value");
            }

            return value;
        }

        public bool Has(string column) => header.Contains(column, StringComparer.Ordinal);

        /// <summary>An optional column's value; empty where the file has no such column.</summary>
        public string Optional(string column) => Has(column) ? Text(column) : "";

        public int Int(string column, int min, int max) => (int)Long(column, min, max);

        public double Double(string column, double min, double max)
        {
            var text = Text(column);
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
            {
                throw Error(column, $"'{text}' is not a number");
            }

            if (value < min || value > max)
            {
                throw Error(column, $"{value.ToString(CultureInfo.InvariantCulture)} is outside {min.ToString(CultureInfo.InvariantCulture)}..{(max == double.MaxValue ? "" : max.ToString(CultureInfo.InvariantCulture))}");
            }

            return value;
        }

        public long Long(string column, long min, long max)
        {
            var text = Text(column);
            if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            {
                throw Error(column, $"'{text}' is not a whole number");
            }

            if (value < min || value > max)
            {
                throw Error(column, $"{value} is outside {min}..{max}");
            }

            return value;
        }

        public MixException Error(string column, string problem)
        {
            // The column: where the field starts in the raw line (trace files quote nothing).
            var index = Array.IndexOf(header, column);
            var raw = reader.Parser.RawRecord.TrimEnd('\r', '\n').Split(',');
            var start = 1 + raw.Take(index).Sum(f => f.Length + 1);
            return new MixException(file, reader.Parser.Row, start, column, problem);
        }
    }
}
