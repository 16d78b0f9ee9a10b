using System.Globalization;

namespace Contention.Grains.Experiments;

/// <summary>A node as preflight sees it: its name, the devices it advertises and the tenants each of its modelled GPUs holds.</summary>
/// <param name="Name">The node (silo) name.</param>
/// <param name="Devices">Advertised devices (<c>cpu</c>, <c>cuda:N</c>, <c>sim:N</c>).</param>
/// <param name="SimSlots">Tenants one modelled GPU of this node holds.</param>
public sealed record NodeInventory(string Name, IReadOnlyList<string> Devices, int SimSlots);

/// <summary>
/// Checks, before any tenant starts, that a plan fits the cluster: every tenant's device exists on
/// some node and the modelled GPUs have a slot for every tenant that needs one. The answer is a
/// list of problems, each saying what to change; empty means feasible.
/// </summary>
public static class Preflight
{
    /// <summary>The problems with running <paramref name="tenants"/> on <paramref name="nodes"/>.</summary>
    public static IReadOnlyList<string> Check(IReadOnlyList<TenantSpec> tenants, IReadOnlyList<NodeInventory> nodes)
    {
        ArgumentNullException.ThrowIfNull(tenants);
        ArgumentNullException.ThrowIfNull(nodes);
        var problems = new List<string>();
        if (nodes.Count == 0)
        {
            problems.Add("no node is up: start one with 'contention silo', or leave out --cluster to run on an embedded node");
            return problems;
        }

        var offered = string.Join("; ", nodes.Select(n => $"{n.Name}: {string.Join(", ", n.Devices)}"));
        foreach (var group in tenants.GroupBy(t => t.Device, StringComparer.OrdinalIgnoreCase))
        {
            if (!nodes.Any(n => n.Devices.Any(d => DeviceRequirement.Satisfies(d, group.Key))))
            {
                var names = Names(group.Select(t => t.Name));
                problems.Add($"no node has device '{group.Key}', which {names} need{(group.Count() == 1 ? "s" : "")} (nodes: {offered}); {Remedy(group.Key)}");
            }
        }

        // Slots: tenants on a named modelled GPU first, then those that take any.
        var free = nodes.SelectMany(n => n.Devices.Where(d => d.StartsWith("sim:", StringComparison.OrdinalIgnoreCase)).Select(d => (Device: d.ToLowerInvariant(), Slots: n.SimSlots)))
            .GroupBy(x => x.Device).ToDictionary(g => g.Key, g => g.Sum(x => x.Slots));
        foreach (var group in tenants.Where(t => t.Device.StartsWith("sim:", StringComparison.OrdinalIgnoreCase)).GroupBy(t => t.Device.ToLowerInvariant()))
        {
            if (free.TryGetValue(group.Key, out var slots))
            {
                var count = group.Count();
                if (count > slots)
                {
                    problems.Add($"{count} tenants need {group.Key}, which has {slots} slots in the cluster; spread them with 'device: sim' (any modelled GPU), or give nodes more slots (--sim-slots)");
                }

                free[group.Key] = Math.Max(0, slots - count);
            }
        }

        var any = tenants.Count(t => string.Equals(t.Device, "sim", StringComparison.OrdinalIgnoreCase));
        var left = free.Values.Sum();
        if (any > 0 && free.Count > 0 && any > left)
        {
            var devices = free.Count;
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"{any} tenants need a modelled GPU (device: sim) but the cluster's {devices} modelled GPU{(devices == 1 ? " has" : "s have")} {left} free slots; add modelled GPUs (--sim-devices), slots (--sim-slots, now {nodes.Max(n => n.SimSlots)} per GPU) or nodes, or run fewer tenants"));
        }

        return problems;
    }

    private static string Names(IEnumerable<string> names)
    {
        var list = names.ToList();
        return list.Count <= 3 ? string.Join(", ", list) : $"{string.Join(", ", list.Take(3))} and {list.Count - 3} more";
    }

    private static string Remedy(string device) => device.Split(':')[0].ToLowerInvariant() switch
    {
        "cuda" => "run on a node with that GPU, or use device: sim (the modelled GPU) or auto",
        "sim" => "start nodes with more modelled GPUs (--sim-devices), or use device: sim (any of them)",
        _ => "use cpu, cuda[:N] or sim[:N]",
    };
}
