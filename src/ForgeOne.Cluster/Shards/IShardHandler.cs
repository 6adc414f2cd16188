using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Security;
using ForgeOne.Common;
using ForgeOne.Common.Validation;
using ForgeOne.Security;
using ForgeOne.Storage;

namespace ForgeOne.Cluster.Shards;

/// <summary>
/// The per-kind logic of a shard, with no Akka in it. The shard actor owns the store, the
/// security state and the group commit, and verifies every operation's principal token before a
/// handler sees it: a handler gets the verified <see cref="Principal"/> and never reads identity
/// from the message. For each operation it says:
/// <list type="number">
///   <item><see cref="Admit"/>: validate and authorize (<see cref="ShardAccess"/>), pure and
///   outside any transaction. A refusal is replied at once and audited (Denied / Rejected) in the
///   next group commit.</item>
///   <item><see cref="Apply"/>: write the command's data and indexes inside the group-commit
///   transaction. The actor appends the command's one audit record to the same transaction.
///   Throw <see cref="ForgeOneException"/> to refuse the command; do every check that can refuse
///   before the first write: a command that throws before writing fails alone and its group
///   goes on in the same transaction, while one that throws after writing aborts the attempt
///   and the group is run again without it (see <see cref="GroupCommit{TReplyTo}"/>).</item>
///   <item><see cref="Read"/>: answer a query from a read transaction on a thread-pool thread,
///   concurrently with the writer; must touch only thread-safe parts of the context.</item>
/// </list>
/// </summary>
public interface IShardHandler
{
    /// <summary>The kind of shard this handler serves.</summary>
    ShardKind Kind { get; }

    /// <summary>Validation + authorization of <paramref name="operation"/> for the verified <paramref name="principal"/>. Never touches the store.</summary>
    Admission Admit(IShardOperation operation, Principal principal, ShardContext context);

    /// <summary>Writes the command inside <paramref name="txn"/>; returns the reply sent after commit. Checks that need stored state (a resource's owner) are made here.</summary>
    object Apply(IWriteTransaction txn, IShardCommand command, Principal principal, ShardContext context);

    /// <summary>Answers <paramref name="query"/>; runs off the actor thread.</summary>
    object Read(IReadTransaction txn, IShardQuery query, Principal principal, ShardContext context);

    /// <summary>The kind's failure reply for <paramref name="error"/> (e.g. <c>LogFailed</c>).</summary>
    object Fail(ForgeOneError error);
}

/// <summary>
/// Optional for a handler whose commands carry CPU-heavy work that needs no store state
/// (a blob chunk's checksum, compression and encryption): the actor runs
/// <see cref="Prepare"/> on the thread pool, several commands at a time, between admission and
/// the group commit, so the shard's own thread only writes. Commands still commit in the order
/// they were admitted; at hand-off the ones still being prepared are prepared inline.
/// </summary>
public interface IShardPreparation
{
    /// <summary>True when <paramref name="command"/> has work for <see cref="Prepare"/>.</summary>
    bool NeedsPreparation(IShardCommand command);

    /// <summary>
    /// The command <see cref="IShardHandler.Apply"/> receives instead of <paramref name="command"/>.
    /// Runs off the actor thread: thread-safe parts of the context only, no store. Throw
    /// <see cref="ForgeOneException"/> to refuse the command (replied and audited as failed).
    /// </summary>
    IShardCommand Prepare(IShardCommand command, ShardContext context);

    /// <summary>
    /// Called once the command's fate is settled (committed and replied, or failed), so a
    /// prepared command may return pooled buffers. A group that aborts re-runs its commands
    /// from the same prepared state first, so nothing is released before this.
    /// </summary>
    void Release(IShardCommand command);
}

/// <summary>
/// Verdict of <see cref="IShardHandler.Admit"/>: what the operation is called in the audit trail
/// and whether it may proceed.
/// </summary>
/// <param name="Action">Audit action, e.g. <c>logs.append</c>.</param>
/// <param name="Resource">Audit resource, e.g. <c>logs/3/topic:orders</c>.</param>
/// <param name="Refusal">Null when admitted.</param>
/// <param name="Outcome">Denied (authorization) or Failed (validation) when refused.</param>
/// <param name="Detail">Extra audit detail (batch size, ...).</param>
public sealed record Admission(string Action, string Resource, ForgeOneError? Refusal, AuditOutcome Outcome, string Detail = "")
{
    /// <summary>
    /// Who the operation's audit record names when it is not the verified principal: set only for
    /// a node recording a decision made elsewhere (<c>SystemProtocol.RecordAudit</c>), whose
    /// detail then names the node.
    /// </summary>
    public string? Subject { get; init; }

    /// <summary>
    /// The verified principal the operation was admitted (or refused by the policy) for, set by
    /// the shard actor after authentication; null when the token did not verify. Apply and Read
    /// run as this principal.
    /// </summary>
    public Principal? Principal { get; init; }

    /// <summary>Who the operation's audit record names.</summary>
    public string AuditPrincipal => Subject ?? Principal?.Id ?? UnauthenticatedPrincipal;

    /// <summary>The operation may proceed.</summary>
    public static Admission Allow(string action, string resource, string detail = "") => new(action, resource, null, AuditOutcome.Success, detail);

    /// <summary>Authorization refused the operation.</summary>
    public static Admission Deny(string action, string resource, string reason) =>
        new(action, resource, new ForgeOneError(ErrorCodes.Forbidden, reason), AuditOutcome.Denied, reason);

    /// <summary>
    /// The request's principal token was absent, forged, expired or revoked: refused whatever
    /// else the handler would have said, audited as a denial of <paramref name="attempt"/>'s action on
    /// its resource under <see cref="UnauthenticatedPrincipal"/>.
    /// </summary>
    public static Admission Unauthenticated(Admission attempt, ForgeOneError error) =>
        attempt with { Refusal = error, Outcome = AuditOutcome.Denied, Detail = error.Message, Principal = null, Subject = null };

    /// <summary>Audit principal of a request whose token did not verify (what it claims is not believed).</summary>
    public const string UnauthenticatedPrincipal = "<unauthenticated>";

    /// <summary>
    /// Stands in for the principal of a request whose token did not verify, so the handler can
    /// still name the attempted action and resource for the audit record. It holds no role, so
    /// nothing is ever allowed for it.
    /// </summary>
    public static Principal Nobody { get; } = new(UnauthenticatedPrincipal, new HashSet<string>(), null, new HashSet<string>(), 0);

    /// <summary>Validation refused the operation.</summary>
    public static Admission Reject(string action, string resource, ForgeOneError error) => new(action, resource, error, AuditOutcome.Failed, error.Code);

    /// <summary>True when the operation may proceed.</summary>
    public bool Admitted => Refusal is null;
}

/// <summary>
/// What a handler may use. Everything except <see cref="Ids"/> is safe to read from the
/// read-side tasks; <see cref="Ids"/> is advanced only inside <see cref="IShardHandler.Apply"/> on
/// the actor thread.
/// </summary>
public sealed class ShardContext
{
    /// <summary>Creates the context of one open shard.</summary>
    public ShardContext(ShardKind kind, int shardNumber, int shardCount, IShardSecurity security, RecordIdGenerator ids, TimeProvider time, Limits limits)
    {
        Kind = kind;
        ShardNumber = shardNumber;
        ShardCount = shardCount;
        Security = security;
        Ids = ids;
        Time = time;
        Limits = limits;
    }

    /// <summary>The shard's kind.</summary>
    public ShardKind Kind { get; }

    /// <summary>The shard's number.</summary>
    public int ShardNumber { get; }

    /// <summary>The kind's shard count.</summary>
    public int ShardCount { get; }

    /// <summary>Keys, ciphers, audit chain and policy of this shard.</summary>
    public IShardSecurity Security { get; }

    /// <summary>Id generator; its high-water mark is persisted by the actor in every commit that advanced it.</summary>
    public RecordIdGenerator Ids { get; }

    /// <summary>The clock.</summary>
    public TimeProvider Time { get; }

    /// <summary>Validation limits.</summary>
    public Limits Limits { get; }

    /// <summary>Residency zone of this shard (null = the default, zone-less region).</summary>
    public string? Zone { get; init; }

    /// <summary>The audit resource prefix of this shard, e.g. <c>logs/3</c>.</summary>
    public string ResourcePrefix => $"{Kind.FolderName()}/{ShardNumber}";
}
