using System.CommandLine;
using System.Runtime.InteropServices;

namespace Contention.Client.Commands;

/// <summary>
/// <c>contention probe</c>: behaves in a known way for tracer checks: prints <c>start</c> and
/// waits for a line (so a tracer can take a first sample after the runtime's start-up), sleeps N
/// times, burns a set amount of CPU (measured on the thread's own CPU clock), prints <c>done</c>,
/// then waits for a line or end of input before exiting, so a tracer can take its last sample.
/// </summary>
internal static partial class ProbeCommand
{
    public static Command Create()
    {
        var sleeps = new Option<int>("--sleeps") { Description = "number of sleeps (each a voluntary context switch)", DefaultValueFactory = _ => 100 };
        var sleepMs = new Option<double>("--sleep-ms") { Description = "length of each sleep, milliseconds", DefaultValueFactory = _ => 1 };
        var burnMs = new Option<double>("--burn-ms") { Description = "user-mode CPU time to burn, milliseconds", DefaultValueFactory = _ => 500 };
        var command = new Command("probe", "behave in a known way (sleeps, CPU burn) so a tracer can be checked (internal)") { Hidden = true };
        command.Options.Add(sleeps);
        command.Options.Add(sleepMs);
        command.Options.Add(burnMs);
        command.SetAction(parse =>
        {
            Console.Out.WriteLine("start");
            Console.Out.Flush();
            _ = Console.In.ReadLine();
            var pause = TimeSpan.FromMilliseconds(parse.GetValue(sleepMs));
            for (var i = 0; i < parse.GetValue(sleeps); i++)
            {
                Thread.Sleep(pause);
            }

            var target = ThreadCpuNs() + (long)(parse.GetValue(burnMs) * 1e6);
            var sink = 0.0;
            while (ThreadCpuNs() < target)
            {
                for (var i = 0; i < 10_000; i++)
                {
                    sink += Math.Sqrt(i + sink);
                }
            }

            Console.Out.WriteLine(sink > 0 ? "done" : "done.");
            Console.Out.Flush();
            _ = Console.In.ReadLine();
            return 0;
        });
        return command;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out Timespec value);

    private static long ThreadCpuNs()
    {
        const int ClockThreadCpuTime = 3;
        _ = ClockGetTime(ClockThreadCpuTime, out var now);
        return (now.Seconds * 1_000_000_000) + now.Nanoseconds;
    }
}
