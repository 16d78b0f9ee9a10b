using System.Runtime.InteropServices;

namespace Contention.Workloads.Devices;

/// <summary>Driver API calls ILGPU does not wrap (CUDA driver API, <c>libcuda.so.1</c>).</summary>
internal static partial class CudaDriver
{
    /// <summary><c>CU_STREAM_NON_BLOCKING</c>: the stream does not synchronise with the legacy default stream (as ILGPU's own streams).</summary>
    public const uint NonBlocking = 1;

    /// <summary>The current context's stream priorities: <paramref name="least"/> (0) to <paramref name="greatest"/> (numerically lowest, e.g. -5).</summary>
    [LibraryImport("libcuda.so.1", EntryPoint = "cuCtxGetStreamPriorityRange")]
    public static partial int GetStreamPriorityRange(out int least, out int greatest);

    /// <summary><c>CU_MEMHOSTALLOC_DEVICEMAP</c>: page-locked host memory the device can address.</summary>
    public const uint HostAllocDeviceMap = 2;

    /// <summary>Page-locked host memory of the current context (<c>cuMemHostAlloc</c>).</summary>
    [LibraryImport("libcuda.so.1", EntryPoint = "cuMemHostAlloc")]
    public static partial int HostAlloc(out IntPtr pointer, nuint bytes, uint flags);

    /// <summary>The device address of mapped host memory (<c>cuMemHostGetDevicePointer_v2</c>).</summary>
    [LibraryImport("libcuda.so.1", EntryPoint = "cuMemHostGetDevicePointer_v2")]
    public static partial int HostGetDevicePointer(out ulong devicePointer, IntPtr pointer, uint flags);

    /// <summary>Frees <see cref="HostAlloc"/>'s memory (<c>cuMemFreeHost</c>).</summary>
    [LibraryImport("libcuda.so.1", EntryPoint = "cuMemFreeHost")]
    public static partial int FreeHost(IntPtr pointer);

    /// <summary>A stream of the current context with <paramref name="priority"/>.</summary>
    [LibraryImport("libcuda.so.1", EntryPoint = "cuStreamCreateWithPriority")]
    public static partial int CreateStreamWithPriority(out IntPtr stream, uint flags, int priority);
}
