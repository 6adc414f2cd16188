using ForgeOne.Cluster.Shards;
using ForgeOne.Common;
using ForgeOne.Storage;
using ForgeOne.Cluster.Shards.Blobs;

namespace ForgeOne.Cluster.Integrity;

/// <summary>
/// Schema 1 -> 2: everything a shard stores unencrypted gets the shard's record MAC. Index
/// entries (<c>log_index</c>, <c>event_index</c>, the name and content-type entries of
/// <c>blob_index</c>, <c>request_expiry</c>) and the id high-water mark gain a trailing tag;
/// <c>shard_meta</c> and <c>schema_history</c> move to their tagged encodings.
/// <para>
/// Nothing is tagged on trust: every index entry is first checked against the encrypted record
/// it points at (which the attacker cannot forge), and the high-water mark against the newest
/// stored id. So a file an attacker took back to schema 1 by hand (tags stripped, entries forged)
/// does not get its forgeries blessed: the migration fails naming the first bad entry, and the
/// shard refuses to open. Runs in one transaction (<see cref="ShardStore.Migrate"/>) with its
/// <c>schema_history</c> row and audit record. Entries already tagged (a file migrated, then
/// edited back to schema 1) are verified, not re-tagged blindly.
/// </para>
/// </summary>
public sealed class AuthenticateRecordsMigration : IMigration
{
    private readonly IShardStore _store;
    private readonly ShardContext _context;

    /// <summary>The step for one open shard; its store must have the shard's MAC attached.</summary>
    public AuthenticateRecordsMigration(IShardStore store, ShardContext context)
    {
        _store = store;
        _context = context;
    }

    /// <inheritdoc />
    public int FromVersion => 1;

    /// <inheritdoc />
    public int ToVersion => 2;

    /// <inheritdoc />
    public string Description => "authenticate unencrypted records: index entries, the id high-water mark, shard_meta and schema_history gain a record MAC";

    /// <summary>The tables whose entries carry a tag after this step, for a kind.</summary>
    public static IReadOnlyList<string> TaggedTables(ShardKind kind) => kind switch
    {
        ShardKind.Logs => [Tables.LogIndex, Tables.RequestExpiry],
        ShardKind.Events => [Tables.EventIndex, Tables.RequestExpiry],
        ShardKind.Blobs => [Tables.BlobIndex],
        _ => [],
    };

    /// <inheritdoc />
    public void Apply(IWriteTransaction txn)
    {
        var verifier = new ShardRecordVerifier(_context, null, null);
        var mac = _context.Security.Mac;
        foreach (var table in TaggedTables(_context.Kind))
        {
            // Materialized per page: the loop rewrites the entries it reads.
            var from = Array.Empty<byte>();
            while (true)
            {
                var page = txn.Scan(table, from, [], limit: 4096).ToList();
                foreach (var (key, value) in page)
                {
                    if (table == Tables.BlobIndex && key.Length > 0 && key[0] == BlobUpload.KeyKind)
                    {
                        continue; // upload progress: encrypted, not an index entry
                    }

                    var legacy = !TaggedValue.TryOpen(mac, table, key, value, out var tagged) ? value : tagged.ToArray();
                    if (verifier.CrossCheck(txn, table, key, legacy) is { } finding)
                    {
                        throw new ForgeOneException(new ForgeOneError(finding.Code, $"authenticating {_context.Security.ChainId}: {finding.Message}; the entry is not tagged and the shard stays at schema 1")
                            .At(finding.Store, finding.Table, finding.KeyHex ?? ""));
                    }

                    IndexEntries.Put(txn, _context.Security, table, key, legacy);
                }

                if (page.Count < 4096)
                {
                    break;
                }

                from = [.. page[^1].Key, 0];
            }
        }

        TagHighWaterMark(txn, verifier);
        _store.TagStoreRecords(txn);
    }

    private void TagHighWaterMark(IWriteTransaction txn, ShardRecordVerifier verifier)
    {
        var key = ShardRecordVerifier.HighWaterMarkKey.ToArray();
        if (txn.Get(Tables.Keys, key) is not { } stored)
        {
            return;
        }

        var value = stored.Length == 8 ? stored : TaggedValue.TryOpen(_context.Security.Mac, Tables.Keys, key, stored, out var opened) && opened.Length == 8 ? opened.ToArray() : null;
        if (value is null)
        {
            throw IndexEntries.Tampered(_context.Security, Tables.Keys, key);
        }

        // A value below the newest id would hand out ids that exist: take the newest instead.
        var hwm = KeyCodec.ReadUInt64(value);
        if (verifier.NewestId(txn) is { } newest && newest.Value > hwm)
        {
            hwm = newest.Value;
        }

        IndexEntries.Put(txn, _context.Security, Tables.Keys, key, KeyCodec.UInt64(hwm));
    }
}
