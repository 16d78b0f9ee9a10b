using System.Diagnostics;
using Contention.Grains.Node;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Contention.Cluster.Tests;

public class NodeBpfTests
{
    [BpfFact]
    public async Task SnapshotAsync_ManyAtOnce_ShareSnapshotsTakenAfterTheyAsked()
    {
        await using var bpf = new NodeBpf(Options.Create(new NodeOptions()), NullLogger<NodeBpf>.Instance);
        // Starting a worker starts the helper.
        using var worker = await bpf.StartAsync(new ProcessStartInfo("sleep") { ArgumentList = { "30" }, UseShellExecute = false });
        try
        {
            var first = await bpf.SnapshotAsync();
            Assert.NotNull(first);
            var taken = bpf.Snapshots;

            // A node's phase change: every tenant flushes at once.
            var all = await Task.WhenAll(Enumerable.Range(0, 30).Select(_ => bpf.SnapshotAsync()));

            Assert.All(all, snapshot => Assert.True(snapshot!.Sequence > first!.Sequence, "a snapshot older than the call"));
            Assert.InRange(bpf.Snapshots - taken, 1, 3);
        }
        finally
        {
            worker.Kill();
        }
    }
}
