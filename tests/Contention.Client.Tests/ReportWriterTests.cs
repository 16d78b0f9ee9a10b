using Contention.Client.Reports;
using Contention.Client.Results;

namespace Contention.Client.Tests;

/// <summary>contention report's files from a saved run with grid phases on two execution models.</summary>
public class ReportWriterTests
{
    [Fact]
    public void Write_RunWithGridPhases_WritesMarkdownCsvLatexAndFigures()
    {
        var directory = Directory.CreateTempSubdirectory("contention-report-").FullName;
        ResultsFiles.Write(directory, Document());

        var (files, findings) = ReportWriter.Write(ReportInput.Load(directory), Path.Combine(directory, "report"));

        string Read(string name) => File.ReadAllText(Path.Combine(directory, "report", name));
        var paragraph = Assert.Single(findings);
        Assert.Contains("invariant in bytes", paragraph, StringComparison.Ordinal);
        var markdown = Read(ReportWriter.Markdown);
        Assert.Contains(paragraph, markdown, StringComparison.Ordinal);
        Assert.Contains("| cuda | memory |", markdown, StringComparison.Ordinal);
        var latex = Read("phase1_invariance.tex");
        Assert.Contains("\\begin{tabular}{llrlrl}", latex, StringComparison.Ordinal);
        Assert.Contains("\\toprule", latex, StringComparison.Ordinal);
        Assert.Contains("\\bottomrule", latex, StringComparison.Ordinal);
        Assert.DoesNotContain("_", latex.Replace("\\_", "", StringComparison.Ordinal).Replace("phase1-invariance", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.StartsWith("run,exec,phase,op,bytes,iterations,iterations_run,category,calls", Read("phase1_phases.csv"), StringComparison.Ordinal);
        foreach (var figure in new[] { "phase1_bytes", "phase1_iterations", "phase1_startup_categories", "phase1_steady_categories" })
        {
            var png = File.ReadAllBytes(Path.Combine(directory, "report", "figures", figure + ".png"));
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
            Assert.Contains("<svg", Read($"figures/{figure}.svg"), StringComparison.Ordinal);
            Assert.Contains($"figures/{figure}.png", files);
        }

        Directory.Delete(directory, true);
    }

    [Fact]
    public void Escape_SpecialCharacters_EscapedForLatex()
    {
        Assert.Equal("a\\_b \\& 10\\% \\$x\\$ $-$1", LatexTable.Escape("a_b & 10% $x$ −1"));
    }

    /// <summary>One run: a cpu tenant and a cuda tenant, each with start-up and a 3 × 3 grid of steady phases; constant calls per phase.</summary>
    [Fact]
    public void Load_SweepWithAnInvalidRun_LeavesItOutAndSaysWhy()
    {
        // Two runs of one point; the second's verdict is invalid (stolen CPU): the report's numbers
        // come from the first alone, and report.md lists the second with its reason.
        var directory = Directory.CreateTempSubdirectory("contention-report-").FullName;
        var reason = "node vm's hypervisor took 0.45% of its CPU time";
        var runs = new List<SweepRun>();
        foreach (var (id, valid) in new[] { ("p001-r1", true), ("p001-r2", false) })
        {
            ResultsFiles.Write(SweepFiles.RunDirectory(directory, id), Document() with { Validity = new Validity(valid, valid ? [] : [reason]) });
            runs.Add(new SweepRun(id, 1, int.Parse(id[^1..], System.Globalization.CultureInfo.InvariantCulture), new Dictionary<string, string>(), "Completed", id, "", valid ? [] : [reason]));
        }

        var tool = new ToolInfo("contention", "1.0.0", "abc");
        SweepFiles.Write(directory, new SweepManifest { Tool = tool, Host = new HostInfo("h", "linux", "6.18", 2, ".NET"), Id = "s", Name = "phase1", Mix = new MixInfo("m.yaml", "name: phase1", ""), Fingerprint = "f", Axes = [], Repetitions = 2, Runs = runs });

        var input = ReportInput.Load(directory);
        var kept = ReportInput.Load(directory, includeInvalid: true);
        ReportWriter.Write(input, Path.Combine(directory, "report"));

        Assert.Equal(["p001-r1"], input.Runs.Select(r => r.Id));
        Assert.Equal(["p001-r1", "p001-r2"], kept.Runs.Select(r => r.Id));
        Assert.Equal([("p001-r2", reason)], input.Invalid.Select(i => (i.Run, i.Reasons.Single())));
        var report = File.ReadAllText(Path.Combine(directory, "report", ReportWriter.Markdown));
        Assert.Contains("(1 run with results counted, 1 more left out as invalid)", report, StringComparison.Ordinal);
        Assert.Contains($"- 1 run judged invalid, left out of every number below (`--include-invalid` keeps them):\n  - p001-r2: {reason}\n", report, StringComparison.Ordinal);
        Directory.Delete(directory, true);
    }

    private static ResultsDocument Document()
    {
        var phases = new List<PhaseRow>();
        var syscalls = new List<PhaseSyscallRecord>();
        foreach (var (tenant, device, calls) in new[] { ("c", "cpu", 40L), ("g", "cuda:0", 12L) })
        {
            phases.Add(new PhaseRow { Tenant = tenant, Device = device, Pid = 1, Index = 0, Phase = "init", Traced = true, Syscalls = 3000 });
            syscalls.Add(new PhaseSyscallRecord(tenant, device, 1, 0, "init", "", 0, 0, 0, "file-io", "openat", 3000, 0, 0.1, 3000));
            var index = 1;
            foreach (var bytes in new long[] { 4096, 1 << 20, 256 << 20 })
            {
                foreach (var iterations in new[] { 10, 1000, 100000 })
                {
                    phases.Add(new PhaseRow { Tenant = tenant, Device = device, Pid = 1, Index = index, Phase = "steady", Op = "copy", Bytes = bytes, Iterations = iterations, IterationsRun = iterations, Traced = true, Syscalls = calls, WallSeconds = 0.01 });
                    syscalls.Add(new PhaseSyscallRecord(tenant, device, 1, index++, "steady", "copy", bytes, iterations, iterations, "memory", "mmap", calls, 0, 0.001, calls));
                }
            }
        }

        return new ResultsDocument
        {
            Tool = new ToolInfo("contention", "1.0.0", "abc"),
            Host = new HostInfo("h", "linux", "6.18", 2, ".NET"),
            Experiment = new ExperimentInfo { Id = "e", Name = "phase1", State = "Completed" },
            Mix = new MixInfo("m.yaml", "name: phase1", ""),
            Phases = phases,
            PhaseSyscalls = syscalls,
        };
    }
}
