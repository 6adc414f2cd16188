using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Shards.Requests;
using ForgeOne.Common;
using ForgeOne.Security;

namespace ForgeOne.Cluster.Shards;

/// <summary>
/// The group commit of one shard as a plain state machine: which admitted commands wait, in
/// which order they commit, how a burst is cut into transactions, and what happens when one
/// command of a transaction fails. The shard actor owns the store, the timers and the replies;
/// it feeds this class and runs the transactions it asks for.
/// </summary>
/// <remarks>
/// A command's way through:
/// <code>
///   queue IsFull ─> Shed before admission: refused (cluster.overloaded), one audit record per burst
///   Enqueue ── over MaxPendingCommands / MaxPendingBytes ──> refused (cluster.overloaded)
///      │
///      ├─ needs preparation ─> Preparing ── Prepared ──┐     (PreparationFailed: removed, audited)
///      └────────────────────────────────────────────────┴─> Ready
///                                                               │ NextGroup: the ready prefix, in
///                                                               v admission order, capped by count and bytes
///                                                           in a group ── Commit ──> committed or failed
/// </code>
/// A command still being prepared holds back the ones admitted after it, so commands commit in
/// the order they were admitted. <see cref="Commit"/> isolates failures without serializing
/// the group: a command that throws before it wrote anything leaves the transaction as it found
/// it, so it fails alone and the group goes on; one that throws after writing aborts the
/// attempt, and the group is re-run without it, in one transaction while the work lost to
/// aborts stays under the group's own size, else by committing the commands before it in their
/// own transaction and going on with the rest. Either way one poisoned command costs the group
/// at most one extra attempt, never one fsync per neighbour.
/// Not thread-safe: used from the shard actor's thread only.
/// </remarks>
/// <typeparam name="TReplyTo">Where a command's reply goes (the sender's actor ref in the shard actor).</typeparam>
public sealed class GroupCommit<TReplyTo>
{
    /// <summary>What an audit record waiting in a group is assumed to cost, for the byte cap.</summary>
    public const int AuditRecordBytes = 256;

    /// <summary>The audit action of the one record per burst of <see cref="Shed"/> refusals.</summary>
    public const string ShedAction = "shard.overloaded";

    private readonly List<PendingCommand<TReplyTo>> _pending = [];
    private readonly List<QueuedAudit> _audits = [];
    private readonly TimeProvider _time;
    private long _pendingBytes;
    private ShedBurst? _burst;

    /// <summary>A group commit bounded by <paramref name="limits"/>.</summary>
    public GroupCommit(GroupCommitLimits limits, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(time);
        Limits = limits;
        _time = time;
    }

    /// <summary>The bounds in force.</summary>
    public GroupCommitLimits Limits { get; }

    /// <summary>Admitted commands not yet handed to a group (preparing or ready).</summary>
    public int PendingCount => _pending.Count;

    /// <summary>Estimated bytes of <see cref="PendingCount"/>.</summary>
    public long PendingBytes => _pendingBytes;

    /// <summary>Audit records waiting for a commit.</summary>
    public int QueuedAudits => _audits.Count;

    /// <summary>True when <see cref="NextGroup"/> has something to commit.</summary>
    public bool HasWork => _audits.Count > 0 || _burst is not null || (_pending.Count > 0 && _pending[0].State == PendingState.Ready);

    /// <summary>
    /// True when the queue holds as many commands or bytes as its limits allow: a command that
    /// arrives now cannot be queued whatever it is, so the caller sheds it with <see cref="Shed"/>
    /// before checking its token, validating it or auditing it alone. Only admitted commands fill
    /// the queue, so requests that would be refused anyway (forged tokens, invalid input) can
    /// never make the shard shed anyone else's.
    /// </summary>
    public bool IsFull => _pending.Count > 0 && (_pending.Count >= Limits.MaxPendingCommands || _pendingBytes >= Limits.MaxPendingBytes);

    /// <summary>Refusals by <see cref="Shed"/> not yet in an audit record.</summary>
    public long ShedSinceLastCommit => _burst?.Total ?? 0;

    /// <summary>Commands still being prepared, oldest first (hand-off prepares them inline).</summary>
    public IReadOnlyList<PendingCommand<TReplyTo>> Preparing => [.. _pending.Where(p => p.State == PendingState.Preparing)];

    /// <summary>
    /// Takes an admitted command into the queue, or refuses it (null, with the overload error)
    /// when the shard already holds as many commands or bytes as its limits allow. A command
    /// is never refused while the queue is empty, whatever its size: the size limits of the
    /// request itself are validation's job.
    /// </summary>
    public PendingCommand<TReplyTo>? Enqueue(IShardCommand command, TReplyTo replyTo, Admission admission, long bytes, bool needsPreparation, out ForgeOneError? overloaded, RequestTicket? ticket = null)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(admission);
        if (_pending.Count > 0 && (_pending.Count >= Limits.MaxPendingCommands || _pendingBytes + bytes > Limits.MaxPendingBytes))
        {
            overloaded = Overloaded();
            return null;
        }

        overloaded = null;
        var pending = new PendingCommand<TReplyTo>(command, replyTo, admission, bytes, needsPreparation ? PendingState.Preparing : PendingState.Ready) { Ticket = ticket };
        _pending.Add(pending);
        _pendingBytes += bytes;
        return pending;
    }

    /// <summary>
    /// Refuses a command that arrived while the queue <see cref="IsFull"/>, without admitting it:
    /// the refusal costs a counter. The refusals between two commits become one audit record
    /// (<see cref="ShedAction"/>, how many of each operation, first and last time) that joins the
    /// next group, so none goes unaudited while a flood cannot make the audit its bottleneck.
    /// </summary>
    /// <param name="operation">What was refused (the command's type name).</param>
    /// <param name="resource">The shard's resource, for the audit record.</param>
    /// <returns>The error to reply.</returns>
    public ForgeOneError Shed(string operation, string resource)
    {
        ArgumentException.ThrowIfNullOrEmpty(operation);
        ArgumentException.ThrowIfNullOrEmpty(resource);
        var now = _time.GetUtcNow();
        _burst ??= new ShedBurst(resource, now);
        _burst.Add(operation, now);
        return Overloaded();
    }

    /// <summary>Queues an audit record for the next commit (reads, refusals, failures).</summary>
    public void QueueAudit(QueuedAudit audit)
    {
        ArgumentNullException.ThrowIfNull(audit);
        _audits.Add(audit);
    }

    /// <summary>
    /// A preparation finished: <paramref name="prepared"/> replaces the command and it is ready.
    /// False when the command was settled already (prepared inline at hand-off, or failed with
    /// the shard): the caller then releases <paramref name="prepared"/> itself.
    /// </summary>
    public bool Prepared(PendingCommand<TReplyTo> pending, IShardCommand prepared)
    {
        ArgumentNullException.ThrowIfNull(pending);
        ArgumentNullException.ThrowIfNull(prepared);
        if (pending.State != PendingState.Preparing)
        {
            return false;
        }

        pending.Command = prepared;
        pending.WasPrepared = true;
        pending.State = PendingState.Ready;
        return true;
    }

    /// <summary>
    /// A preparation refused its command: it leaves the queue and its failure is audited.
    /// False when it was settled already. The caller replies <paramref name="error"/>.
    /// </summary>
    public bool PreparationFailed(PendingCommand<TReplyTo> pending, ForgeOneError error)
    {
        ArgumentNullException.ThrowIfNull(pending);
        ArgumentNullException.ThrowIfNull(error);
        if (pending.State != PendingState.Preparing)
        {
            return false;
        }

        Remove(pending);
        _audits.Add(FailureAudit(pending, error));
        return true;
    }

    /// <summary>
    /// The next transaction's worth: every queued audit record (up to the count and byte caps)
    /// and the ready commands at the head of the queue, in admission order, at most
    /// <see cref="GroupCommitLimits.MaxGroupCommands"/> of them and at most
    /// <see cref="GroupCommitLimits.MaxGroupBytes"/> together (a single larger command goes
    /// alone). Null when there is nothing to commit.
    /// </summary>
    public CommitGroup<TReplyTo>? NextGroup()
    {
        if (!HasWork)
        {
            return null;
        }

        CloseBurst();
        long bytes = 0;
        var audits = 0;
        while (audits < _audits.Count && audits < Limits.MaxGroupCommands && (audits == 0 || bytes + AuditRecordBytes <= Limits.MaxGroupBytes))
        {
            bytes += AuditRecordBytes;
            audits++;
        }

        var commands = 0;
        while (commands < _pending.Count && commands < Limits.MaxGroupCommands && _pending[commands].State == PendingState.Ready
            && (bytes == 0 || bytes + _pending[commands].Bytes <= Limits.MaxGroupBytes))
        {
            bytes += _pending[commands].Bytes;
            commands++;
        }

        var group = new CommitGroup<TReplyTo>([.. _pending.GetRange(0, commands)], [.. _audits.GetRange(0, audits)]);
        foreach (var pending in group.Commands)
        {
            pending.State = PendingState.InGroup;
            _pendingBytes -= pending.Bytes;
        }

        _pending.RemoveRange(0, commands);
        _audits.RemoveRange(0, audits);
        return group;
    }

    /// <summary>
    /// Commits <paramref name="group"/> through <paramref name="transact"/>, isolating commands
    /// that fail (see the class remarks). A failure that is no command's (the commit itself, a
    /// fenced owner, the audit chain) fails every command not yet committed with
    /// <see cref="GroupOutcome{TReplyTo}.Fault"/>, and puts the group's audit records, with a
    /// failure record for each of those commands, back at the head of the audit queue: an audit
    /// record is never dropped because its transaction did not commit.
    /// </summary>
    /// <param name="group">From <see cref="NextGroup"/>.</param>
    /// <param name="transact">
    /// Runs its argument in one write transaction and commits it when it returns; when it throws,
    /// nothing it wrote is kept and the exception comes back out.
    /// </param>
    public GroupOutcome<TReplyTo> Commit(CommitGroup<TReplyTo> group, Func<Func<IGroupTransaction, CommandResult[]>, CommandResult[]> transact)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(transact);
        var commands = group.Commands;
        var results = new CommandResult?[commands.Count];

        // Segments of the group still to commit, in admission order, as indexes into commands.
        var segments = new List<List<int>>();
        if (commands.Count > 0)
        {
            segments.Add([.. Enumerable.Range(0, commands.Count)]);
        }

        var audits = new List<QueuedAudit>(group.Audits);
        long wasted = 0;
        var transactions = 0;
        var aborts = 0;
        while (segments.Count > 0 || audits.Count > 0)
        {
            var segment = segments.Count > 0 ? segments[0] : [];
            var batch = segment.Select(i => commands[i]).ToArray();
            var auditsNow = audits.ToArray();
            try
            {
                var committed = transact(txn => ApplyAll(batch, auditsNow, txn));
                transactions++;
                foreach (var audit in auditsNow)
                {
                    audit.Committed?.Invoke();
                }

                for (var i = 0; i < segment.Count; i++)
                {
                    results[segment[i]] = committed[i];
                }

                audits.RemoveRange(0, auditsNow.Length);
                if (segments.Count > 0)
                {
                    segments.RemoveAt(0);
                }
            }
            catch (CommandAbortedException aborted) when (aborted.Index < segment.Count)
            {
                aborts++;
                var failed = segment[aborted.Index];
                results[failed] = CommandResult.Fail(aborted.Error);
                audits.Add(FailureAudit(commands[failed], aborted.Error));
                wasted += aborted.Index + 1;
                var before = segment.GetRange(0, aborted.Index);
                var after = segment.GetRange(aborted.Index + 1, segment.Count - aborted.Index - 1);
                segments.RemoveAt(0);
                if (wasted <= commands.Count)
                {
                    // Cheap so far: the rest of the segment goes again in one transaction.
                    if (before.Count + after.Count > 0)
                    {
                        segments.Insert(0, [.. before, .. after]);
                    }
                }
                else
                {
                    // Many aborts: commit the commands that ran cleanly before this one on their
                    // own, so no command is re-run more than once more from here on.
                    if (after.Count > 0)
                    {
                        segments.Insert(0, after);
                    }

                    if (before.Count > 0)
                    {
                        segments.Insert(0, before);
                    }
                }
            }
            catch (Exception e)
            {
                var fault = ErrorOf(e);
                foreach (var i in segments.SelectMany(s => s))
                {
                    results[i] = CommandResult.Fail(fault);
                    audits.Add(FailureAudit(commands[i], fault));
                }

                _audits.InsertRange(0, audits);
                return new GroupOutcome<TReplyTo>(Zip(commands, results), fault, transactions, aborts);
            }
        }

        return new GroupOutcome<TReplyTo>(Zip(commands, results), null, transactions, aborts);
    }

    /// <summary>
    /// Takes every command out of the queue (the shard is closing or was fenced): the caller
    /// refuses them back to their senders. Their failure with <paramref name="error"/> is
    /// audited, so whatever is committed next records them.
    /// </summary>
    public IReadOnlyList<PendingCommand<TReplyTo>> RefuseAll(ForgeOneError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        CloseBurst();
        var refused = _pending.ToArray();
        foreach (var pending in refused)
        {
            pending.State = PendingState.Settled;
            _audits.Add(FailureAudit(pending, error));
        }

        _pending.Clear();
        _pendingBytes = 0;
        return refused;
    }

    /// <summary>Takes every queued audit record out of the queue (a fenced shard commits them in a transaction of its own).</summary>
    public IReadOnlyList<QueuedAudit> TakeAudits()
    {
        CloseBurst();
        var audits = _audits.ToArray();
        _audits.Clear();
        return audits;
    }

    /// <summary>The audit outcome of a refused or failed operation: a refusal by authorization is a denial.</summary>
    public static AuditOutcome OutcomeOf(ForgeOneError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return error.Code == ErrorCodes.Forbidden ? AuditOutcome.Denied : AuditOutcome.Failed;
    }

    /// <summary>The typed error of an exception thrown while committing.</summary>
    public static ForgeOneError ErrorOf(Exception e) =>
        e is ForgeOneException fe ? fe.Error : new ForgeOneError(ErrorCodes.StorageIo, e.Message);

    /// <summary>
    /// One attempt: the audit records first, then each command with its own audit record. A
    /// command that throws without having written fails alone; one that wrote first aborts the
    /// attempt (<see cref="CommandAbortedException"/>), because its partial writes cannot be taken back.
    /// </summary>
    private CommandResult[] ApplyAll(PendingCommand<TReplyTo>[] commands, QueuedAudit[] audits, IGroupTransaction txn)
    {
        foreach (var audit in audits)
        {
            txn.Audit(audit.Principal, audit.Admission.Action, audit.Admission.Resource, audit.Outcome, audit.Admission.Detail, audit.Time);
        }

        var now = _time.GetUtcNow();
        var results = new CommandResult[commands.Length];
        for (var i = 0; i < commands.Length; i++)
        {
            var pending = commands[i];
            var before = txn.Writes;
            AppliedCommand applied;
            try
            {
                applied = txn.Apply(pending.Command, pending.Admission.Principal!, pending.Ticket);
            }
            catch (Exception e) when (txn.Writes == before)
            {
                var error = ErrorOf(e);
                results[i] = CommandResult.Fail(error);
                txn.Audit(PrincipalOf(pending), pending.Admission.Action, pending.Admission.Resource, OutcomeOf(error), RefusedDetail(pending.Admission, error), now);
                continue;
            }
            catch (Exception e)
            {
                throw new CommandAbortedException(i, ErrorOf(e), e);
            }

            results[i] = CommandResult.Ok(applied.Reply);
            var detail = applied.Reply is IAuditDetail known ? known.AuditDetail : pending.Admission.Detail;
            if (applied.AuditNote is { } note)
            {
                detail = $"{detail} {note}".Trim();
            }

            txn.Audit(PrincipalOf(pending), pending.Admission.Action, pending.Admission.Resource, pending.Admission.Outcome, detail, now);
        }

        return results;
    }

    /// <summary>The audit detail of an admitted operation that was then refused: what it was, and why not.</summary>
    public static string RefusedDetail(Admission admission, ForgeOneError error)
    {
        ArgumentNullException.ThrowIfNull(admission);
        ArgumentNullException.ThrowIfNull(error);
        return $"{admission.Detail} refused={error.Code}".Trim();
    }

    private QueuedAudit FailureAudit(PendingCommand<TReplyTo> pending, ForgeOneError error) =>
        new(PrincipalOf(pending), pending.Admission with { Detail = RefusedDetail(pending.Admission, error) }, OutcomeOf(error), _time.GetUtcNow());

    private static string PrincipalOf(PendingCommand<TReplyTo> pending) => pending.Admission.AuditPrincipal;

    private ForgeOneError Overloaded() => new(ErrorCodes.Overloaded,
        $"The shard holds {_pending.Count} commands ({_pendingBytes} bytes) waiting to commit, its limit is {Limits.MaxPendingCommands} commands or {Limits.MaxPendingBytes} bytes; retry later.");

    // The burst so far becomes its audit record, queued behind the records already waiting.
    private void CloseBurst()
    {
        if (_burst is { } burst)
        {
            _audits.Add(burst.ToAudit());
            _burst = null;
        }
    }

    /// <summary>Refusals shed since the last commit, counted per operation.</summary>
    private sealed class ShedBurst(string resource, DateTimeOffset first)
    {
        private readonly SortedDictionary<string, long> _byOperation = new(StringComparer.Ordinal);
        private readonly DateTimeOffset _first = first;
        private DateTimeOffset _last = first;

        public long Total { get; private set; }

        public void Add(string operation, DateTimeOffset now)
        {
            _byOperation[operation] = _byOperation.TryGetValue(operation, out var n) ? n + 1 : 1;
            Total++;
            _last = now;
        }

        // Unauthenticated: the tokens were not checked (that is what made the refusal cheap), so
        // the record names no principal it could not vouch for.
        public QueuedAudit ToAudit()
        {
            var counts = string.Join(' ', _byOperation.Select(o => $"{o.Key}={o.Value}"));
            var detail = string.Create(global::System.Globalization.CultureInfo.InvariantCulture,
                $"refused={ErrorCodes.Overloaded} count={Total} {counts} first={_first:O} last={_last:O}");
            var admission = new Admission(ShedAction, resource, new ForgeOneError(ErrorCodes.Overloaded, $"{Total} commands shed"), AuditOutcome.Failed, detail);
            return new QueuedAudit(Admission.UnauthenticatedPrincipal, admission, AuditOutcome.Failed, _first);
        }
    }

    private void Remove(PendingCommand<TReplyTo> pending)
    {
        _pending.Remove(pending);
        _pendingBytes -= pending.Bytes;
        pending.State = PendingState.Settled;
    }

    private static (PendingCommand<TReplyTo>, CommandResult)[] Zip(IReadOnlyList<PendingCommand<TReplyTo>> commands, CommandResult?[] results)
    {
        var zipped = new (PendingCommand<TReplyTo>, CommandResult)[commands.Count];
        for (var i = 0; i < zipped.Length; i++)
        {
            commands[i].State = PendingState.Settled;
            zipped[i] = (commands[i], results[i] ?? throw new InvalidOperationException($"command {i} of the group has no result"));
        }

        return zipped;
    }

    /// <summary>A command threw after writing: the attempt must be aborted and run again without it.</summary>
    private sealed class CommandAbortedException(int index, ForgeOneError error, Exception inner)
        : Exception($"command {index} of the group failed after writing: {error}", inner)
    {
        public int Index { get; } = index;

        public ForgeOneError Error { get; } = error;
    }
}

/// <summary>Bounds of one shard's group commit and its queue of admitted commands.</summary>
/// <param name="MaxGroupCommands">Most commands (and, separately, most audit records) in one transaction.</param>
/// <param name="MaxGroupBytes">Most estimated bytes in one transaction (kept well below LMDB's dirty-page limit).</param>
/// <param name="MaxPendingCommands">Most admitted commands waiting; beyond it a command is refused with <c>cluster.overloaded</c>.</param>
/// <param name="MaxPendingBytes">Most estimated bytes waiting; beyond it a command is refused with <c>cluster.overloaded</c>.</param>
public sealed record GroupCommitLimits(int MaxGroupCommands, long MaxGroupBytes, int MaxPendingCommands, long MaxPendingBytes)
{
    /// <summary>The limits of <paramref name="options"/>.</summary>
    public static GroupCommitLimits From(Hosting.ShardOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new(options.MaxGroupCommit, options.MaxGroupBytes, options.MaxPendingCommands, options.MaxPendingBytes);
    }
}

/// <summary>Where a pending command is.</summary>
public enum PendingState
{
    /// <summary>Its preparation runs; the commands behind it wait.</summary>
    Preparing,

    /// <summary>Ready to commit.</summary>
    Ready,

    /// <summary>Handed to a group being committed.</summary>
    InGroup,

    /// <summary>Committed, failed or refused: its reply is the caller's to send.</summary>
    Settled,
}

/// <summary>An admitted command waiting for its group commit.</summary>
/// <typeparam name="TReplyTo">Where its reply goes.</typeparam>
public sealed class PendingCommand<TReplyTo>
{
    internal PendingCommand(IShardCommand command, TReplyTo replyTo, Admission admission, long bytes, PendingState state)
    {
        Command = command;
        ReplyTo = replyTo;
        Admission = admission;
        Bytes = bytes;
        State = state;
    }

    /// <summary>The command (after preparation: the prepared one).</summary>
    public IShardCommand Command { get; internal set; }

    /// <summary>Where the reply goes.</summary>
    public TReplyTo ReplyTo { get; }

    /// <summary>Its admission (audit action, resource, detail).</summary>
    public Admission Admission { get; }

    /// <summary>Estimated bytes it holds.</summary>
    public long Bytes { get; }

    /// <summary>Where it is.</summary>
    public PendingState State { get; internal set; }

    /// <summary>True when <see cref="Command"/> is a prepared command (which may hold pooled buffers until released).</summary>
    public bool WasPrepared { get; internal set; }

    /// <summary>The request id's place in the shard's request ledger, when the command carries one.</summary>
    public RequestTicket? Ticket { get; init; }
}

/// <summary>An audit record waiting for a commit.</summary>
/// <param name="Principal">Who.</param>
/// <param name="Admission">Action, resource and detail.</param>
/// <param name="Outcome">Success, Denied or Failed.</param>
/// <param name="Time">When it happened (not when it commits).</param>
public sealed record QueuedAudit(string Principal, Admission Admission, AuditOutcome Outcome, DateTimeOffset Time)
{
    /// <summary>
    /// Runs once the record's transaction committed (on the committing thread): a read in the
    /// synchronous read-audit mode sends its reply here, so no read is answered before its record
    /// is durable. A record that goes back to the queue runs it when it finally commits.
    /// </summary>
    public Action? Committed { get; init; }
}

/// <summary>One transaction's worth of work from <see cref="GroupCommit{TReplyTo}.NextGroup"/>.</summary>
/// <typeparam name="TReplyTo">Where replies go.</typeparam>
/// <param name="Commands">Commands in admission order.</param>
/// <param name="Audits">Audit records to commit with them (first, in queue order).</param>
public sealed record CommitGroup<TReplyTo>(IReadOnlyList<PendingCommand<TReplyTo>> Commands, IReadOnlyList<QueuedAudit> Audits);

/// <summary>What committing a group did with each of its commands.</summary>
/// <typeparam name="TReplyTo">Where replies go.</typeparam>
/// <param name="Results">Every command of the group with its result, in admission order.</param>
/// <param name="Fault">A failure that was no command's own (null when none): commands without a result of their own failed with it.</param>
/// <param name="Transactions">Transactions committed.</param>
/// <param name="Aborts">Attempts aborted by a command that failed after writing.</param>
public sealed record GroupOutcome<TReplyTo>(IReadOnlyList<(PendingCommand<TReplyTo> Pending, CommandResult Result)> Results, ForgeOneError? Fault, int Transactions, int Aborts);

/// <summary>A command's result: its reply once committed, or the error that failed it.</summary>
/// <param name="Reply">The reply (when committed).</param>
/// <param name="Error">The error (when failed).</param>
public readonly record struct CommandResult(object? Reply, ForgeOneError? Error)
{
    /// <summary>Committed with <paramref name="reply"/>.</summary>
    public static CommandResult Ok(object reply) => new(reply, null);

    /// <summary>Failed with <paramref name="error"/>.</summary>
    public static CommandResult Fail(ForgeOneError error) => new(null, error);

    /// <summary>True when the command committed.</summary>
    public bool Committed => Error is null;
}

/// <summary>A command applied in a group's transaction: its reply, and what its audit record should add (a replayed request).</summary>
/// <param name="Reply">The reply sent once the transaction committed.</param>
/// <param name="AuditNote">Appended to the audit detail (the reply's <see cref="IAuditDetail"/> or the admission's), e.g. <c>replayed ids=1</c>.</param>
public readonly record struct AppliedCommand(object Reply, string? AuditNote = null);

/// <summary>The write transaction a group attempt runs in, as <see cref="GroupCommit{TReplyTo}"/> sees it.</summary>
public interface IGroupTransaction
{
    /// <summary>
    /// Writes attempted so far in this transaction (counted before they run). A command that
    /// throws while this is unchanged left the transaction as it found it.
    /// </summary>
    long Writes { get; }

    /// <summary>Applies <paramref name="command"/> as the verified <paramref name="principal"/> (admitted with <paramref name="ticket"/> when it carries a request id); returns its reply.</summary>
    AppliedCommand Apply(IShardCommand command, Principal principal, RequestTicket? ticket);

    /// <summary>Appends one audit record.</summary>
    void Audit(string principal, string action, string resource, AuditOutcome outcome, string detail, DateTimeOffset time);
}
