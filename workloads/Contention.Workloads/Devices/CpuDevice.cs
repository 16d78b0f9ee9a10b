using Contention.Workloads.Kernels;

namespace Contention.Workloads.Devices;

/// <summary>
/// The CPU execution model: kernels run as vectorised .NET code on the calling thread and the
/// thread pool, so a launch returns when the work is done and <see cref="Synchronize"/> has
/// nothing left to wait for.
/// </summary>
public sealed class CpuDevice : IDataDevice
{
    private readonly ParallelOptions parallel;
    private WorkspaceSize size;
    private float[] a = [];
    private float[] b = [];
    private float[] c = [];
    private float[] host = [];

    /// <summary>Opens the cpu device with the given options.</summary>
    public CpuDevice(DeviceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        SyncMode = options.SyncMode;
        var threads = options.CpuThreads > 0 ? options.CpuThreads : Environment.ProcessorCount;
        parallel = new ParallelOptions { MaxDegreeOfParallelism = threads };
        Description = $"cpu ({threads} threads, Vector<float> width {System.Numerics.Vector<float>.Count})";
    }

    /// <inheritdoc />
    public DeviceId Id => new(DeviceKind.Cpu, 0);

    /// <inheritdoc />
    public string Description { get; }

    /// <inheritdoc />
    /// <remarks>A CPU has no GPU time.</remarks>
    public long? KernelNs => null;

    /// <inheritdoc />
    public SyncMode SyncMode { get; }

    /// <inheritdoc />
    public void Prepare(IEnumerable<KernelSpec> kernels)
    {
        var need = WorkspaceSize.For(kernels);
        if (size.Covers(need))
        {
            return;
        }

        size = size.Union(need);
        a = Filled(size.A, 0.5f);
        b = Filled(size.B, 0.25f);
        c = new float[size.C];
        host = Filled(size.Host, 1f);
    }

    /// <inheritdoc />
    public void Launch(in KernelSpec kernel)
    {
        switch (kernel.Kind)
        {
            case KernelKind.Gemm:
                CpuKernels.Gemm(a, b, c, kernel.M, kernel.N, kernel.K, parallel);
                break;
            case KernelKind.Elementwise:
                CpuKernels.Elementwise(kernel.Op, a, b, c, kernel.Elements, parallel);
                break;
            case KernelKind.Reduce:
                c[0] = CpuKernels.Reduce(a, kernel.Elements, parallel);
                break;
            case KernelKind.CopyToDevice:
                host.AsSpan(0, (int)kernel.Elements).CopyTo(a);
                break;
            case KernelKind.CopyToHost:
                a.AsSpan(0, (int)kernel.Elements).CopyTo(host);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kernel), kernel.Kind, "unknown kernel kind");
        }
    }

    /// <inheritdoc />
    public void Synchronize()
    {
        // Work already ran inside Launch: the CPU model has no queue to drain.
    }

    /// <inheritdoc />
    public float[] Gemm(float[] a, float[] b, int m, int n, int k)
    {
        var result = new float[(long)m * n];
        CpuKernels.Gemm(a, b, result, m, n, k, parallel);
        return result;
    }

    /// <inheritdoc />
    public float[] Elementwise(ElementwiseOp op, float[] x, float[] y)
    {
        ArgumentNullException.ThrowIfNull(x);
        var z = new float[x.Length];
        CpuKernels.Elementwise(op, x, y, z, x.Length, parallel);
        return z;
    }

    /// <inheritdoc />
    public float Reduce(float[] x)
    {
        ArgumentNullException.ThrowIfNull(x);
        return CpuKernels.Reduce(x, x.Length, parallel);
    }

    /// <inheritdoc />
    public float[] RoundTrip(float[] x) => (float[])x.Clone();

    /// <inheritdoc />
    public void Release()
    {
        a = b = c = host = [];
        size = default;

        // The arrays are the runtime's to free: a full collection returns them now, so a grid's
        // teardown shows what freeing costs the CPU model (the .NET runtime's unmapping).
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
    }

    /// <inheritdoc />
    public void Dispose()
    {
    }

    private static float[] Filled(long length, float value)
    {
        var array = new float[length];
        Array.Fill(array, value);
        return array;
    }
}
