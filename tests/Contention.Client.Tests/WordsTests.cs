using Contention.Grains;

namespace Contention.Client.Tests;

public class WordsTests
{
    [Fact]
    public void Word_EveryValue_IsItsLowerCaseNameAndParsesBack()
    {
        Assert.Equal(["training", "inference", "microbench", "command", "replay"], Words.All<TenantKind>());
        Assert.Equal(["spin", "yield", "block"], Words.All<SyncMode>());
        Assert.Equal(["process", "thread"], Words.All<Isolation>());
        Assert.Equal(["warmup", "measure"], Words.All<MeasurementPhase>());
        Assert.Equal(["full", "exact", "counts", "off"], Words.All<EbpfMode>());
        Assert.All(Enum.GetValues<TenantKind>(), k => Assert.Equal(k, Words.Parse<TenantKind>(k.Word())));
        Assert.All(Enum.GetValues<SyncMode>(), k => Assert.Equal(k, Words.Parse<SyncMode>(k.Word().ToUpperInvariant())));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1")]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("spin,yield")]
    [InlineData(" spin")]
    public void TryParse_NotAWord_IsFalse(string? text)
    {
        Assert.False(Words.TryParse<SyncMode>(text, out _));
        Assert.Contains("spin, yield, block", Assert.Throws<FormatException>(() => Words.Parse<SyncMode>(text)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Word_UndefinedValue_FallsBackToTheNumber()
    {
        Assert.Equal("7", ((SyncMode)7).Word());
    }
}
