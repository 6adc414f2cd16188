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
/// field before it, docs/FORMATS.md "Audit record"); <see cref="PrevHash"/> is the previous
/// record's hash (or the chain's genesis hash for seq 1). Only a hash of the detail is kept, so
/// the chain can be exported to auditors without the operation's data.
/// </summary>
/// <param name="Seq">1, 2, 3, ... without gaps.</param>
/// <param name="Time">UTC time of the operation.</param>
/// <param name="Principal">Who (principal id).</param>
/// <param name="Action">What, e.g. <c>logs.append</c>, <c>keys.rotated</c>.</param>
/// <param name="Resource">On what, e.g. <c>logs/orders</c>.</param>
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
    /// <summary>The head a chain has after this record.</summary>
    public ChainHead HeadFor(string chainId) => new(chainId, Seq, Hash);

    /// <inheritdoc />
    public override string ToString() =>
        $"#{Seq} {Time:O} {Principal} {Action} {Resource} {Outcome} {Convert.ToHexStringLower(Hash)}";
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
