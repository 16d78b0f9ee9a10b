using Contention.Workloads.Kernels;

namespace Contention.Workloads.Workloads;

/// <summary>
/// Kernel sequences shaped like real models. Convolutions are lowered to implicit GEMMs
/// (M = batch·H_out·W_out, N = C_out, K = C_in·k_h·k_w), each followed by a fused
/// batch-norm + ReLU element-wise kernel, as cuDNN-backed frameworks run them.
/// </summary>
public static class ModelShapes
{
    /// <summary>The models known by name.</summary>
    public static IReadOnlyList<string> Names { get; } = ["resnet50", "mlp"];

    private readonly record struct Conv(int InChannels, int OutChannels, int KernelSize, int OutSize);

    /// <summary>The forward kernels of one inference request of <paramref name="batch"/> samples, with input and output copies.</summary>
    public static IReadOnlyList<KernelSpec> InferenceRequest(string model, int batch)
    {
        var input = IsMlp(model) ? (long)batch * MlpWidth : (long)batch * 3 * 224 * 224;
        var output = (long)batch * (IsMlp(model) ? MlpWidth : 1000);
        var kernels = new List<KernelSpec> { KernelSpec.CopyToDevice(input) };
        kernels.AddRange(Forward(model, batch));
        kernels.Add(KernelSpec.CopyToHost(output));
        return kernels;
    }

    /// <summary>The kernels of one training step: forward, backward (data and weight gradients) and the optimizer update.</summary>
    public static IReadOnlyList<KernelSpec> TrainingStep(string model, int batch)
    {
        var kernels = new List<KernelSpec>(Forward(model, batch));
        var layers = Layers(model, batch);
        for (var i = layers.Count - 1; i >= 0; i--)
        {
            var (m, n, k) = layers[i];
            kernels.Add(KernelSpec.Elementwise((long)m * n, Kernels.ElementwiseOp.Multiply));
            kernels.Add(KernelSpec.Gemm(k, n, m));
            if (i > 0)
            {
                kernels.Add(KernelSpec.Gemm(m, k, n));
            }
        }

        foreach (var (_, n, k) in layers)
        {
            kernels.Add(KernelSpec.Elementwise((long)k * n, Kernels.ElementwiseOp.Add));
        }

        return kernels;
    }

    /// <summary>The forward kernels for <paramref name="batch"/> samples.</summary>
    public static IReadOnlyList<KernelSpec> Forward(string model, int batch)
    {
        var kernels = new List<KernelSpec>();
        foreach (var (m, n, k) in Layers(model, batch))
        {
            kernels.Add(KernelSpec.Gemm(m, n, k));
            kernels.Add(KernelSpec.Elementwise((long)m * n));
        }

        return kernels;
    }

    /// <summary>GEMM shapes (M, N, K) of the model's layers, input to output.</summary>
    public static IReadOnlyList<(int M, int N, int K)> Layers(string model, int batch)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        if (IsMlp(model))
        {
            return [(batch, MlpWidth, MlpWidth), (batch, MlpWidth, MlpWidth), (batch, MlpWidth, MlpWidth), (batch, MlpWidth, MlpWidth)];
        }

        if (!string.Equals(model, "resnet50", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"unknown model '{model}': use one of {string.Join(", ", Names)}", nameof(model));
        }

        return ResNet50Convs().Select(c => (checked(batch * c.OutSize * c.OutSize), c.OutChannels, c.InChannels * c.KernelSize * c.KernelSize))
            .Append((batch, 1000, 2048))
            .ToList();
    }

    private const int MlpWidth = 1024;

    private static bool IsMlp(string model) => string.Equals(model, "mlp", StringComparison.OrdinalIgnoreCase);

    private static IEnumerable<Conv> ResNet50Convs()
    {
        yield return new Conv(3, 64, 7, 112);
        (int Blocks, int Width, int OutSize)[] stages = [(3, 64, 56), (4, 128, 28), (6, 256, 14), (3, 512, 7)];
        var inChannels = 64;
        var inSize = 56;
        foreach (var (blocks, width, outSize) in stages)
        {
            for (var block = 0; block < blocks; block++)
            {
                // torchvision's ResNet-50 v1.5: the stride sits on the 3x3 conv of the first block.
                var blockIn = block == 0 ? inSize : outSize;
                yield return new Conv(inChannels, width, 1, blockIn);
                yield return new Conv(width, width, 3, outSize);
                yield return new Conv(width, width * 4, 1, outSize);
                if (block == 0)
                {
                    yield return new Conv(inChannels, width * 4, 1, outSize);
                }

                inChannels = width * 4;
            }

            inSize = outSize;
        }
    }
}
