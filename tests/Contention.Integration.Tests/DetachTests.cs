using Contention.Client.Commands;
using Contention.Client.Mixes;

namespace Contention.Integration.Tests;

/// <summary>
/// Detached runs on three real <c>contention silo</c> processes sharing Redis (issue 14): a sweep
/// handed to node-b completes with no client connected, another client attaches mid-run and
/// follows it to its end, and the results it fetches are the files a foreground run of the same
/// mix writes (same files, columns and rows; only timing figures differ).
/// </summary>
[Collection(RunsAlone.Name)]
public sealed class DetachTests
{
    [Fact]
    public async Task Detach_Sweep_CompletesWithoutTheClient_AttachFollowsIt_ResultsAreAForegroundRunsFiles()
    {
        var root = Path.Combine(Path.GetTempPath(), $"contention-detach-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        try
        {
            var mix = Path.Combine(root, "detach.yaml");
            await File.WriteAllTextAsync(mix, """
                name: detach
                warmup: 0s
                duration: 2s
                tenants:
                  - name: infer
                    kind: inference
                    device: sim
                    sync: block
                    rate: 100
                sweep:
                  axes:
                    infer.rate: [100, 150]
                """);
            await using var cluster = await NodeLossTests.ThreeNodes.StartAsync(Path.Combine(root, "runs"));

            // The submitting client is gone once this returns.
            var submitted = await DetachCommands.SubmitAsync(cluster.Redis.Cluster, mix, "node-b", []);
            Assert.Equal("running", submitted.State);
            Assert.StartsWith("node-b/", submitted.Run, StringComparison.Ordinal);
            await Task.Delay(TimeSpan.FromSeconds(3));

            var fetched = Path.Combine(root, "fetched");
            await using (var second = await ClusterConnection.JoinAsync(cluster.Redis.Cluster, ClusterConnection.JoinTimeout))
            {
                var output = new StringWriter();
                var ended = await DetachCommands.AttachAsync(second.Client, submitted.Run, output).WaitAsync(TimeSpan.FromMinutes(5));
                Assert.Equal("exited", ended.State);
                Assert.True(ended.ExitCode is 0 or 4, $"exit {ended.ExitCode}: {output}");
                Assert.Contains("2 of 2 runs completed", output.ToString(), StringComparison.Ordinal);
                var (status, copied) = await DetachCommands.FetchAsync(second.Client, submitted.Run, fetched);
                Assert.Equal(status.Files.Count, copied);
                await Assert.ThrowsAsync<MixException>(() => DetachCommands.AttachAsync(second.Client, "node-b/nosuchrun", TextWriter.Null));
                Assert.Equal("exited", (await DetachCommands.StopAsync(second.Client, submitted.Run)).State);
            }

            var foreground = Path.Combine(root, "foreground");
            var code = await RunCommand.ExecuteAsync(new RunOptions(MixParser.Load(mix), foreground, cluster.Redis.Cluster, 0, 1, s => s, ""), SilentConsole.Create(), CancellationToken.None);
            Assert.True(code is 0 or 4, $"foreground run exit {code}");

            Assert.Equal(Files(foreground), Files(fetched));
            var (fetchedHeader, fetchedRows) = Rows(Path.Combine(fetched, "tenants.csv"));
            var (foregroundHeader, foregroundRows) = Rows(Path.Combine(foreground, "tenants.csv"));
            Assert.Equal(foregroundHeader, fetchedHeader);
            Assert.Equal(foregroundRows, fetchedRows);
            Assert.Equal(4, fetchedRows.Count); // two runs x warm-up and measure
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }

    private static List<string> Files(string directory) =>
        [.. Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(directory, f)).Order(StringComparer.Ordinal)];

    // The header, and each row's identity (run, point, repetition, state, tenant, kind, device, phase): what must match; the figures are timings.
    private static (string Header, List<string> Rows) Rows(string csv)
    {
        var lines = File.ReadAllLines(csv);
        var header = lines[0].Split(',');
        int[] keys = [.. new[] { "run", "point", "repetition", "run_state", "tenant", "kind", "device", "phase" }.Select(k => Array.IndexOf(header, k))];
        Assert.DoesNotContain(-1, keys);
        return (lines[0], [.. lines.Skip(1).Select(l => l.Split(',')).Select(f => string.Join(',', keys.Select(k => f[k]))).Order(StringComparer.Ordinal)]);
    }
}
