using CsvHelper.Configuration;

namespace Contention.Client.Results;

/// <summary>threads.csv columns.</summary>
public sealed class ThreadRowMap : ClassMap<ThreadRow>
{
    /// <summary>Creates the map.</summary>
    public ThreadRowMap()
    {
        Map(r => r.Tenant).Name("tenant");
        Map(r => r.Tid).Name("tid");
        Map(r => r.Name).Name("thread");
        Map(r => r.VoluntarySwitches).Name("voluntary_switches");
        Map(r => r.InvoluntarySwitches).Name("involuntary_switches");
        Map(r => r.UserCpuSeconds).Name("user_cpu_s");
        Map(r => r.SystemCpuSeconds).Name("system_cpu_s");
        Map(r => r.Exited).Name("exited");
    }
}
