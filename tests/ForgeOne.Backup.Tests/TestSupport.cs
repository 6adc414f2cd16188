using System.Buffers.Binary;
using System.Security.Cryptography;
using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage;
using Microsoft.Extensions.Time.Testing;

namespace ForgeOne.Backup.Tests;

/// <summary>A temp folder with a data root, a keys directory and two region targets; deleted on dispose.</summary>
public sealed class BackupWorld : IDisposable
{
    public static readonly int[] Counts = [2, 1, 1];

    public BackupWorld()
    {
        Root = Directory.CreateTempSubdirectory("forgeone-backup-").FullName;
        Data = Path.Combine(Root, "data");
        Keys = Path.Combine(Root, "keys");
        Kek = new FileKekProvider(Keys, Data);
        Signer = AuditSigner.LoadOrCreate(Keys, Data);
        Targets = [new BackupTarget(new BackupTargetOptions("eu-west", Path.Combine(Root, "region-a"))), new BackupTarget(new BackupTargetOptions("us-east", Path.Combine(Root, "region-b")))];
        Repository = new BackupRepository(Targets, Signer.ExportPublicKeyPem());
        Shards =
        [
            TestShard.Create(Data, new ShardRef(null, ShardKind.System, 0), 1, Kek, Time),
            TestShard.Create(Data, new ShardRef(null, ShardKind.Logs, 0), 2, Kek, Time),
            TestShard.Create(Data, new ShardRef(null, ShardKind.Logs, 1), 2, Kek, Time),
            TestShard.Create(Data, new ShardRef(null, ShardKind.Blobs, 0), 1, Kek, Time),
            TestShard.Create(Data, new ShardRef("eu", ShardKind.Events, 0), 1, Kek, Time),
        ];
    }

    public string Root { get; }

    public string Data { get; }

    public string Keys { get; }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));

    public FileKekProvider Kek { get; }

    public AuditSigner Signer { get; }

    public BackupTarget[] Targets { get; }

    public BackupRepository Repository { get; }

    public TestShard[] Shards { get; }

    public IReadOnlyDictionary<ShardRef, IShardStore> Stores => Shards.ToDictionary(s => s.Ref, s => (IShardStore)s.Store);

    public BackupManifest Backup(BackupManifest? parent = null)
    {
        Time.Advance(TimeSpan.FromMinutes(5));
        return InProcessBackup.Run(Stores, parent, Kek, Signer, Targets, "cluster-test", Counts, Time);
    }

    /// <summary>Every shard's content now, table by table.</summary>
    public Dictionary<string, Dictionary<string, string>> Contents() => Shards.ToDictionary(s => s.Ref.Name, s => s.Contents(s.Store));

    public string RestoreTo(string backupId, IReadOnlyList<string>? regions = null)
    {
        var destination = Path.Combine(Root, "restored-" + Guid.NewGuid().ToString("N"));
        Restorer.RestoreInto(destination, Repository.Chain(backupId, regions), Repository, Kek, regions);
        return destination;
    }

    public Dictionary<string, Dictionary<string, string>> ContentsAt(string root) =>
        Shards.ToDictionary(s => s.Ref.Name, s =>
        {
            using var store = ShardStore.Open(new ShardStoreOptions(s.Ref.DataRootUnder(root), s.Ref.Kind, s.Ref.Shard, s.Count) { NoSync = true });
            return s.Contents(store);
        });

    public void Dispose()
    {
        foreach (var shard in Shards)
        {
            shard.Dispose();
        }

        Signer.Dispose();
        foreach (var dir in Directory.EnumerateDirectories(Root, "*", SearchOption.AllDirectories))
        {
            File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        Directory.Delete(Root, recursive: true);
    }
}

/// <summary>
/// A shard file written the way the cluster writes one: a keyring wrapped by the KEK in
/// <c>keys</c>, AES-GCM records bound to store, table and key, and one audit record per write in
/// the same transaction.
/// </summary>
public sealed class TestShard : IDisposable
{
    private readonly RecordCipher _cipher;
    private AuditChain _chain;
    private ulong _nextId = 1;

    private TestShard(ShardRef shard, int count, ShardStore store, RecordCipher cipher, AuditChain chain)
    {
        Ref = shard;
        Count = count;
        Store = store;
        _cipher = cipher;
        _chain = chain;
    }

    public ShardRef Ref { get; }

    public int Count { get; }

    public ShardStore Store { get; }

    public string Table => Drill.SampledTables(Ref.Kind)[0];

    public static TestShard Create(string dataRoot, ShardRef shard, int count, IKekProvider kek, TimeProvider time)
    {
        var store = ShardStore.Open(new ShardStoreOptions(shard.DataRootUnder(dataRoot), shard.Kind, shard.Shard, count) { NoSync = true });
        var ring = Keyring.Create(shard.StoreId, kek, time);
        var chain = new AuditChain(shard.StoreId);
        store.Write(w =>
        {
            w.Put(Tables.Keys, "keyring"u8, ring.Keyring.Serialize(kek));
            foreach (var e in ring.Events)
            {
                var record = chain.Append(e, "system");
                w.Put(Tables.Audit, KeyCodec.UInt64((ulong)record.Seq), AuditRecordCodec.Encode(record));
            }

            return 0;
        });
        return new TestShard(shard, count, store, new RecordCipher(ring.Keyring), chain);
    }

    /// <summary>Appends <paramref name="records"/> encrypted records of <paramref name="bytes"/> each, audited, in one transaction.</summary>
    public void Append(int records, int bytes = 200)
    {
        var chain = new AuditChain(_chain.Head);
        var next = _nextId;
        Store.Write(w =>
        {
            chain = new AuditChain(_chain.Head);
            next = _nextId;
            for (var i = 0; i < records; i++)
            {
                var key = new byte[8];
                BinaryPrimitives.WriteUInt64BigEndian(key, next++);
                w.Put(Table, key, _cipher.Encrypt(RandomNumberGenerator.GetBytes(bytes), new RecordContext(Ref.StoreId, Table, key)));
            }

            var record = chain.Append(DateTimeOffset.UnixEpoch, "writer", "test.append", Ref.StoreId, AuditOutcome.Success, $"{records}");
            w.Put(Tables.Audit, KeyCodec.UInt64((ulong)record.Seq), AuditRecordCodec.Encode(record));
            return 0;
        });
        _chain = chain;
        _nextId = next;
    }

    /// <summary>Deletes the oldest <paramref name="records"/> records (retention), audited.</summary>
    public void DeleteOldest(int records)
    {
        var chain = new AuditChain(_chain.Head);
        Store.Write(w =>
        {
            chain = new AuditChain(_chain.Head);
            foreach (var (key, _) in w.Scan(Table, [], [], limit: records))
            {
                w.Delete(Table, key);
            }

            var record = chain.Append(DateTimeOffset.UnixEpoch, "sweeper", "test.delete", Ref.StoreId, AuditOutcome.Success, $"{records}");
            w.Put(Tables.Audit, KeyCodec.UInt64((ulong)record.Seq), AuditRecordCodec.Encode(record));
            return 0;
        });
        _chain = chain;
    }

    public Dictionary<string, string> Contents(IShardStore store) =>
        store.Read(r => Tables.For(Ref.Kind).Where(t => !Tables.IsStoreManaged(t))
            .SelectMany(t => r.Scan(t, [], []).Select(kv => (Key: $"{t}/{Convert.ToHexString(kv.Key)}", Value: Convert.ToHexString(SHA256.HashData(kv.Value)))))
            .ToDictionary(x => x.Key, x => x.Value));

    public void Dispose()
    {
        _cipher.Dispose();
        Store.Dispose();
    }
}
