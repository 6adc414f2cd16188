namespace ForgeOne.Security;

/// <summary>How an audited operation ended.</summary>
public enum AuditOutcome : byte
{
    /// <summary>Done.</summary>
    Success = 1,

    /// <summary>Refused by authorization (refusals are audited too).</summary>
    Denied = 2,

    /// <summary>Attempted and failed (validation, I/O, crypto).</summary>
    Failed = 3,
}

/// <summary>
/// One link of a shard's audit chain. <see cref="Hash"/> = SHA-256 of the hash input (every
/// stored field before it, docs/FORMATS.md "Audit record"); <see cref="PrevHash"/> is the
/// previous record's hash (or the chain's genesis hash for seq 1). Only a hash of the detail is
/// kept, so the chain can be exported to auditors without the operation's data.
/// <para>
/// Format 1 (older records) stores <see cref="Resource"/> whole, in plaintext. Format 2 stores
/// only its public scope there (e.g. <c>logs/3/topic:</c>) and the part that names data (the
/// topic) as <see cref="Subject"/>: a blind-index token and a ciphertext. The chain hashes the
/// stored bytes, so it verifies with the public key alone in both formats.
/// </para>
/// </summary>
/// <param name="Seq">1, 2, 3, ... without gaps.</param>
/// <param name="Time">UTC time of the operation.</param>
/// <param name="Principal">Who (principal id).</param>
/// <param name="Action">What, e.g. <c>logs.append</c>, <c>keys.rotated</c>.</param>
/// <param name="Resource">On what: the whole resource (format 1) or its public scope (format 2), e.g. <c>logs/3/topic:</c>.</param>
/// <param name="Outcome">Success, Denied or Failed.</param>
/// <param name="DetailHash">SHA-256 of the detail bytes (32 bytes).</param>
/// <param name="PrevHash">Previous hash (32 bytes).</param>
/// <param name="Hash">This record's hash (32 bytes).</param>
public sealed record AuditRecord(
    long Seq,
    DateTimeOffset Time,
    string Principal,
    string Action,
    string Resource,
    AuditOutcome Outcome,
    byte[] DetailHash,
    byte[] PrevHash,
    byte[] Hash)
{
    /// <summary>The stored format: <see cref="AuditRecordCodec.FormatV1"/> or <see cref="AuditRecordCodec.FormatV2"/>.</summary>
    public byte Format { get; init; } = AuditRecordCodec.FormatV1;

    /// <summary>Format 2: the sealed part of the resource that names data; null when the resource names none (and always in format 1).</summary>
    public SealedAuditSubject? Subject { get; init; }

    /// <summary>The head a chain has after this record.</summary>
    public ChainHead HeadFor(string chainId) => new(chainId, Seq, Hash);

    /// <inheritdoc />
    public override string ToString() =>
        $"#{Seq} {Time:O} {Principal} {Action} {Resource}{(Subject is null ? "" : "[sealed]")} {Outcome} {Convert.ToHexStringLower(Hash)}";
}

/// <summary>
/// The part of an audit resource that names data (a topic, a consumer group), as a format-2
/// record stores it: <see cref="Token"/> is its blind index under the shard's index key (an
/// auditor holding that key finds every record about one topic without decrypting any), and
/// <see cref="Ciphertext"/> its AES-256-GCM encryption under the shard's data key, bound to the
/// shard, the <c>audit</c> table and the record's seq.
/// </summary>
/// <param name="Token">16-byte blind-index token.</param>
/// <param name="Ciphertext">Record ciphertext (docs/FORMATS.md "Record ciphertext") of the UTF-8 subject.</param>
public sealed record SealedAuditSubject(byte[] Token, byte[] Ciphertext);

/// <summary>
/// Seals the data-naming part of audit resources for <see cref="AuditChain"/> (the shard's keys
/// implement it). Called once per appended record that has a subject; must be thread-safe only
/// if the chain is shared, which it never is.
/// </summary>
public interface IAuditSubjectSealer
{
    /// <summary>The token and ciphertext of <paramref name="subject"/> for the record at <paramref name="seq"/>.</summary>
    SealedAuditSubject Seal(long seq, string subject);
}

/// <summary>
/// How a resource string splits into what stays readable and what is sealed. Our resources
/// read <c>{kind}/{shard}/{what}:{name}</c> (<c>logs/3/topic:orders</c>, <c>logs/3/id:42</c>) or
/// carry no name at all (<c>keys/logs-0003/v2</c>, <c>logs/3</c>): everything up to and including
/// the first <c>:</c> is public, the rest names data.
/// </summary>
public static class AuditResource
{
    /// <summary>The public scope and the subject (null when the resource names no data).</summary>
    public static (string Scope, string? Subject) Split(string resource)
    {
        ArgumentNullException.ThrowIfNull(resource);
        var colon = resource.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 || colon == resource.Length - 1 ? (resource, null) : (resource[..(colon + 1)], resource[(colon + 1)..]);
    }
}

/// <summary>The head of a chain: shard (chain) id, last seq and its hash. Seq 0 is the genesis head.</summary>
/// <param name="ShardId">Chain id; one chain per shard, e.g. <c>logs-0003</c>.</param>
/// <param name="Seq">Last seq (0 = empty chain).</param>
/// <param name="Hash">Last hash (the genesis hash for seq 0).</param>
public sealed record ChainHead(string ShardId, long Seq, byte[] Hash)
{
    /// <summary>Value equality including the hash bytes.</summary>
    public bool Matches(ChainHead other) =>
        other is not null && ShardId == other.ShardId && Seq == other.Seq && Hash.AsSpan().SequenceEqual(other.Hash);

    /// <inheritdoc />
    public override string ToString() => $"{ShardId}@{Seq}:{Convert.ToHexStringLower(Hash)}";
}
