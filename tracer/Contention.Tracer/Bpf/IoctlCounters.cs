namespace Contention.Tracer.Bpf;

/// <summary>
/// One kind of ioctl of one traced process tree, cumulative since the helper loaded, as far as
/// the kernel side tells kinds apart; <see cref="Nvidia.NvidiaIoctlDecoder"/> names it.
/// </summary>
/// <param name="Root">The tgid the node registered.</param>
/// <param name="Held">Entered while the process held a phase boundary, as <see cref="SyscallCounters.Held"/>.</param>
/// <param name="Major">Major number of the fd's device; 0 with <paramref name="Minor"/> 0 when the fd is not a device (a pipe, a socket, a file).</param>
/// <param name="Minor">Minor number of the fd's device.</param>
/// <param name="Request">The request argument of ioctl(2).</param>
/// <param name="Escape">NVIDIA frontend: the escape (the request's number, or the inner command of NV_ESC_IOCTL_XFER_CMD); 0 elsewhere.</param>
/// <param name="Size">NVIDIA frontend: the parameter size; 0 elsewhere.</param>
/// <param name="Sub">The RM control command or the RM alloc class, when the escape has one and it was readable.</param>
/// <param name="Unreadable">The parameters could not be read from user memory (the escape is known, the sub-code is not).</param>
/// <param name="Count">Calls that returned.</param>
/// <param name="Errors">Calls that returned an error.</param>
/// <param name="TotalNs">Entry-to-exit time, summed (0 when the helper runs without timing); an estimate when <paramref name="Timed"/> is below <paramref name="Count"/>, as <see cref="SyscallCounters.TotalNs"/>.</param>
/// <param name="Timed">Calls whose time was measured.</param>
public sealed record IoctlCounters(int Root, bool Held, int Major, int Minor, uint Request, uint Escape, int Size, uint? Sub, bool Unreadable, long Count, long Errors, long TotalNs, long Timed)
{
    /// <summary>The request went through NV_ESC_IOCTL_XFER_CMD.</summary>
    public bool Transferred => (Request & 0xFF) == 0xD3 && Escape != 0xD3;
}
