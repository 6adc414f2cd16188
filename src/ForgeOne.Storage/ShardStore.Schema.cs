using System.Collections.Frozen;
using ForgeOne.Common;
using LightningDB;

namespace ForgeOne.Storage;

public sealed partial class ShardStore
{
    /// <summary>
    /// The open transaction: opens every table handle, creates or checks <c>shard_meta</c>, and
    /// runs pending migrations, all in ONE write transaction. Any failure aborts it, so a
    /// refused or failed open leaves the file byte-for-byte as it was.
    /// </summary>
    private void Initialize(bool isNew, int targetVersion)
    {
        while (true)
        {
            using var txn = BeginOrThrow(TransactionBeginFlags.None);
            var writer = new WriteTransaction(this, txn) { AllowStoreManagedTables = true };
            ShardMeta meta;
            List<AppliedMigration> applied = [];
            try
            {
                _tables = OpenTables(txn, isNew);
                meta = isNew ? CreateMeta(writer, targetVersion) : CheckAndMigrate(writer, targetVersion, applied);
            }
            catch (Exception) when (writer.MapFull)
            {
                txn.Abort();
                writer.End();
                GrowMap();
                continue;
            }
            catch
            {
                txn.Abort();
                throw;
            }
            finally
            {
                writer.End();
            }

            if (writer.MapFull)
            {
                txn.Abort();
                GrowMap();
                continue;
            }

            // mdb_txn_commit frees the transaction whatever it returns: no Abort after it.
            var rc = txn.Commit();
            if (rc == MDBResultCode.MapFull)
            {
                GrowMap();
                continue;
            }

            LmdbErrors.ThrowOnError(rc, $"committing the open of {FilePath}");
            _meta = meta;
            AppliedMigrations = applied;
            return;
        }
    }

    private FrozenDictionary<string, LightningDatabase> OpenTables(LightningTransaction txn, bool isNew)
    {
        var tables = new Dictionary<string, LightningDatabase>(StringComparer.Ordinal);
        if (!isNew)
        {
            // Look for shard_meta without creating it: an LMDB file without one is not ours.
            try
            {
                tables[Tables.ShardMeta] = txn.OpenDatabase(Tables.ShardMeta, new DatabaseConfiguration { Flags = DatabaseOpenFlags.None }, closeOnDispose: false);
            }
            catch (LightningException e) when (LmdbErrors.StatusOf(e) == MDBResultCode.NotFound)
            {
                throw new ForgeOneException(ErrorCodes.StorageCorruptFile, $"{FilePath} is an LMDB file without a shard_meta table: not a ForgeOne shard file", e);
            }
        }

        foreach (var name in Tables.For(_options.Kind))
        {
            if (!tables.ContainsKey(name))
            {
                tables[name] = txn.OpenDatabase(name, new DatabaseConfiguration { Flags = DatabaseOpenFlags.Create }, closeOnDispose: false);
            }
        }

        return tables.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private ShardMeta CreateMeta(WriteTransaction writer, int targetVersion)
    {
        var meta = new ShardMeta(_options.Kind, _options.ShardNumber, _options.ShardCount, targetVersion, RecordEnvelope.CurrentFormat, Owner: null);
        writer.Put(Tables.ShardMeta, ShardMeta.Key, meta.Encode());
        AppendHistory(writer, 0, targetVersion, $"created {_options.Kind.FolderName()} shard {_options.ShardNumber} of {_options.ShardCount} at schema version {targetVersion}", _options.Time.GetUtcNow());
        return meta;
    }

    private ShardMeta CheckAndMigrate(WriteTransaction writer, int targetVersion, List<AppliedMigration> applied)
    {
        var stored = writer.Get(Tables.ShardMeta, ShardMeta.Key)
            ?? throw new ForgeOneException(ErrorCodes.StorageCorruptFile, $"{FilePath} has an empty shard_meta table");
        var meta = ShardMeta.Decode(stored);

        if (meta.Kind != _options.Kind || meta.ShardNumber != _options.ShardNumber || meta.ShardCount != _options.ShardCount)
        {
            throw new ForgeOneException(
                ErrorCodes.StorageWrongShard,
                $"{FilePath} belongs to {meta.Kind.FolderName()} shard {meta.ShardNumber} of {meta.ShardCount}, not {_options.Kind.FolderName()} shard {_options.ShardNumber} of {_options.ShardCount}");
        }

        // Every record carries its own format byte, so a file created under an older format
        // (format 1) stays readable and simply gains current-format records; a newer one is refused.
        if (meta.FormatVersion is 0 or > RecordEnvelope.CurrentFormat)
        {
            throw new ForgeOneException(ErrorCodes.StorageUnknownFormat, $"{FilePath} uses record format {meta.FormatVersion}; this code reads formats 1..{RecordEnvelope.CurrentFormat}");
        }

        if (meta.SchemaVersion > targetVersion)
        {
            throw new ForgeOneException(ErrorCodes.StorageNewerSchema, $"{FilePath} is at schema version {meta.SchemaVersion}; this code knows versions up to {targetVersion}. Upgrade the node.");
        }

        if (meta.SchemaVersion < ShardSchema.BaseVersion)
        {
            throw new ForgeOneException(ErrorCodes.StorageCorruptFile, $"{FilePath} records impossible schema version {meta.SchemaVersion}");
        }

        var now = _options.Time.GetUtcNow();
        foreach (var migration in _options.Migrations.Where(m => m.FromVersion >= meta.SchemaVersion))
        {
            try
            {
                migration.Apply(writer);
            }
            catch (Exception e) when (!writer.MapFull && e is not ForgeOneException { Code: ErrorCodes.StorageMigrationFailed })
            {
                throw new ForgeOneException(
                    ErrorCodes.StorageMigrationFailed,
                    $"{FilePath}: migration {migration.FromVersion} -> {migration.ToVersion} ({migration.Description}) failed; the file stays at version {meta.SchemaVersion}: {e.Message}",
                    e);
            }

            AppendHistory(writer, migration.FromVersion, migration.ToVersion, migration.Description, now);
            applied.Add(new AppliedMigration(migration.FromVersion, migration.ToVersion, migration.Description, now));
        }

        if (applied.Count > 0)
        {
            meta = meta with { SchemaVersion = targetVersion };
            writer.Put(Tables.ShardMeta, ShardMeta.Key, meta.Encode());
        }

        return meta;
    }

    private static void AppendHistory(WriteTransaction writer, int from, int to, string description, DateTimeOffset at)
    {
        var last = writer.Last(Tables.SchemaHistory);
        var sequence = last is null ? 1 : KeyCodec.ReadUInt64(last) + 1;
        var entry = new SchemaHistoryEntry(sequence, from, to, description, at);
        writer.Put(Tables.SchemaHistory, KeyCodec.UInt64(sequence), entry.Encode());
    }

    /// <summary>Every <c>schema_history</c> row, oldest first.</summary>
    public IReadOnlyList<SchemaHistoryEntry> ReadSchemaHistory() =>
        Read(r => r.Scan(Tables.SchemaHistory, [], []).Select(kv => SchemaHistoryEntry.Decode(kv.Key, kv.Value)).ToList());

    /// <inheritdoc />
    public void ClaimOwnership(string nodeAddress, long epoch)
    {
        if (string.IsNullOrWhiteSpace(nodeAddress))
        {
            throw new ForgeOneException(ErrorCodes.InvalidArgument, "the owner's node address is empty");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        var updated = WriteCore(
            w =>
            {
                var meta = ShardMeta.Decode(w.Get(Tables.ShardMeta, ShardMeta.Key)
                    ?? throw new ForgeOneException(ErrorCodes.StorageCorruptFile, $"{FilePath} lost its shard_meta record"));
                if (meta.Owner is { } owner && (epoch < owner.Epoch || (epoch == owner.Epoch && owner.NodeAddress != nodeAddress)))
                {
                    throw new ForgeOneException(
                        ErrorCodes.StorageStaleOwner,
                        $"{FilePath} is owned by {owner.NodeAddress} at epoch {owner.Epoch}; a claim by {nodeAddress} at epoch {epoch} is stale");
                }

                var claimed = meta with { Owner = new ShardOwner(nodeAddress, epoch) };
                w.Put(Tables.ShardMeta, ShardMeta.Key, claimed.Encode());
                return claimed;
            },
            storeManaged: true);
        Volatile.Write(ref _meta, updated);
    }
}
