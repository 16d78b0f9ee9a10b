using System.Globalization;
using Contention.Client.Mixes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Contention.Client.Simulation;

/// <summary>
/// A cluster described in YAML, for traces that list no nodes (<see cref="ClusterTrace.LoadJobs"/>):
/// groups of alike nodes, each with its cores, memory, GPUs, their model and (optionally) the
/// device profile that model gets. A bad value is an error naming the file, line, column and field.
/// </summary>
/// <param name="Name">The cluster's name.</param>
/// <param name="Nodes">Its nodes, groups expanded (<c>NAME-0</c>, <c>NAME-1</c>, …).</param>
/// <param name="Profiles">Device profile by GPU model, where the spec names one.</param>
public sealed record ClusterSpec(string Name, IReadOnlyList<TraceNode> Nodes, IReadOnlyDictionary<string, string> Profiles)
{
    private static readonly string[] GroupFields = ["name", "count", "cpu", "memory_gib", "gpus", "model", "profile"];

    /// <summary>Reads a cluster spec.</summary>
    /// <exception cref="MixException">Not readable, not valid YAML, or a field out of place or range.</exception>
    public static ClusterSpec Load(string path)
    {
        var file = Path.GetFileName(path);
        if (!File.Exists(path))
        {
            throw new MixException(file, 0, 0, "--cluster-spec", $"no such file: {path}");
        }

        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(File.ReadAllText(path)));
        }
        catch (YamlException ex)
        {
            throw new MixException(file, ex.Start.Line, ex.Start.Column, "(syntax)", $"not valid YAML: {ex.InnerException?.Message ?? ex.Message}");
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new MixException(file, 1, 1, "(top)", "a cluster spec is a mapping with 'nodes' (a list of node groups)");
        }

        foreach (var key in root.Children.Keys.OfType<YamlScalarNode>().Where(k => k.Value is not ("name" or "nodes")))
        {
            throw Error(file, key, key.Value ?? "", "not a field of a cluster spec; expected name and nodes");
        }

        var name = root.Children.TryGetValue(new YamlScalarNode("name"), out var n) && n is YamlScalarNode { Value: { } text } ? text : Path.GetFileNameWithoutExtension(path);
        if (!root.Children.TryGetValue(new YamlScalarNode("nodes"), out var nodesNode) || nodesNode is not YamlSequenceNode { Children.Count: > 0 } groups)
        {
            throw new MixException(file, root.Start.Line, root.Start.Column, "nodes", "expected a list of node groups, e.g. '- { name: gpu, count: 4, cpu: 64, memory_gib: 512, gpus: 8, model: H200 }'");
        }

        var nodes = new List<TraceNode>();
        var profiles = new Dictionary<string, (string Profile, YamlNode At)>(StringComparer.Ordinal);
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var g = 0; g < groups.Children.Count; g++)
        {
            var at = $"nodes[{g}]";
            if (groups.Children[g] is not YamlMappingNode group)
            {
                throw Error(file, groups.Children[g], at, "expected a mapping: name, count, cpu, memory_gib, gpus, model, profile");
            }

            foreach (var key in group.Children.Keys.OfType<YamlScalarNode>().Where(k => !GroupFields.Contains(k.Value, StringComparer.Ordinal)))
            {
                throw Error(file, key, $"{at}.{key.Value}", $"not a field of a node group; expected {string.Join(", ", GroupFields)}");
            }

            var groupName = Text(file, group, at, "name") ?? throw new MixException(file, group.Start.Line, group.Start.Column, $"{at}.name", "a node group needs a name");
            var count = Number(file, group, at, "count", 1, 100_000, 1);
            var cpu = Number(file, group, at, "cpu", 1, 4096, 64);
            var memory = Number(file, group, at, "memory_gib", 1, 1 << 20, 512);
            var gpus = Number(file, group, at, "gpus", 0, 64, 0);
            var model = Text(file, group, at, "model") ?? "";
            if (gpus > 0 && model.Length == 0)
            {
                throw new MixException(file, group.Start.Line, group.Start.Column, $"{at}.model", "a node group with GPUs needs their model (e.g. H200; its profile is the model's name in lower case unless 'profile' says)");
            }

            if (gpus > 0 && Text(file, group, at, "profile") is null)
            {
                try
                {
                    _ = Contention.Workloads.Sim.DeviceProfile.Load(model.ToLowerInvariant());
                }
                catch (ArgumentException)
                {
                    throw Error(file, group.Children[new YamlScalarNode("model")], $"{at}.model", $"no device profile is named '{model.ToLowerInvariant()}' for GPU model {model}; give the group a 'profile' ({string.Join(", ", Contention.Workloads.Sim.DeviceProfile.BuiltInNames)} or a profile file)");
                }
            }

            if (Text(file, group, at, "profile") is { } profile)
            {
                var node = group.Children[new YamlScalarNode("profile")];
                try
                {
                    _ = Contention.Workloads.Sim.DeviceProfile.Load(profile);
                }
                catch (ArgumentException ex)
                {
                    throw Error(file, node, $"{at}.profile", ex.Message);
                }

                if (profiles.TryGetValue(model, out var earlier) && earlier.Profile != profile)
                {
                    throw Error(file, node, $"{at}.profile", $"model {model} already has profile {earlier.Profile} (line {earlier.At.Start.Line}); one profile per GPU model");
                }

                profiles[model] = (profile, node);
            }

            for (var i = 0; i < count; i++)
            {
                var nodeName = count == 1 ? groupName : string.Create(CultureInfo.InvariantCulture, $"{groupName}-{i}");
                if (!names.Add(nodeName))
                {
                    throw new MixException(file, group.Start.Line, group.Start.Column, $"{at}.name", $"node {nodeName} is named twice; give each group its own name");
                }

                nodes.Add(new TraceNode(nodeName, cpu * 1000, memory * 1024L, gpus, model));
            }
        }

        return new ClusterSpec(name, nodes, profiles.ToDictionary(p => p.Key, p => p.Value.Profile, StringComparer.Ordinal));
    }

    private static string? Text(string file, YamlMappingNode group, string at, string field) =>
        !group.Children.TryGetValue(new YamlScalarNode(field), out var node) ? null
        : node is YamlScalarNode { Value: { Length: > 0 } value } ? value
        : throw Error(file, node, $"{at}.{field}", "expected a single value");

    private static int Number(string file, YamlMappingNode group, string at, string field, int min, int max, int fallback)
    {
        if (Text(file, group, at, field) is not { } text)
        {
            return fallback;
        }

        var node = group.Children[new YamlScalarNode(field)];
        return !int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? throw Error(file, node, $"{at}.{field}", $"'{text}' is not a whole number")
            : value < min || value > max ? throw Error(file, node, $"{at}.{field}", $"{value} is outside {min}..{max}")
            : value;
    }

    private static MixException Error(string file, YamlNode node, string field, string problem) => new(file, node.Start.Line, node.Start.Column, field, problem);
}
