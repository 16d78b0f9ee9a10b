using System.Globalization;
using System.Text.Json;
using Contention.Workloads.Benchmarks;
using Contention.Workloads.Devices;
using Spectre.Console;
using static Contention.Client.Commands.BenchCommand;

namespace Contention.Client.Commands;

// bench calibrate's measurements of sharing: time-slicing (tenants co-running, each timed) and
// MPS (round trips as an MPS client, the interference between clients, blocking waits beside
// spinners), with the child processes they run together at a barrier.
internal static partial class BenchCalibrateCommand
{
    /// <summary>
    /// Runs this program's <c>bench calibrate --round-trips-only --mps-client</c> as a client of a
    /// private MPS daemon on <paramref name="id"/>'s GPU, on <paramref name="profile"/>; returns the
    /// profile it writes (null after saying why there is none). The daemon is quit afterwards.
    /// </summary>
    private static async Task<Contention.Workloads.Sim.DeviceProfile?> MeasureUnderMpsAsync(DeviceId id, Contention.Workloads.Sim.DeviceProfile profile, string? samples, CancellationToken cancel)
    {
        using var daemons = new Contention.Grains.Node.MpsDaemons(null, Path.Combine(Path.GetTempPath(), "contention-bench-mps"));
        if (daemons.Control is null)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]error:[/] --mps needs {Contention.Grains.Node.MpsDaemons.ControlName} on PATH or in /usr/local/nvidia/bin");
            return null;
        }

        var scratch = Directory.CreateTempSubdirectory("contention-calibrate-");
        try
        {
            var input = Path.Combine(scratch.FullName, "base.json");
            var output = Path.Combine(scratch.FullName, "mps.json");
            File.WriteAllText(input, JsonSerializer.Serialize(profile, Contention.Workloads.Sim.DeviceProfileJson.Default.DeviceProfile));
            var lease = await daemons.AcquireAsync(id.Index);
            try
            {
                var self = Contention.Grains.Node.WorkerCommand.Resolve(null);
                var clientSamples = Path.Combine(scratch.FullName, "samples.csv");
                var start = self.StartInfo(["bench", "calibrate", "--device", "cuda:0", "--base", input, "--round-trips-only", "--mps-client", "--out", output, .. samples is null ? Array.Empty<string>() : ["--samples", clientSamples]]);

                Contention.Grains.Node.MpsDaemons.SetClientEnvironment(start.Environment, lease, 100, 0);
                AnsiConsole.MarkupLineInterpolated($"round trips as a client of a private MPS daemon on cuda:{id.Index}:");
                using var child = System.Diagnostics.Process.Start(start) ?? throw new InvalidOperationException($"failed to start {self.FileName}");
                await child.WaitForExitAsync(cancel);
                if (child.ExitCode != 0 || !File.Exists(output))
                {
                    AnsiConsole.MarkupLineInterpolated($"[red]error:[/] the MPS client's calibration failed (exit {child.ExitCode}); the daemon's log is in {lease.LogDirectory}");
                    return null;
                }

                var measured = Contention.Workloads.Sim.DeviceProfile.Load(output);
                if (samples is not null)
                {
                    File.AppendAllLines(samples, File.ReadLines(clientSamples).Skip(1));
                }

                return await MeasureInterferenceAsync(self, lease, measured, scratch.FullName, cancel);
            }
            finally
            {
                await daemons.ReleaseAsync(id.Index);
            }
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }

    /// <summary>
    /// Runs one, two and three ResNet-50 batch-32 trainers as clients of the MPS daemon of
    /// <paramref name="lease"/> (each <c>bench co-run</c>, timing its steps from a common start),
    /// and fits <see cref="Contention.Workloads.Sim.DeviceProfile.MpsInterference"/> so that the
    /// model's slowdown of two trainers against one matches; three are the check.
    /// </summary>
    private static async Task<Contention.Workloads.Sim.DeviceProfile?> MeasureInterferenceAsync(Contention.Grains.Node.WorkerCommand self, Contention.Grains.Node.MpsLease lease, Contention.Workloads.Sim.DeviceProfile profile, string scratch, CancellationToken cancel)
    {
        var measured = new double[4];
        for (var clients = 1; clients <= 3; clients++)
        {
            var outputs = await RunTogetherAsync(self, [.. Enumerable.Repeat<string[]>(["bench", "co-run", "--device", "cuda:0", "--steps", "30"], clients)], start => Contention.Grains.Node.MpsDaemons.SetClientEnvironment(start.Environment, lease, 100, 0), Path.Combine(scratch, $"trainers-{clients}"), $"the MPS trainers of the interference probe (the daemon's log is in {lease.LogDirectory})", cancel);
            if (outputs is null)
            {
                return null;
            }

            measured[clients] = outputs.Select(text => Median(text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => double.Parse(l, CultureInfo.InvariantCulture)))).Average();
        }

        var step = Contention.Workloads.Workloads.ModelShapes.TrainingStep("resnet50", 32);
        var fit = Calibration.FitMpsDenseInterference(profile, step, measured[1], measured[2]);

        // The model's step of one to three clients with the fitted interference, in the measured scale.
        var alone = Calibration.ModelledCoRunStepNs(profile, step, 1, fit);
        var modelled = Enumerable.Range(0, 4).Select(c => c == 0 ? 0 : Calibration.ModelledCoRunStepNs(profile, step, c, fit) / alone * measured[1]).ToArray();
        var table = new Table().Title($"MPS interference between dense kernels: ResNet-50 batch-32 trainers as MPS clients at once, median step ms (the model's with the fitted {fit:0.000}; other pairs {profile.MpsInterference:0.000})")
            .AddColumns("trainers", "measured", "modelled", "model / measured");
        for (var clients = 1; clients <= 3; clients++)
        {
            table.AddRow(clients.ToString(CultureInfo.InvariantCulture), F(measured[clients] / 1e6), F(modelled[clients] / 1e6), F(modelled[clients] / measured[clients]));
        }

        AnsiConsole.Write(table);
        profile = profile with
        {
            MpsDenseInterference = Math.Round(fit, 4),
            Source = profile.SourceWith("MPS dense interference", $"MPS dense interference {fit:0.000}: fitted by 'contention bench calibrate --mps' ({DateTime.UtcNow:yyyy-MM-dd}) to ResNet-50 batch-32 training steps of one and of two MPS clients at once in the profile's MPS model ({measured[1] / 1e6:0.0} and {measured[2] / 1e6:0.0} ms; three: {measured[3] / 1e6:0.0} ms measured, {modelled[3] / 1e6:0.0} ms modelled)"),
        };
        return await MeasureBlockContentionAsync(self, lease, profile, scratch, cancel);
    }

    /// <summary>
    /// Runs 1, 2, 4 and 8 closed-loop MLP batch-1 clients (spin) of the MPS daemon of
    /// <paramref name="lease"/> at once for 3 s each (<c>bench co-run --mlp-seconds</c>), and fits
    /// <see cref="Contention.Workloads.Sim.DeviceProfile.MpsBlockContention"/> to how their
    /// requests slow (<see cref="Calibration.FitMpsBlockContention"/>).
    /// </summary>
    private static async Task<Contention.Workloads.Sim.DeviceProfile?> MeasureBlockContentionAsync(Contention.Grains.Node.WorkerCommand self, Contention.Grains.Node.MpsLease lease, Contention.Workloads.Sim.DeviceProfile profile, string scratch, CancellationToken cancel)
    {
        var rates = new Dictionary<int, double>();
        foreach (var clients in Calibration.MpsClientCounts)
        {
            var outputs = await RunTogetherAsync(self, [.. Enumerable.Repeat<string[]>(["bench", "co-run", "--device", "cuda:0", "--mlp-seconds", "3"], clients)], start => Contention.Grains.Node.MpsDaemons.SetClientEnvironment(start.Environment, lease, 100, 0), Path.Combine(scratch, $"mlp-{clients}"), $"the MPS clients of the block-contention probe (the daemon's log is in {lease.LogDirectory})", cancel);
            if (outputs is null)
            {
                return null;
            }

            // Each client's requests per second over its whole run (its requests' times add up to it); the median client.
            rates[clients] = Median(outputs.Select(text =>
            {
                var times = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => double.Parse(l, CultureInfo.InvariantCulture)).ToList();
                return times.Count / (times.Sum() / 1e9);
            }));
        }

        var fit = Calibration.FitMpsBlockContention(profile, rates);
        var modelledAlone = Calibration.ModelledMpsClientRate(profile, 1, fit);
        var aloneWithout = Calibration.ModelledMpsClientRate(profile, 1, 0);
        var table = new Table().Title($"MPS block contention: closed-loop MLP batch-1 clients of the MPS daemon at once, requests/s each (the model's with the fitted contention {fit:0.000}, scaled to one client's measured rate)")
            .AddColumns("clients", "measured", "modelled", "model / measured", "without contention");
        foreach (var (clients, measured) in rates.OrderBy(r => r.Key))
        {
            var modelled = Calibration.ModelledMpsClientRate(profile, clients, fit) / modelledAlone * rates[1];
            var without = Calibration.ModelledMpsClientRate(profile, clients, 0) / aloneWithout * rates[1];
            table.AddRow(clients.ToString(CultureInfo.InvariantCulture), measured.ToString("0", CultureInfo.InvariantCulture), modelled.ToString("0", CultureInfo.InvariantCulture), F(modelled / measured), F(without / measured));
        }

        AnsiConsole.Write(table);
        return profile with
        {
            MpsBlockContention = Math.Round(fit, 3),
            Source = profile.SourceWith("MPS block contention", $"MPS block contention {fit:0.000}: fitted by 'contention bench calibrate --mps' ({DateTime.UtcNow:yyyy-MM-dd}) to {string.Join(", ", rates.Keys.Order())} closed-loop MLP batch-1 clients (spin) of one MPS daemon at once, {string.Join(", ", rates.OrderBy(r => r.Key).Select(r => r.Value.ToString("0", CultureInfo.InvariantCulture)))} requests/s each"),
        };
    }

    /// <summary>
    /// Starts one child of this program per entry of <paramref name="clients"/> (arguments, to
    /// which <c>--barrier FILE</c> is added), waits until each has left its ready file (warm),
    /// starts them together by creating the barrier file, and returns their standard output;
    /// null after saying why when one fails or is not ready within 2 minutes.
    /// </summary>
    private static async Task<string[]?> RunTogetherAsync(Contention.Grains.Node.WorkerCommand self, IReadOnlyList<string[]> clients, Action<System.Diagnostics.ProcessStartInfo>? environment, string barrier, string what, CancellationToken cancel)
    {
        var children = new List<(System.Diagnostics.Process Process, Task<string> Output)>();
        try
        {
            foreach (var arguments in clients)
            {
                var start = self.StartInfo([.. arguments, "--barrier", barrier]);
                start.RedirectStandardOutput = true;
                environment?.Invoke(start);
                var child = System.Diagnostics.Process.Start(start) ?? throw new InvalidOperationException($"failed to start {self.FileName}");
                children.Add((child, child.StandardOutput.ReadToEndAsync(cancel)));
            }

            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (!children.All(c => File.Exists($"{barrier}.ready-{c.Process.Id}")) && !children.Any(c => c.Process.HasExited))
            {
                if (waited.Elapsed > TimeSpan.FromMinutes(2))
                {
                    AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {what} were not ready within 2 minutes");
                    return null;
                }

                await Task.Delay(50, cancel);
            }

            await File.WriteAllTextAsync(barrier, "", cancel);
            var outputs = new string[children.Count];
            for (var i = 0; i < children.Count; i++)
            {
                await children[i].Process.WaitForExitAsync(cancel);
                if (children[i].Process.ExitCode != 0)
                {
                    AnsiConsole.MarkupLineInterpolated($"[red]error:[/] one of {what} failed (exit {children[i].Process.ExitCode})");
                    return null;
                }

                outputs[i] = await children[i].Output;
            }

            return outputs;
        }
        finally
        {
            foreach (var (process, _) in children)
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }

                process.Dispose();
            }
        }
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted[sorted.Length / 2];
    }

    /// <summary>Leaves <paramref name="barrier"/>'s ready file for this process and waits for the barrier itself.</summary>
    private static void AwaitBarrier(string barrier, CancellationToken cancel)
    {
        File.WriteAllText($"{barrier}.ready-{Environment.ProcessId}", "");
        while (!File.Exists(barrier) && !cancel.IsCancellationRequested)
        {
            Thread.Sleep(1);
        }
    }

    /// <summary>
    /// Runs the time-slicing probes (<see cref="TimeSliceProbes"/>) as separate processes on
    /// <paramref name="id"/>'s GPU, time-sliced, and returns <paramref name="profile"/> with the
    /// fitted slice and switch costs; null after saying why.
    /// </summary>
    private static async Task<Contention.Workloads.Sim.DeviceProfile?> MeasureTimeSlicingAsync(DeviceId id, Contention.Workloads.Sim.DeviceProfile profile, string hardware, CancellationToken cancel)
    {
        var self = Contention.Grains.Node.WorkerCommand.Resolve(null);
        var scratch = Directory.CreateTempSubdirectory("contention-slices-");
        try
        {
            string[] Role(string role) => ["bench", "probe", "--device", id.ToString(), "--role", role, "--seconds", "2"];
            async Task<(double PerSecond, double Median)[]?> Together(string name, params string[] roles)
            {
                var outputs = await RunTogetherAsync(self, [.. roles.Select(Role)], null, Path.Combine(scratch.FullName, name), "the time-slicing probes", cancel);
                return outputs?.Select(o => o.Trim().Split(' ')).Select(f => (double.Parse(f[0], CultureInfo.InvariantCulture), double.Parse(f[1], CultureInfo.InvariantCulture))).ToArray();
            }

            if (await Together("alone", "probe") is not { } alone
                || await Together("two", "probe", "probe") is not { } two
                || await Together("spinner", "spinner") is not { } spinner
                || await Together("beside", "probe", "spinner") is not { } beside)
            {
                return null;
            }

            var probes = new TimeSliceProbes(alone[0].Median, two.Average(p => p.Median), beside[0].Median, beside[1].PerSecond / spinner[0].PerSecond);
            AnsiConsole.MarkupLineInterpolated($"time-slicing probes (median operation): probe alone {probes.ProbeAloneNs / 1e3:0.0} us, two probes {probes.TwoProbesNs / 1e3:0.0} us, beside a spinner {probes.BesideSpinnerNs / 1e3:0.0} us (spinner {spinner[0].PerSecond:0.0} ops/s alone, {beside[1].PerSecond:0.0} beside): slice {probes.SliceNs / 1e6:0.000} ms, switch {probes.SwitchNs / 1e3:0} us busy, {probes.IdleSwitchNs / 1e3:0} us idle (the profile had {profile.TimesliceNs / 1e6:0.000} ms, {profile.ContextSwitchNs / 1e3:0} and {profile.IdleSwitchNs / 1e3:0} us)");
            if (probes.Problem is { } problem)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {problem}");
                return null;
            }

            return probes.ApplyTo(profile, hardware);
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }

    /// <summary>The <c>bench probe</c> client: <paramref name="operation"/> (launches, synchronise) for <paramref name="seconds"/> from the common start; its operations per second and median operation, ns.</summary>
    private static (double PerSecond, double MedianNs) ProbeClient(DeviceId id, IReadOnlyList<Contention.Workloads.Kernels.KernelSpec> operation, double seconds, string barrier, CancellationToken cancel)
    {
        var times = TimeTogether(id, SyncMode.Spin, operation, barrier, (_, elapsed) => elapsed.TotalSeconds < seconds, cancel);
        return (times.Count / (times.Sum() / 1e9), Median(times));
    }

    /// <summary>The <c>bench co-run</c> client: <paramref name="steps"/> ResNet-50 batch-32 training steps from the common start, ns each.</summary>
    private static List<double> CoRunClient(DeviceId id, int steps, string barrier, CancellationToken cancel) =>
        TimeTogether(id, SyncMode.Block, Contention.Workloads.Workloads.ModelShapes.TrainingStep("resnet50", 32), barrier, (done, _) => done < steps, cancel);

    /// <summary>
    /// One of the processes <see cref="RunTogetherAsync"/> starts: opens <paramref name="id"/>, runs
    /// <paramref name="operation"/> (its launches, then a synchronise) a few times to warm up, waits
    /// for <paramref name="barrier"/>, then runs it back to back while <paramref name="more"/> (operations done, time since
    /// the start) says so; each operation's time, ns, end to end, so they add up to the whole.
    /// </summary>
    private static List<double> TimeTogether(DeviceId id, SyncMode sync, IReadOnlyList<Contention.Workloads.Kernels.KernelSpec> operation, string barrier, Func<int, TimeSpan, bool> more, CancellationToken cancel)
    {
        using var cuda = new CudaDevice(new DeviceOptions { Id = id, SyncMode = sync, TimeKernels = false });
        cuda.Prepare(operation);
        void Run()
        {
            foreach (var kernel in operation)
            {
                cuda.Launch(kernel);
            }

            cuda.Synchronize();
        }

        for (var i = 0; i < 3; i++)
        {
            Run();
        }

        AwaitBarrier(barrier, cancel);
        var times = new List<double>();
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        var last = start;
        while (more(times.Count, System.Diagnostics.Stopwatch.GetElapsedTime(start, last)) && !cancel.IsCancellationRequested)
        {
            Run();
            var now = System.Diagnostics.Stopwatch.GetTimestamp();
            times.Add(System.Diagnostics.Stopwatch.GetElapsedTime(last, now).TotalNanoseconds);
            last = now;
        }

        return times;
    }
}
