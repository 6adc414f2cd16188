using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Security;
using ForgeOne.Cluster.Shards;
using ForgeOne.Common.Model;
using ForgeOne.Common.Validation;
using ForgeOne.Security;

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

/// <summary>
/// The cluster authentication key every in-process test node shares, and tokens minted with it
/// (valid from 2020 to 2100, so fake clocks anywhere in between accept them).
/// </summary>
public static class TestAuth
{
    public static readonly AuthenticationKeyring Keys = AuthenticationKeyring.InMemory([.. Enumerable.Range(1, AuthenticationKeyring.KeyLength).Select(i => (byte)i)]);

    public static readonly DateTimeOffset From = new(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static readonly DateTimeOffset Until = new(2100, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>A node's security state over the shared key.</summary>
    public static NodeSecurity Node(TimeProvider? time = null, string name = "test-node") => new(Keys, time ?? TimeProvider.System, name);

    /// <summary>A token for <paramref name="principal"/>.</summary>
    public static PrincipalToken Token(Principal principal, string? credential = null, DateTimeOffset? expires = null) =>
        Keys.Sign(new TokenClaims(principal, credential ?? "test:" + principal.Id, From, expires ?? Until, Keys.ActiveVersion));

    /// <summary>A token for a principal given as plain values.</summary>
    public static PrincipalToken Token(string id, string[] roles, string? tenant, string[] regions, int clearance) =>
        Token(Principal.Of(id, roles, tenant, regions, clearance));

    /// <summary>What a token says (tests read it without verifying).</summary>
    public static Principal PrincipalOf(PrincipalToken token) =>
        PrincipalTokenCodec.TryDecode(token.Value, out var claims, out var error) ? claims!.Principal : throw new ArgumentException(error);
}

public static class Callers
{
    public static readonly PrincipalToken Writer = TestAuth.Token("alice", ["writer"], "acme", ["*"], 0);
    public static readonly PrincipalToken Reader = TestAuth.Token("bob", ["reader"], "acme", ["*"], 0);
    public static readonly PrincipalToken Admin = TestAuth.Token("root", ["admin"], null, ["*"], int.MaxValue);
    public static readonly PrincipalToken Nobody = TestAuth.Token("mallory", ["reader"], "acme", ["*"], 0);

    /// <summary>This test process's node principal (what singletons and sweeps run as).</summary>
    public static PrincipalToken System => TestAuth.Token(Principal.Of("node:test", ["node"], null, ["*"], 0));
}

public static class TestHosts
{
    /// <summary>A temp keys directory holding a dev cluster CA, as a storage node's first start leaves it (for clients that join nothing).</summary>
    public static TempRoot DevKeys()
    {
        var root = new TempRoot();
        ClusterCertificates.LoadOrCreateDev(root.KeysDirectory, null, "forgeone", ClusterCertificates.NodeFile, [], mayCreateCa: true, TimeProvider.System);
        return root;
    }

    public static ShardHost Create(string dataRoot, string keysDirectory, ShardCounts? counts = null, Action<ShardOptions>? tune = null, NodeSecurity? security = null)
    {
        var options = new ShardOptions { NoSync = true };
        tune?.Invoke(options);
        var kek = new FileKekProvider(keysDirectory, dataRoot);
        return new ShardHost(
            dataRoot,
            counts ?? new ShardCounts(4, 2, 2),
            options,
            new ShardSecurityFactory(kek, security ?? TestAuth.Node(), TimeProvider.System),
            ShardHandlers.CreateDefault(),
            TimeProvider.System,
            Limits.Default);
    }

    public static LogProtocol.LogInput Entry(string message = "hello", int bytes = 0) =>
        new(DateTimeOffset.UtcNow, Severity.Info, bytes > 0 ? new string('x', bytes) : message);
}

/// <summary>
/// A shard file with a hook between a write transaction's last write and its commit: a test
/// can hold a commit (to see that nothing is acknowledged before it) or make it fail (the
/// transaction aborts, as when the disk refuses the commit).
/// </summary>
public sealed class HookedStore(ForgeOne.Storage.IShardStore inner) : ForgeOne.Storage.IShardStore
{
    /// <summary>Runs on the writer's thread after the transaction's work and before its commit; throwing aborts it.</summary>
    public Action? BeforeCommit { get; set; }

    public ForgeOne.Storage.IShardStore Inner { get; } = inner;

    public ForgeOne.Storage.ShardMeta Meta => Inner.Meta;

    public string FilePath => Inner.FilePath;

    public long CommitCount => Inner.CommitCount;

    public T Write<T>(Func<ForgeOne.Storage.IWriteTransaction, T> work) => Inner.Write(txn =>
    {
        var result = work(txn);
        BeforeCommit?.Invoke();
        return result;
    });

    public T Read<T>(Func<ForgeOne.Storage.IReadTransaction, T> work) => Inner.Read(work);

    public void HotCopy(string destinationPath) => Inner.HotCopy(destinationPath);

    public ForgeOne.Storage.IntegrityReport CheckIntegrity() => Inner.CheckIntegrity();

    public ForgeOne.Storage.IntegrityReport CheckIntegrity(ForgeOne.Storage.IRecordCheck? deep) => Inner.CheckIntegrity(deep);

    public string Name => Inner.Name;

    public ForgeOne.Storage.IRecordAuthenticator? Authenticator => Inner.Authenticator;

    public void UseAuthenticator(ForgeOne.Storage.IRecordAuthenticator mac) => Inner.UseAuthenticator(mac);

    public bool Migrate(ForgeOne.Storage.IMigration migration, Action<ForgeOne.Storage.IWriteTransaction, ForgeOne.Storage.AppliedMigration>? record = null) => Inner.Migrate(migration, record);

    public void TagStoreRecords(ForgeOne.Storage.IWriteTransaction txn) => Inner.TagStoreRecords(txn);

    public bool CreatedByThisOpen => Inner.CreatedByThisOpen;

    public void ClaimOwnership(string nodeAddress, long epoch) => Inner.ClaimOwnership(nodeAddress, epoch);

    public void Dispose() => Inner.Dispose();
}

/// <summary>One open shard file handed to several shard actors (two owners of one file); closing is the test's job.</summary>
public sealed class SharedStore(ForgeOne.Storage.IShardStore inner) : ForgeOne.Storage.IShardStore
{
    public ForgeOne.Storage.ShardMeta Meta => inner.Meta;

    public string FilePath => inner.FilePath;

    public long CommitCount => inner.CommitCount;

    public T Write<T>(Func<ForgeOne.Storage.IWriteTransaction, T> work) => inner.Write(work);

    public T Read<T>(Func<ForgeOne.Storage.IReadTransaction, T> work) => inner.Read(work);

    public void HotCopy(string destinationPath) => inner.HotCopy(destinationPath);

    public ForgeOne.Storage.IntegrityReport CheckIntegrity() => inner.CheckIntegrity();

    public ForgeOne.Storage.IntegrityReport CheckIntegrity(ForgeOne.Storage.IRecordCheck? deep) => inner.CheckIntegrity(deep);

    public string Name => inner.Name;

    public ForgeOne.Storage.IRecordAuthenticator? Authenticator => inner.Authenticator;

    public void UseAuthenticator(ForgeOne.Storage.IRecordAuthenticator mac) => inner.UseAuthenticator(mac);

    public bool Migrate(ForgeOne.Storage.IMigration migration, Action<ForgeOne.Storage.IWriteTransaction, ForgeOne.Storage.AppliedMigration>? record = null) => inner.Migrate(migration, record);

    public void TagStoreRecords(ForgeOne.Storage.IWriteTransaction txn) => inner.TagStoreRecords(txn);

    public bool CreatedByThisOpen => inner.CreatedByThisOpen;

    public void ClaimOwnership(string nodeAddress, long epoch) => inner.ClaimOwnership(nodeAddress, epoch);

    public void Dispose()
    {
    }
}
