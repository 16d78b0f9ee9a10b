using System.Diagnostics;
using Contention.Grains;
using Contention.Grains.Node;
using Contention.Silo;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Prometheus;
using Xunit.Abstractions;

namespace Contention.Integration.Tests;

/// <summary>
/// The Orleans Dashboard on a node started with a dashboard port, loaded in headless Chromium
/// (Debian's chromium package; scripts/test.sh installs it) while an experiment runs: the page
/// renders the silo and the tenant grains. The screenshot is left where the test output says.
/// </summary>
[Collection(RunsAlone.Name)]
public sealed class DashboardTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Dashboard_NodeRunningAnExperiment_ChromiumRendersTheSiloAndTheTenantGrains()
    {
        if (Chromium() is not { } chromium)
        {
            // CI installs it (scripts/test.sh): there, its absence is a failure, not a skip.
            Assert.True(Environment.GetEnvironmentVariable("CI") is null, "chromium is not installed; scripts/test.sh installs Debian's chromium package");
            output.WriteLine("skipped: chromium is not installed (scripts/test.sh installs Debian's chromium package)");
            return;
        }

        var siloPort = FreePort.Next();
        var dashboardPort = FreePort.Next();
        var settings = new SiloSettings
        {
            SiloPort = siloPort,
            GatewayPort = FreePort.Next(),
            MetricsPort = 0,
            DashboardPort = dashboardPort,
            Node = new NodeOptions { Name = "dash-node", DetectCuda = false, Ebpf = EbpfMode.Off, TracerIntervalMs = 250 },
        };
        await using var host = ContentionSilo.Build(settings, LogLevel.Warning, new CollectorRegistry(), embedded: true);
        await host.StartAsync();
        var grains = host.Services.GetRequiredService<IGrainFactory>();
        var experiment = $"dash-{Guid.NewGuid():N}"[..13];
        var grain = grains.GetGrain<IExperimentGrain>(experiment);
        await grain.StartAsync(new ExperimentPlan("dashboard", [new TenantSpec { Experiment = experiment, Name = "infer", Kind = TenantKind.Inference, Device = "sim", SyncMode = SyncMode.Block, BatchSize = 1, RatePerSecond = 100 }], 0.5, 300));
        var clock = Stopwatch.StartNew();
        while ((await grain.GetProgressAsync()).State != ExperimentState.Measuring)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "the experiment did not reach its measurement");
            await Task.Delay(100);
        }

        var url = $"http://127.0.0.1:{dashboardPort}/";
        var screenshot = Path.Combine(Path.GetTempPath(), $"contention-dashboard-{Guid.NewGuid():N}.png");
        // The page fetches the cluster's figures every second; the profiler's first samples take a few.
        var overview = await DomAsync(chromium, url, "TenantGrain");
        var silos = await DomAsync(chromium, url + "#/silos", $"127.0.0.1:{siloPort}");

        await RunAsync(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--virtual-time-budget=15000", "--window-size=1400,1000", $"--screenshot={screenshot}", url);
        output.WriteLine($"dashboard screenshot: {screenshot}");
        await grain.StopAsync("test over");

        // The overview lists the grains with the most calls: the tenants' (polled every tick). Which
        // others make its top five varies (a CI run had no ExperimentGrain there).
        Assert.Contains("TenantGrain", overview, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{siloPort}", silos, StringComparison.Ordinal);
        Assert.True(File.Exists(screenshot) && new FileInfo(screenshot).Length > 10_000, "chromium wrote no screenshot");
    }

    [Fact]
    public void Settings_DashboardOnTheMetricsPort_Refused()
    {
        var settings = new SiloSettings { SiloPort = FreePort.Next(), GatewayPort = FreePort.Next(), MetricsPort = 19464, DashboardPort = 19464 };

        var error = Assert.Throws<ArgumentException>(() => settings.CheckPortsFree(System.Net.IPAddress.Loopback));

        Assert.Contains("give the dashboard a port of its own", error.Message, StringComparison.Ordinal);
    }

    // The page's DOM once Chromium ran its scripts, loaded again (up to five times) until it shows what is looked for.
    private static async Task<string> DomAsync(string chromium, string url, string lookedFor)
    {
        var dom = "";
        for (var attempt = 0; attempt < 5 && !dom.Contains(lookedFor, StringComparison.Ordinal); attempt++)
        {
            dom = await RunAsync(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--virtual-time-budget=15000", "--dump-dom", url);
        }

        return dom;
    }

    private static string? Chromium() =>
        new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome" }.FirstOrDefault(File.Exists);

    private static async Task<string> RunAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        await stderr;
        return await stdout;
    }
}
