using Contention.Workloads.Kernels;

namespace Contention.Workloads.Tests;

public sealed class KernelPartsTests
{
    [Theory]
    [InlineData(10, 3, 1)]
    [InlineData(10_007, 7, 256)]
    [InlineData(5, 8, 1)] // more parts than units: the last three are empty
    [InlineData(1, 1, 1)]
    [InlineData(0, 2, 1)]
    [InlineData(1_000, 4, 300)] // a short last chunk
    public void Range_PartsCoverEveryUnitOnce_InOrder_InWholeChunks(long units, int parts, long chunk)
    {
        var seen = new int[units];
        var previousEnd = 0L;
        for (var part = 0; part < parts; part++)
        {
            var (from, to) = KernelParts.Range(units, part, parts, chunk);
            Assert.Equal(previousEnd, from);
            Assert.True(to >= from);
            Assert.True(from % chunk == 0, $"part {part} starts at {from}, inside a chunk of {chunk}");
            for (var u = from; u < to; u++)
            {
                seen[u]++;
            }

            previousEnd = to;
        }

        Assert.Equal(units, previousEnd);
        Assert.All(seen, count => Assert.Equal(1, count));
    }

    [Fact]
    public void Range_SharesChunksAsEvenlyAsCanBe_TheFirstTakingOneMore()
    {
        var sizes = Enumerable.Range(0, 3).Select(p => KernelParts.Range(10, p, 3)).Select(r => r.To - r.From);

        Assert.Equal([4L, 3L, 3L], sizes);
    }

    [Fact]
    public void Range_BadArguments_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => KernelParts.Range(10, 3, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => KernelParts.Range(10, 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => KernelParts.Range(10, 0, 1, 0));
    }
}
