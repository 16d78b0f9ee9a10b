namespace Contention.Grains.Node;

/// <summary>How to start a tenant worker process: this program's <c>worker</c> command.</summary>
/// <param name="FileName">The executable.</param>
/// <param name="Arguments">Arguments before <c>worker</c> (the assembly path when run through <c>dotnet</c>).</param>
public sealed record WorkerCommand(string FileName, IReadOnlyList<string> Arguments)
{
    private const string AppName = "contention";

    /// <summary>
    /// Finds the worker: an explicit path; else this process when it is the <c>contention</c>
    /// app (single-file publish or apphost); else <c>contention</c> or <c>contention.dll</c> beside
    /// the running assemblies (tests, <c>dotnet run</c>).
    /// </summary>
    /// <exception cref="FileNotFoundException">No worker executable can be found.</exception>
    public static WorkerCommand Resolve(string? configuredPath)
    {
        if (!string.IsNullOrWhiteSpace(configuredPath))
        {
            return configuredPath.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)
                ? new WorkerCommand(DotnetHost(), [configuredPath])
                : new WorkerCommand(configuredPath, []);
        }

        var self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self).Equals(AppName, StringComparison.OrdinalIgnoreCase))
        {
            return new WorkerCommand(self, []);
        }

        var apphost = Path.Combine(AppContext.BaseDirectory, AppName);
        if (File.Exists(apphost))
        {
            return new WorkerCommand(apphost, []);
        }

        var dll = Path.Combine(AppContext.BaseDirectory, AppName + ".dll");
        if (File.Exists(dll))
        {
            return new WorkerCommand(DotnetHost(), [dll]);
        }

        throw new FileNotFoundException($"cannot find the tenant worker (contention or contention.dll) in {AppContext.BaseDirectory}; set Contention:Node:WorkerPath or use isolation: thread");
    }

    /// <summary>How to run this program with <paramref name="arguments"/> (<c>worker</c>, <c>sim-gpu …</c>, <c>bench …</c>) after <see cref="Arguments"/>.</summary>
    public System.Diagnostics.ProcessStartInfo StartInfo(IEnumerable<string> arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var start = new System.Diagnostics.ProcessStartInfo(FileName) { UseShellExecute = false };
        foreach (var argument in Arguments.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }

    private static string DotnetHost()
    {
        var self = Environment.ProcessPath;
        return self is not null && Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase) ? self : "dotnet";
    }
}
