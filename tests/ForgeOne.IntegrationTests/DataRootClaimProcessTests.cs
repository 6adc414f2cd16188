using System.Globalization;

namespace ForgeOne.IntegrationTests;

/// <summary>
/// Two clusters pointed at one data root, as real processes: the second is refused before it
/// opens a single shard (so it never fences the first, whose audit records all stay), and once
/// the first is killed its data root is free for its cluster to restart on.
/// </summary>
[Trait("Category", "MultiProcess")]
public sealed class DataRootClaimProcessTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly List<NodeProcess> _nodes = [];

    private NodeProcess Start(string name, int port)
    {
        var node = NodeProcess.Start(name, _dir.Path, [$"--ForgeOne:Port={port.ToString(CultureInfo.InvariantCulture)}"]);
        _nodes.Add(node);
        return node;
    }

    [Fact]
    public async Task ANodeOfAnotherCluster_OnALiveDataRoot_ExitsWith4_BeforeOpeningAShard()
    {
        var firstPort = NodeProcess.FreePort();
        var first = Start("first cluster", firstPort);
        await first.WaitReadyAsync(TimeSpan.FromSeconds(90));

        // Same working directory: same ./data and ./keys, but no seeds, so its own cluster.
        var other = Start("other cluster", NodeProcess.FreePort());
        var exit = await other.WaitForExitAsync(TimeSpan.FromSeconds(90));
        Assert.True(exit == 4, $"exit {exit}\n{other.Output}");
        Assert.Contains("cluster.data_root_in_use", other.Output, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{firstPort}", other.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("ForgeOne node ready", other.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", other.Output, StringComparison.Ordinal);
        Assert.False(first.HasExited, "the first cluster's node stopped");
        Assert.DoesNotContain("stale_owner", first.Output, StringComparison.Ordinal);

        // A crash releases the claim with the process: the cluster restarts on its data.
        first.Kill();
        await first.WaitForExitAsync(TimeSpan.FromSeconds(30));
        var restarted = Start("restarted", firstPort);
        await restarted.WaitReadyAsync(TimeSpan.FromSeconds(90));
    }

    public void Dispose()
    {
        foreach (var node in _nodes)
        {
            node.Dispose();
        }

        _dir.Dispose();
    }
}
