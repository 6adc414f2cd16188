using System.Security.Cryptography;
using System.Text;
using ForgeOne.Common;

namespace ForgeOne.Security;

/// <summary>
/// Builds one shard's audit chain. Pure and not thread-safe: the shard actor owns one and
/// appends from its message handler. <c>Append</c> advances the head; if the write
/// transaction holding the record aborts, <see cref="Reset"/> puts the head back.
/// With a <see cref="IAuditSubjectSealer"/> the chain writes format-2 records (the part of a
/// resource that names data is sealed); without one, format-1 records (whole resource in
/// plaintext), which shards no longer write.
/// </summary>
public sealed class AuditChain
{
    private static readonly byte[] GenesisLabel = Encoding.ASCII.GetBytes("forgeone.audit.genesis.v1\0");
    private readonly IAuditSubjectSealer? _sealer;

    /// <summary>A new, empty chain for <paramref name="chainId"/> (head = genesis).</summary>
    public AuditChain(string chainId, IAuditSubjectSealer? sealer = null)
        : this(Genesis(chainId), sealer)
    {
    }

    /// <summary>Resumes a chain from its persisted head (the last record's seq and hash).</summary>
    public AuditChain(ChainHead head, IAuditSubjectSealer? sealer = null)
    {
        ArgumentNullException.ThrowIfNull(head);
        Head = head;
        _sealer = sealer;
    }

    /// <summary>Current head.</summary>
    public ChainHead Head { get; private set; }

    /// <summary>
    /// The genesis head of a chain: seq 0 and <c>SHA-256("forgeone.audit.genesis.v1\0" | UTF-8 chain id)</c>,
    /// so a chain copied from another shard does not verify.
    /// </summary>
    public static ChainHead Genesis(string chainId)
    {
        ArgumentException.ThrowIfNullOrEmpty(chainId);
        var id = Encoding.UTF8.GetBytes(chainId);
        return new ChainHead(chainId, 0, SHA256.HashData([.. GenesisLabel, .. id]));
    }

    /// <summary>Computes the next record without advancing the head.</summary>
    public AuditRecord Next(DateTimeOffset time, string principal, string action, string resource, AuditOutcome outcome, ReadOnlySpan<byte> detail)
    {
        ArgumentNullException.ThrowIfNull(principal);
        ArgumentNullException.ThrowIfNull(action);
        ArgumentNullException.ThrowIfNull(resource);
        if (!Enum.IsDefined(outcome))
        {
            throw new ForgeOneException(ErrorCodes.InvalidArgument, $"unknown audit outcome {(int)outcome}");
        }

        // Ticks in UTC: the stored form keeps no offset, so normalize for exact round trips.
        var utc = new DateTimeOffset(time.UtcTicks, TimeSpan.Zero);
        var seq = Head.Seq + 1;
        var detailHash = SHA256.HashData(detail);
        var record = new AuditRecord(seq, utc, principal, action, resource, outcome, detailHash, Head.Hash, new byte[AuditRecordCodec.HashLength]);
        if (_sealer is not null)
        {
            var (scope, subject) = AuditResource.Split(resource);
            record = record with
            {
                Resource = scope,
                Format = AuditRecordCodec.FormatV2,
                Subject = subject is null ? null : _sealer.Seal(seq, subject),
            };
        }

        return record with { Hash = AuditRecordCodec.ComputeHash(record) };
    }

    /// <summary>Computes the next record and advances the head to it.</summary>
    public AuditRecord Append(DateTimeOffset time, string principal, string action, string resource, AuditOutcome outcome, ReadOnlySpan<byte> detail)
    {
        var record = Next(time, principal, action, resource, outcome, detail);
        Head = record.HeadFor(Head.ShardId);
        return record;
    }

    /// <summary>Appends with a UTF-8 text detail (e.g. a JSON summary of the operation).</summary>
    public AuditRecord Append(DateTimeOffset time, string principal, string action, string resource, AuditOutcome outcome, string detail) =>
        Append(time, principal, action, resource, outcome, Encoding.UTF8.GetBytes(detail ?? string.Empty));

    /// <summary>Appends the audit record of a key event.</summary>
    public AuditRecord Append(KeyEvent keyEvent, string principal)
    {
        ArgumentNullException.ThrowIfNull(keyEvent);
        return Append(keyEvent.Time, principal, keyEvent.AuditAction, keyEvent.AuditResource, AuditOutcome.Success, keyEvent.Detail);
    }

    /// <summary>Puts the head back (e.g. to the last committed record after an aborted transaction).</summary>
    public void Reset(ChainHead head)
    {
        ArgumentNullException.ThrowIfNull(head);
        if (head.ShardId != Head.ShardId)
        {
            throw new ForgeOneException(ErrorCodes.InvalidArgument, $"cannot reset chain {Head.ShardId} to a head of chain {head.ShardId}");
        }

        Head = head;
    }
}
