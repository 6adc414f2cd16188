using System.Buffers.Binary;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Security;
using ForgeOne.Common;
using ForgeOne.Storage;
using ForgeOne.Storage.Records;

namespace ForgeOne.Cluster.Shards.Requests;

/// <summary>
/// One shard's memory of client request ids: which requests are being processed right now
/// (in memory), and what every committed one produced (the <c>requests</c> table, written in
/// the same transaction as the write itself, so "written" and "remembered" can never disagree,
/// whatever crashes in between).
/// </summary>
/// <remarks>
/// A request id's life at its shard:
/// <code>
///   admit: Begin ── same id in flight, same fingerprint ──► request.in_flight (retry later)
///     │        └─── same id in flight, other fingerprint ─► request.key_reused
///     ▼
///   group commit (one write transaction):
///     Find ── committed within the window, same fingerprint ──► replay: original ids, nothing written
///       │  └─ committed within the window, other fingerprint ─► request.key_reused, nothing written
///       ▼
///     apply the command, Record its ids (+ expiry index entry), Prune a few expired entries
///   replied (success or failure): End
/// </code>
/// Failures store nothing (the transaction that would have held the outcome aborted), so a
/// retry of a failed request runs it again. Everything the transaction does depends only on
/// the batch's time and the store, never on the clock, so a replayed batch does the same.
/// Not thread-safe: the shard actor's thread only.
/// </remarks>
public sealed class RequestLedger
{
    // Producer tokens are HMACs: cache the recent ones (a client uses one producer for thousands of requests).
    private const int TokenCacheLimit = 4096;

    private readonly IShardSecurity _security;
    private readonly Dictionary<(UInt128 Token, long Sequence), RequestTicket> _inFlight = [];
    private readonly Dictionary<(string Principal, string Producer), byte[]> _tokens = [];

    /// <summary>A ledger over <paramref name="security"/>'s keys, remembering outcomes for <paramref name="window"/>.</summary>
    public RequestLedger(IShardSecurity security, TimeSpan window)
    {
        ArgumentNullException.ThrowIfNull(security);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        _security = security;
        Window = window;
    }

    /// <summary>How long a committed outcome is remembered: a retry within it is always de-duplicated.</summary>
    public TimeSpan Window { get; }

    /// <summary>Requests admitted and not yet settled.</summary>
    public int InFlight => _inFlight.Count;

    /// <summary>
    /// Admission of a request with an id: a ticket to carry to the group commit, or the refusal
    /// of a duplicate whose original is still in flight.
    /// </summary>
    public (RequestTicket? Ticket, ForgeOneError? Refusal) Begin(string principal, RequestId id, byte[] fingerprint)
    {
        ArgumentNullException.ThrowIfNull(principal);
        ArgumentNullException.ThrowIfNull(id);
        var token = Token(principal, id.Producer);
        var slot = (BinaryPrimitives.ReadUInt128BigEndian(token), id.Sequence);
        if (_inFlight.TryGetValue(slot, out var running))
        {
            return (null, running.Fingerprint.AsSpan().SequenceEqual(fingerprint)
                ? new ForgeOneError(ErrorCodes.RequestInFlight, $"Request {Describe(id)} is still being processed; retry shortly for its outcome.")
                : Reused(id));
        }

        var ticket = new RequestTicket(RequestKeys.Ledger(token, id.Sequence), slot, fingerprint, id);
        _inFlight[slot] = ticket;
        return (ticket, null);
    }

    /// <summary>The ticket's request was answered (committed or failed): it is no longer in flight.</summary>
    public void End(RequestTicket ticket)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        if (_inFlight.TryGetValue(ticket.Slot, out var current) && ReferenceEquals(current, ticket))
        {
            _inFlight.Remove(ticket.Slot);
        }
    }

    /// <summary>Forgets every in-flight request (the shard closes or was fenced; nothing of theirs commits here).</summary>
    public void Clear() => _inFlight.Clear();

    /// <summary>
    /// Inside the group's transaction: the committed outcome of the ticket's request within the
    /// window before <paramref name="batchTime"/>, or null (never committed, or expired: then
    /// <see cref="Record"/> replaces it).
    /// </summary>
    public RequestOutcome? Find(IReadTransaction txn, RequestTicket ticket, DateTimeOffset batchTime)
    {
        ArgumentNullException.ThrowIfNull(txn);
        ArgumentNullException.ThrowIfNull(ticket);
        var stored = txn.Get(Tables.Requests, ticket.Key);
        if (stored is null)
        {
            return null;
        }

        var outcome = RequestOutcome.Decode(_security.Decrypt(Tables.Requests, ticket.Key, stored));
        if (outcome.RecordedAt > batchTime - Window)
        {
            return outcome;
        }

        ticket.Supersedes = outcome.RecordedAt;
        return null;
    }

    /// <summary>The refusal for a committed request met again with another fingerprint.</summary>
    public static ForgeOneError Reused(RequestId id) =>
        new(ErrorCodes.RequestKeyReused, $"Request id {Describe(id)} was already used for a different request; nothing was written. Use a new request id (or idempotency key) for a new request.");

    /// <summary>True when <paramref name="outcome"/> was recorded for the same request as <paramref name="ticket"/>.</summary>
    public static bool SameRequest(RequestOutcome outcome, RequestTicket ticket) =>
        outcome.Fingerprint.AsSpan().SequenceEqual(ticket.Fingerprint);

    /// <summary>Inside the group's transaction: remembers that the ticket's request produced <paramref name="ids"/>.</summary>
    public void Record(IWriteTransaction txn, RequestTicket ticket, IReadOnlyList<RecordId> ids, DateTimeOffset batchTime)
    {
        ArgumentNullException.ThrowIfNull(txn);
        ArgumentNullException.ThrowIfNull(ticket);
        ArgumentNullException.ThrowIfNull(ids);
        if (ticket.Supersedes is { } expired)
        {
            txn.Delete(Tables.RequestExpiry, RequestKeys.Expiry(expired, ticket.Key));
        }

        var outcome = new RequestOutcome(batchTime, ticket.Fingerprint, [.. ids]);
        txn.Put(Tables.Requests, ticket.Key, _security.Encrypt(Tables.Requests, ticket.Key, outcome.Encode()));
        IndexEntries.Put(txn, _security, Tables.RequestExpiry, RequestKeys.Expiry(batchTime, ticket.Key), []);
    }

    /// <summary>
    /// Inside the group's transaction: deletes at most <paramref name="max"/> outcomes recorded
    /// before the window that ends at <paramref name="batchTime"/>, oldest first; returns how many.
    /// </summary>
    public int Prune(IWriteTransaction txn, DateTimeOffset batchTime, int max)
    {
        ArgumentNullException.ThrowIfNull(txn);
        var pruned = 0;
        foreach (var (key, value) in txn.Scan(Tables.RequestExpiry, [], RequestKeys.ExpiryUntil(batchTime - Window), limit: max))
        {
            // An entry without a valid record MAC was not written by this shard: never let it
            // delete an outcome. It stays for the scrubber to report (throwing here would fail
            // every write of the shard's group commit).
            if (!IndexEntries.Verify(_security, Tables.RequestExpiry, key, value))
            {
                continue;
            }

            txn.Delete(Tables.RequestExpiry, key);
            txn.Delete(Tables.Requests, RequestKeys.LedgerKeyOf(key));
            pruned++;
        }

        return pruned;
    }

    private static string Describe(RequestId id) => Printable.Text(id.ToString(), 120);

    private byte[] Token(string principal, string producer)
    {
        if (_tokens.TryGetValue((principal, producer), out var token))
        {
            return token;
        }

        if (_tokens.Count >= TokenCacheLimit)
        {
            _tokens.Clear();
        }

        // "req:" cannot collide with a topic's token (':' is never in a topic); the principal's
        // length keeps (principal, producer) pairs apart whatever characters they hold.
        token = _security.BlindIndex($"req:{principal.Length}:{principal}{producer}");
        _tokens[(principal, producer)] = token;
        return token;
    }
}

/// <summary>A request admitted with a request id, on its way to the group commit.</summary>
public sealed class RequestTicket
{
    internal RequestTicket(byte[] key, (UInt128, long) slot, byte[] fingerprint, RequestId id)
    {
        Key = key;
        Slot = slot;
        Fingerprint = fingerprint;
        Id = id;
    }

    /// <summary>The request's <c>requests</c> key.</summary>
    public byte[] Key { get; }

    /// <summary>What the request was.</summary>
    public byte[] Fingerprint { get; }

    /// <summary>The client's request id.</summary>
    public RequestId Id { get; }

    internal (UInt128 Token, long Sequence) Slot { get; }

    // Set by Find when an expired outcome sits under this key, so Record drops its expiry entry.
    internal DateTimeOffset? Supersedes { get; set; }
}
