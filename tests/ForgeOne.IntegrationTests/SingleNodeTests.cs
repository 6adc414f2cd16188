using ForgeOne.Common;
using ForgeOne.Storage;

namespace ForgeOne.IntegrationTests;

[Trait("Category", "MultiProcess")]
public sealed class SingleNodeTests : IDisposable
{
    private readonly TempDir _dir = new();
    private NodeProcess? _node;

    [Fact]
    public async Task Node_WithNoArguments_StartsReportsReadyAndStopsCleanlyOnSigterm()
    {
        // No arguments: only the port comes from the environment, so the test never collides
        // with a node someone runs on the default 4053.
        _node = NodeProcess.Start("single", _dir.Path, [], new Dictionary<string, string> { ["FORGEONE__PORT"] = NodeProcess.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture) });
        await _node.WaitReadyAsync(TimeSpan.FromSeconds(90));

        var keyFile = Path.Combine(_dir.Path, "keys", "bootstrap-admin.key");
        Assert.True(File.Exists(keyFile), _node.Output);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
        }

        Assert.Contains(keyFile, _node.Output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_dir.Path, "data", "system", "shard-0000.mdb")));
        // The singletons start right after readiness; their SQLite journal lives in the data root.
        await _node.WaitForOutputAsync("Audit sealer recovered", TimeSpan.FromSeconds(60));
        Assert.True(File.Exists(Path.Combine(_dir.Path, "data", "singletons.db")), _node.Output);

        _node.Terminate();
        var exitCode = await _node.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.True(exitCode == 0, $"exit code {exitCode}:\n{_node.Output}");
        Assert.Contains("Shard system-0 handed off: file closed", _node.Output, StringComparison.Ordinal);

        // The file was closed consistently: it opens, still knows its shard count record, and its
        // API-key store holds the bootstrap key's record (a salted hash, never the key).
        using var store = ShardStore.Open(new ShardStoreOptions(Path.Combine(_dir.Path, "data"), ShardKind.System, 0, 1));
        Assert.Equal(ShardKind.System, store.Meta.Kind);
        Assert.True(store.Read(txn => txn.Count(Tables.Metadata)) >= 1);
        Assert.Equal(1, store.Read(txn => txn.Count(Tables.ApiKeys)));
        var key = File.ReadAllText(keyFile).Trim();
        Assert.DoesNotContain(key, _node.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Node_WithInvalidConfiguration_RefusesToStartWithClearErrors()
    {
        _node = NodeProcess.Start("invalid", _dir.Path, ["--ForgeOne:Port=99999", "--ForgeOne:Roles:0=chef"]);
        var exitCode = await _node.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(2, exitCode);
        Assert.Contains("ForgeOne:Port 99999", _node.Output, StringComparison.Ordinal);
        Assert.Contains("'chef' is unknown", _node.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Node_WithDifferentShardCount_RefusesToStart()
    {
        var port = NodeProcess.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        _node = NodeProcess.Start("first", _dir.Path, [$"--ForgeOne:Port={port}"]);
        await _node.WaitReadyAsync(TimeSpan.FromSeconds(90));
        _node.Terminate();
        Assert.Equal(0, await _node.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        _node.Dispose();

        _node = NodeProcess.Start("second", _dir.Path, [$"--ForgeOne:Port={port}", "--ForgeOne:ShardCounts:Logs=16"]);
        var exitCode = await _node.WaitForExitAsync(TimeSpan.FromSeconds(90));
        Assert.True(exitCode == 3, $"exit code {exitCode}:\n{_node.Output}");
        Assert.Contains("cluster.shard_count_mismatch", _node.Output, StringComparison.Ordinal);
        Assert.Contains("logs=8", _node.Output, StringComparison.Ordinal);
        _node.Dispose();

        // The same data with a keys directory that holds none of its keys: refused before a
        // fresh KEK or signing key is created there, with the setting to check named.
        _node = NodeProcess.Start("wrong keys", _dir.Path, [$"--ForgeOne:Port={port}", "--ForgeOne:KeysDirectory=./other-keys"]);
        exitCode = await _node.WaitForExitAsync(TimeSpan.FromSeconds(90));
        Assert.True(exitCode == 4, $"exit code {exitCode}:\n{_node.Output}");
        Assert.Contains("Set ForgeOne:KeysDirectory to the directory that holds this data's keys", _node.Output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "other-keys")), "the refused node created the keys directory");
    }

    public void Dispose()
    {
        _node?.Dispose();
        _dir.Dispose();
    }
}
