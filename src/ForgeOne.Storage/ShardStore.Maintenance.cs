using ForgeOne.Common;
using LightningDB;

namespace ForgeOne.Storage;

public sealed partial class ShardStore
{
    /// <inheritdoc />
    /// <remarks>
    /// LMDB copies from its own read transaction (mdb_env_copy2 with MDB_CP_COMPACT), so
    /// writers keep committing; the copy is the snapshot at its start. It is written to
    /// <c>{destination}.partial</c>, flushed to disk and then renamed, so a crash never leaves a
    /// half copy under the real name. While a copy runs the map cannot grow: a writer that
    /// fills the map waits for the copy to finish.
    /// </remarks>
    public void HotCopy(string destinationPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(destinationPath);
        ThrowIfDisposed();
        var destination = Path.GetFullPath(destinationPath);
        if (File.Exists(destination))
        {
            throw new ForgeOneException(ErrorCodes.Conflict, $"hot copy destination {destination} already exists; it is never overwritten");
        }

        Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
        var partial = destination + ".partial";
        File.Delete(partial);

        _gate.EnterReadLock();
        try
        {
            ThrowIfDisposed();
            LmdbErrors.ThrowOnError(_env.CopyTo(partial, compact: true), $"copying {FilePath} to {partial}");
        }
        finally
        {
            _gate.ExitReadLock();
        }

        using (var stream = new FileStream(partial, FileMode.Open, FileAccess.ReadWrite))
        {
            stream.Flush(flushToDisk: true);
        }

        File.Move(partial, destination, overwrite: false);
    }

    /// <inheritdoc />
    public IntegrityReport CheckIntegrity() => CheckIntegrity(null);

    /// <inheritdoc />
    public IntegrityReport CheckIntegrity(IRecordCheck? deep) => Read(reader => CheckIntegrity(reader, ((ReadTransaction)reader).Txn, deep));

    private IntegrityReport CheckIntegrity(IReadTransaction reader, LightningTransaction txn, IRecordCheck? deep)
    {
        var tables = new List<TableIntegrity>();
        var errors = new List<IntegrityError>();
        void Report(IntegrityError error)
        {
            if (errors.Count < IntegrityReport.MaxErrors)
            {
                errors.Add(error);
            }
        }

        foreach (var name in Tables.For(_options.Kind))
        {
            long records = 0, corrupt = 0;
            try
            {
                using var cursor = txn.CreateCursor(_tables[name]);
                var (rc, key, value) = cursor.First();
                while (rc == MDBResultCode.Success)
                {
                    records++;
                    if (RecordEnvelope.Verify(key.AsSpan(), value.AsSpan()) is { } problem)
                    {
                        corrupt++;
                        Report(new IntegrityError(name, KeyCodec.ToHex(key.AsSpan()), problem.Code, problem.Reason));
                    }
                    else if (deep?.Check(reader, name, key.AsSpan(), value.AsSpan()[RecordEnvelope.HeaderSize..]) is { } finding)
                    {
                        corrupt++;
                        Report(finding);
                    }

                    (rc, key, value) = cursor.Next();
                }

                if (rc != MDBResultCode.NotFound)
                {
                    Report(new IntegrityError(name, null, ErrorCodes.StorageCorruptFile, $"walk stopped early: LMDB {rc}"));
                }
            }
            catch (LightningException e)
            {
                Report(new IntegrityError(name, null, ErrorCodes.StorageCorruptFile, $"walk failed: {e.Message}"));
            }

            tables.Add(new TableIntegrity(name, records, corrupt));
        }

        // The identity record must not only verify but decode.
        try
        {
            var (rc, _, meta) = txn.Get(_tables[Tables.ShardMeta], ShardMeta.Key);
            if (rc != MDBResultCode.Success)
            {
                Report(new IntegrityError(Tables.ShardMeta, null, ErrorCodes.StorageCorruptFile, "the shard_meta record is missing"));
            }
            else if (RecordEnvelope.Verify(ShardMeta.Key, meta.AsSpan()) is null)
            {
                ShardMeta.Decode(meta.AsSpan()[RecordEnvelope.HeaderSize..]);
            }
        }
        catch (ForgeOneException e)
        {
            Report(new IntegrityError(Tables.ShardMeta, KeyCodec.ToHex(ShardMeta.Key), e.Code, e.Message));
        }

        // With the record MAC attached, the store's own records must verify too.
        if (_mac is { } mac)
        {
            try
            {
                UseAuthenticator(mac);
            }
            catch (ForgeOneException e)
            {
                Report(new IntegrityError(e.Error.Details?[ForgeOneError.TableDetail] ?? Tables.ShardMeta, e.Error.Details?[ForgeOneError.KeyDetail], e.Code, e.Message));
            }
        }

        foreach (var finding in deep?.Finish(reader) ?? [])
        {
            Report(finding);
        }

        return new IntegrityReport(FilePath, tables, errors);
    }
}
