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

    /// <summary><c>CU_IPC_MEM_LAZY_ENABLE_PEER_ACCESS</c>, the flag <see cref="IpcOpenMemHandle"/> must be given.</summary>
    public const uint IpcLazyEnablePeerAccess = 1;

    /// <summary>The size of a <c>CUipcMemHandle</c>, bytes.</summary>
    public const int IpcHandleBytes = 64;

    /// <summary>A handle another process can open to the device allocation that <paramref name="devicePointer"/> starts (<c>cuIpcGetMemHandle</c>).</summary>
    [LibraryImport("libcuda.so.1", EntryPoint = "cuIpcGetMemHandle")]
    public static partial int IpcGetMemHandle(out IpcMemHandle handle, ulong devicePointer);

    /// <summary>Maps another process's allocation into the current context (<c>cuIpcOpenMemHandle_v2</c>).</summary>
    [LibraryImport("libcuda.so.1", EntryPoint = "cuIpcOpenMemHandle_v2")]
    public static partial int IpcOpenMemHandle(out ulong devicePointer, IpcMemHandle handle, uint flags);

    /// <summary>Unmaps what <see cref="IpcOpenMemHandle"/> mapped (<c>cuIpcCloseMemHandle</c>).</summary>
    [LibraryImport("libcuda.so.1", EntryPoint = "cuIpcCloseMemHandle")]
    public static partial int IpcCloseMemHandle(ulong devicePointer);

    /// <summary>Writes <paramref name="value"/> to device memory at <paramref name="address"/> when <paramref name="stream"/> reaches it, after the work queued before (<c>cuStreamWriteValue32_v2</c>, flags 0: with a memory barrier).</summary>
    [LibraryImport("libcuda.so.1", EntryPoint = "cuStreamWriteValue32_v2")]
    public static partial int StreamWriteValue32(IntPtr stream, ulong address, uint value, uint flags);

    /// <summary><c>CU_STREAM_WAIT_VALUE_GEQ</c>: wait until the word, less the value, is not negative as a signed 32-bit number (a counter that wraps).</summary>
    public const uint StreamWaitValueGreaterOrEqual = 0;

    /// <summary><c>CU_STREAM_WAIT_VALUE_EQ</c>: wait until the word equals the value.</summary>
    public const uint StreamWaitValueEqual = 1;

    /// <summary>Makes <paramref name="stream"/> wait, on the GPU, until the 32-bit word at <paramref name="address"/> compares to <paramref name="value"/> as <paramref name="flags"/> say; the work queued after it starts only then (<c>cuStreamWaitValue32_v2</c>).</summary>
    [LibraryImport("libcuda.so.1", EntryPoint = "cuStreamWaitValue32_v2")]
    public static partial int StreamWaitValue32(IntPtr stream, ulong address, uint value, uint flags);

    /// <summary>Creates a stream in the current context (<c>cuStreamCreate</c>).</summary>
    [LibraryImport("libcuda.so.1", EntryPoint = "cuStreamCreate")]
    public static partial int CreateStream(out IntPtr stream, uint flags);

    /// <summary>Waits until <paramref name="stream"/>'s work is done (<c>cuStreamSynchronize</c>).</summary>
    [LibraryImport("libcuda.so.1", EntryPoint = "cuStreamSynchronize")]
    public static partial int SynchronizeStream(IntPtr stream);

    /// <summary>Destroys <paramref name="stream"/> once its work is done (<c>cuStreamDestroy_v2</c>).</summary>
    [LibraryImport("libcuda.so.1", EntryPoint = "cuStreamDestroy_v2")]
    public static partial int DestroyStream(IntPtr stream);

    /// <summary>A <c>CUipcMemHandle</c>: 64 opaque bytes.</summary>
    [System.Runtime.CompilerServices.InlineArray(IpcHandleBytes)]
    public struct IpcMemHandle
    {
        private byte first;
    }

    /// <summary>A stream of the current context with <paramref name="priority"/>.</summary>
    [LibraryImport("libcuda.so.1", EntryPoint = "cuStreamCreateWithPriority")]
    public static partial int CreateStreamWithPriority(out IntPtr stream, uint flags, int priority);
}
