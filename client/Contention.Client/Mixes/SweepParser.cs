using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Contention.Client.Mixes;

/// <summary>
/// Reads a mix's <c>sweep</c> section (docs/mixes.md, "Sweeps") and expands it: each point is the
/// mix with the axis values written into its tree and parsed again, so a point is checked exactly
/// as a hand-written mix is, and a bad value is reported at its own line in the sweep.
/// </summary>
internal static class SweepParser
{
    private static readonly string[] Fields = ["repetitions", "variants", "axes"];

    /// <summary>The axis a sweep's variants make: its values are the variants' names.</summary>
    public const string VariantAxis = "variant";
    private static readonly IReadOnlyList<string> TopAxes = MixSchema.TopAxes;
    private static readonly IReadOnlyList<string> TenantAxes = MixSchema.TenantAxes;

    /// <summary>The sweep of <paramref name="node"/>; <paramref name="parseWith"/> parses the mix after a rewrite of its tree.</summary>
    public static Sweep Parse(YamlNode node, string file, Func<Action<YamlMappingNode>, Mix> parseWith, YamlMappingNode root)
    {
        var map = node as YamlMappingNode ?? throw Error(file, node, "sweep", "expected a mapping with 'axes' and/or 'variants', and optionally 'repetitions'");
        foreach (var key in map.Children.Keys)
        {
            var name = (key as YamlScalarNode)?.Value ?? "";
            if (!Fields.Contains(name, StringComparer.Ordinal))
            {
                throw Error(file, key, $"sweep.{name}", $"unknown field '{name}'; expected one of: {string.Join(", ", Fields)}");
            }
        }

        var repetitions = 1;
        if (map.Children.TryGetValue(new YamlScalarNode("repetitions"), out var reps)
            && !(reps is YamlScalarNode { Value: { } text } && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out repetitions) && repetitions is >= 1 and <= 1000))
        {
            throw Error(file, reps, "sweep.repetitions", $"expected a whole number from 1 to 1000, got '{(reps as YamlScalarNode)?.Value}'");
        }

        var axes = new List<(string Name, List<AxisValue> Values)>();
        map.Children.TryGetValue(new YamlScalarNode("variants"), out var variantsNode);
        map.Children.TryGetValue(new YamlScalarNode("axes"), out var axesNode);
        if (variantsNode is null && axesNode is null)
        {
            throw Error(file, map, "sweep.axes", "expected a mapping of axis to a list of values, e.g. 'sync: [spin, yield, block]', or 'variants'");
        }

        if (variantsNode is not null)
        {
            axes.Add((VariantAxis, Variants(file, variantsNode, root, parseWith)));
        }

        if (axesNode is not null)
        {
            if (axesNode is not YamlMappingNode { Children.Count: > 0 } axesMap)
            {
                throw Error(file, axesNode, "sweep.axes", "expected a mapping of axis to a list of values, e.g. 'sync: [spin, yield, block]'");
            }

            foreach (var (key, valuesNode) in axesMap.Children)
            {
                var name = ((YamlScalarNode)key).Value ?? "";
                if (name == VariantAxis && variantsNode is not null)
                {
                    throw Error(file, key, "sweep.axes.variant", "'variant' is the axis the variants make; name this axis otherwise");
                }

                CheckAxis(file, key, name, root);
                if (valuesNode is not YamlSequenceNode { Children.Count: > 0 } sequence || sequence.Children.Any(v => v is not YamlScalarNode))
                {
                    throw Error(file, valuesNode, $"sweep.axes.{name}", "expected a non-empty list of values, e.g. [4KiB, 1MiB]");
                }

                var values = sequence.Children.Cast<YamlScalarNode>().ToList();
                if (values.GroupBy(v => v.Value, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
                {
                    throw Error(file, twice.Last(), $"sweep.axes.{name}", $"value '{twice.Key}' is listed twice");
                }

                // Each value alone, so an error names the value's line and its axis.
                foreach (var value in values)
                {
                    Check(file, name, value, () => parseWith(tree => Apply(tree, name, value)));
                }

                axes.Add((name, values.Select(v => new AxisValue(v, [(name, v)])).ToList()));
            }
        }

        var count = axes.Aggregate(1L, (product, axis) => product * axis.Values.Count);
        if (count * repetitions > MixParser.MaxSweepRuns)
        {
            throw Error(file, map, "sweep", $"{count} points x {repetitions} repetitions = {count * repetitions} runs; at most {MixParser.MaxSweepRuns}");
        }

        var combinations = Product(axes.Select(a => a.Values).ToList());
        var leftOut = new List<string>();
        var mixes = combinations.Select(combination =>
        {
            var description = string.Join(", ", axes.Select((a, i) => $"{a.Name}={combination[i].Label.Value}"));
            try
            {
                return Check(file, "", combination[0].Label, () => parseWith(tree =>
                {
                    foreach (var value in combination)
                    {
                        value.Writes.ToList().ForEach(w => Apply(tree, w.Field, w.Value));
                    }
                }), description);
            }
            catch (MixException ex) when (ex.NoTenant)
            {
                // A point whose values leave every tenant out (replicas: 0 on two axes): nothing to run.
                leftOut.Add(description);
                return null;
            }
        }).ToList();
        if (leftOut.Count == combinations.Count)
        {
            throw Error(file, map, "sweep", $"every point leaves every tenant out (replicas: 0), e.g. {leftOut[0]}; a run needs at least one tenant");
        }

        var points = new List<SweepPoint>();
        for (var r = 1; r <= repetitions; r++)
        {
            for (var i = 0; i < combinations.Count; i++)
            {
                if (mixes[i] is { } mix)
                {
                    points.Add(new SweepPoint(i + 1, r, axes.Select((a, j) => new KeyValuePair<string, string>(a.Name, combinations[i][j].Label.Value ?? "")).ToList(), mix));
                }
            }
        }

        return new Sweep(axes.Select(a => new SweepAxis(a.Name, a.Values.Select(v => v.Label.Value ?? "").ToList())).ToList(), repetitions, points) { LeftOut = leftOut };
    }

    /// <summary>
    /// Variants: named settings of several fields at once (one knob at a time against a baseline,
    /// the first variant), each setting a field as an axis value would.
    /// </summary>
    private static List<AxisValue> Variants(string file, YamlNode node, YamlMappingNode root, Func<Action<YamlMappingNode>, Mix> parseWith)
    {
        if (node is not YamlMappingNode { Children.Count: > 0 } variants)
        {
            throw Error(file, node, "sweep.variants", "expected a mapping of variant name to the fields it sets, e.g. 'baseline: {}' and 'yield: { sync: yield }'");
        }

        var values = new List<AxisValue>();
        foreach (var (key, settingsNode) in variants.Children)
        {
            var label = (YamlScalarNode)key;
            var path = $"sweep.variants.{label.Value}";
            if (settingsNode is not YamlMappingNode settings)
            {
                throw Error(file, settingsNode, path, "expected a mapping of field to value ({} for the baseline)");
            }

            var writes = new List<(string Field, YamlScalarNode Value)>();
            foreach (var (fieldKey, valueNode) in settings.Children)
            {
                var field = ((YamlScalarNode)fieldKey).Value ?? "";
                CheckAxis(file, fieldKey, field, root, path);
                var value = valueNode as YamlScalarNode ?? throw Error(file, valueNode, $"{path}.{field}", "expected a single value");
                // Checked with the variant's earlier settings applied: a variant may swap one
                // tenant for another (one's replicas to 1, then the other's to 0).
                var earlier = writes.ToList();
                Check(file, field, value, () => parseWith(tree =>
                {
                    foreach (var (f, v) in earlier)
                    {
                        Apply(tree, f, v);
                    }

                    Apply(tree, field, value);
                }), prefix: path);
                writes.Add((field, value));
            }

            values.Add(new AxisValue(label, writes));
        }

        return values;
    }

    private static void CheckAxis(string file, YamlNode key, string name, YamlMappingNode root, string prefix = "sweep.axes")
    {
        if (TopAxes.Contains(name, StringComparer.Ordinal))
        {
            return;
        }

        var dot = name.IndexOf('.', StringComparison.Ordinal);
        var field = dot < 0 ? name : name[(dot + 1)..];
        if (!TenantAxes.Contains(field, StringComparer.Ordinal))
        {
            throw Error(file, key, $"{prefix}.{name}", $"not a field a sweep can vary; expected {string.Join(", ", TopAxes)}, a tenant field ({string.Join(", ", TenantAxes)}) or TENANT.FIELD");
        }

        if (dot >= 0 && TenantNode(root, name[..dot]) is null)
        {
            throw Error(file, key, $"{prefix}.{name}", $"no tenant is named '{name[..dot]}'; expected one of: {string.Join(", ", TenantNames(root))}");
        }
    }

    /// <summary>Writes one axis value into a mix tree: top-level timing, every tenant, or one tenant.</summary>
    private static void Apply(YamlMappingNode root, string axis, YamlScalarNode value)
    {
        if (TopAxes.Contains(axis, StringComparer.Ordinal))
        {
            root.Children[new YamlScalarNode(axis)] = value;
            return;
        }

        var dot = axis.IndexOf('.', StringComparison.Ordinal);
        var tenants = dot < 0 ? Tenants(root) : [TenantNode(root, axis[..dot])!];
        foreach (var tenant in tenants)
        {
            tenant.Children[new YamlScalarNode(dot < 0 ? axis : axis[(dot + 1)..])] = value;
        }
    }

    private static T Check<T>(string file, string axis, YamlNode at, Func<T> parse, string? point = null, string prefix = "sweep.axes")
    {
        try
        {
            return parse();
        }
        catch (MixException ex) when (ex.Field.Length > 0)
        {
            var problem = ex.Message[(ex.Message.IndexOf($"{ex.Field}: ", StringComparison.Ordinal) + ex.Field.Length + 2)..];
            throw point is null
                ? Error(file, at, $"{prefix}.{axis}", problem)
                : new MixException(file, ex.Line, ex.Column, ex.Field, $"{problem} (sweep point {point})") { NoTenant = ex.NoTenant };
        }
    }

    private static void Check(string file, string axis, YamlNode at, Action parse, string prefix = "sweep.axes") => Check(file, axis, at, () =>
    {
        parse();
        return 0;
    }, prefix: prefix);

    private static List<AxisValue[]> Product(List<List<AxisValue>> axes)
    {
        var result = new List<AxisValue[]> { Array.Empty<AxisValue>() };
        foreach (var axis in axes)
        {
            result = result.SelectMany(prefix => axis.Select(v => (AxisValue[])[.. prefix, v])).ToList();
        }

        return result;
    }

    /// <summary>One value of an axis: its label, and the fields it writes into the mix.</summary>
    private sealed record AxisValue(YamlScalarNode Label, IReadOnlyList<(string Field, YamlScalarNode Value)> Writes);

    private static IEnumerable<YamlMappingNode> Tenants(YamlMappingNode root) =>
        root.Children.TryGetValue(new YamlScalarNode("tenants"), out var t) && t is YamlSequenceNode s ? s.Children.OfType<YamlMappingNode>() : [];

    private static YamlMappingNode? TenantNode(YamlMappingNode root, string name) =>
        Tenants(root).FirstOrDefault(t => t.Children.TryGetValue(new YamlScalarNode("name"), out var n) && (n as YamlScalarNode)?.Value == name);

    private static IEnumerable<string> TenantNames(YamlMappingNode root) =>
        Tenants(root).Select(t => t.Children.TryGetValue(new YamlScalarNode("name"), out var n) ? (n as YamlScalarNode)?.Value ?? "" : "");

    private static MixException Error(string file, YamlNode node, string field, string problem) => new(file, node.Start.Line, node.Start.Column, field, problem);
}
