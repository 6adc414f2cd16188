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
            CreatedByThisOpen = isNew;
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
        writer.Put(Tables.ShardMeta, ShardMeta.Key, meta.Encode(_mac));
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

        var known = Math.Max(targetVersion, ShardSchema.KnownVersion(_options.Migrations));
        if (meta.SchemaVersion > known)
        {
            throw new ForgeOneException(ErrorCodes.StorageNewerSchema, $"{FilePath} is at schema version {meta.SchemaVersion}; this code knows versions up to {known}. Upgrade the node.");
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
            writer.Put(Tables.ShardMeta, ShardMeta.Key, meta.Encode(_mac));
        }

        return meta;
    }

    private void AppendHistory(IWriteTransaction writer, int from, int to, string description, DateTimeOffset at)
    {
        var last = writer.Last(Tables.SchemaHistory);
        var sequence = last is null ? 1 : KeyCodec.ReadUInt64(last) + 1;
        var entry = new SchemaHistoryEntry(sequence, from, to, description, at);
        writer.Put(Tables.SchemaHistory, KeyCodec.UInt64(sequence), entry.Encode(_mac));
    }

    /// <summary>The record MAC attached by <see cref="UseAuthenticator"/>, or null.</summary>
    public IRecordAuthenticator? Authenticator => _mac;

    /// <summary>
    /// Attaches the shard's record MAC (from its keys, which live in this file and are loaded
    /// after open). From now on the store tags every <c>shard_meta</c> and <c>schema_history</c>
    /// write. First checks what is stored: at schema 2 or later both must be tagged and verify
    /// (else <c>crypto.tampered</c> naming the table and key: edited, or its tag stripped); at
    /// schema 1 untagged rows are the legacy form and tagged ones must verify.
    /// </summary>
    public void UseAuthenticator(IRecordAuthenticator mac)
    {
        ArgumentNullException.ThrowIfNull(mac);
        ThrowIfDisposed();
        var problem = Read(r =>
        {
            var raw = (ReadTransaction)r;
            var meta = r.Get(Tables.ShardMeta, ShardMeta.Key)
                ?? throw new ForgeOneException(ErrorCodes.StorageCorruptFile, $"{FilePath} lost its shard_meta record");
            var schema = ShardMeta.Decode(meta).SchemaVersion;
            if ((ShardMeta.IsTagged(meta) || schema >= 2) && !ShardMeta.VerifyTag(meta, mac))
            {
                return (Tables.ShardMeta, KeyCodec.ToHex(ShardMeta.Key), ShardMeta.IsTagged(meta) ? "its record MAC does not verify: it was edited" : $"it is untagged in a schema-{schema} file: its MAC was stripped");
            }

            foreach (var (key, row) in r.Scan(Tables.SchemaHistory, [], []))
            {
                if ((SchemaHistoryEntry.IsTagged(row) || schema >= 2) && !SchemaHistoryEntry.VerifyTag(key, row, mac))
                {
                    return (Tables.SchemaHistory, KeyCodec.ToHex(key), SchemaHistoryEntry.IsTagged(row) ? "its record MAC does not verify: it was edited" : $"it is untagged in a schema-{schema} file: its MAC was stripped");
                }
            }

            return ((string, string, string)?)null;
        });
        if (problem is { } p)
        {
            throw new ForgeOneException(new ForgeOneError(ErrorCodes.CryptoTampered, $"{FilePath}: {p.Item1} record {p.Item2}: {p.Item3}").At(Name, p.Item1, p.Item2));
        }

        _mac = mac;
    }

    /// <summary>
    /// Runs one schema step that needs the shard's keys (so it cannot run at open): in one write
    /// transaction it applies <paramref name="migration"/>, appends its <c>schema_history</c> row,
    /// moves <c>shard_meta</c> to the new version and calls <paramref name="record"/> (the cluster
    /// layer appends the audit record there), so a crash or a throw leaves the file exactly at
    /// its old version. Returns false when the file is already past <see cref="IMigration.FromVersion"/>.
    /// </summary>
    public bool Migrate(IMigration migration, Action<IWriteTransaction, AppliedMigration>? record = null)
    {
        ArgumentNullException.ThrowIfNull(migration);
        if (migration.ToVersion != migration.FromVersion + 1)
        {
            throw new ArgumentException($"a migration goes one version up; {migration.FromVersion} -> {migration.ToVersion} does not", nameof(migration));
        }

        if (Meta.SchemaVersion > migration.FromVersion)
        {
            return false;
        }

        if (Meta.SchemaVersion < migration.FromVersion)
        {
            throw new ForgeOneException(ErrorCodes.StorageMigrationFailed, $"{FilePath} is at schema version {Meta.SchemaVersion}; migration {migration.FromVersion} -> {migration.ToVersion} cannot run before the steps below it");
        }

        var now = _options.Time.GetUtcNow();
        var applied = new AppliedMigration(migration.FromVersion, migration.ToVersion, migration.Description, now);
        var updated = WriteCore(
            w =>
            {
                try
                {
                    migration.Apply(w);
                }
                catch (Exception e) when (!((WriteTransaction)w).MapFull && e is not ForgeOneException { Code: ErrorCodes.StorageMigrationFailed or ErrorCodes.CryptoTampered or ErrorCodes.StorageCorruptRecord })
                {
                    throw new ForgeOneException(
                        ErrorCodes.StorageMigrationFailed,
                        $"{FilePath}: migration {migration.FromVersion} -> {migration.ToVersion} ({migration.Description}) failed; the file stays at version {migration.FromVersion}: {e.Message}",
                        e);
                }

                AppendHistory(w, migration.FromVersion, migration.ToVersion, migration.Description, now);
                var meta = ShardMeta.Decode(w.Get(Tables.ShardMeta, ShardMeta.Key)
                    ?? throw new ForgeOneException(ErrorCodes.StorageCorruptFile, $"{FilePath} lost its shard_meta record")) with { SchemaVersion = migration.ToVersion };
                w.Put(Tables.ShardMeta, ShardMeta.Key, meta.Encode(_mac));
                record?.Invoke(w, applied);
                return meta;
            },
            storeManaged: true);
        Volatile.Write(ref _meta, updated);
        AppliedMigrations = [.. AppliedMigrations, applied];
        return true;
    }

    /// <summary>
    /// Re-tags every <c>schema_history</c> row and <c>shard_meta</c> under the attached MAC, inside
    /// <paramref name="txn"/> (a migration to an authenticated schema calls this). Rows that carry
    /// a tag already are verified first.
    /// </summary>
    public void TagStoreRecords(IWriteTransaction txn)
    {
        ArgumentNullException.ThrowIfNull(txn);
        var mac = _mac ?? throw new InvalidOperationException("attach the shard's record MAC (UseAuthenticator) before tagging");
        var managed = (WriteTransaction)txn;
        var allowed = managed.AllowStoreManagedTables;
        managed.AllowStoreManagedTables = true;
        try
        {
            foreach (var (key, row) in txn.Scan(Tables.SchemaHistory, [], []))
            {
                if (SchemaHistoryEntry.IsTagged(row) && !SchemaHistoryEntry.VerifyTag(key, row, mac))
                {
                    throw new ForgeOneException(new ForgeOneError(ErrorCodes.CryptoTampered, $"{FilePath}: schema_history row {KeyCodec.ToHex(key)}: its record MAC does not verify").At(Name, Tables.SchemaHistory, KeyCodec.ToHex(key)));
                }

                txn.Put(Tables.SchemaHistory, key, SchemaHistoryEntry.Decode(key, row).Encode(mac));
            }

            var meta = ShardMeta.Decode(txn.Get(Tables.ShardMeta, ShardMeta.Key)!);
            txn.Put(Tables.ShardMeta, ShardMeta.Key, meta.Encode(mac));
        }
        finally
        {
            managed.AllowStoreManagedTables = allowed;
        }
    }

    // A file at an authenticated schema only takes tagged store records: writing one untagged
    // would make the next open see it as stripped (tampered).
    private void RequireAuthenticatorFor(ShardMeta meta)
    {
        if (_mac is null && meta.SchemaVersion >= 2)
        {
            throw new InvalidOperationException($"{FilePath} is at schema {meta.SchemaVersion}, whose store records are authenticated: attach the shard's record MAC (UseAuthenticator) before writing them");
        }
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
                RequireAuthenticatorFor(meta);
                w.Put(Tables.ShardMeta, ShardMeta.Key, claimed.Encode(_mac));
                return claimed;
            },
            storeManaged: true);
        Volatile.Write(ref _meta, updated);
    }
}
