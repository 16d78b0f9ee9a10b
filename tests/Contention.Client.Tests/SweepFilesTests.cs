using Contention.Client.Results;

namespace Contention.Client.Tests;

/// <summary>The sweep's combined CSVs: appended run by run, they equal a rebuild from every run.</summary>
public class SweepFilesTests
{
    [Fact]
    public void Write_RunsFinishingOneByOne_AppendsToTheSameFilesARebuildWrites()
    {
        var appended = Directory.CreateTempSubdirectory("contention-sweep-").FullName;
        var rebuilt = Directory.CreateTempSubdirectory("contention-sweep-").FullName;
        var runs = Enumerable.Range(1, 4).Select(i => new SweepRun($"p00{i}-r1", i, 1, new Dictionary<string, string> { ["sync"] = i % 2 == 0 ? "spin" : "block" }, "Pending", null)).ToList();
        var combined = new SweepFiles.CombinedRuns();
        for (var i = 0; i < runs.Count; i++)
        {
            foreach (var directory in new[] { appended, rebuilt })
            {
                var run = SweepFiles.RunDirectory(directory, runs[i].Id);
                Directory.CreateDirectory(run);
                foreach (var file in SweepFiles.CombinedFiles)
                {
                    File.WriteAllText(Path.Combine(run, file), $"tenant,count\nt{i},{i * 10}\nu{i},\"a,b\"\n");
                }
            }

            runs[i] = runs[i] with { State = i == 2 ? "Failed" : "Completed" };
            SweepFiles.Write(appended, Manifest(runs), combined);
        }

        SweepFiles.Write(rebuilt, Manifest(runs));

        foreach (var file in SweepFiles.CombinedFiles)
        {
            var text = File.ReadAllText(Path.Combine(appended, file));
            Assert.Equal(File.ReadAllText(Path.Combine(rebuilt, file)), text);
            Assert.Equal(9, text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
            Assert.StartsWith("run,point,repetition,state,sync,tenant,count", text, StringComparison.Ordinal);
        }

        Directory.Delete(appended, true);
        Directory.Delete(rebuilt, true);
    }

    [Fact]
    public void Write_AxisNamedLikeAColumn_EveryColumnNameOnce()
    {
        var directory = Directory.CreateTempSubdirectory("contention-sweep-").FullName;
        var run = new SweepRun("p001-r1", 1, 1, new Dictionary<string, string> { ["device"] = "sim", ["state"] = "x" }, "Completed", null);
        var files = SweepFiles.RunDirectory(directory, run.Id);
        Directory.CreateDirectory(files);
        foreach (var file in SweepFiles.CombinedFiles)
        {
            File.WriteAllText(Path.Combine(files, file), "tenant,device,state\nt,sim:0,Stopped\n");
        }

        SweepFiles.Write(directory, Manifest([run]) with { Axes = ["device", "state"] });

        foreach (var file in SweepFiles.CombinedFiles)
        {
            var header = File.ReadAllLines(Path.Combine(directory, file))[0].Split(',');
            Assert.Equal(["run", "point", "repetition", "run_state", "axis_device", "axis_state", "tenant", "device", "state"], header);
            Assert.Equal(header.Length, header.Distinct(StringComparer.Ordinal).Count());
        }

        Directory.Delete(directory, true);
    }

    private static SweepManifest Manifest(List<SweepRun> runs) => new()
    {
        Tool = new ToolInfo("contention", "1", "c"),
        Host = new HostInfo("h", "linux", "6.18", 2, ".NET"),
        Id = "s",
        Name = "s",
        Mix = new MixInfo("m.yaml", "name: s", ""),
        Fingerprint = "f",
        Axes = ["sync"],
        Repetitions = 1,
        Runs = [.. runs],
    };
}
