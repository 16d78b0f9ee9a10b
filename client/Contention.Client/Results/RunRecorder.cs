using System.Reflection;
using System.Runtime.InteropServices;
using Contention.Client.Commands;
using Contention.Grains;

namespace Contention.Client.Results;

/// <summary>Builds the results document from the experiment's progress and the collector's snapshot, and saves it.</summary>
internal sealed class RunRecorder(string directory, string experiment, ExperimentPlan plan, RunOptions options, string cluster, IReadOnlyDictionary<string, TenantCapacity>? capacities = null)
{
    private readonly ToolInfo tool = Tool();
    private readonly HostInfo host = Host();

    /// <summary>Writes the current state; returns what was written.</summary>
    public ResultsDocument Save(ExperimentProgress? progress, CollectorSnapshot? snapshot)
    {
        var document = Document(experiment, plan, progress, snapshot, MixInfo.Of(options.Mix, options.OverridesText, capacities), cluster, tool, host);
        ResultsFiles.Write(directory, document);
        return document;
    }

    /// <summary>
    /// The results document of <paramref name="experiment"/> from its plan, progress and
    /// collector snapshot, with its verdict (<see cref="Validity.Judge"/>): what a run writes,
    /// and what <c>contention status</c> judges an experiment's measurements so far by.
    /// </summary>
    internal static ResultsDocument Document(string experiment, ExperimentPlan plan, ExperimentProgress? progress, CollectorSnapshot? snapshot, MixInfo mix, string cluster, ToolInfo? tool = null, HostInfo? host = null)
    {
        var statuses = progress?.Tenants ?? [];
        snapshot ??= new CollectorSnapshot(experiment, [], [], 0, []);
        var (syscalls, ioctls) = RowBuilder.Kernel(snapshot);
        var (phases, phaseSyscalls) = RowBuilder.Phases(snapshot, plan, statuses);
        var document = new ResultsDocument
        {
            Tool = tool ?? Tool(),
            Host = host ?? Host(),
            Experiment = new ExperimentInfo
            {
                Id = experiment,
                Name = plan.Name,
                State = progress?.State.ToString() ?? "Pending",
                Message = progress?.Message,
                StartedUtc = progress?.StartedUtc,
                EndedUtc = progress?.EndedUtc,
                WarmupSeconds = plan.WarmupSeconds,
                DurationSeconds = plan.DurationSeconds,
                Cluster = cluster,
            },
            Devices = statuses.Where(s => s.Device.Length > 0).Select(s => new DeviceInfo(s.Node, s.Device, s.DeviceDescription)).Distinct().ToList(),
            Mix = mix,
            Tenants = RowBuilder.Build(experiment, plan, snapshot, statuses),
            Failures = snapshot.Failures.ToList(),
            Threads = statuses.SelectMany(s => (s.Threads ?? []).Select(t => new ThreadRow
            {
                Tenant = s.Tenant,
                Tid = t.Tid,
                Name = t.Name,
                VoluntarySwitches = t.VoluntarySwitches,
                InvoluntarySwitches = t.InvoluntarySwitches,
                UserCpuSeconds = t.UserSeconds,
                SystemCpuSeconds = t.SystemSeconds,
                Exited = t.Exited,
            })).ToList(),
            Syscalls = syscalls,
            ThreadSyscalls = [.. statuses.SelectMany(s => (s.ThreadCalls ?? []).Select(c => new ThreadSyscallRecord(s.Tenant, c.Phase, c.Tid, c.Thread, c.Category, c.Syscall, c.Count, c.Seconds, c.TimedCalls)))
                .OrderBy(r => r.Tenant, StringComparer.Ordinal).ThenBy(r => r.Phase).ThenBy(r => r.Tid).ThenByDescending(r => r.Count)],
            Ioctls = ioctls,
            Phases = phases,
            PhaseSyscalls = phaseSyscalls,
            Histograms = snapshot.Tenants.Where(a => a.Latency.Length > 0).ToDictionary(a => $"{a.Tenant}/{a.Phase.Word()}", a => Contention.Workloads.Metrics.Histograms.ToCompressedBase64(Contention.Workloads.Metrics.Histograms.Decode(a.Latency))),
        };
        return document with { Validity = Validity.Judge(document) };
    }

    /// <summary>This machine, for results envelopes.</summary>
    internal static HostInfo Host() => new(Environment.MachineName, RuntimeInformation.OSDescription, KernelRelease(), Environment.ProcessorCount, RuntimeInformation.FrameworkDescription, CpuModel(File.Exists("/proc/cpuinfo") ? File.ReadAllText("/proc/cpuinfo") : ""), NvidiaGpus("/proc/driver/nvidia/gpus"));

    /// <summary>The first <c>model name</c> of /proc/cpuinfo's text (empty where it has none).</summary>
    internal static string CpuModel(string cpuinfo) =>
        cpuinfo.Split('\n').Select(l => l.Split(':', 2)).FirstOrDefault(p => p.Length == 2 && p[0].Trim() == "model name")?[1].Trim() ?? "";

    /// <summary>The model of each NVIDIA GPU the driver lists under <paramref name="directory"/> (the <c>Model:</c> line of each <c>information</c> file), in bus order; none where there is no NVIDIA driver.</summary>
    internal static List<string> NvidiaGpus(string directory)
    {
        try
        {
            return [.. Directory.Exists(directory) ? Directory.GetDirectories(directory).Order(StringComparer.Ordinal)
                .Select(d => Path.Combine(d, "information")).Where(File.Exists)
                .Select(f => File.ReadLines(f).Select(l => l.Split(':', 2)).FirstOrDefault(p => p.Length == 2 && p[0].Trim() == "Model")?[1].Trim() ?? "an NVIDIA GPU")
                : []];
        }
        catch (IOException)
        {
            return [];
        }
        catch (UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>This tool's version and commit, for results envelopes.</summary>
    internal static ToolInfo Tool()
    {
        var version = typeof(RunRecorder).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        var plus = version.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? new ToolInfo("contention", version, "unknown") : new ToolInfo("contention", version[..plus], version[(plus + 1)..]);
    }

    private static string KernelRelease()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        }
        catch (IOException)
        {
            return "unknown";
        }
    }
}
