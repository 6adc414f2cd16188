using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace ForgeOne.IntegrationTests;

/// <summary>
/// The node process as a careless user starts it: every mistake ends in exit code 2 (or 4 for
/// a refusal that is not configuration) with the problems listed, within seconds, and never a
/// stack trace.
/// </summary>
[Trait("Category", "MultiProcess")]
public sealed class NodeStartupRefusalTests : IDisposable
{
    private readonly TempDir _dir = new();

    public static TheoryData<string, string[], string?, int, string> Mistakes() => new()
    {
        { "port not a number", ["--ForgeOne:Port=abc"], null, 2, "ForgeOne:Port 'abc' is not a whole number" },
        { "port from the environment", [], "abc", 2, "(from a FORGEONE__ environment variable)" },
        { "missing file", ["--config", "nothere.json"], null, 2, "nothere.json' does not exist" },
        { "malformed file", ["--config", "broken.json"], null, 2, "broken.json' could not be read" },
        { "misspelled keys", ["--ForgeOne:DataRute=x", "--ForgeOne:ShardCount:Logs=3"], null, 2, "did you mean ForgeOne:ShardCounts?" },
        { "friendly duration, checked only", ["--ForgeOne:Shards:PassivateIdleAfter=5min", "--check-config"], null, 0, "configuration is valid" },
    };

    [Theory]
    [MemberData(nameof(Mistakes))]
    public async Task Node_ConfigurationMistake_ExitsWithItsCode_AndNoStackTrace(string what, string[] args, string? portFromEnvironment, int expectedExit, string expectedText)
    {
        File.WriteAllText(Path.Combine(_dir.Path, "broken.json"), "{ \"ForgeOne\": { \"Port\": ");
        var environment = portFromEnvironment is null ? null : new Dictionary<string, string> { ["FORGEONE__PORT"] = portFromEnvironment };
        using var node = NodeProcess.Start(what, _dir.Path, args, environment);
        var exit = await node.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.True(exit == expectedExit, $"{what}: exit {exit}\n{node.Output}");
        Assert.Contains(expectedText, node.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", node.Output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "data")), "a refused node created its data root");
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "keys")), "a refused node created its keys directory");
    }

    [Fact]
    public async Task Node_OnAPortAnotherProcessHolds_ExitsWith4_NamingThePort()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture);
        using var node = NodeProcess.Start("second on the port", _dir.Path, [$"--ForgeOne:Port={port}"]);
        var exit = await node.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.True(exit == 4, $"exit {exit}\n{node.Output}");
        Assert.Contains($"127.0.0.1:{port} is already in use by another process", node.Output, StringComparison.Ordinal);
    }

    public void Dispose() => _dir.Dispose();
}
