using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Security;
using ForgeOne.Cluster.Shards;
using ForgeOne.Cluster.Shards.Blobs;
using ForgeOne.Cluster.Shards.Logs;
using ForgeOne.Cluster.Shards.System;
using ForgeOne.Common.Model;
using ForgeOne.Common.Validation;
using ForgeOne.Security;
using ForgeOne.Storage;

namespace ForgeOne.Cluster.Tests;

/// <summary>A temp data root + keys directory, deleted on dispose.</summary>
public sealed class TempRoot : IDisposable
{
    public TempRoot()
    {
        Root = Path.Combine(Path.GetTempPath(), "forgeone-cluster-tests", Guid.NewGuid().ToString("N"));
        DataRoot = Path.Combine(Root, "data");
        KeysDirectory = Path.Combine(Root, "keys");
        Directory.CreateDirectory(DataRoot);
    }

    public string Root { get; }

    public string DataRoot { get; }

    public string KeysDirectory { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A child process may still be closing a file; temp space is cleaned by the OS.
        }
    }
}

public static class Callers
{
    public static readonly Caller Writer = new("alice", ["writer"], "acme", ["*"], 0);
    public static readonly Caller Reader = new("bob", ["reader"], "acme", ["*"], 0);
    public static readonly Caller Admin = new("root", ["admin"], null, ["*"], int.MaxValue);
    public static readonly Caller Nobody = new("mallory", ["reader"], "acme", ["*"], 0);
}

public static class TestHosts
{
    public static ShardHost Create(string dataRoot, string keysDirectory, ShardCounts? counts = null, Action<ShardOptions>? tune = null)
    {
        var options = new ShardOptions { NoSync = true };
        tune?.Invoke(options);
        var kek = new FileKekProvider(keysDirectory, dataRoot);
        return new ShardHost(
            dataRoot,
            counts ?? new ShardCounts(4, 2, 2),
            options,
            new ShardSecurityFactory(kek, new PolicyAccess(), TimeProvider.System),
            new Dictionary<ShardKind, IShardHandler> { [ShardKind.Logs] = new LogShardHandler(), [ShardKind.System] = new SystemShardHandler(), [ShardKind.Blobs] = new BlobShardHandler() },
            TimeProvider.System,
            Limits.Default);
    }

    public static LogProtocol.LogInput Entry(string message = "hello", int bytes = 0) =>
        new(DateTimeOffset.UtcNow, Severity.Info, bytes > 0 ? new string('x', bytes) : message);
}
