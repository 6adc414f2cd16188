using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Integrity;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Shards;
using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage;
using ForgeOne.Storage.Records;
using LightningDB;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Cluster.Tests.Tamper;

/// <summary>
/// The built-in migration from schema 1 (files written before record MACs and sealed audit
/// subjects: untagged index entries and high-water mark, format-1 audit records with plaintext
/// resources, untagged shard_meta and schema_history) to schema 2. The schema-1 file is built
/// byte for byte as the older code wrote it, with a raw LMDB writer.
/// </summary>
public sealed class AuthenticateMigrationSpec : TestKit, IDisposable
{
    private const string Topic = "orders";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private readonly TempRoot _root = new();
    private readonly ShardHost _host;
    private readonly ShardHost _gated;

    public AuthenticateMigrationSpec()
        : base(ConfigurationFactory.ParseString(ClusterConfig.ShardActorHocon), "authenticate-migration")
    {
        // _host runs pending migrations at open (the dev switch); _gated is a node's default.
        _host = TestHosts.Create(_root.DataRoot, _root.KeysDirectory, tune: o => o.MigrateAtOpen = true);
        _gated = TestHosts.Create(_root.DataRoot, _root.KeysDirectory);
    }

    void IDisposable.Dispose() => _root.Dispose();

    private IActorRef Start(ShardHost? host = null) => Sys.ActorOf(ShardActor.Props(host ?? _host, "logs-0", "test-node"));

    private void Stop(IActorRef shard)
    {
        Watch(shard);
        shard.Tell(ShardProtocol.HandOff.Instance);
        ExpectTerminated(shard, Wait);
    }

    private string FilePath => ShardStore.PathFor(_host.StoreOptions(ShardKind.Logs, 0).DataRoot, ShardKind.Logs, 0);

    /// <summary>Writes three entries with today's code, then rewrites the file into the schema-1 format.</summary>
    private List<RecordId> WriteSchemaOneFile()
    {
        var shard = Start();
        var ids = new List<RecordId>();
        for (var i = 0; i < 3; i++)
        {
            shard.Tell(new AppendLog(Callers.Writer, Topic, TestHosts.Entry($"old {i}")));
            ids.Add(ExpectMsg<LogAppended>(Wait).Id);
        }

        Stop(shard);

        // Format-1 audit records: every record but the migration's, resources in plaintext, re-chained from the genesis.
        List<AuditRecord> legacy;
        using (var store = ShardStore.Open(_host.StoreOptions(ShardKind.Logs, 0)))
        using (var security = _host.Security.Open(store, ShardKind.Logs, 0))
        {
            var current = store.Read(txn => txn.Scan(Tables.Audit, [], []).Select(kv => AuditRecordCodec.Decode(kv.Value)).ToList());
            var prev = AuditChain.Genesis("logs-0000").Hash;
            legacy = [];
            foreach (var r in current.Where(r => r.Action != "schema.migrate"))
            {
                var v1 = new AuditRecord(legacy.Count + 1, r.Time, r.Principal, r.Action, security.RevealAuditResource(r), r.Outcome, r.DetailHash, prev, new byte[32]);
                v1 = v1 with { Hash = AuditRecordCodec.ComputeHash(v1) };
                legacy.Add(v1);
                prev = v1.Hash;
            }
        }

        Raw(txn =>
        {
            using (var audit = txn.OpenDatabase(Tables.Audit))
            {
                Assert.Equal(MDBResultCode.Success, txn.TruncateDatabase(audit));
                foreach (var r in legacy)
                {
                    Put(txn, audit, KeyCodec.UInt64((ulong)r.Seq), AuditRecordCodec.Encode(r));
                }
            }

            using (var index = txn.OpenDatabase(Tables.LogIndex))
            {
                foreach (var key in Keys(txn, index))
                {
                    Put(txn, index, key, []);
                }
            }

            using var keys = txn.OpenDatabase(Tables.Keys);
            var hwm = Payload(txn, keys, ShardRecordVerifier.HighWaterMarkKey.ToArray());
            Put(txn, keys, ShardRecordVerifier.HighWaterMarkKey.ToArray(), hwm[..8]);
            using var meta = txn.OpenDatabase(Tables.ShardMeta);
            var old = ShardMeta.Decode(Payload(txn, meta, "meta"u8.ToArray())) with { SchemaVersion = 1 };
            Put(txn, meta, "meta"u8.ToArray(), old.Encode());
            using var history = txn.OpenDatabase(Tables.SchemaHistory);
            var created = SchemaHistoryEntry.Decode(KeyCodec.UInt64(1), Payload(txn, history, KeyCodec.UInt64(1)));
            Put(txn, history, KeyCodec.UInt64(1), created.Encode());
            Assert.Equal(MDBResultCode.Success, txn.Delete(history, KeyCodec.UInt64(2)));
        });
        return ids;
    }

    private void Raw(Action<LightningTransaction> edit)
    {
        using var env = new LightningEnvironment(FilePath, new EnvironmentConfiguration { MaxDatabases = 32, MapSize = 256L << 20 });
        env.Open(EnvironmentOpenFlags.NoSubDir);
        using var txn = env.BeginTransaction();
        edit(txn);
        Assert.Equal(MDBResultCode.Success, txn.Commit());
    }

    private static List<byte[]> Keys(LightningTransaction txn, LightningDatabase db)
    {
        using var cursor = txn.CreateCursor(db);
        var keys = new List<byte[]>();
        for (var (rc, key, _) = cursor.First(); rc == MDBResultCode.Success; (rc, key, _) = cursor.Next())
        {
            keys.Add(key.CopyToNewArray());
        }

        return keys;
    }

    private static byte[] Payload(LightningTransaction txn, LightningDatabase db, byte[] key) => txn.Get(db, key).value.CopyToNewArray()[RecordEnvelope.HeaderSize..];

    private static void Put(LightningTransaction txn, LightningDatabase db, byte[] key, byte[] payload) =>
        Assert.Equal(MDBResultCode.Success, txn.Put(db, key, RecordEnvelope.Wrap(key, payload)));

    [Fact]
    public void SchemaOneFile_IsMigratedAtOpen_RecordedInSchemaHistoryAndTheAuditChain_AndStaysReadableAndVerifiable()
    {
        var ids = WriteSchemaOneFile();
        using (var plain = ShardStore.Open(_host.StoreOptions(ShardKind.Logs, 0)))
        {
            Assert.Equal(1, plain.Meta.SchemaVersion);
            Assert.All(plain.Read(txn => txn.Scan(Tables.LogIndex, [], []).ToList()), kv => Assert.Empty(kv.Value));
        }

        var shard = Start();
        shard.Tell(new QueryLogs(Callers.Reader, Topic, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1)));
        Assert.Equal(["old 0", "old 1", "old 2"], ExpectMsg<LogPage>(Wait).Entries.Select(e => e.Message));
        shard.Tell(new AppendLog(Callers.Writer, Topic, TestHosts.Entry("new")));
        var added = ExpectMsg<LogAppended>(Wait).Id;
        Assert.True(added.Value > ids[^1].Value);
        shard.Tell(new ShardProtocol.ScrubNow(Callers.System, ShardKind.Logs, 0));
        Assert.Empty(ExpectMsg<ShardProtocol.ScrubReport>(Wait).Findings);
        Stop(shard);

        using (var store = ShardStore.Open(_host.StoreOptions(ShardKind.Logs, 0)))
        using (var security = _host.Security.Open(store, ShardKind.Logs, 0))
        {
            AssertMigrated(store, security);
        }

        var deep = OfflineIntegrity.Check(_host, ShardKind.Logs, 0);
        Assert.True(deep.IsHealthy, string.Join("; ", deep.Errors));
    }

    private static void AssertMigrated(ShardStore store, Cluster.Security.IShardSecurity security)
    {
        store.UseAuthenticator(security.Mac);
        Assert.Equal(2, store.Meta.SchemaVersion);
        var history = store.ReadSchemaHistory();
        Assert.Equal([(0, 1), (1, 2)], history.Select(h => (h.FromVersion, h.ToVersion)));
        Assert.Contains("record MAC", history[1].Description, StringComparison.Ordinal);
        var chain = store.Read(txn => txn.Scan(Tables.Audit, [], []).Select(kv => AuditRecordCodec.Decode(kv.Value)).ToList());
        Assert.True(AuditVerifier.Verify(chain, "logs-0000").IsValid);
        var migration = Assert.Single(chain, r => r.Action == "schema.migrate");
        Assert.Equal(AuditRecordCodec.FormatV2, migration.Format);
        // The schema-1 file's own records stay format 1; what today's code audits while the shard waits is format 2.
        Assert.All(chain.TakeWhile(r => r.Seq < migration.Seq && !r.Action.StartsWith("schema.", StringComparison.Ordinal)), r => Assert.Equal(AuditRecordCodec.FormatV1, r.Format));
        Assert.Contains(chain.TakeWhile(r => r.Seq < migration.Seq), r => r.Resource == $"logs/0/topic:{Topic}"); // old records keep their form: the chain hashes them
        Assert.All(store.Read(txn => txn.Scan(Tables.LogIndex, [], []).ToList()), kv => Assert.True(TaggedValue.TryOpen(security.Mac, Tables.LogIndex, kv.Key, kv.Value, out _)));
    }

    [Fact]
    public void SchemaOneFile_WithAForgedIndexEntry_IsNotBlessed_TheMigrationFailsAndTheFileStaysAtSchemaOne()
    {
        var ids = WriteSchemaOneFile();
        byte[] forged = [];
        Raw(txn =>
        {
            using var index = txn.OpenDatabase(Tables.LogIndex);
            var first = Keys(txn, index)[0];
            // Filed under the same topic but an hour earlier: a retention sweep would delete the entry it names.
            forged = RecordKeys.TopicIndex(first[..RecordKeys.TokenLength], DateTimeOffset.UtcNow.AddHours(-1), ids[2]);
            Put(txn, index, forged, []);
        });

        var shard = Start();
        shard.Tell(new GetLog(Callers.Reader, ids[0]));
        var failed = ExpectMsg<LogFailed>(Wait);
        Assert.Equal(ErrorCodes.StorageCorruptRecord, failed.Error.Code);
        Assert.Contains(KeyCodec.ToHex(forged), failed.Error.Message, StringComparison.Ordinal);
        Assert.Contains("stays at schema 1", failed.Error.Message, StringComparison.Ordinal);
        Stop(shard);
        using var store = ShardStore.Open(_host.StoreOptions(ShardKind.Logs, 0));
        Assert.Equal(1, store.Meta.SchemaVersion);
    }

    [Fact]
    public void SchemaOneFile_WaitsForSchemaMigrate_ServingNoData_ThenMigratesOnce_RecordedInHistoryAndChain_AndReadsTheSameRecords()
    {
        var ids = WriteSchemaOneFile();
        var shard = Start(_gated);
        shard.Tell(new QueryLogs(Callers.Reader, Topic, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1)));
        Assert.Equal(ErrorCodes.StorageMigrationPending, ExpectMsg<LogFailed>(Wait).Error.Code);
        shard.Tell(new AppendLog(Callers.Writer, Topic, TestHosts.Entry("refused")));
        Assert.Equal(ErrorCodes.StorageMigrationPending, ExpectMsg<LogFailed>(Wait).Error.Code);
        shard.Tell(new ShardProtocol.GetSchemaStatus(Callers.System, ShardKind.Logs, 0));
        var before = ExpectMsg<ShardProtocol.SchemaStatus>(Wait);
        Assert.Equal((1, 2), (before.Version, before.TargetVersion));
        Assert.Equal((1, 2), (Assert.Single(before.Pending).FromVersion, before.Pending[0].ToVersion));

        shard.Tell(new ShardProtocol.MigrateSchema(Callers.System, ShardKind.Logs, 0, 2, "root", "rehearsal=rh-test"));
        var migrated = ExpectMsg<ShardProtocol.SchemaMigrated>(Wait);
        Assert.Equal((1, 2, 1), (migrated.FromVersion, migrated.Version, migrated.Applied.Length));
        shard.Tell(new QueryLogs(Callers.Reader, Topic, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1)));
        Assert.Equal(["old 0", "old 1", "old 2"], ExpectMsg<LogPage>(Wait).Entries.Select(e => e.Message));
        shard.Tell(new GetLog(Callers.Reader, ids[1]));
        Assert.Equal("old 1", ExpectMsg<LogFound>(Wait).Entry.Message);
        shard.Tell(new AppendLog(Callers.Writer, Topic, TestHosts.Entry("new")));
        Assert.True(ExpectMsg<LogAppended>(Wait).Id.Value > ids[^1].Value);
        shard.Tell(new ShardProtocol.GetSchemaStatus(Callers.System, ShardKind.Logs, 0));
        var after = ExpectMsg<ShardProtocol.SchemaStatus>(Wait);
        Assert.Equal(2, after.Version);
        Assert.Empty(after.Pending);
        Assert.Equal([(0, 1), (1, 2)], after.History.Select(h => (h.FromVersion, h.ToVersion)));

        // A second migrate finds nothing to do and changes nothing.
        shard.Tell(new ShardProtocol.MigrateSchema(Callers.System, ShardKind.Logs, 0, 2, "root", "again"));
        Assert.Empty(ExpectMsg<ShardProtocol.SchemaMigrated>(Wait).Applied);
        Stop(shard);

        using var store = ShardStore.Open(_host.StoreOptions(ShardKind.Logs, 0));
        using var security = _host.Security.Open(store, ShardKind.Logs, 0);
        AssertMigrated(store, security);
        var chain = store.Read(txn => txn.Scan(Tables.Audit, [], []).Select(kv => AuditRecordCodec.Decode(kv.Value)).ToList());
        Assert.Equal("root", Assert.Single(chain, r => r.Action == "schema.migrate").Principal);
    }

    [Fact]
    public void AMigrationThatFailsMidway_LeavesTheFileAtSchemaOne_WithItsDataAndHistoryUnchanged()
    {
        WriteSchemaOneFile();
        var tables = new[] { Tables.Logs, Tables.LogIndex, Tables.Keys, Tables.SchemaHistory };
        var before = Dump(tables);
        var failing = _gated with { Migrations = (store, context) => [new FailsAfter(new AuthenticateRecordsMigration(store, context))] };
        var shard = Start(failing);
        shard.Tell(new ShardProtocol.MigrateSchema(Callers.System, ShardKind.Logs, 0, 2, "root", "rehearsal=rh-test"));
        var failed = ExpectMsg<ShardProtocol.ShardFailed>(Wait);
        Assert.Equal(ErrorCodes.StorageMigrationFailed, failed.Error.Code);
        Assert.Contains("stays at version 1", failed.Error.Message, StringComparison.Ordinal);
        shard.Tell(new ShardProtocol.GetSchemaStatus(Callers.System, ShardKind.Logs, 0));
        var status = ExpectMsg<ShardProtocol.SchemaStatus>(Wait);
        Assert.Equal(1, status.Version);
        Assert.Single(status.Pending);
        shard.Tell(new GetLog(Callers.Reader, RecordId.Create(1, 0, 0)));
        Assert.Equal(ErrorCodes.StorageMigrationPending, ExpectMsg<LogFailed>(Wait).Error.Code);
        Stop(shard);

        Assert.Equal(before, Dump(tables));
        using (var plain = ShardStore.Open(_host.StoreOptions(ShardKind.Logs, 0)))
        {
            Assert.Equal(1, plain.Meta.SchemaVersion);
            var chain = plain.Read(txn => txn.Scan(Tables.Audit, [], []).Select(kv => AuditRecordCodec.Decode(kv.Value)).ToList());
            Assert.DoesNotContain(chain, r => r.Action == "schema.migrate");
        }

        // Nothing half-written: the real migration still runs on the same file.
        var healthy = Start(_gated);
        healthy.Tell(new ShardProtocol.MigrateSchema(Callers.System, ShardKind.Logs, 0, 2, "root", "after the fix"));
        Assert.Equal(2, ExpectMsg<ShardProtocol.SchemaMigrated>(Wait).Version);
        healthy.Tell(new QueryLogs(Callers.Reader, Topic, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1)));
        Assert.Equal(["old 0", "old 1", "old 2"], ExpectMsg<LogPage>(Wait).Entries.Select(e => e.Message));
        Stop(healthy);
    }

    private Dictionary<string, string> Dump(string[] tables)
    {
        using var env = new LightningEnvironment(FilePath, new EnvironmentConfiguration { MaxDatabases = 32, MapSize = 256L << 20 });
        env.Open(EnvironmentOpenFlags.NoSubDir | EnvironmentOpenFlags.ReadOnly);
        using var txn = env.BeginTransaction(TransactionBeginFlags.ReadOnly);
        var dump = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var table in tables)
        {
            using var db = txn.OpenDatabase(table);
            using var cursor = txn.CreateCursor(db);
            var rows = new List<string>();
            for (var (rc, key, value) = cursor.First(); rc == MDBResultCode.Success; (rc, key, value) = cursor.Next())
            {
                rows.Add($"{Convert.ToHexString(key.AsSpan())}={Convert.ToHexString(value.AsSpan())}");
            }

            dump[table] = string.Join("\n", rows);
        }

        return dump;
    }

    /// <summary>Runs the real step (every entry rewritten in the transaction), then throws: a failure midway.</summary>
    private sealed class FailsAfter(IMigration inner) : IMigration
    {
        public int FromVersion => inner.FromVersion;

        public int ToVersion => inner.ToVersion;

        public string Description => inner.Description;

        public void Apply(IWriteTransaction txn)
        {
            inner.Apply(txn);
            throw new IOException("the disk went away after the entries were rewritten");
        }
    }
}
