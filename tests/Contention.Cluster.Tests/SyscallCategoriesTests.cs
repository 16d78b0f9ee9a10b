using Contention.Tracer;

namespace Contention.Cluster.Tests;

public class SyscallCategoriesTests
{
    [Theory]
    [InlineData("futex", SyscallCategories.SyncWait)]
    [InlineData("sched_yield", SyscallCategories.SyncWait)]
    [InlineData("epoll_pwait", SyscallCategories.SyncWait)]
    [InlineData("mmap", SyscallCategories.Memory)]
    [InlineData("openat", SyscallCategories.FileIo)]
    [InlineData("clone3", SyscallCategories.ProcessThread)]
    [InlineData("rt_sigprocmask", SyscallCategories.Signal)]
    [InlineData("clock_gettime", SyscallCategories.Time)]
    [InlineData("sendmsg", SyscallCategories.Network)]
    [InlineData("pipe2", SyscallCategories.Ipc)]
    [InlineData("reboot", SyscallCategories.Other)]
    [InlineData("syscall_999", SyscallCategories.Other)]
    public void Of_KnownCalls_HaveTheirCategory(string name, string category) => Assert.Equal(category, SyscallCategories.Of(name));

    [Fact]
    public void Of_Ioctl_DependsOnTheDevice()
    {
        Assert.Equal(SyscallCategories.GpuDriver, SyscallCategories.Of("ioctl", nvidiaDevice: true));
        Assert.Equal(SyscallCategories.OtherIoctl, SyscallCategories.Of("ioctl"));
    }

    [Fact]
    public void Table_EveryListedName_IsAnX64SystemCall()
    {
        // A typo in the table would silently send a call to "other": every name must be real.
        var known = Enumerable.Range(0, 600).Select(SyscallNames.Of).ToHashSet();
        var listed = typeof(SyscallCategories).GetField("Table", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!.GetValue(null) as IReadOnlyDictionary<string, string>;

        Assert.NotNull(listed);
        Assert.DoesNotContain(listed!.Keys, name => !known.Contains(name));
    }

    [Theory]
    [InlineData(0, "read")]
    [InlineData(16, "ioctl")]
    [InlineData(202, "futex")]
    [InlineData(435, "clone3")]
    [InlineData(462, "mseal")]
    public void Names_Numbers_AreTheX64Abi(int number, string name) => Assert.Equal(name, SyscallNames.Of(number));
}
