using System.Text.Json;
using System.Text.RegularExpressions;
using Contention.Grains;

namespace Contention.Integration.Tests;

/// <summary>
/// The Grafana dashboards (docker/grafana/dashboards): every panel's query and every template
/// variable, run against a real Prometheus scraping a running silo, returns data.
/// </summary>
public partial class GrafanaDashboardTests
{
    private static readonly string Dashboards = Path.Combine(Root(), "docker", "grafana", "dashboards");

    [Fact]
    public void Dashboards_Json_UseTheProvisionedDatasourceAndDistinctUids()
    {
        var boards = Directory.GetFiles(Dashboards, "*.json").Select(f => JsonDocument.Parse(File.ReadAllText(f)).RootElement).ToList();

        Assert.Equal(5, boards.Count);
        Assert.Equal(boards.Count, boards.Select(b => b.GetProperty("uid").GetString()).Distinct().Count());
        var provisioned = File.ReadAllText(Path.Combine(Root(), "docker", "grafana", "provisioning", "datasources", "prometheus.yaml"));
        Assert.Contains("uid: prometheus", provisioned, StringComparison.Ordinal);
        foreach (var panel in boards.SelectMany(b => b.GetProperty("panels").EnumerateArray()))
        {
            Assert.Equal("prometheus", panel.GetProperty("datasource").GetProperty("uid").GetString());
            Assert.NotEmpty(panel.GetProperty("targets").EnumerateArray());
        }
    }

    [Fact]
    public async Task Queries_AgainstPrometheusScrapingASilo_EveryOneReturnsData()
    {
        await using var silo = await MetricsSilo.StartAsync("grafana-node", "graf", experiment => [
            new TenantSpec { Experiment = experiment, Name = "infer", Kind = TenantKind.Inference, Device = "sim", SyncMode = SyncMode.Block, BatchSize = 1, RatePerSecond = 200 },
            new TenantSpec { Experiment = experiment, Name = "train", Kind = TenantKind.Training, Device = "sim", SyncMode = SyncMode.Yield, BatchSize = 8 },

            // A program that does not exist: a failed start, so the failures panel has a series to show.
            // (A device no node has would now fail the whole experiment in preflight.)
            new TenantSpec { Experiment = experiment, Name = "unstartable", Kind = TenantKind.Command, Device = "cpu", Command = ["/nonexistent/contention-test-program"] },
        ]);
        var experiment = silo.Experiment;
        await using var prometheus = await PrometheusServer.StartAsync($"127.0.0.1:{silo.MetricsPort}");
        var traced = Contention.Tracer.Bpf.BpfTracer.FindHelper() is not null && Environment.UserName == "root";

        var queries = Directory.GetFiles(Dashboards, "*.json").Order(StringComparer.Ordinal).SelectMany(Queries).ToList();
        var empty = new List<string>();
        foreach (var (board, title, expr) in queries)
        {
            if (!traced && NeedsEbpf(expr))
            {
                continue;
            }

            var promql = expr.Replace("$experiment", experiment, StringComparison.Ordinal).Replace("$tenant", ".*", StringComparison.Ordinal)
                .Replace("$__rate_interval", "5s", StringComparison.Ordinal).Replace("$__range", "1m", StringComparison.Ordinal);
            if (LabelValues().Match(promql) is { Success: true } variable)
            {
                promql = $"count by ({variable.Groups[2].Value}) ({variable.Groups[1].Value})";
            }

            if (!await ReturnsDataAsync(prometheus, promql))
            {
                empty.Add($"{board} / {title}: {promql}");
            }
        }

        Assert.True(queries.Count >= 20, $"only {queries.Count} queries found");
        Assert.True(empty.Count == 0, "queries without data:\n" + string.Join('\n', empty));
    }

    /// <summary>Every panel target and template variable query of one dashboard, with where it is.</summary>
    private static IEnumerable<(string Board, string Title, string Expr)> Queries(string file)
    {
        var board = JsonDocument.Parse(File.ReadAllText(file)).RootElement;
        var name = Path.GetFileNameWithoutExtension(file);
        foreach (var panel in board.GetProperty("panels").EnumerateArray())
        {
            foreach (var target in panel.GetProperty("targets").EnumerateArray())
            {
                yield return (name, panel.GetProperty("title").GetString()!, target.GetProperty("expr").GetString()!);
            }
        }

        foreach (var variable in board.GetProperty("templating").GetProperty("list").EnumerateArray())
        {
            yield return (name, "variable " + variable.GetProperty("name").GetString(), variable.GetProperty("definition").GetString()!);
        }
    }

    private static bool NeedsEbpf(string expr) => expr.Contains("syscall", StringComparison.Ordinal) || expr.Contains("ioctls", StringComparison.Ordinal) || expr.Contains("offcpu", StringComparison.Ordinal) || expr.Contains("runqueue", StringComparison.Ordinal);

    /// <summary>Waits (up to 60 s: counters need a few scrapes before a rate has two points) for at least one series.</summary>
    private static async Task<bool> ReturnsDataAsync(PrometheusServer prometheus, string promql)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if ((await prometheus.QueryAsync(promql)).Any(s => !double.IsNaN(s.Value)))
            {
                return true;
            }

            await Task.Delay(500);
        }

        return false;
    }

    private static string Root()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Contention.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Contention.sln not found above the test binaries");
    }

    [GeneratedRegex(@"^label_values\((.+),\s*(\w+)\)$")]
    private static partial Regex LabelValues();
}
