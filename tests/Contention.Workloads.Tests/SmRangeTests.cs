using Contention.Workloads.Devices;

namespace Contention.Workloads.Tests;

public class SmRangeTests
{
    [Theory]
    [InlineData(0, 66, 0u, false)]
    [InlineData(0, 66, 65u, false)]
    [InlineData(0, 66, 66u, true)] // the first beyond a service's 66
    [InlineData(66, SmRange.Greatest, 65u, true)] // trainers keep off the service's
    [InlineData(66, SmRange.Greatest, 66u, false)]
    [InlineData(66, SmRange.Greatest, 131u, false)]
    [InlineData(10, 20, 9u, true)]
    [InlineData(10, 20, 19u, false)]
    [InlineData(10, 20, 20u, true)]
    public void Outside_ThePackedBounds_AsTheKernelsReadThem(int from, int to, uint sm, bool outside) =>
        Assert.Equal(outside, SmRange.Outside(new SmRange(from, to).Packed, sm));

    [Fact]
    public void All_KeepsNoMultiprocessorOff()
    {
        Assert.True(SmRange.All.IsAll);
        Assert.False(SmRange.Outside(SmRange.All.Packed, 0));
        Assert.False(SmRange.Outside(SmRange.All.Packed, 131));
        Assert.Equal(0, SmRange.All.OutsideOf(132));
        Assert.False(SmRange.First(132).IsAll);
    }

    [Theory]
    [InlineData(0, 66, 132, 66)]
    [InlineData(66, SmRange.Greatest, 132, 66)]
    [InlineData(32, SmRange.Greatest, 132, 32)]
    [InlineData(0, 200, 132, 0)] // a range wider than the GPU keeps none off
    [InlineData(140, SmRange.Greatest, 132, 132)] // one past the GPU holds none of it
    [InlineData(10, 20, 132, 122)]
    public void OutsideOf_CountsTheGpusMultiprocessorsTheRangeLeavesOut(int from, int to, int sms, int expected) =>
        Assert.Equal(expected, new SmRange(from, to).OutsideOf(sms));

    [Theory]
    [InlineData(-1, 10)]
    [InlineData(10, 10)]
    [InlineData(10, 5)]
    [InlineData(0, SmRange.Greatest + 1)]
    public void Constructor_AnEmptyOrNegativeRange_IsRefused(int from, int to) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new SmRange(from, to));

    [Fact]
    public void Describe_NamesTheFirstAndLastInside() =>
        Assert.Equal(["SMs 0-65", "SMs 66-131"], [SmRange.First(66).Describe(132), SmRange.AfterFirst(66).Describe(132)]);
}
