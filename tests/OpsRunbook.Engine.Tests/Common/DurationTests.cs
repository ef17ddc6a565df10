using OpsRunbook.Engine.Environments;

namespace OpsRunbook.Engine.Tests;

public class DurationTests
{
    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("5s", 5000)]
    [InlineData("1.5s", 1500)]
    [InlineData("10m", 600_000)]
    [InlineData("4h", 14_400_000)]
    [InlineData("30d", 2_592_000_000)]
    [InlineData("7", 7000)]
    public void Parses(string text, double ms)
    {
        Assert.True(Duration.TryParse(text, out var d, out _));
        Assert.Equal(ms, d.TotalMilliseconds);
    }

    [Theory]
    [InlineData("5 minutes")]
    [InlineData("-5s")]
    [InlineData("")]
    [InlineData("s")]
    public void Rejects_with_the_accepted_forms(string text)
    {
        Assert.False(Duration.TryParse(text, out _, out var error));
        Assert.Contains("500ms, 5s, 10m", error);
    }
}
