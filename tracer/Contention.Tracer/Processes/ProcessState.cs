using System.Globalization;

namespace Contention.Tracer.Processes;

/// <summary>A process's scheduling state as <c>/proc/PID/stat</c> gives it.</summary>
public static class ProcessState
{
    /// <summary>The state letter of <paramref name="pid"/> (<c>R</c>, <c>S</c>, <c>T</c>, <c>Z</c>, …); <c>'\0'</c> when there is no such process.</summary>
    public static char Of(int pid)
    {
        if (pid <= 0)
        {
            return '\0';
        }

        try
        {
            // "PID (COMM) STATE ...": COMM may hold spaces and parentheses, so the state follows the last ')'.
            var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            var close = stat.LastIndexOf(')');
            return close > 0 && close + 2 < stat.Length ? stat[close + 2] : '\0';
        }
        catch (IOException)
        {
            return '\0';
        }
    }

    /// <summary>Whether <paramref name="pid"/> runs (exists and has not exited: a zombie waiting to be reaped does not count).</summary>
    public static bool IsAlive(int pid) => Of(pid) is not ('\0' or 'Z');
}
