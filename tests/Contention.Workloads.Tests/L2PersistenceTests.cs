using Contention.Workloads.Devices;

namespace Contention.Workloads.Tests;

/// <summary>A latency-sensitive tenant's weights persisting in the L2 (experimental, CONTENTION_L2_PERSIST).</summary>
public class L2PersistenceTests
{
    [Theory]
    [InlineData(null, 0)]
    [InlineData("", 0)]
    [InlineData("25", 25)]
    [InlineData(" 100 ", 100)]
    [InlineData("1", 1)]
    public void Parse_UnsetOrAWholePercentage(string? text, int expected) =>
        Assert.Equal(expected, L2Persistence.Parse(text));

    [Theory]
    [InlineData("0")]
    [InlineData("101")]
    [InlineData("12.5")]
    [InlineData("-3")]
    [InlineData("most")]
    public void Parse_NotAWholePercentage_SaysWhatTheVariableWants(string text)
    {
        var error = Assert.Throws<InvalidOperationException>(() => L2Persistence.Parse(text));

        Assert.StartsWith($"CONTENTION_L2_PERSIST={text}: expected the percentage", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    // The MLP's 4 MB of weights in 15 MB set aside: all of their accesses persisting.
    [InlineData(4L << 20, 15L << 20, 128L << 20, 4L << 20, 1.0f)]
    // More weights than the set-aside: as many accesses persist as fit.
    [InlineData(40L << 20, 10L << 20, 128L << 20, 40L << 20, 0.25f)]
    // More than one window covers: the window's length, and the share of it that fits.
    [InlineData(256L << 20, 32L << 20, 128L << 20, 128L << 20, 0.25f)]
    // Nothing set aside: nothing persists.
    [InlineData(4L << 20, 0L, 128L << 20, 4L << 20, 0f)]
    public void Window_AsMuchAsOneWindowCoversPersistingAsFarAsTheSetAsideHolds(long weights, long setAside, long maxWindow, long bytes, float hitRatio) =>
        Assert.Equal((bytes, hitRatio), L2Persistence.Window(weights, setAside, maxWindow));

    [GpuFact]
    public void CudaDevice_LatencySensitiveAskedWithoutMps_SaysNoneIsSetAside()
    {
        // Outside an MPS daemon nothing sets L2 aside here: the device says its weights do not persist, and runs.
        var before = Environment.GetEnvironmentVariable(L2Persistence.Variable);
        Environment.SetEnvironmentVariable(L2Persistence.Variable, "25");
        try
        {
            using var device = new CudaDevice(new DeviceOptions { Id = DeviceId.Parse("cuda:0"), HighPriorityStream = true, SyncMode = SyncMode.Block });
            var request = Workloads.ModelShapes.InferenceRequest("mlp", 1);
            device.Prepare(request);
            foreach (var kernel in request)
            {
                device.Launch(kernel);
            }

            device.Synchronize();
            Assert.True(
                device.Description.Contains("none of it is set aside", StringComparison.Ordinal) || device.Description.Contains("its weights persisting in the L2", StringComparison.Ordinal),
                device.Description);
        }
        finally
        {
            Environment.SetEnvironmentVariable(L2Persistence.Variable, before);
        }
    }
}
