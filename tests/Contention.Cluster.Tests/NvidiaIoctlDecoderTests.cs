using Contention.Tracer.Bpf;
using Contention.Tracer.Nvidia;

namespace Contention.Cluster.Tests;

public class NvidiaIoctlDecoderTests
{
    // Recorded on the H100 host: Samples/h100-ioctls.txt (helper lines) and its /proc/devices.
    private static readonly NvidiaDevices H100 = NvidiaDevices.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Samples", "h100-proc-devices.txt")));

    private static IReadOnlyList<IoctlCounters> Samples() =>
        BpfSnapshotParser.Parse(File.ReadLines(Path.Combine(AppContext.BaseDirectory, "Samples", "h100-ioctls.txt")).Where(l => !l.StartsWith('#'))).Ioctls;

    [Fact]
    public void Parse_ProcDevicesOfH100Host_FindsUvmAndCapsMajors()
    {
        Assert.Equal(238, H100.Uvm);
        Assert.Equal("nvidia-caps", H100.Others[241]);
        Assert.Equal(("nvidiactl", "nvidia0", "nvidia-uvm", "nvidia-uvm-tools"), (H100.Name(195, 255), H100.Name(195, 0), H100.Name(238, 0), H100.Name(238, 1)));
        Assert.Null(H100.Name(1, 3));
    }

    [Fact]
    public void Decode_H100Samples_EveryNvidiaKindGetsADeviceAndNothingIsDropped()
    {
        var samples = Samples();

        Assert.True(samples.Count > 150, $"only {samples.Count} samples");
        foreach (var sample in samples)
        {
            var decoded = NvidiaIoctlDecoder.Decode(sample, H100);
            Assert.Equal(sample.Major is 195 or 238, decoded.Nvidia);
            Assert.False(string.IsNullOrWhiteSpace(decoded.Operation));
            if (sample.Escape is 0x2A or 0x2B)
            {
                // Every RM control and alloc keeps its code: a name, or the hex value.
                Assert.NotEqual("", decoded.Detail);
            }
        }
    }

    [Theory]
    [InlineData("ioctl 1 0 195:255 0xc020462a 0x2a 32 0x20800110 8 0 68000 8", "nvidiactl", "NV_ESC_RM_CONTROL NV2080_CTRL_CMD_GPU_GET_NAME_STRING")]
    [InlineData("ioctl 1 0 195:255 0xc030462b 0x2b 48 0xc86f 20 0 14407000 20", "nvidiactl", "NV_ESC_RM_ALLOC HOPPER_CHANNEL_GPFIFO_A")]
    [InlineData("ioctl 1 0 195:255 0xc020462b 0x2b 32 0x3e 1 0 1000 1", "nvidiactl", "NV_ESC_RM_ALLOC NV01_MEMORY_SYSTEM")]
    [InlineData("ioctl 1 0 195:255 0xc020462a 0x2a 32 0x20809001 6 0 683000 6", "nvidiactl", "NV_ESC_RM_CONTROL NV2080 0x20809001")]
    [InlineData("ioctl 1 0 195:255 0xc030462b 0x2b 48 0xbeef 1 0 1 1", "nvidiactl", "NV_ESC_RM_ALLOC class 0xbeef")]
    [InlineData("ioctl 1 0 195:0 0xc00446c9 0xc9 4 - 13 0 16000 13", "nvidia0", "NV_ESC_REGISTER_FD")]
    [InlineData("ioctl 1 0 195:255 0xc01046d3 0x2a 32 0x20800102 1 0 1 1", "nvidiactl", "NV_ESC_RM_CONTROL (xfer) NV2080_CTRL_CMD_GPU_GET_INFO_V2")]
    [InlineData("ioctl 1 0 195:255 0xc020462a 0x2a 32 ? 1 0 1 1", "nvidiactl", "NV_ESC_RM_CONTROL (parameters unreadable)")]
    [InlineData("ioctl 1 0 195:255 0xc00446f0 0xf0 4 - 1 0 1 1", "nvidiactl", "NV_ESC 0xf0")]
    [InlineData("ioctl 1 0 238:0 0x30000001 0x0 0 - 2 0 226000 2", "nvidia-uvm", "UVM_INITIALIZE")]
    [InlineData("ioctl 1 0 238:0 0x21 0x0 0 - 148 0 6246415 148", "nvidia-uvm", "UVM_MAP_EXTERNAL_ALLOCATION")]
    [InlineData("ioctl 1 0 238:0 0x7ff0 0x0 0 - 1 0 1 1", "nvidia-uvm", "0x7ff0")]
    [InlineData("ioctl 1 0 1:3 0x5401 0x0 0 - 12 12 4627 12", "dev 1:3", "TCGETS")]
    [InlineData("ioctl 1 0 0:0 0xdeadbeef 0x0 0 - 1 1 1 1", "-", "0xdeadbeef")]
    public void Decode_OneKind_NamesDeviceAndCodes(string line, string device, string name)
    {
        var ioctl = BpfSnapshotParser.Parse([line]).Ioctls.Single();

        var decoded = NvidiaIoctlDecoder.Decode(ioctl, H100);

        Assert.Equal((device, name), (decoded.Device, decoded.Name));
    }

    [Fact]
    public void Decode_H100PyTorchStartup_NamesTheRuntimeLifecycle()
    {
        var names = Samples().Where(s => s.Root == 4242).Select(s => NvidiaIoctlDecoder.Decode(s, H100).Name).ToHashSet();

        // Context creation, channels, memory registration: what the OS sees of CUDA start-up.
        Assert.Contains("NV_ESC_RM_ALLOC NV01_ROOT", names);
        Assert.Contains("NV_ESC_RM_ALLOC HOPPER_COMPUTE_A", names);
        Assert.Contains("NV_ESC_RM_ALLOC HOPPER_CHANNEL_GPFIFO_A", names);
        Assert.Contains("UVM_REGISTER_CHANNEL", names);
        Assert.Contains("NV_ESC_RM_CONTROL NV503C_CTRL_CMD_REGISTER_VIDMEM", names);
    }
}
