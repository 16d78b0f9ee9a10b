using Contention.Workloads.Devices;
using Contention.Workloads.Kernels;
using Contention.Workloads.Workloads;

namespace Contention.Workloads.Tests;

public class ModelShapesTests
{
    [Fact]
    public void Forward_ResNet50_HasItsPublishedCost()
    {
        var flops = ModelShapes.Forward("resnet50", 1).Where(k => k.Kind == KernelKind.Gemm).Sum(k => k.Flops);

        // ResNet-50 is ~4.1 GMAC (8.2 GFLOP) per 224×224 image; 53 convolutions and the classifier.
        Assert.InRange(flops / 1e9, 7.7, 8.6);
        Assert.Equal(54, ModelShapes.Layers("resnet50", 1).Count);
    }

    [Fact]
    public void TrainingStep_ScalesLinearlyWithBatch()
    {
        var one = ModelShapes.TrainingStep("resnet50", 1).Sum(k => k.Flops);
        var eight = ModelShapes.TrainingStep("resnet50", 8).Sum(k => k.Flops);

        // Weight updates do not scale with the batch; everything else does.
        Assert.InRange(eight / one, 7.9, 8.0);
    }

    [Fact]
    public void InferenceRequest_CopiesInputInAndLogitsOut()
    {
        var request = ModelShapes.InferenceRequest("resnet50", 4);

        Assert.Equal(KernelSpec.CopyToDevice(4L * 3 * 224 * 224), request[0]);
        Assert.Equal(KernelSpec.CopyToHost(4L * 1000), request[^1]);
    }

    [Fact]
    public void Layers_UnknownModel_ListsTheKnownOnes()
    {
        var error = Assert.Throws<ArgumentException>(() => ModelShapes.Layers("vgg", 1));

        Assert.Contains("resnet50", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("cpu", DeviceKind.Cpu, 0)]
    [InlineData("cuda", DeviceKind.Cuda, 0)]
    [InlineData("cuda:3", DeviceKind.Cuda, 3)]
    [InlineData("SIM:1", DeviceKind.Sim, 1)]
    public void DeviceId_Parse_ReadsKindAndIndex(string text, DeviceKind kind, int index) =>
        Assert.Equal(new DeviceId(kind, index), DeviceId.Parse(text));

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:-1")]
    [InlineData("cpu:1")]
    [InlineData("sim:1:2")]
    public void DeviceId_TryParse_RejectsNonDevices(string text) => Assert.False(DeviceId.TryParse(text, out _));
}
