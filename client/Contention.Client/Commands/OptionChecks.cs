using System.CommandLine;
using System.Globalization;

namespace Contention.Client.Commands;

/// <summary>Checks on options' values: a bad value is a one-line parse error naming the option and what it expects.</summary>
internal static class OptionChecks
{
    /// <summary>Accepts <paramref name="option"/>'s values from <paramref name="min"/> to <paramref name="max"/>; returns the option.</summary>
    public static Option<int> Within(this Option<int> option, int min, int max)
    {
        option.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<int>();
            if (value < min || value > max)
            {
                result.AddError(string.Create(CultureInfo.InvariantCulture, $"{option.Name}: expected {min} to {max}, got {value}"));
            }
        });
        return option;
    }

    /// <summary>The metrics retention option of run and silo: a duration from 1 s to 720 h, default 15 min.</summary>
    public static Option<string> MetricsRetention() => new Option<string>("--metrics-retention")
    {
        Description = "how long an experiment's series stay on /metrics once they stop changing (e.g. 15m; keep it above Prometheus' scrape interval)",
        DefaultValueFactory = _ => "15m",
    }.DurationWithin(1, 720 * 3600);

    /// <summary>The modelled GPUs' device profile option of run and silo: a shipped name or a profile file, loaded and checked when parsed.</summary>
    public static Option<string> SimProfile(string description, string fallback = "h100") => Profile("--sim-profile", description, fallback);

    /// <summary>--thread-calls of run and silo: <paramref name="tracer"/> counts each worker thread's system calls too.</summary>
    public static Option<bool> ThreadCalls(string tracer) => new("--thread-calls")
    {
        Description = $"{tracer} counts each worker thread's system calls too (thread_syscalls.csv, per tenant, phase and thread: which thread makes which calls; one more map lookup per call, so off by default)",
    };

    /// <summary>--ebpf-timeout of run and silo: how long <paramref name="tracer"/>'s helper may take to answer before it is judged hung.</summary>
    public static Option<string> EbpfTimeout(string tracer) => new Option<string>("--ebpf-timeout")
    {
        Description = $"how long {tracer}'s helper may take to start or answer a snapshot (e.g. 30s): one that takes longer is killed as hung, the node goes on with /proc metrics, and the runs it followed are invalid, their system-call counts ending there",
        DefaultValueFactory = _ => "30s",
    }.DurationWithin(1, 3600);

    /// <summary>Refuses <paramref name="threadCalls"/> beside <c>--ebpf off</c>: nothing would count them.</summary>
    public static void RefuseThreadCallsUntraced(this Command command, Option<bool> threadCalls, Option<string> ebpf) =>
        command.Validators.Add(result =>
        {
            if (result.GetValue(threadCalls) && result.GetValue(ebpf) == "off")
            {
                result.AddError("--thread-calls counts with the eBPF tracer, which --ebpf off leaves out: give --ebpf full, exact or counts, or drop --thread-calls");
            }
        });

    /// <summary>A device profile option named <paramref name="name"/>: a shipped name or a profile file, loaded and checked when parsed.</summary>
    public static Option<string> Profile(string name, string description, string fallback = "h100")
    {
        var option = new Option<string>(name)
        {
            Description = $"{description}: {string.Join(", ", Contention.Workloads.Sim.DeviceProfile.BuiltInNames)} or a profile JSON file (contention bench calibrate --out writes one)",
            DefaultValueFactory = _ => fallback,
        };
        option.Validators.Add(result =>
        {
            try
            {
                _ = Contention.Workloads.Sim.DeviceProfile.Load(result.GetValueOrDefault<string>() ?? "");
            }
            catch (Exception ex) when (ex is ArgumentException or IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
            {
                result.AddError($"{name}: {ex.Message.Split('\n')[0]}");
            }
        });
        return option;
    }

    /// <summary>The seconds of a duration option that <see cref="DurationWithin"/> checked.</summary>
    public static int Seconds(this ParseResult parse, Option<string> option) =>
        Mixes.Units.TryParseSeconds(parse.GetValue(option) ?? "", out var seconds) ? (int)Math.Round(seconds) : throw new InvalidOperationException($"{option.Name} was not checked");

    /// <summary>Accepts durations (<c>90s</c>, <c>15m</c>, <c>2h</c>) from <paramref name="min"/> to <paramref name="max"/> seconds.</summary>
    public static Option<string> DurationWithin(this Option<string> option, double min, double max)
    {
        option.Validators.Add(result =>
        {
            var text = result.GetValueOrDefault<string>() ?? "";
            if (!Mixes.Units.TryParseSeconds(text, out var seconds) || seconds < min || seconds > max)
            {
                result.AddError(string.Create(CultureInfo.InvariantCulture, $"{option.Name}: expected a duration from {min} s to {max / 3600:0.##} h such as 15m, got '{text}'"));
            }
        });
        return option;
    }

    /// <summary>Accepts values above zero (when given).</summary>
    public static Option<double?> Positive(this Option<double?> option)
    {
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<double?>() is { } value && !(value > 0 && double.IsFinite(value)))
            {
                result.AddError(string.Create(CultureInfo.InvariantCulture, $"{option.Name}: expected a number of seconds above 0, got {value}"));
            }
        });
        return option;
    }

    /// <summary>
    /// Accepts only <c>redis://HOST:PORT</c> (a running cluster's membership); <paramref name="without"/>,
    /// when given, says what leaving the option out does. Returns the option.
    /// </summary>
    public static Option<T> RedisCluster<T>(this Option<T> option, string? without = null)
        where T : class?
    {
        option.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<T>() as string;
            if (value is not null && !value.StartsWith("redis://", StringComparison.OrdinalIgnoreCase))
            {
                result.AddError($"{option.Name}: expected redis://HOST:PORT of a running cluster, got '{value}'{(without is null ? "" : $"; {without}")}");
            }
        });
        return option;
    }
}
