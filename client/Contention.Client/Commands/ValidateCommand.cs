using System.CommandLine;
using Contention.Client.Mixes;
#if !NO_REPORTS
using Contention.Client.Validation;
#endif
using Contention.Workloads.Devices;
using Spectre.Console;

namespace Contention.Client.Commands;

/// <summary>
/// <c>contention validate</c>: runs a validation suite (a folder of mixes) on the real GPU and on
/// the modelled GPU with a profile, and writes a fidelity report of the model against the real
/// GPU. Either half can come from earlier results instead (<c>--reference</c>: the real half, as
/// on a machine without a GPU; <c>--model</c>: the modelled half), so a report can be remade
/// without running anything. Runs resume as <c>contention run</c>'s do: the same <c>--out</c>
/// again keeps the runs that completed.
/// </summary>
internal static class ValidateCommand
{
    /// <summary>Where the committed H200 reference is, relative to the repository.</summary>
    public const string Reference = "docs/results/h200/validation";

    /// <summary>Exit code: the report was written but a metric misses its target.</summary>
    public const int TargetsMissed = 5;

    public static Command Create()
    {
        var suite = new Argument<string>("SUITE") { Description = "a folder of mixes (every *.yaml in it) or one mix file", DefaultValueFactory = _ => "mixes/validation" };
        var output = new Option<string?>("--out") { Description = "where the runs (real/, model/) and the report go (default: results/validate-TIME)" };
        var profile = OptionChecks.SimProfile("the modelled GPU's device profile", "h200");
        var reference = new Option<string[]>("--reference") { Description = $"take the real GPU's results from here instead of running them (a validate --out folder or its real/ folder; {Reference} holds the H200's); needed without a CUDA GPU; given again, the sets' runs are taken together (the same mixes, each run once)" };
        var model = new Option<string[]>("--model") { Description = "take the modelled GPU's results from here instead of running them (a validate --out folder or its model/ folder); given again, the sets' runs are taken together" };
        var quick = new Option<bool>("--quick") { Description = "run the mixes' reduced versions (their 'quick' sections)" };
        var includeInvalid = new Option<bool>("--include-invalid") { Description = "compare runs the verdict calls invalid too (listed in the report); by default they are left out" };
        var pooled = new Option<bool>("--pooled") { Description = "latency percentiles of each case from every operation of its replicas in every run together (the runs' histograms merged: needs their points/ folders) instead of the mean over runs of the median over replicas; intervals resample runs (rates are the mean over replicas either way)" };
        var ebpf = new Option<string>("--ebpf") { Description = "the embedded node's eBPF tracer for both halves: full, exact, counts or off", DefaultValueFactory = _ => "full" };
        ebpf.AcceptOnlyFromAmong([.. Grains.Words.All<Grains.EbpfMode>()]);
        var inVirtualTime = new Option<bool>("--virtual") { Description = "run the modelled half in virtual time (as contention simulate does: what cluster simulations run; seconds a mix, no GPU and no quiet host needed) instead of on the real-time modelled GPU" };
        var command = new Command("validate", "run a validation suite on the real GPU and on the modelled GPU, and write a fidelity report (fidelity.md, fidelity.csv, figures): the model/real ratio of each case and metric with its interval, the median and worst error per metric against the targets") { suite, output, profile, reference, model, quick, includeInvalid, pooled, ebpf, inVirtualTime };
        command.SetAction(async (parse, cancellation) =>
        {
            var references = parse.GetValue(reference) ?? [];
            var models = parse.GetValue(model) ?? [];
            var options = new ValidateOptions(parse.GetValue(suite)!, parse.GetValue(output) ?? Path.Combine("results", $"validate-{DateTime.UtcNow:yyyyMMdd-HHmmss}"), parse.GetValue(profile)!, references.FirstOrDefault(), models.FirstOrDefault(), parse.GetValue(quick), Grains.Words.Parse<Grains.EbpfMode>(parse.GetValue(ebpf)))
            {
                IncludeInvalid = parse.GetValue(includeInvalid),
                Pooled = parse.GetValue(pooled),
                MoreReferences = [.. references.Skip(1)],
                MoreModels = [.. models.Skip(1)],
                Virtual = parse.GetValue(inVirtualTime),
            };
            try
            {
                return await ExecuteAsync(options, AnsiConsole.Console, cancellation);
            }
            catch (Exception ex) when (ex is MixException or DirectoryNotFoundException or FileNotFoundException or InvalidDataException)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {ex.Message}");
                return 2;
            }
        });
        return command;
    }

    /// <summary>Runs what is not given, then writes the report; returns the exit code (0 targets met, 5 missed, 2 refused, 3 runs failed, 130 interrupted).</summary>
    public static async Task<int> ExecuteAsync(ValidateOptions options, IAnsiConsole console, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(console);
        var mixes = Suite(options.Suite, options.Quick);
        var realDirectory = options.Reference is { } given ? Half(given, "real") : Path.Combine(options.Output, "real");
        var modelDirectory = options.Model is { } made ? Half(made, "model") : Path.Combine(options.Output, "model");
        if (options.Reference is null && CudaDevice.CountDevices() == 0)
        {
            throw new MixException($"no CUDA GPU here for the real half: give --reference {Reference} to compare the model with the committed H200 runs (or another validate --out folder)");
        }

        if (options.Virtual && options.Model is not null)
        {
            throw new MixException("--virtual runs the modelled half in virtual time, and --model gives that half's runs: nothing would run in virtual time; leave one out");
        }

        if ((options.Reference is null && options.MoreReferences.Count > 0) || (options.Model is null && options.MoreModels.Count > 0))
        {
            throw new MixException("further sets of runs were given without a first (--reference / --model)");
        }

        // Every set of runs of each half, the first one's directory first.
        List<string> realSets = [realDirectory, .. options.MoreReferences.Select(r => Half(r, "real"))];
        List<string> modelSets = [modelDirectory, .. options.MoreModels.Select(m => Half(m, "model"))];
        foreach (var (sets, what) in new[] { (realSets, "--reference"), (modelSets, "--model") })
        {
            if (sets.GroupBy(Path.GetFullPath).FirstOrDefault(g => g.Count() > 1) is { } twice)
            {
                throw new MixException($"{what} {twice.Key} is given more than once: each set of runs may count once");
            }
        }

        if (options.Reference is not null)
        {
            mixes = AgainstReference(mixes, realDirectory, options.Quick, console);
            foreach (var more in realSets.Skip(1))
            {
                // Every set must have run the same mixes the same way.
                var also = AgainstReference(mixes, more, options.Quick, console);
                if (also.Count != mixes.Count)
                {
                    throw new MixException($"the reference {more} lacks {string.Join(", ", mixes.Select(m => m.Name).Except(also.Select(m => m.Name)))}, which {realDirectory} has: sets taken together must hold the same mixes");
                }
            }
        }

        var failed = 0;
        foreach (var (half, directory, device, run) in new[] { ("real GPU", realDirectory, "cuda", options.Reference is null), ("modelled GPU", modelDirectory, "sim", options.Model is null) })
        {
            if (!run)
            {
                continue;
            }

            foreach (var (name, mix) in mixes)
            {
                var inVirtualTime = options.Virtual && device == "sim";
                console.MarkupLineInterpolated($"[bold]validate[/]: {name} on the {half} ({device}{(device == "sim" ? $", profile {options.Profile}" : "")}{(inVirtualTime ? ", in virtual time" : "")})");
                var runOptions = new RunOptions(mix, Path.Combine(directory, name), null, 0, 1, RunCommand.Overrides(device, null), RunCommand.Describe(device, null, options.Quick))
                {
                    Ebpf = options.Ebpf,
                    SimProfile = options.Profile,
                };
                var code = inVirtualTime
                    ? await SimulateCommand.ExecuteAsync(runOptions, console, cancellation)
                    : await RunCommand.ExecuteAsync(runOptions, console, cancellation);
                if (code == 130 || cancellation.IsCancellationRequested)
                {
                    console.MarkupLineInterpolated($"[yellow]interrupted:[/] what ran is kept; run the same command again (same --out) to go on");
                    return 130;
                }

                failed += code is 3 ? 1 : 0;
            }
        }

#if NO_REPORTS
        console.MarkupLineInterpolated($"runs done; this build makes no reports: on a full build, run contention validate {options.Suite} --reference {realDirectory} --model {modelDirectory} --out DIR");
        return failed > 0 ? 3 : 0;
#else
        // Only the suite's mixes: a set of runs may hold others (a folder of every mix, the suite one file of it).
        var names = mixes.Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
        var real = ValidationResults.Combine([.. realSets.Select(d => ValidationResults.Load(d, options.IncludeInvalid, options.Pooled, names))]);
        var modelled = ValidationResults.Combine([.. modelSets.Select(d => ValidationResults.Load(d, options.IncludeInvalid, options.Pooled, names))]);
        var fidelity = Fidelity.Compare(real, modelled, options.Pooled);
        var sources = new FidelitySources(CommandLine(options), string.Join(" + ", realSets), string.Join(" + ", modelSets), Contention.Workloads.Sim.DeviceProfile.Load(options.Profile).Name + (options.Virtual ? ", in virtual time" : ""));
        var files = FidelityReport.Write(fidelity, real, modelled, sources, options.Output);
        foreach (var line in FidelityReport.Headlines(fidelity))
        {
            console.WriteLine(line);
        }

        if (fidelity.OnlyReal.Count + fidelity.OnlyModel.Count > 0)
        {
            console.MarkupLineInterpolated($"[yellow]{fidelity.OnlyReal.Count + fidelity.OnlyModel.Count} cases have results on one side only[/] (listed in {FidelityReport.Markdown})");
        }

        if (fidelity.Cases.Count(c => c.BelowResolution) is var unresolved and > 0)
        {
            console.MarkupLineInterpolated($"[yellow]{unresolved} cases are below the measurement's resolution[/] (CPU time under {Fidelity.ResolvedSteps * ValidationMetric.ClockTickSeconds:0.##} s a run on both sides, in /proc's 10 ms ticks: not counted; listed in {FidelityReport.Markdown})");
        }

        if (fidelity.MachineMismatches is { Count: > 0 } elsewhere)
        {
            console.MarkupLineInterpolated($"[yellow]{(elsewhere.Count == 1 ? "1 mix's" : $"{elsewhere.Count} mixes'")} halves ran on different machines[/] (another processor, GPU or kernel: their CPU times, switches and system calls compare two hosts; listed in {FidelityReport.Markdown})");
        }

        if (fidelity.GpuNotMeasured.Count > 0)
        {
            console.MarkupLineInterpolated($"[yellow]{fidelity.GpuNotMeasured.Count} cases have runs whose GPU seconds were not measured[/] (no batch of a replica timed; listed in {FidelityReport.Markdown})");
        }

        console.MarkupLineInterpolated($"fidelity report: [bold]{Path.GetFullPath(options.Output)}[/] ({string.Join(", ", files)})");
        return failed > 0 ? 3 : fidelity.AllTargetsMet ? 0 : TargetsMissed;
#endif
    }

    /// <summary>The suite's mixes, by file name (without .yaml), in name order.</summary>
    internal static List<(string Name, Mix Mix)> Suite(string path, bool quick)
    {
        var files = Directory.Exists(path)
            ? Directory.GetFiles(path, "*.yaml").Order(StringComparer.Ordinal).ToList()
            : File.Exists(path) ? [path] : throw new FileNotFoundException($"{path}: no such folder of mixes or mix file");
        if (files.Count == 0)
        {
            throw new FileNotFoundException($"{path} holds no mixes (*.yaml)");
        }

        return files.Select(f => (Path.GetFileNameWithoutExtension(f), MixParser.Load(f, quick))).ToList();
    }

    /// <summary>
    /// The suite's mixes the reference has results of, run the same way: a mix it lacks is left out
    /// (said); one it ran with or without --quick unlike this run, or from another text, is refused,
    /// since its cases would not be the same cases.
    /// </summary>
    internal static List<(string Name, Mix Mix)> AgainstReference(List<(string Name, Mix Mix)> mixes, string reference, bool quick, IAnsiConsole console)
    {
        var kept = new List<(string Name, Mix Mix)>();
        foreach (var (name, mix) in mixes)
        {
            var manifest = Results.SweepFiles.ReadManifest(Path.Combine(reference, name));
            if (manifest is null)
            {
                console.MarkupLineInterpolated($"[yellow]{name}[/]: the reference has no results of it ({Path.Combine(reference, name)}); left out");
                continue;
            }

            var referenceQuick = manifest.Mix.Overrides.Split(' ').Contains("--quick");
            if (referenceQuick != quick)
            {
                throw new MixException($"{name}: the reference ran it {(referenceQuick ? "with" : "without")} --quick and this run would not: give {(referenceQuick ? "--quick" : "no --quick")}, or another reference");
            }

            if (manifest.Mix.Text != mix.Text)
            {
                throw new MixException($"{name}: the reference ran another version of {mix.Source} (its text differs): its cases are not this mix's; run the real half again, or validate against the mix as the reference has it (in {Path.Combine(reference, name, Results.SweepFiles.Manifest)})");
            }

            kept.Add((name, mix));
        }

        return kept.Count > 0 ? kept : throw new MixException($"the reference {reference} has results of none of the suite's mixes ({string.Join(", ", mixes.Select(m => m.Name))})");
    }

    // A validate --out folder holds real/ and model/; the halves themselves are accepted too.
    private static string Half(string path, string half) => Directory.Exists(Path.Combine(path, half)) ? Path.Combine(path, half) : path;

    private static string CommandLine(ValidateOptions options) =>
        string.Join(' ', new[]
        {
            "contention validate", options.Suite, options.Quick ? "--quick" : null, $"--sim-profile {options.Profile}", options.Virtual ? "--virtual" : null,
            options.Reference is null ? null : string.Join(' ', new[] { options.Reference }.Concat(options.MoreReferences).Select(r => $"--reference {r}")),
            options.Model is null ? null : string.Join(' ', new[] { options.Model }.Concat(options.MoreModels).Select(m => $"--model {m}")), options.IncludeInvalid ? "--include-invalid" : null, options.Pooled ? "--pooled" : null, $"--out {options.Output}",
        }.Where(s => s is not null));
}

/// <summary>What <c>contention validate</c> was asked to do.</summary>
internal sealed record ValidateOptions(string Suite, string Output, string Profile, string? Reference, string? Model, bool Quick, Grains.EbpfMode Ebpf)
{
    /// <summary>Compare runs the verdict calls invalid too.</summary>
    public bool IncludeInvalid { get; init; }

    /// <summary>Latency percentiles pooled over replicas and runs.</summary>
    public bool Pooled { get; init; }

    /// <summary>Further sets of real runs, taken together with <see cref="Reference"/>'s.</summary>
    public IReadOnlyList<string> MoreReferences { get; init; } = [];

    /// <summary>Further sets of modelled runs, taken together with <see cref="Model"/>'s.</summary>
    public IReadOnlyList<string> MoreModels { get; init; } = [];

    /// <summary>Run the modelled half in virtual time (<c>contention simulate</c>) instead of on the real-time modelled GPU.</summary>
    public bool Virtual { get; init; }
}
