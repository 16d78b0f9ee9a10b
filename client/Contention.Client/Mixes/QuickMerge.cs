using YamlDotNet.RepresentationModel;

namespace Contention.Client.Mixes;

/// <summary>
/// A mix's <c>quick</c> section: a reduced version of the mix (fewer points, shorter runs, a
/// modelled GPU) merged into it when the run asks for <c>--quick</c>, and dropped otherwise. A
/// null (<c>~</c>) in it removes the key it names.
/// </summary>
internal static class QuickMerge
{
    private static readonly YamlScalarNode Key = new("quick");
    private static readonly YamlScalarNode NameKey = new("name");

    /// <summary>Removes the quick section from <paramref name="root"/>, merging it in first when <paramref name="quick"/>.</summary>
    /// <exception cref="MixException">Quick was asked for and the mix has no usable quick section.</exception>
    public static void Apply(YamlMappingNode root, string file, bool quick)
    {
        root.Children.TryGetValue(Key, out var section);
        root.Children.Remove(Key);
        if (!quick)
        {
            return;
        }

        if (section is not YamlMappingNode overrides)
        {
            var at = section?.Start ?? root.Start;
            throw new MixException(file, at.Line, at.Column, "quick", section is null
                ? "--quick asks for the mix's reduced version, and this mix has no 'quick' section; run it without --quick"
                : "expected a mapping of the fields the reduced run changes");
        }

        Merge(root, overrides, file, "quick");
    }

    private static void Merge(YamlMappingNode target, YamlMappingNode source, string file, string path)
    {
        foreach (var (key, value) in source.Children)
        {
            var name = (key as YamlScalarNode)?.Value ?? "";
            var at = $"{path}.{name}";
            if (value is YamlScalarNode { Value: null or "~" or "null", Style: YamlDotNet.Core.ScalarStyle.Plain })
            {
                // A null removes the key: a variant, an axis or a field the reduced run leaves out.
                target.Children.Remove(key);
                continue;
            }

            if (target.Children.TryGetValue(key, out var existing) && existing is YamlMappingNode into && value is YamlMappingNode from)
            {
                Merge(into, from, file, at);
            }
            else if (existing is YamlSequenceNode list && value is YamlSequenceNode items && items.Children.All(Named))
            {
                MergeByName(list, items, file, at);
            }
            else
            {
                target.Children[key] = value;
            }
        }
    }

    /// <summary>Entries with a name merge into the entry of that name (a tenant's fields).</summary>
    private static void MergeByName(YamlSequenceNode target, YamlSequenceNode source, string file, string path)
    {
        for (var i = 0; i < source.Children.Count; i++)
        {
            var entry = (YamlMappingNode)source.Children[i];
            var name = ((YamlScalarNode)entry.Children[NameKey]).Value;
            var match = target.Children.OfType<YamlMappingNode>().FirstOrDefault(t => t.Children.TryGetValue(NameKey, out var n) && (n as YamlScalarNode)?.Value == name)
                ?? throw new MixException(file, entry.Start.Line, entry.Start.Column, $"{path}[{i}].name", $"no entry named '{name}' to change; the quick section changes entries the mix has");
            Merge(match, entry, file, $"{path}[{i}]");
        }
    }

    private static bool Named(YamlNode node) => node is YamlMappingNode map && map.Children.TryGetValue(NameKey, out var name) && name is YamlScalarNode;
}
