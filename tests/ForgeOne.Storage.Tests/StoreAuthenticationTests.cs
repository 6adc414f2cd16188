using System.Security.Cryptography;
using System.Text;
using ForgeOne.Common;
using LightningDB;

namespace ForgeOne.Storage.Tests;

/// <summary>
/// shard_meta and schema_history under a record MAC: a keyed step (<see cref="ShardStore.Migrate"/>)
/// moves a file to the authenticated schema; afterwards an edit made with a raw LMDB writer (which
/// can recompute the envelope checksum, but not the MAC) is refused when the MAC is attached.
/// </summary>
public sealed class StoreAuthenticationTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private ShardStoreOptions Options() => new(_dir.Path, ShardKind.Logs, 2, 4) { NoSync = true };

    /// <summary>An HMAC-SHA256 authenticator: the store does not care which MAC it is given.</summary>
    private sealed class TestMac(byte seed) : IRecordAuthenticator
    {
        private readonly byte[] _key = Enumerable.Repeat(seed, 32).ToArray();

        public int TagLength => 16;

        public void Compute(string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, Span<byte> tag) =>
            HMACSHA256.HashData(_key, (byte[])[.. Encoding.UTF8.GetBytes(table), 0, .. key, 0, .. value]).AsSpan(0, 16).CopyTo(tag);

        public bool Verify(string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ReadOnlySpan<byte> tag)
        {
            Span<byte> expected = stackalloc byte[16];
            Compute(table, key, value, expected);
            return CryptographicOperations.FixedTimeEquals(expected, tag);
        }
    }

    private sealed class Authenticate(ShardStore store) : IMigration
    {
        public int FromVersion => 1;

        public int ToVersion => 2;

        public string Description => "authenticate store records";

        public void Apply(IWriteTransaction txn) => store.TagStoreRecords(txn);
    }

    private ShardStore OpenAuthenticated(byte seed = 7)
    {
        var store = ShardStore.Open(Options());
        store.UseAuthenticator(new TestMac(seed));
        store.Migrate(new Authenticate(store));
        return store;
    }

    /// <summary>Rewrites one stored value the way an attacker with the file would: raw LightningDB, envelope recomputed.</summary>
    private void RawEdit(string table, byte[] key, Func<byte[], byte[]> edit)
    {
        using var env = new LightningEnvironment(ShardStore.PathFor(_dir.Path, ShardKind.Logs, 2), new EnvironmentConfiguration { MaxDatabases = 32, MapSize = 64 << 20 });
        env.Open(EnvironmentOpenFlags.NoSubDir);
        using var txn = env.BeginTransaction();
        using var db = txn.OpenDatabase(table);
        var (_, _, value) = txn.Get(db, key);
        var payload = value.CopyToNewArray()[RecordEnvelope.HeaderSize..];
        Assert.Equal(MDBResultCode.Success, txn.Put(db, key, RecordEnvelope.Wrap(key, edit(payload))));
        Assert.Equal(MDBResultCode.Success, txn.Commit());
    }

    [Fact]
    public void Migrate_TagsMetaAndHistory_InOneTransactionWithItsRecord()
    {
        AppliedMigration? recorded = null;
        using (var store = ShardStore.Open(Options()))
        {
            store.UseAuthenticator(new TestMac(7));
            Assert.True(store.Migrate(new Authenticate(store), (txn, m) =>
            {
                recorded = m;
                txn.Put(Tables.Audit, KeyCodec.UInt64(1), "migration audited"u8);
            }));
            Assert.False(store.Migrate(new Authenticate(store)));
            Assert.Equal(2, store.Meta.SchemaVersion);
        }

        Assert.Equal((1, 2), (recorded!.FromVersion, recorded.ToVersion));
        using var again = ShardStore.Open(Options());
        again.UseAuthenticator(new TestMac(7));
        Assert.Equal(2, again.Meta.SchemaVersion);
        Assert.Equal([(0, 1), (1, 2)], again.ReadSchemaHistory().Select(h => (h.FromVersion, h.ToVersion)));
        Assert.Equal("migration audited"u8.ToArray(), again.Read(r => r.Get(Tables.Audit, KeyCodec.UInt64(1))));
        again.ClaimOwnership("node-a", 1);
        Assert.True(again.CheckIntegrity().IsHealthy);
    }

    [Fact]
    public void EditedShardMeta_IsRefusedWhenTheMacIsAttached_NamingTableAndKey()
    {
        using (var store = OpenAuthenticated())
        {
            store.ClaimOwnership("node-a", 5);
        }

        // Lower the owner epoch so a stale node could claim the shard again.
        RawEdit(Tables.ShardMeta, "meta"u8.ToArray(), payload =>
        {
            payload[16] = 1;
            return payload;
        });

        using var reopened = ShardStore.Open(Options());
        Assert.Equal(1, reopened.Meta.Owner!.Epoch);
        var error = Assert.Throws<ForgeOneException>(() => reopened.UseAuthenticator(new TestMac(7)));
        Assert.Equal(ErrorCodes.CryptoTampered, error.Code);
        Assert.Equal(Tables.ShardMeta, error.Error.Details![ForgeOneError.TableDetail]);
        Assert.Equal(KeyCodec.ToHex("meta"u8), error.Error.Details[ForgeOneError.KeyDetail]);
        Assert.Equal("logs-0002", error.Error.Details[ForgeOneError.StoreDetail]);
        Assert.Contains("edited", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StrippedTags_AreRefused_AndAnotherShardsMacDoesNotVerify()
    {
        using (OpenAuthenticated())
        {
        }

        using (var other = ShardStore.Open(Options()))
        {
            Assert.Equal(ErrorCodes.CryptoTampered, Assert.Throws<ForgeOneException>(() => other.UseAuthenticator(new TestMac(8))).Code);
        }

        // Drop the tag of the first history row (and turn it back into the untagged encoding).
        RawEdit(Tables.SchemaHistory, KeyCodec.UInt64(1), payload => [1, .. payload[1..^16]]);
        using var store = ShardStore.Open(Options());
        var error = Assert.Throws<ForgeOneException>(() => store.UseAuthenticator(new TestMac(7)));
        Assert.Equal(Tables.SchemaHistory, error.Error.Details![ForgeOneError.TableDetail]);
        Assert.Contains("stripped", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnAuthenticatedFile_TakesNoUntaggedStoreWrites()
    {
        using (OpenAuthenticated())
        {
        }

        using var store = ShardStore.Open(Options());
        Assert.Throws<InvalidOperationException>(() => store.ClaimOwnership("node-a", 1));
    }

    [Fact]
    public void CorruptRecord_NamesStoreTableAndKeyInItsDetails()
    {
        using (var store = ShardStore.Open(Options()))
        {
            store.Write(w =>
            {
                w.Put(Tables.Logs, KeyCodec.UInt64(42), "payload"u8);
                return 0;
            });
        }

        using (var env = new LightningEnvironment(ShardStore.PathFor(_dir.Path, ShardKind.Logs, 2), new EnvironmentConfiguration { MaxDatabases = 32, MapSize = 64 << 20 }))
        {
            env.Open(EnvironmentOpenFlags.NoSubDir);
            using var txn = env.BeginTransaction();
            using var db = txn.OpenDatabase(Tables.Logs);
            var value = txn.Get(db, KeyCodec.UInt64(42)).value.CopyToNewArray();
            value[^1] ^= 0x01; // envelope checksum NOT recomputed
            txn.Put(db, KeyCodec.UInt64(42), value);
            txn.Commit();
        }

        using var reopened = ShardStore.Open(Options());
        var error = Assert.Throws<ForgeOneException>(() => reopened.Read(r => r.Get(Tables.Logs, KeyCodec.UInt64(42))));
        Assert.Equal(ErrorCodes.StorageCorruptRecord, error.Code);
        Assert.Equal(
            new Dictionary<string, string> { ["store"] = "logs-0002", ["table"] = "logs", ["key"] = KeyCodec.ToHex(KeyCodec.UInt64(42)) },
            error.Error.Details);
    }
}
