using Contention.Client.Results;
using Contention.Grains;
using Contention.Tracer;
using Spectre.Console;

namespace Contention.Client.Tests;

/// <summary>The run's tables in a 100-column terminal: one line per tenant, nothing wider.</summary>
public class TenantTableTests
{
    [Fact]
    public void Print_TracedTenantsUsingEveryCategory_FitsTheTableWidthOneLinePerTenant()
    {
        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Interactive = InteractionSupport.No, Ansi = AnsiSupport.No });
        console.Profile.Width = TenantTable.Width;
        // Wide values everywhere: long names, six-digit rates, every category used.
        var rows = new[] { "trainer-resnet50", "inference-replica-0", "inference-replica-1" }.Select((name, i) => new TenantRow
        {
            Experiment = "e",
            Tenant = name,
            Node = "n",
            Device = "cuda:0",
            Sync = SyncMode.Yield,
            Phase = MeasurementPhase.Measure,
            Seconds = 10,
            State = "Stopped",
            Completed = 123_456,
            ThroughputPerSecond = 12_345.67,
            P50Ms = 123.456,
            P99Ms = 2_345.678,
            MaxMs = 12_345.678,
            VoluntarySwitches = 1_234_567,
            InvoluntarySwitches = 7_654_321,
            UserCpuSeconds = 123.45,
            SystemCpuSeconds = 67.89,
            Traced = true,
            Syscalls = 9_876_543,
            CategoryCalls = SyscallCategories.All.ToDictionary(c => c, c => 98_765L * (i + 1) * (c.Length + 1)),
            OffCpuSeconds = 345.67,
            RunQueueSeconds = 12.345,
        }).ToList();
        var document = new ResultsDocument
        {
            Tool = new ToolInfo("contention", "1.0.0", "abc"),
            Host = new HostInfo("h", "linux", "6.18", 2, ".NET"),
            Experiment = new ExperimentInfo { Id = "default-20261130-101010-abcd", Name = "default", State = "Completed", DurationSeconds = 10, WarmupSeconds = 1 },
            Mix = new MixInfo("m.yaml", "name: m", ""),
            Tenants = rows,
        };

        TenantTable.Print(console, document);

        var lines = output.ToString().Split('\n');
        Assert.All(lines, line => Assert.True(line.TrimEnd().Length <= TenantTable.Width, $"{line.TrimEnd().Length} columns: {line}"));
        // No cell wrapped: each tenant on exactly one line of each table.
        Assert.All(rows, r => Assert.Equal(2, lines.Count(l => l.Contains(r.Tenant, StringComparison.Ordinal))));
        Assert.Contains("other", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("1.23M/7.65M", output.ToString(), StringComparison.Ordinal);
    }
}
