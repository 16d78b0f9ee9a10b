using Contention.Client.Reports;

namespace Contention.Client.Tests;

public sealed class TraceFiguresTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("contention-trace-report-").FullName;

    [Fact]
    public void Write_SnapshotResults_CdfsAndATableOfMediansWithOverloadedPodsCounted()
    {
        // Five services: p99 / alone 1, 1, 2, 8, and one overloaded; a trainer (not a service).
        File.WriteAllText(Path.Combine(directory, "tenants-best-fit-timeslice.csv"),
            "pod,kind,p99_ms,alone_p99_ms,overloaded\na,inference,1,1,false\nb,inference,2,2,false\nc,inference,4,2,false\nd,inference,8,1,false\ne,inference,900,1,true\nt,training,80,75,false\n");
        File.WriteAllText(Path.Combine(directory, "nodes-best-fit-timeslice.csv"), "node,cpu_cores_modelled\nn0,0.5\nn1,0.25\nn2,\n");

        var (files, findings) = TraceFigures.Write(directory, Path.Combine(directory, "report"));

        var report = File.ReadAllText(Path.Combine(directory, "report", "report.md"));
        Assert.Contains("| best-fit-timeslice | 5 | 2.00x | 8.00x | 3 (60.0 %) | 1 |", report, StringComparison.Ordinal);
        Assert.Contains("| best-fit-timeslice | 2 | 0.8 | 0.500 | 0.500 |", report, StringComparison.Ordinal);
        Assert.Contains("trace-p99-cdf.png", files);
        Assert.True(new FileInfo(Path.Combine(directory, "report", "trace-node-cpu-cdf.png")).Length > 1000);
        Assert.Contains("1 overloaded", Assert.Single(findings), StringComparison.Ordinal);
    }

    [Fact]
    public void Write_NothingToDraw_SaysSo()
    {
        File.WriteAllText(Path.Combine(directory, "tenants-x-mps.csv"), "pod,kind,p99_ms,alone_p99_ms,overloaded\nt,training,80,75,false\n");

        Assert.Contains("nothing to draw", Assert.Throws<InvalidOperationException>(() => TraceFigures.Write(directory, Path.Combine(directory, "report"))).Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(directory, recursive: true);
}
