namespace ForgeOne.Edge.Tests;

/// <summary>The README's HTTP client example, run against the cluster: it does what it says.</summary>
[Collection(EdgeCollection.Name)]
public sealed class HttpClientSampleTests(EdgeFixture fx)
{
    [Fact]
    public async Task ReadmeHttpExample_RunsAgainstARealEdge()
    {
        var report = new byte[300_000];
        new Random(3).NextBytes(report);
        var copy = new MemoryStream();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await Samples.HttpClientExample.RunAsync(fx.Server.BaseAddress, fx.AdminKey, new MemoryStream(report), copy, timeout.Token);
        Assert.Equal(report, copy.ToArray());
    }
}
