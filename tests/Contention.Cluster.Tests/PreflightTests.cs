using Contention.Grains;
using Contention.Grains.Experiments;
using Contention.Grains.Node;

namespace Contention.Cluster.Tests;

public sealed class PreflightTests
{
    private static readonly NodeInventory Laptop = new("laptop", ["cpu", "sim:0"], 32);

    [Fact]
    public void Check_TenantsFitTheSlots_NoProblem()
    {
        var tenants = Enumerable.Range(0, 32).Select(i => Tenant($"t{i}", "sim")).Append(Tenant("c", "cpu")).ToList();

        Assert.Empty(Preflight.Check(tenants, [Laptop]));
    }

    [Fact]
    public void Check_MoreTenantsThanSlots_SaysHowManyAndWhatToChange()
    {
        var tenants = Enumerable.Range(0, 100).Select(i => Tenant($"t{i}", "sim")).ToList();

        var problem = Assert.Single(Preflight.Check(tenants, [Laptop]));

        Assert.Contains("100 tenants need a modelled GPU", problem, StringComparison.Ordinal);
        Assert.Contains("1 modelled GPU has 32 free slots", problem, StringComparison.Ordinal);
        Assert.Contains("--sim-devices", problem, StringComparison.Ordinal);
        Assert.Contains("--sim-slots", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_SlotsOverSeveralGpusAndNodes_CountTogether()
    {
        NodeInventory[] nodes = [new("a", ["cpu", "sim:0", "sim:1"], 4), new("b", ["cpu", "sim:0"], 4)];
        var fits = Enumerable.Range(0, 12).Select(i => Tenant($"t{i}", "sim")).ToList();
        var named = Enumerable.Range(0, 5).Select(i => Tenant($"n{i}", "sim:1")).ToList();

        Assert.Empty(Preflight.Check(fits, nodes));
        Assert.Single(Preflight.Check([.. fits, Tenant("x", "sim")], nodes));

        // sim:1 exists only on node a: 4 slots for 5 tenants.
        var problem = Assert.Single(Preflight.Check(named, nodes));
        Assert.StartsWith("5 tenants need sim:1, which has 4 slots", problem, StringComparison.Ordinal);

        // Named tenants take their slots first: 4 on sim:1 leave 8 for the rest.
        Assert.Empty(Preflight.Check([.. named.Take(4), .. fits.Take(8)], nodes));
        Assert.Single(Preflight.Check([.. named.Take(4), .. fits.Take(9)], nodes));
    }

    [Theory]
    [InlineData("cuda", "no node has device 'cuda', which gpu needs (nodes: laptop: cpu, sim:0)")]
    [InlineData("cuda:1", "no node has device 'cuda:1'")]
    [InlineData("sim:3", "no node has device 'sim:3'")]
    public void Check_DeviceNoNodeHas_NamesTheDeviceTheTenantsAndTheNodes(string device, string expected)
    {
        var problem = Assert.Single(Preflight.Check([Tenant("gpu", device)], [Laptop]));

        Assert.StartsWith(expected, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_NoNodeUp_SaysToStartOne()
    {
        var problem = Assert.Single(Preflight.Check([Tenant("a", "cpu")], []));

        Assert.Contains("contention silo", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Reserve_AnySim_FillsTheFirstModelledGpuThenTheNextThenRefuses()
    {
        using var devices = new NodeDevices(new NodeOptions { SimDevices = 2, SimSlots = 1, DetectCuda = false });

        var (first, a) = devices.Reserve("sim");
        var (second, b) = devices.Reserve("sim");
        var full = Assert.Throws<InvalidOperationException>(() => devices.Reserve("sim"));

        Assert.Equal(("sim:0", "sim:1"), (first.ToString(), second.ToString()));
        Assert.Contains("every modelled GPU of this node is full (2 x 1 tenants)", full.Message, StringComparison.Ordinal);
        devices.Sims[0].Release(a!.Slot);
        Assert.Equal("sim:0", devices.Reserve("sim").Device.ToString());
        Assert.Null(devices.Reserve("cpu").Lease);
        _ = b;
    }

    [Fact]
    public void Reserve_AnySimUnderMps_SkipsAModelledGpuSharedByTimeSlicing()
    {
        using var devices = new NodeDevices(new NodeOptions { SimDevices = 2, SimSlots = 2, DetectCuda = false });

        var (first, _) = devices.Reserve("sim");
        var (second, _) = devices.Reserve("sim", Contention.Workloads.Sim.GpuSharing.Mps, Contention.Workloads.Sim.SimContext.Default);
        var (third, _) = devices.Reserve("sim", Contention.Workloads.Sim.GpuSharing.Mps, Contention.Workloads.Sim.SimContext.Default);
        var refused = Assert.Throws<InvalidOperationException>(() => devices.Reserve("sim:1"));
        var none = Assert.Throws<InvalidOperationException>(() => devices.Reserve("sim", Contention.Workloads.Sim.GpuSharing.Mps, Contention.Workloads.Sim.SimContext.Default));

        Assert.Equal(("sim:0", "sim:1", "sim:1"), (first.ToString(), second.ToString(), third.ToString()));
        Assert.Equal(Contention.Workloads.Sim.GpuSharing.Mps, devices.Sims[1].Sharing);
        Assert.Contains("sim:1 is shared by mps by the tenants on it, and this tenant asks for timeslice", refused.Message, StringComparison.Ordinal);
        Assert.Contains("no modelled GPU of this node can take the tenant: sim:0 is shared by timeslice", none.Message, StringComparison.Ordinal);
    }

    private static TenantSpec Tenant(string name, string device) => new() { Experiment = "e", Name = name, Kind = TenantKind.Inference, Device = device };
}
