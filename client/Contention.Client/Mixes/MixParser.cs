using System.Globalization;
using Contention.Grains;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Contention.Client.Mixes;

/// <summary>
/// Reads a YAML tenant mix (schema: docs/mixes.md). Every error names the file, line, column
/// and field, and says what is expected.
/// </summary>
public static class MixParser
{
    /// <summary>Runs a sweep may have (points times repetitions).</summary>
    public const int MaxSweepRuns = 100_000;

    private static readonly string[] TopFields = MixSchema.Names(MixSchema.Top);
    private static readonly string[] TenantFields = MixSchema.Names(MixSchema.Tenant);
    private static readonly string[] DefaultsFields = MixSchema.Names(MixSchema.Tenant.Where(f => !f.TenantOnly));
    private static readonly string[] CommandFields = MixSchema.Names(MixSchema.Tenant.Where(f => f.Kinds.SequenceEqual([TenantKind.Command])));
    private static readonly string[] ReplayFields = MixSchema.Names(MixSchema.Tenant.Where(f => f.Kinds.SequenceEqual([TenantKind.Replay])));
    private static readonly string[] GridFields = MixSchema.Names(MixSchema.Grid);
    private static readonly string[] RestartFields = MixSchema.Names(MixSchema.Restart);

    /// <summary>Reads and parses a mix file; <paramref name="quick"/> applies its <c>quick</c> section.</summary>
    /// <exception cref="MixException">The file is missing or wrong.</exception>
    public static Mix Load(string path, bool quick = false)
    {
        if (!File.Exists(path))
        {
            throw new MixException($"{path}: no such mix file; the shipped mixes are in mixes/ (e.g. mixes/default.yaml)");
        }

        return Parse(File.ReadAllText(path), path, quick);
    }

    /// <summary>
    /// Parses mix text; <paramref name="file"/> names it in errors. With <paramref name="quick"/>,
    /// the mix's <c>quick</c> section is merged into it first (a reduced run: mappings merge key by
    /// key, list entries with a <c>name</c> merge into the entry of that name, anything else replaces).
    /// </summary>
    /// <exception cref="MixException">The text is not a valid mix, or has no quick section to apply.</exception>
    public static Mix Parse(string text, string file, bool quick = false)
    {
        var stream = new YamlStream();
        var scanner = new YamlDotNet.Core.Scanner(new StringReader(text));
        try
        {
            stream.Load(new YamlDotNet.Core.Parser(scanner));
        }
        catch (YamlException ex)
        {
            throw new MixException(file, ex.Start.Line, ex.Start.Column, "(syntax)", $"not valid YAML: {ex.InnerException?.Message ?? ex.Message}");
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            // YamlDotNet fails so, without a position, on some broken documents (an unclosed
            // "bytes: [" before a new line, say): where its scanner stopped is the best position.
            throw new MixException(file, scanner.CurrentPosition.Line, scanner.CurrentPosition.Column, "(syntax)", $"not valid YAML here (an unclosed '[', '{{' or quote before it?): {ex.Message.Split('\n')[0]}");
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new MixException(file, 1, 1, "(top)", "a mix is a mapping with at least 'name' and 'tenants'");
        }

        void Prepare(YamlMappingNode tree) => QuickMerge.Apply(tree, file, quick);
        Prepare(root);
        var mix = ParseRoot(root, file, text);
        if (!root.Children.TryGetValue(new YamlScalarNode("sweep"), out var sweep))
        {
            return mix;
        }

        return mix with
        {
            Sweep = SweepParser.Parse(sweep, file, point => ParseRoot(Tree(text), file, text, tree =>
            {
                Prepare(tree);
                point(tree);
            }), root),
        };
    }

    /// <summary>The root mapping of <paramref name="text"/>, already known to be a valid mix document.</summary>
    private static YamlMappingNode Tree(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    /// <summary>Parses a mix document; <paramref name="apply"/> (a sweep point) rewrites the tree first.</summary>
    private static Mix ParseRoot(YamlMappingNode root, string file, string text, Action<YamlMappingNode>? apply = null)
    {
        apply?.Invoke(root);
        var reader = new Reader(file);
        reader.CheckFields(root, "", TopFields);
        var name = reader.String(root, "name", "", required: true)!;
        var defaults = root.Children.TryGetValue(new YamlScalarNode("defaults"), out var d) ? reader.Mapping(d, "defaults") : null;
        if (defaults is not null)
        {
            reader.Remember(defaults, "defaults");
            reader.CheckFields(defaults, "defaults", DefaultsFields);
        }

        if (!root.Children.TryGetValue(new YamlScalarNode("tenants"), out var tenantsNode) || tenantsNode is not YamlSequenceNode sequence || sequence.Children.Count == 0)
        {
            var at = tenantsNode?.Start ?? root.Start;
            throw new MixException(file, at.Line, at.Column, "tenants", "expected a non-empty list of tenants");
        }

        var sharing = reader.Word<GpuSharing>(root, null, "sharing", "", GpuSharing.Timeslice);
        var arbiter = reader.Word<ArbiterMode>(root, null, "arbiter", "", ArbiterMode.Off);
        var outstanding = (long)Math.Round(reader.Seconds(root, null, "arbiter_outstanding", 500e-6, maxSeconds: 1) * 1e9);
        var quantum = (long)Math.Round(reader.Seconds(root, null, "arbiter_quantum", 200e-6, positive: true, maxSeconds: 1) * 1e9);
        var tenants = new List<TenantSpec>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < sequence.Children.Count; i++)
        {
            var path = $"tenants[{i}]";
            var node = reader.Mapping(sequence.Children[i], path);
            reader.Remember(node, path);
            reader.CheckFields(node, path, TenantFields);
            foreach (var tenant in reader.Tenant(node, defaults, path))
            {
                if (!names.Add(tenant.Name))
                {
                    throw new MixException(file, node.Start.Line, node.Start.Column, $"{path}.name", $"tenant name '{tenant.Name}' is used twice; names must be unique");
                }

                tenants.Add(tenant with { Sharing = sharing, Arbiter = arbiter, ArbiterOutstandingNs = outstanding, ArbiterQuantumNs = quantum });
            }
        }

        if (tenants.Count == 0)
        {
            throw new MixException(file, sequence.Start.Line, sequence.Start.Column, "tenants", "every tenant has replicas: 0; a run needs at least one tenant") { NoTenant = true };
        }

        return new Mix
        {
            Name = name,
            Description = reader.String(root, "description", "") ?? "",
            WarmupSeconds = reader.Seconds(root, null, "warmup", 5),
            DurationSeconds = reader.Seconds(root, null, "duration", 20, positive: true),
            Tenants = tenants,
            Source = file,
            Text = text,
        };
    }

    private sealed class Reader(string file)
    {
        public YamlMappingNode Mapping(YamlNode node, string path) =>
            node as YamlMappingNode ?? throw Error(node, path, "expected a mapping of fields");

        public void CheckFields(YamlMappingNode node, string path, string[] allowed)
        {
            foreach (var key in node.Children.Keys)
            {
                var name = (key as YamlScalarNode)?.Value ?? "";
                if (!allowed.Contains(name, StringComparer.Ordinal))
                {
                    throw Error(key, Join(path, name), $"unknown field '{name}'; expected one of: {string.Join(", ", allowed)}");
                }
            }
        }

        public IEnumerable<TenantSpec> Tenant(YamlMappingNode node, YamlMappingNode? defaults, string path)
        {
            var name = String(node, "name", path, required: true)!;
            var kind = Word<TenantKind>(node, defaults, "kind", path, null);
            var replicas = Int(node, null, "replicas", 1, MixSchema.Replicas);
            var restart = Get(node, defaults, "restart");
            var fallback = new TenantSpec { Experiment = "", Name = name, Kind = kind, Device = "" };
            var maxRestarts = fallback.MaxRestarts;
            var backoff = fallback.RestartBackoffSeconds;
            if (restart is not null)
            {
                var map = Mapping(restart.Value.Node, Join(restart.Value.Path, "restart"));
                Remember(map, Join(restart.Value.Path, "restart"));
                CheckFields(map, Join(restart.Value.Path, "restart"), RestartFields);
                maxRestarts = Int(map, null, "max", maxRestarts, MixSchema.Restarts);
                backoff = Seconds(map, null, "backoff", backoff);
            }

            var rate = Rate(node, defaults);
            var template = fallback with
            {
                Device = DeviceName(node, defaults),
                SyncMode = Word<SyncMode>(node, defaults, "sync", path, fallback.SyncMode),
                PinnedHost = Bool(node, defaults, "pinned", fallback.PinnedHost),
                Priority = Int(node, defaults, "priority", fallback.Priority, MixSchema.Priority),
                Isolation = Word<Isolation>(node, defaults, "isolation", path, fallback.Isolation),
                MaxRestarts = maxRestarts,
                RestartBackoffSeconds = backoff,
                Model = Choice(node, defaults, "model", path, MixSchema.Models, fallback.Model),
                BatchSize = Int(node, defaults, "batch", kind == TenantKind.Inference ? 1 : fallback.BatchSize, MixSchema.Batch),
                RatePerSecond = rate.Absolute ? rate.Value : 0,
                RateOfCapacity = rate.Absolute ? 0 : rate.Value,
                Op = Choice(node, defaults, "op", path, MixSchema.Ops, fallback.Op),
                Bytes = Bytes(node, defaults, "bytes", fallback.Bytes),
                Iterations = Int(node, defaults, "iterations", fallback.Iterations, MixSchema.Iterations),
                Seed = Int(node, defaults, "seed", fallback.Seed, new MixRange(int.MinValue, int.MaxValue)),
                CpuThreads = Int(node, defaults, "cpu_threads", fallback.CpuThreads, MixSchema.CpuThreads),
                GpuSharePercent = Int(node, defaults, "gpu_share", fallback.GpuSharePercent, MixSchema.GpuShare),
                GpuTimingBudget = GpuTiming(node, defaults, fallback.GpuTimingBudget),
                Grid = Grid(node, path, kind),
                PointLimitMs = (int)Math.Round(Seconds(node, defaults, "point_limit", fallback.PointLimitMs / 1000.0, positive: true, maxSeconds: MixSchema.MaxPointLimitSeconds) * 1000),
                WarmupOperations = Int(node, defaults, "warmup_ops", fallback.WarmupOperations, MixSchema.WarmupOperations),
                Allocation = Choice(node, defaults, "alloc", path, MixSchema.Allocations, fallback.Allocation),
            };
            template = Command(node, path, kind, template);
            template = Replay(node, path, kind, template);
            if (replicas <= 1)
            {
                if (replicas == 1)
                {
                    yield return template;
                }

                yield break;
            }

            for (var r = 0; r < replicas; r++)
            {
                yield return template with { Name = $"{name}-{r.ToString(CultureInfo.InvariantCulture)}", Seed = template.Seed + r };
            }
        }

        /// <summary>A command tenant's program, latency pattern and unit; an error for a command field on another kind, or a command tenant without a command.</summary>
        private TenantSpec Command(YamlMappingNode node, string path, TenantKind kind, TenantSpec template)
        {
            node.Children.TryGetValue(new YamlScalarNode("command"), out var command);
            if (kind != TenantKind.Command)
            {
                var stray = CommandFields.FirstOrDefault(f => node.Children.ContainsKey(new YamlScalarNode(f)));
                return stray is null ? template : throw Error(node.Children[new YamlScalarNode(stray)], Join(path, stray), $"'{stray}' belongs to a command tenant, not to a {kind.Word()} one");
            }

            var argv = command switch
            {
                YamlSequenceNode list when list.Children.Count > 0 && list.Children.All(c => c is YamlScalarNode { Value.Length: > 0 }) => list.Children.Select(c => ((YamlScalarNode)c).Value!).ToList(),
                YamlScalarNode { Value: { Length: > 0 } text } => text.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList(),
                null => throw Error(node, Join(path, "command"), "required field is missing for a command tenant: the program and its arguments, e.g. [python3, scripts/resnet50_torch.py, --batch, '{batch}']"),
                _ => throw Error(command, Join(path, "command"), "expected the program and its arguments: a list of strings, or one string split at spaces"),
            };
            if (template.Isolation == Isolation.Thread)
            {
                throw Error(node, Join(path, "isolation"), "a command tenant is a process of its own: isolation must be process");
            }

            var pattern = template.LatencyPattern;
            if (node.Children.TryGetValue(new YamlScalarNode("latency"), out var latency))
            {
                pattern = (latency as YamlScalarNode)?.Value ?? throw Error(latency, Join(path, "latency"), "expected a regular expression");
                try
                {
                    var regex = new System.Text.RegularExpressions.Regex(pattern);
                    if (regex.GetGroupNumbers().Length < 2)
                    {
                        throw Error(latency, Join(path, "latency"), "the pattern needs a group holding the latency: (?<value>...) or a first (...)");
                    }
                }
                catch (ArgumentException ex)
                {
                    throw Error(latency, Join(path, "latency"), $"not a regular expression: {ex.Message}");
                }
            }

            return template with { Command = argv, LatencyPattern = pattern, LatencyUnit = Choice(node, null, "latency_unit", path, MixSchema.LatencyUnits, template.LatencyUnit) };
        }

        /// <summary>
        /// A replay tenant's trace (read and checked now: a fault in it is an error at the field,
        /// with the trace's own message) and steps; it runs on the modelled GPU (auto means sim).
        /// An error for a replay field on another kind.
        /// </summary>
        private TenantSpec Replay(YamlMappingNode node, string path, TenantKind kind, TenantSpec template)
        {
            if (kind != TenantKind.Replay)
            {
                var stray = ReplayFields.FirstOrDefault(f => node.Children.ContainsKey(new YamlScalarNode(f)));
                return stray is null ? template : throw Error(node.Children[new YamlScalarNode(stray)], Join(path, stray), $"'{stray}' belongs to a replay tenant, not to a {kind.Word()} one");
            }

            if (!node.Children.TryGetValue(new YamlScalarNode("trace"), out var traceNode))
            {
                throw Error(node, Join(path, "trace"), "required field is missing for a replay tenant: a kernel trace file (contention record writes one), e.g. examples/record/two-steps.ktrace.json");
            }

            // Relative to the mix file's directory (the current one for a mix given as text).
            var trace = (traceNode as YamlScalarNode)?.Value is { Length: > 0 } text ? Path.GetFullPath(text, Path.GetDirectoryName(Path.GetFullPath(file)) ?? Environment.CurrentDirectory) : throw Error(traceNode, Join(path, "trace"), "expected the path of a kernel trace file");
            var steps = 0;
            if (node.Children.TryGetValue(new YamlScalarNode("steps"), out var stepsNode))
            {
                var word = (stepsNode as YamlScalarNode)?.Value ?? "";
                steps = word == "all" ? 0
                    : int.TryParse(word, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1 ? n
                    : throw Error(stepsNode, Join(path, "steps"), $"expected all, or a whole number of at least 1, got '{word}'");
            }

            try
            {
                _ = Contention.Workloads.Replay.ReplayProgram.Load(trace, steps);
            }
            catch (Contention.Workloads.Replay.KernelTraceException ex)
            {
                var onSteps = steps > 0 && ex.Message.Contains("steps asked for", StringComparison.Ordinal);
                throw Error(onSteps ? stepsNode! : traceNode, Join(path, onSteps ? "steps" : "trace"), ex.Message);
            }

            var device = template.Device == "auto" ? "sim" : template.Device;
            if (device.StartsWith("cpu", StringComparison.Ordinal))
            {
                throw Error(node.Children.TryGetValue(new YamlScalarNode("device"), out var d) ? d : node, Join(path, "device"), $"a replay tenant replays GPU kernels: on a real GPU (cuda, cuda:N: busy kernels of the recorded grids and times), on the modelled GPU (sim, sim:N) or in virtual time (contention simulate), not on '{device}'");
            }

            return template with { Trace = trace, TraceSteps = steps, Device = device };
        }

        /// <summary>
        /// A microbenchmark grid: one mapping or a list of them, each with op, bytes and iterations
        /// (a value or a list); every op × bytes pair becomes a group run for each iterations value.
        /// </summary>
        private List<GridGroupSpec>? Grid(YamlMappingNode node, string path, TenantKind kind)
        {
            if (!node.Children.TryGetValue(new YamlScalarNode("grid"), out var grid))
            {
                return null;
            }

            var field = Join(path, "grid");
            if (kind != TenantKind.Microbench)
            {
                throw Error(grid, field, $"a grid belongs to a microbench tenant, not to a {kind.Word()} one");
            }

            var blocks = grid is YamlSequenceNode list ? list.Children.ToList() : [grid];
            var groups = new List<GridGroupSpec>();
            for (var b = 0; b < blocks.Count; b++)
            {
                var blockPath = grid is YamlSequenceNode ? $"{field}[{b}]" : field;
                var block = Mapping(blocks[b], blockPath);
                CheckFields(block, blockPath, GridFields);
                var ops = Values(block, blockPath, "op", MixSchema.OneOf(MixSchema.Ops), (string text, out string op) =>
                {
                    op = text.ToLowerInvariant();
                    return MixSchema.Ops.Contains(op, StringComparer.Ordinal);
                });
                var sizes = Values(block, blockPath, "bytes", "a size of at least 16 bytes such as 4KiB, 64MiB or 1GiB", (string text, out long bytes) => Units.TryParseBytes(text, out bytes) && bytes >= MixSchema.MinimumBytes);
                var iterations = Values(block, blockPath, "iterations", MixSchema.Iterations.Expected, (string text, out int n) => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out n) && MixSchema.Iterations.Contains(n));
                groups.AddRange(ops.SelectMany(op => sizes.Select(bytes => new GridGroupSpec(op, bytes, iterations))));
            }

            return groups;
        }

        /// <summary>A grid field: one value or a non-empty list of distinct values, each checked.</summary>
        private List<T> Values<T>(YamlMappingNode block, string path, string key, string expected, Parser<T> parse)
        {
            var field = Join(path, key);
            if (!block.Children.TryGetValue(new YamlScalarNode(key), out var node))
            {
                throw Error(block, field, $"required field is missing; expected {expected}, or a list of them");
            }

            var items = node is YamlSequenceNode list ? list.Children.ToList() : [node];
            if (items.Count == 0)
            {
                throw Error(node, field, $"expected at least one value: {expected}");
            }

            var values = new List<T>();
            foreach (var item in items)
            {
                var text = (item as YamlScalarNode)?.Value ?? throw Error(item, field, $"expected {expected}, not a list or mapping");
                if (!parse(text, out var value))
                {
                    throw Error(item, field, $"expected {expected}, got '{text}'");
                }

                if (values.Contains(value))
                {
                    throw Error(item, field, $"'{text}' is listed twice");
                }

                values.Add(value);
            }

            return values;
        }

        public string? String(YamlMappingNode node, string key, string path, bool required = false)
        {
            if (!node.Children.TryGetValue(new YamlScalarNode(key), out var value))
            {
                return required ? throw Error(node, Join(path, key), "required field is missing") : null;
            }

            var text = (value as YamlScalarNode)?.Value;
            if (string.IsNullOrWhiteSpace(text))
            {
                throw Error(value, Join(path, key), "expected a non-empty string");
            }

            return text;
        }

        public double Seconds(YamlMappingNode node, YamlMappingNode? defaults, string key, double fallback, bool positive = false, double maxSeconds = double.PositiveInfinity) =>
            Value(node, defaults, key, fallback, (string text, out double seconds) => Units.TryParseSeconds(text, out seconds) && (!positive || seconds > 0) && seconds <= maxSeconds, MixSchema.Duration(positive, maxSeconds));

        private string DeviceName(YamlMappingNode node, YamlMappingNode? defaults) =>
            Value(node, defaults, "device", "auto", (string text, out string device) =>
            {
                device = text.ToLowerInvariant();
                return device == "auto" || Contention.Workloads.Devices.DeviceId.TryParse(device, out _);
            }, "auto, cpu, cuda, cuda:N, sim or sim:N");

        /// <summary>A vocabulary field: one of <typeparamref name="T"/>'s words, in any case; required when <paramref name="fallback"/> is null.</summary>
        public T Word<T>(YamlMappingNode node, YamlMappingNode? defaults, string key, string path, T? fallback)
            where T : struct, Enum
        {
            if (fallback is null && Get(node, defaults, key) is null)
            {
                throw Error(node, Join(path, key), $"required field is missing; expected {MixSchema.OneOf(Words.All<T>())}");
            }

            return Value(node, defaults, key, fallback.GetValueOrDefault(), Words.TryParse, MixSchema.OneOf(Words.All<T>()));
        }

        private string Choice(YamlMappingNode node, YamlMappingNode? defaults, string key, string path, IReadOnlyList<string> allowed, string? fallback)
        {
            var expected = MixSchema.OneOf(allowed);
            if (fallback is null && Get(node, defaults, key) is null)
            {
                throw Error(node, Join(path, key), $"required field is missing; expected {expected}");
            }

            return Value(node, defaults, key, fallback ?? "", (string text, out string choice) =>
            {
                choice = text.ToLowerInvariant();
                return allowed.Contains(choice, StringComparer.Ordinal);
            }, expected);
        }

        private int Int(YamlMappingNode node, YamlMappingNode? defaults, string key, int fallback, MixRange range) =>
            Value(node, defaults, key, fallback, (string text, out int value) => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out value) && range.Contains(value), range.Expected);

        // rate: requests per second, or "N%" of the tenant's capacity (a share, 0.5 for 50%).
        private (bool Absolute, double Value) Rate(YamlMappingNode node, YamlMappingNode? defaults) =>
            Value(node, defaults, "rate", (true, 0.0), (string text, out (bool, double) value) =>
            {
                var trimmed = text.Trim();
                if (trimmed.EndsWith('%'))
                {
                    var ok = double.TryParse(trimmed[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var percent) && percent >= 1 && percent <= MixSchema.MaxCapacityPercent;
                    value = (false, percent / 100);
                    return ok;
                }

                var number = double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out var rate) && rate >= 0 && double.IsFinite(rate);
                value = (true, rate);
                return number;
            }, MixSchema.RateExpected);

        private double GpuTiming(YamlMappingNode node, YamlMappingNode? defaults, double fallback) =>
            Value(node, defaults, "gpu_timing", fallback, (string text, out double value) =>
            {
                var trimmed = text.Trim();
                value = 0;
                if (trimmed.Equals("off", StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }

                if (!trimmed.EndsWith('%') || !double.TryParse(trimmed[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var percent) || percent < MixSchema.MinGpuTimingPercent || percent > 100)
                {
                    return false;
                }

                value = percent / 100;
                return true;
            }, MixSchema.GpuTimingExpected);

        private bool Bool(YamlMappingNode node, YamlMappingNode? defaults, string key, bool fallback) =>
            Value(node, defaults, key, fallback, (string text, out bool value) =>
            {
                value = text.ToLowerInvariant() is "true" or "yes";
                return text.ToLowerInvariant() is "true" or "yes" or "false" or "no";
            }, "true or false");

        private long Bytes(YamlMappingNode node, YamlMappingNode? defaults, string key, long fallback) =>
            Value(node, defaults, key, fallback, (string text, out long bytes) => Units.TryParseBytes(text, out bytes) && bytes >= MixSchema.MinimumBytes, "a size of at least 16 bytes such as 4KiB, 64MiB or 1GiB");

        /// <summary>The field's value (from the tenant, else the defaults, else <paramref name="fallback"/>), or an error naming line and field.</summary>
        private T Value<T>(YamlMappingNode node, YamlMappingNode? defaults, string key, T fallback, Parser<T> parse, string expected)
        {
            if (Get(node, defaults, key) is not { } found)
            {
                return fallback;
            }

            var text = Scalar(found, key);
            return parse(text, out var value) ? value : throw Error(found.Node, Join(found.Path, key), $"expected {expected}, got '{text}'");
        }

        private delegate bool Parser<T>(string text, out T value);

        private (YamlNode Node, string Path)? Get(YamlMappingNode node, YamlMappingNode? defaults, string key)
        {
            var scalar = new YamlScalarNode(key);
            if (node.Children.TryGetValue(scalar, out var value))
            {
                return (value, PathOf(node));
            }

            if (defaults is not null && defaults.Children.TryGetValue(scalar, out var fallback))
            {
                return (fallback, "defaults");
            }

            return null;
        }

        private string Scalar((YamlNode Node, string Path) found, string key) =>
            (found.Node as YamlScalarNode)?.Value ?? throw Error(found.Node, Join(found.Path, key), "expected a single value, not a list or mapping");

        private readonly Dictionary<YamlNode, string> paths = new(ReferenceEqualityComparer.Instance);

        private string PathOf(YamlMappingNode node) => paths.TryGetValue(node, out var path) ? path : "";

        public MixException Error(YamlNode node, string field, string problem) => new(file, node.Start.Line, node.Start.Column, field, problem);

        private static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

        public void Remember(YamlMappingNode node, string path) => paths[node] = path;
    }
}
