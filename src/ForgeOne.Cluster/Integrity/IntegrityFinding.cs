using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage;

namespace ForgeOne.Cluster.Integrity;

/// <summary>
/// One piece of damage found in a shard: where (store, table, key, and the sequence number for
/// audit records), what (a stable error code and the kind of damage) and who saw it. The same
/// value comes from the open check, the scrubber, the deep integrity check, a read and the
/// sealer, so an operator reads one shape whatever noticed it.
/// </summary>
/// <param name="Store">The shard's chain id, e.g. <c>logs-0003</c> or <c>logs-0003@eu</c>.</param>
/// <param name="Table">The table.</param>
/// <param name="KeyHex">The record key in hex, or null for a table-level problem.</param>
/// <param name="Sequence">For the audit table: the first bad sequence number.</param>
/// <param name="Code">Stable code: <c>crypto.tampered</c>, <c>storage.corrupt_record</c>, <c>audit.chain_broken</c>, ...</param>
/// <param name="Kind">The kind of damage, e.g. <c>Deleted</c>, <c>Reordered</c>, <c>Truncated</c>, <c>tampered ciphertext</c>.</param>
/// <param name="Message">A sentence naming the place.</param>
public sealed record IntegrityFinding(string Store, string Table, string? KeyHex, long? Sequence, string Code, string Kind, string Message)
{
    /// <summary>The finding of a failed chain verification.</summary>
    public static IntegrityFinding Chain(string store, AuditVerification result) =>
        new(store, Tables.Audit, KeyCodec.ToHex(KeyCodec.UInt64((ulong)(result.FirstBadSeq ?? 0))), result.FirstBadSeq, ErrorCodes.AuditChainBroken, result.Failure.ToString(),
            $"store {store}: audit chain {result.Failure} at seq {result.FirstBadSeq}: {result.Message}");

    /// <summary>The finding of a typed error raised while reading a record (its details name the place).</summary>
    public static IntegrityFinding FromError(string store, string table, string? keyHex, ForgeOneError error) =>
        new(
            error.Details?.GetValueOrDefault(ForgeOneError.StoreDetail) ?? store,
            error.Details?.GetValueOrDefault(ForgeOneError.TableDetail) ?? table,
            error.Details?.GetValueOrDefault(ForgeOneError.KeyDetail) ?? keyHex,
            null,
            error.Code,
            KindOf(error.Code),
            error.Message);

    /// <summary>What this finding is called in the audit trail and logs (one line, the place first).</summary>
    public override string ToString() => $"{Store} {Table} {KeyHex ?? "-"}{(Sequence is { } s ? $" seq {s}" : "")}: {Code} ({Kind}): {Message}";

    /// <summary>As an entry of an <see cref="IntegrityReport"/>.</summary>
    public IntegrityError ToIntegrityError() => new(Table, KeyHex, Code, Message);

    /// <summary>The kind of damage a code stands for when nothing more precise is known.</summary>
    public static string KindOf(string code) => code switch
    {
        ErrorCodes.CryptoTampered => "tampered",
        ErrorCodes.CryptoWrongKey => "wrong key",
        ErrorCodes.StorageCorruptRecord => "corrupt record",
        ErrorCodes.StorageUnknownFormat or ErrorCodes.CryptoUnknownFormat or ErrorCodes.AuditUnknownFormat => "unknown format",
        _ => code,
    };
}

/// <summary>The newest sealed head of one shard's chain, as a seal store holds it.</summary>
/// <param name="SealNumber">The seal it comes from.</param>
/// <param name="Head">The sealed head.</param>
/// <param name="NewIncarnation">True when that seal starts a new incarnation of the shard at this head (an authorized rewind): records at or before it are not checked against older seals.</param>
public sealed record ChainAnchor(long SealNumber, ChainHead Head, bool NewIncarnation)
{
    /// <summary>The anchor <paramref name="seal"/> gives <paramref name="chainId"/>, or null when it does not cover it.</summary>
    public static ChainAnchor? From(Seal? seal, string chainId) =>
        seal?.HeadOf(chainId) is { } head ? new ChainAnchor(seal.Number, head, seal.NewIncarnations.Contains(chainId, StringComparer.Ordinal)) : null;
}
