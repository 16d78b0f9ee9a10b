using System.Diagnostics;
using System.Globalization;
using Contention.Workloads.Sim;

namespace Contention.Workloads.Tests;

/// <summary>The host-timings diagnostic: what a recorder writes, what scripts/host-timings.py makes of it, and scripts/cpu-watch.py.</summary>
// Starts Python processes and samples /proc: not beside the timed modelled-GPU tests on a 2-core machine.
[Collection(SimTiming.Name)]
public sealed class HostTimingsTests : IDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), $"host-timings-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, true);
        }
    }

    [Fact]
    public void Save_WritesTheHeaderTheRowsKeptAndHowManyWereNot()
    {
        var timings = HostTimings.Into(directory, "sync", ["called_ns", "completed_ns", "noticed_ns", "intended_ns", "returned_ns"], capacity: 2);
        timings.Record(1, 2, 3, 4, 5);
        timings.Record(10, 20, 30, 40, 50);
        timings.Record(100, 200, 300, 400, 500);

        var path = timings.Save();

        Assert.StartsWith("sync-", Path.GetFileName(path), StringComparison.Ordinal);
        Assert.Equal(["called_ns,completed_ns,noticed_ns,intended_ns,returned_ns", "1,2,3,4,5", "10,20,30,40,50", "# 1 rows beyond the recorder's 2 were not kept"], File.ReadAllLines(path));
    }

    [Fact]
    public void Save_ThreeColumns_KeepsOnlyThose_AndASecondRecorderGetsAFileOfItsOwn()
    {
        var first = HostTimings.Into(directory, "request", ["arrival_ns", "started_ns", "ended_ns"], capacity: 4);
        first.Record(7, 8, 9);
        var second = HostTimings.Into(directory, "request", ["arrival_ns", "started_ns", "ended_ns"], capacity: 4);

        var a = first.Save();
        var b = second.Save();

        Assert.NotEqual(a, b);
        Assert.Equal(["arrival_ns,started_ns,ended_ns", "7,8,9"], File.ReadAllLines(a));
        Assert.Equal(["arrival_ns,started_ns,ended_ns"], File.ReadAllLines(b));
    }

    [Fact]
    public void Open_MoreThanFiveColumns_IsRefused() =>
        Assert.Throws<ArgumentException>(() => HostTimings.Open("x", ["a", "b", "c", "d", "e", "f"]));

    [Fact]
    public void Script_SummarisesRunsFromTheFiles()
    {
        // Two runs, one after the other, of two tenants each: requests every 10 ms for 4 s, each
        // starting 50 us after its arrival and ending 200 us later; one of tenant A's requests in
        // each run wakes 2 ms late. Then a synchronise file for the first run.
        const long Second = 1_000_000_000;
        for (var run = 0; run < 2; run++)
        {
            var origin = (run + 1) * 100 * Second;
            foreach (var tenant in new[] { 0, 1 })
            {
                // The first run's files say when each request's last launch returned (60 us after its start), the second's do not (older files).
                var timings = HostTimings.Into(directory, "request", run == 0 ? ["arrival_ns", "started_ns", "ended_ns", "launched_ns"] : ["arrival_ns", "started_ns", "ended_ns"], capacity: 1000);
                for (var i = 0; i < 400; i++)
                {
                    var arrival = origin + (i * 10_000_000L) + (tenant * 1_000_000L);
                    var wake = tenant == 0 && i == 300 ? 2_000_000 : 50_000;
                    timings.Record(arrival, arrival + wake, arrival + wake + 200_000, run == 0 ? arrival + wake + 60_000 : 0);
                }

                timings.Save();
            }
        }

        var syncs = HostTimings.Into(directory, "sync", ["called_ns", "completed_ns", "noticed_ns", "intended_ns", "returned_ns"], capacity: 1000);
        for (var i = 0; i < 400; i++)
        {
            var called = (100 * Second) + (i * 10_000_000L) + 60_000;
            syncs.Record(called, called + 150_000, called + 170_000, called + 180_000, called + 190_000);
        }

        syncs.Save();

        var output = RunScript(directory, "--warmup", "2");

        var rows = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToArray();
        Assert.Equal(2, rows.Length);

        // run tenants requests latency-p50 latency-p99 tenant-p99 | wake p50 p99 p99.9 >1ms slot | notice p50 p99 | extra p50 p99 | launch p50 p99 | wait p50 p99
        // The window: 2 s after tenant B's first request (1 ms after A's) to A's last one.
        Assert.Equal(["1", "2", "398", "250"], rows[0][..4]);
        Assert.Equal("50.0", rows[0][7]);
        Assert.Equal("0.25%", rows[0][10]);
        Assert.Equal(["20.0", "20", "|", "10.0", "10"], rows[0][13..18]);
        Assert.Equal(["|", "60.0", "60", "|", "140.0", "140"], rows[0][18..24]);
        Assert.Equal(["2", "2", "398", "250"], rows[1][..4]);
        Assert.Equal("nan", rows[1][13]);
        Assert.Equal(["nan", "nan"], new[] { rows[1][19], rows[1][22] });
    }

    [Fact]
    public void CpuWatch_SamplesForTheTimeAskedAndWritesItsRows()
    {
        var output = Path.Combine(directory, "watch.json");
        Directory.CreateDirectory(directory);

        RunPython("cpu-watch.py", output, "1.5");

        // Rows every 5 ms at best; on a loaded machine (CI: a scan of /proc took over 0.3 s) far
        // fewer, but more than one, over no more than the time asked and a last scan.
        using var document = System.Text.Json.JsonDocument.Parse(File.ReadAllText(output));
        var rows = document.RootElement.GetProperty("rows");
        Assert.InRange(rows.GetArrayLength(), 2, 300);
        var first = rows[0];
        var last = rows[rows.GetArrayLength() - 1];
        Assert.InRange(last[0].GetInt64() - first[0].GetInt64(), 1, 10_000_000_000);
        Assert.True(document.RootElement.TryGetProperty("names", out _));
    }

    [Fact]
    public void ArbiterLongWaits_SaysTheLongestWaitAndHowLateEachThreadWokeMeanwhile()
    {
        // Two held tenants: a waited 50 ms for one launch (0 to 50 ms) and slept three times
        // meanwhile, two to their deadline 30 and 40 us late, one woken by a change; b launched
        // three times in that span and slept once 10 us late. A short wait (1 ms) is below --over-ms.
        Directory.CreateDirectory(directory);
        File.WriteAllLines(Path.Combine(directory, "admit-1-0.csv"), ["asked_ns,went_ns,predicted_ns,sleeps,held_by", "0,50000000,100000,3,1", "60000000,61000000,100000,1,1"]);
        File.WriteAllLines(Path.Combine(directory, "arbiter-sleep-1-0.csv"), ["slept_ns,due_ns,returned_ns,asked_ns,changed", "1000000,2000000,2030000,0,0", "3000000,4000000,4040000,0,0", "5000000,9000000,6000000,0,1"]);
        File.WriteAllLines(Path.Combine(directory, "admit-2-0.csv"), ["asked_ns,went_ns,predicted_ns,sleeps,held_by", "0,1000,100000,0,0", "9000000,10000000,100000,1,0", "20000000,20001000,100000,0,0"]);
        File.WriteAllLines(Path.Combine(directory, "arbiter-sleep-2-0.csv"), ["slept_ns,due_ns,returned_ns,asked_ns,changed", "9100000,9900000,9910000,9000000,0"]);

        var output = RunPython("arbiter-long-waits.py", Path.Combine(directory, "admit-1-0.csv"), Path.Combine(directory, "admit-2-0.csv"), "--over-ms", "5");

        Assert.Contains("the 1 longest waits over 5 ms", output, StringComparison.Ordinal);
        Assert.Contains("admit-1-0.csv waited 50.0 ms: 3 sleeps, 1 woken by a change; timed sleeps late 35.0 us at the median", output, StringComparison.Ordinal);
        Assert.Contains("others launched admit-2-0.csv: 3", output, StringComparison.Ordinal);
        Assert.Contains("their timed sleeps late (us) admit-2-0.csv: 10.0", output, StringComparison.Ordinal);
    }

    [Fact]
    public void ArbiterWaits_Lags_SplitsTheLevelsIntoThePartTheThreadsShareAndEachOnesOwn()
    {
        // Three held threads, 120 windows of 50 ms, 12 sleeps of 100 us a window each, every sleep
        // 10 us x exp(shared + own) late: the shared level +-0.2 in blocks of 10 windows (so 0.8
        // correlated a window on), each thread's own +-0.1 drawn afresh every window (none).
        Directory.CreateDirectory(directory);
        var random = new Random(17);
        var shared = Enumerable.Range(0, 120).Select(k => k / 10 % 2 == 0 ? 0.2 : -0.2).ToArray();
        for (var thread = 0; thread < 3; thread++)
        {
            var sleeps = new List<string> { "slept_ns,due_ns,returned_ns,asked_ns,changed" };
            for (var window = 0; window < 120; window++)
            {
                var level = shared[window] + (random.Next(2) == 0 ? 0.1 : -0.1);
                for (var i = 0; i < 12; i++)
                {
                    var slept = (window * 50_000_000L) + (i * 4_000_000L) + (thread * 1_000L);
                    sleeps.Add($"{slept},{slept + 100_000},{slept + 100_000 + (long)(10_000 * Math.Exp(level))},{slept},0");
                }
            }

            File.WriteAllLines(Path.Combine(directory, $"arbiter-sleep-{thread + 1}-0.csv"), sleeps);
            File.WriteAllLines(Path.Combine(directory, $"admit-{thread + 1}-0.csv"), ["asked_ns,went_ns,predicted_ns,sleeps,held_by", "0,1000,100000,0,0", "5990000000,5999000000,100000,1440,1"]);
        }

        var output = RunPython("arbiter-waits.py", directory, "--lags");

        var parts = System.Text.RegularExpressions.Regex.Match(output, @"shared and own parts over 120 windows: sd shared ([0-9.]+), own ([0-9.]+)");
        Assert.True(parts.Success, output);
        Assert.InRange(double.Parse(parts.Groups[1].Value, CultureInfo.InvariantCulture), 0.18, 0.22);
        Assert.InRange(double.Parse(parts.Groups[2].Value, CultureInfo.InvariantCulture), 0.08, 0.12);
        var sharedLag = System.Text.RegularExpressions.Regex.Match(output, @"shared: by lag 50ms ([-0-9.]+)");
        var ownLag = System.Text.RegularExpressions.Regex.Match(output, @"own: by lag 50ms ([-0-9.]+)");
        Assert.InRange(double.Parse(sharedLag.Groups[1].Value, CultureInfo.InvariantCulture), 0.7, 0.9);
        Assert.InRange(double.Parse(ownLag.Groups[1].Value, CultureInfo.InvariantCulture), -0.25, 0.25);
    }

    [Fact]
    public void ArbiterWaits_Lags_SaysHowMuchTheLevelMovesBySleepLength()
    {
        // One held thread, 40 windows of 500 ms, each with 24 sleeps of 20 us and 24 of 500 us:
        // the short ones 10 us x exp(+-0.05) late, the long ones x exp(+-0.2), the sign
        // alternating window by window. So 0.05 against 0.2: x0.25, exponent ln 0.25 / ln(20/500).
        Directory.CreateDirectory(directory);
        var sleeps = new List<string> { "slept_ns,due_ns,returned_ns,asked_ns,changed" };
        for (var window = 0; window < 40; window++)
        {
            var sign = window % 2 == 0 ? 1 : -1;
            for (var i = 0; i < 48; i++)
            {
                var slept = (window * 500_000_000L) + (i * 10_000_000L);
                var (length, level) = i % 2 == 0 ? (20_000L, 0.05) : (500_000L, 0.2);
                sleeps.Add($"{slept},{slept + length},{slept + length + (long)Math.Round(10_000 * Math.Exp(sign * level))},{slept},0");
            }
        }

        File.WriteAllLines(Path.Combine(directory, "arbiter-sleep-1-0.csv"), sleeps);
        File.WriteAllLines(Path.Combine(directory, "admit-1-0.csv"), ["asked_ns,went_ns,predicted_ns,sleeps,held_by", "0,1000,100000,0,0", "19990000000,19999000000,100000,1920,2"]);

        var output = RunPython("arbiter-waits.py", directory, "--lags");

        Assert.Contains($"by sleep length (500 ms windows, less their noise): 0-30 us 0.050 (x0.25, exponent {Math.Log(0.25) / Math.Log(20.0 / 500):F2}); 300-1000 us 0.200", output, StringComparison.Ordinal);
    }

    [Fact]
    public void LaunchTimings_ATenantsLaunches_TheHeldOnesShareTimeAndPlaces()
    {
        // Three operations over one second, three launches and a synchronise each: launches take
        // 10 us, but the third of the second operation is held 500 us; each synchronise 1 ms.
        var launches = HostTimings.Into(directory, "launch", ["operation", "index", "called_ns", "returned_ns"], capacity: 100);
        for (var operation = 0; operation < 3; operation++)
        {
            var at = operation * 400_000_000L;
            for (var index = 0; index < 3; index++)
            {
                var took = operation == 1 && index == 2 ? 500_000 : 10_000;
                launches.Record(operation, index, at, at + took);
                at += took;
            }

            launches.Record(operation, -1, at, operation == 2 ? 1_000_000_000 : at + 1_000_000);
        }

        var name = Path.GetFileName(launches.Save());

        var fields = FieldsOf(RunPython("launch-timings.py", directory, "--warmup", "0"), name);
        Assert.Equal(["3", "3", "10.0"], fields[1..4]); // operations, launches an operation, median launch (us)
        Assert.Equal("500.0", fields[5]); // the longest
        Assert.Equal(["11.1%", "0.5", "2", "2", "2", "2", "2"], fields[6..13]); // one in nine held, 0.5 ms a second, at place 2
    }

    [Fact]
    public void WakeTimings_SleepsAndWakes_WakeUpsSpinAndPredictionErrors()
    {
        // Four sleeps woken 10-40 us after due, the second given up (it spun 300 us) and slept again.
        var sleeps = HostTimings.Into(directory, "sleep", ["due_ns", "woke_ns", "spun_ns", "lead_ns", "again"], capacity: 10);
        sleeps.Record(1_000_000, 1_010_000, 0, 50_000, 0);
        sleeps.Record(2_000_000, 2_020_000, 300_000, 50_000, 1);
        sleeps.Record(3_000_000, 3_030_000, 0, 50_000, 0);
        sleeps.Record(1_001_000_000, 1_001_040_000, 100_000, 50_000, 0);
        var sleepName = Path.GetFileName(sleeps.Save());

        // Slot 3: four wakes, three from a prediction (20 us and 80 us early, 10 us late) and one
        // from its completion; the one 80 us early is more than its 50 us lead early.
        var wakes = HostTimings.Into(directory, "wake", ["slot", "due_ns", "reckoned_end_ns", "end_ns", "lead_ns"], capacity: 10);
        wakes.Record(3, 900_000, 980_000, 1_000_000, 50_000);
        wakes.Record(3, 1_900_000, 1_920_000, 2_000_000, 50_000);
        wakes.Record(3, 2_900_000, 3_010_000, 3_000_000, 50_000);
        wakes.Record(3, 4_100_000, 0, 4_000_000, 0);
        var wakeName = Path.GetFileName(wakes.Save());

        var output = RunPython("wake-timings.py", directory);

        var sleepFields = FieldsOf(output, sleepName);
        Assert.Equal(["4", "25.0%", "25.0", "37.0", "39.7", "50.0", "50.0", "100.0", "0.0004"], sleepFields[1..]);
        var wakeFields = FieldsOf(output, wakeName);
        Assert.Equal(["3", "4", "75.0%"], wakeFields[1..4]);
        Assert.Equal("20.0", wakeFields[6]); // the median error: 20 us early
        Assert.Equal("25.0%", wakeFields[9]); // one wake of four more than its lead early
    }

    private static string RunScript(params string[] arguments) => RunPython("host-timings.py", arguments);

    // The fields of the one line of a script's table that begins with a file's name.
    private static string[] FieldsOf(string output, string file) =>
        output.Split('\n').Single(l => l.StartsWith(file, StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries);

    private static string RunPython(string script, params string[] arguments)
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Contention.sln")))
        {
            root = root.Parent;
        }

        Assert.NotNull(root);
        var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(root.FullName, "scripts", script));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("python3 did not start (scripts/test.sh installs it)");
        var output = process.StandardOutput.ReadToEnd();
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{script} exited {process.ExitCode}: {errors}");
        return output;
    }
}
