using Contention.Client.Results;
using Contention.Grains;
using Contention.Workloads.Metrics;

namespace Contention.Client.Tests;

public class ResultsFilesTests
{
    [Fact]
    public void WriteRead_Document_RoundTripsAndWritesAllThreeFiles()
    {
        var directory = Directory.CreateTempSubdirectory("contention-results-").FullName;
        var histogram = Histograms.Create();
        for (var i = 1; i <= 1000; i++)
        {
            histogram.RecordValue(i * 1000L);
        }

        var spec = new TenantSpec { Experiment = "e", Name = "t", Kind = "inference", Device = "sim", SyncMode = "block" };
        var aggregate = new TenantAggregate { Tenant = "t", Node = "n", Kind = "inference", Device = "sim:0", Phase = "measure", Seconds = 10, Completed = 1000, Latency = Histograms.Encode(histogram), Os = new OsCounters(7, 0, 0, 0, 0, 0) };
        var row = RowBuilder.Row("e", spec, aggregate, new TenantStatus("t", TenantState.Stopped, "n", "sim:0", "d", 1, 0, null));
        var document = new ResultsDocument
        {
            Tool = new ToolInfo("contention", "1.0.0", "abc"),
            Host = new HostInfo("h", "linux", "6.18", 2, ".NET"),
            Experiment = new ExperimentInfo { Id = "e", Name = "demo", State = "Completed", DurationSeconds = 10 },
            Mix = new MixInfo("m.yaml", "name: demo", ""),
            Tenants = [row],
        };

        ResultsFiles.Write(directory, document);
        var read = ResultsFiles.Read(directory);

        Assert.Equal(100, row.ThroughputPerSecond);
        Assert.Equal(0.5, row.P50Ms, 2);
        Assert.Equal(0.99, row.P99Ms, 2);
        Assert.Equal(1.0, row.MaxMs, 2);
        Assert.Equal(document.Tenants, read.Tenants);
        var csv = File.ReadAllLines(Path.Combine(directory, ResultsFiles.Csv));
        Assert.StartsWith("experiment,tenant,node,kind,device,sync,phase,seconds,completed,throughput_per_s,p50_ms", csv[0], StringComparison.Ordinal);
        Assert.Equal(2, csv.Length);
        Assert.Contains("| t | inference | sim:0 | block | 100 |", File.ReadAllText(Path.Combine(directory, ResultsFiles.Summary)), StringComparison.Ordinal);
        Directory.Delete(directory, true);
    }

    [Fact]
    public void Read_NoResults_SaysWhatToGive()
    {
        var error = Assert.Throws<FileNotFoundException>(() => ResultsFiles.Read("/nonexistent/dir"));

        Assert.Contains("contention run", error.Message, StringComparison.Ordinal);
    }
}
