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

    /// <summary>A stream of the current context with <paramref name="priority"/>.</summary>
    [LibraryImport("libcuda.so.1", EntryPoint = "cuStreamCreateWithPriority")]
    public static partial int CreateStreamWithPriority(out IntPtr stream, uint flags, int priority);
}
