using System.Buffers.Binary;
using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Security;
using ForgeOne.Cluster.Sharding;
using ForgeOne.Cluster.Shards.Requests;
using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage;

namespace ForgeOne.Cluster.Shards;

/// <summary>
/// One storage shard: owns its LMDB file, its security state and the group commit.
/// </summary>
/// <remarks>
/// Lifecycle:
/// <code>
///                  PreStart: open file, claim owner (epoch+1), load keys + audit head
///   (created) ----------------------------------------------------------+
///       |  ok                                                            | open failed
///       v                                                                v
///   +--------+  command: admit -> buffer, Self ! Flush once        +---------+
///   | Active |  Flush: one txn for all buffered + queued audits    | Failed  |  every request -> typed
///   |        |  query: Task.Run(read) |> sender, outcome audited   |         |  failure reply; logged once;
///   +--------+  idle (receive timeout) -> Parent ! Passivate       +---------+  no restart loop
///       |  HandOff (hand-off stop message / passivation)                 | HandOff
///       v                                                                v
///   wait for in-flight reads -> flush buffered writes + read audits -> close file -> Stop
/// </code>
/// Group commit (DESIGN.md §5): a command is admitted (validate + authorize, no I/O) and
/// buffered; the first buffered command sends <see cref="Flush"/> to self. Everything that
/// arrives before that Flush is dequeued joins the same transaction, so one commit serves a
/// burst; at low load a lone write commits at once. Replies go out only after the commit.
/// The LMDB write transaction begins and commits inside the Flush handler (thread-affine).
/// Queries and control messages use a priority mailbox so a read never waits behind queued writes.
/// </remarks>
public sealed class ShardActor : ReceiveActor, IWithTimers
{
    private readonly ShardHost _host;
    private readonly ShardKind _kind;
    private readonly int _shard;
    private readonly string _nodeAddress;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly List<Pending> _pending = [];
    private readonly List<QueuedAudit> _queuedAudits = [];
    private readonly IShardHandler _handler;
    private readonly IShardPreparation? _preparation;

    // Audit records of finished reads, filled by read tasks (off the actor thread) and drained
    // by the actor into _queuedAudits; _drainSignalled coalesces the wake-up messages.
    private readonly ConcurrentQueue<QueuedAudit> _completedReads = new();
    private int _drainSignalled;

    private IShardStore? _store;
    private IShardSecurity? _security;
    private ShardContext? _context;
    private BatchClock? _clock;

    // Request ids of idempotent writes (log and events shards); null on kinds without them.
    private RequestLedger? _requests;
    private long _epoch;
    private bool _flushScheduled;
    private long _commandsApplied;
    private bool _auditFlushScheduled;
    private int _tasksInFlight; // reads and preparations running on the thread pool
    private ForgeOneError? _openFailure;
    private ICancelable? _maintenance;

    // The kind's stream actor (events subscriptions), started once the shard is open.
    private IActorRef? _stream;

    /// <summary>Creates the actor for entity <paramref name="entityId"/> (<c>"{kind}-{n}"</c>).</summary>
    public ShardActor(ShardHost host, string entityId, string nodeAddress)
    {
        if (!ShardEntityId.TryParse(entityId, out _kind, out _shard))
        {
            throw new ArgumentException($"'{entityId}' is not a shard entity id.", nameof(entityId));
        }

        _host = host;
        _nodeAddress = nodeAddress;
        _handler = host.Handlers.TryGetValue(_kind, out var handler)
            ? handler
            : new UnsupportedKindHandler(_kind);
        _preparation = _handler as IShardPreparation;
        Become(Active);
    }

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Props for the entity of <paramref name="entityId"/>, on the shard dispatcher and priority mailbox.</summary>
    public static Props Props(ShardHost host, string entityId, string nodeAddress) =>
        Akka.Actor.Props.Create(() => new ShardActor(host, entityId, nodeAddress))
            .WithDispatcher(Hosting.ClusterConfig.ShardDispatcher)
            .WithMailbox(Hosting.ClusterConfig.ShardMailbox);

    /// <summary>Tells the actor to commit its buffer. Internal: sent only to self.</summary>
    internal sealed class Flush
    {
        public static readonly Flush Instance = new();

        private Flush()
        {
        }
    }

    /// <summary>Commits queued read audits once their bounded delay is up. Internal: a timer to self.</summary>
    internal sealed class FlushAudits : INotInfluenceReceiveTimeout
    {
        public static readonly FlushAudits Instance = new();

        private FlushAudits()
        {
        }
    }

    /// <summary>Read tasks finished and queued audit records in <c>_completedReads</c>. Internal: sent only to self.</summary>
    internal sealed class DrainReadAudits : INotInfluenceReceiveTimeout
    {
        public static readonly DrainReadAudits Instance = new();

        private DrainReadAudits()
        {
        }
    }

    /// <summary>A command's preparation finished: the prepared command, or the error that refused it.</summary>
    private sealed record Prepared(Pending Pending, IShardCommand? Command, ForgeOneError? Error);

    /// <summary>Timer tick for <see cref="IShardMaintenance"/> handlers; does not keep an idle shard alive.</summary>
    internal sealed class Maintain : INotInfluenceReceiveTimeout
    {
        public static readonly Maintain Instance = new();

        private Maintain()
        {
        }
    }

    /// <inheritdoc />
    protected override void PreStart()
    {
        try
        {
            Open();
            SetReceiveTimeout(_host.Options.PassivateIdleAfter);
            if (_handler is IShardMaintenance maintenance)
            {
                // Sender Nobody: the maintenance command's reply (and any refusal) is dropped silently.
                _maintenance = Context.System.Scheduler.ScheduleTellRepeatedlyCancelable(
                    maintenance.MaintenanceInterval, maintenance.MaintenanceInterval, Self, Maintain.Instance, ActorRefs.Nobody);
            }

            _log.Info("Shard {0}-{1} open on {2} (epoch {3}, {4})", _kind.FolderName(), _shard, _nodeAddress, _epoch, _store!.FilePath);
        }
        catch (Exception e)
        {
            // Corrupt file, wrong or missing key, stale owner: retrying will not help, and a
            // supervisor restart would only loop. Stay up answering every request with the
            // reason, so clients get a clear error and the operator a single loud log line.
            _openFailure = e is ForgeOneException fe
                ? fe.Error
                : new ForgeOneError(ErrorCodes.StorageIo, e.Message);
            _log.Error(e, "SHARD {0}-{1} FAILED TO OPEN on {2}: {3}. It will refuse every request until the cause is fixed and the shard is restarted.", _kind.FolderName(), _shard, _nodeAddress, _openFailure);
            CloseQuietly();
            Become(Failed);
        }
    }

    /// <inheritdoc />
    protected override void PostStop()
    {
        _maintenance?.Cancel();
        // Normal path closes in HandOff; this covers a stop for any other reason (system
        // shutdown without hand-off, a crash): never leave the environment open.
        if (_store is not null)
        {
            try
            {
                FinalFlush();
            }
            catch (Exception e)
            {
                _log.Error(e, "Shard {0}-{1}: final flush failed", _kind.FolderName(), _shard);
            }

            CloseQuietly();
        }
    }

    private void Open()
    {
        var store = ShardStore.Open(_host.StoreOptions(_kind, _shard));
        _store = store;
        _epoch = (store.Meta.Owner?.Epoch ?? 0) + 1;
        store.ClaimOwnership(_nodeAddress, _epoch);
        _security = _host.Security.Open(store, _kind, _shard);
        var hwm = store.Read(txn => txn.Get(Tables.Keys, HighWaterMarkKey));
        _clock = new BatchClock(_host.Time);
        var ids = new RecordIdGenerator(_shard, _clock, hwm is { Length: 8 } ? new RecordId(BinaryPrimitives.ReadUInt64BigEndian(hwm)) : default);
        _context = new ShardContext(_kind, _shard, _host.Counts.Of(_kind), _security, ids, _clock, _host.Limits) { Zone = _host.Zone };
        _requests = Tables.For(_kind).Contains(Tables.Requests) ? new RequestLedger(_security, _host.Options.IdempotencyWindow) : null;
        if (_handler is IShardStreamHandler streams)
        {
            _stream = Context.ActorOf(streams.StreamProps(_context, Self), "stream");
        }
    }

    // Kept in the keys table beside the keyring: both are per-shard state that must never go
    // backwards when the shard moves (shard_meta is written only by the store itself).
    private static ReadOnlySpan<byte> HighWaterMarkKey => "id_high_water_mark"u8;

    private void Active()
    {
        Receive<IShardCommand>(OnCommand);
        Receive<IShardQuery>(OnQuery);
        Receive<IShardStreamRequest>(OnStreamRequest);
        Receive<ShardStreamRead>(OnStreamRead);
        Receive<DrainReadAudits>(_ => DrainCompletedReads());
        Receive<Flush>(_ =>
        {
            _flushScheduled = false;
            CommitBuffered();
        });
        Receive<FlushAudits>(_ =>
        {
            _auditFlushScheduled = false;
            CommitBuffered();
        });
        Receive<Prepared>(OnPrepared);
        Receive<ShardProtocol.GetShardStats>(_ => Sender.Tell(Stats()));
        Receive<ShardProtocol.GetAuditHead>(_ =>
        {
            // The sealer wants a head that includes everything acknowledged so far.
            CommitBuffered();
            var head = _security!.AuditHead;
            Sender.Tell(new ShardProtocol.AuditHead(_kind, _shard, head.Sequence, head.Hash));
        });
        Receive<ShardProtocol.RotateKey>(OnRotate);
        Receive<ShardProtocol.HandOff>(_ => HandOff());
        Receive<Maintain>(_ => OnMaintain());
        Receive<ReceiveTimeout>(_ =>
        {
            _log.Debug("Shard {0}-{1} idle, passivating", _kind.FolderName(), _shard);
            Context.Parent.Tell(new Passivate(ShardProtocol.HandOff.Instance));
        });
    }

    private void Failed()
    {
        Receive<IShardOperation>(_ => Sender.Tell(_handler.Fail(Unavailable())));
        Receive<IShardControl>(_ => Sender.Tell(new ShardProtocol.ShardFailed(_kind, _shard, Unavailable())));
        Receive<ShardStreamRead>(_ => Sender.Tell(new Status.Failure(new ForgeOneException(Unavailable()))));
        Receive<ShardProtocol.HandOff>(_ => Context.Stop(Self));
        ReceiveAny(_ => { });
    }

    private ForgeOneError Unavailable() =>
        new(_openFailure!.Code, $"Shard {_kind.FolderName()}-{_shard} is unavailable on {_nodeAddress}: {_openFailure.Message}");

    private void OnCommand(IShardCommand command)
    {
        var admission = Admit(command);
        if (!admission.Admitted)
        {
            return;
        }

        RequestTicket? ticket = null;
        if (command is IIdempotentCommand { RequestId: { } requestId } idempotent && !BeginRequest(idempotent, requestId, admission, out ticket))
        {
            return;
        }

        var pending = new Pending(command, Sender, admission) { Ticket = ticket };
        _pending.Add(pending);
        if (_preparation is { } preparation && preparation.NeedsPreparation(command))
        {
            Prepare(pending, preparation);
            return;
        }

        ScheduleFlush();
    }

    /// <summary>
    /// An admitted write with a request id: in line for the group commit with its ticket, or
    /// refused (malformed id, or a duplicate whose original is still in flight) and audited.
    /// Whether it was committed before is decided inside the group's transaction.
    /// </summary>
    private bool BeginRequest(IIdempotentCommand command, RequestId requestId, Admission admission, out RequestTicket? ticket)
    {
        ticket = null;
        var refusal = requestId.Validate()
            ?? (_requests is null ? new ForgeOneError(ErrorCodes.InvalidArgument, $"{_kind.FolderName()} shards keep no request ids.") : null);
        if (refusal is null)
        {
            try
            {
                (ticket, refusal) = _requests!.Begin(command.Caller.Id, requestId, requestId.Fingerprint ?? IdempotentWrites.Fingerprint(command));
            }
            catch (Exception e) when (e is ArgumentException or ForgeOneException)
            {
                refusal = new ForgeOneError(ErrorCodes.InvalidArgument, e.Message);
            }
        }

        if (refusal is null)
        {
            return true;
        }

        Sender.Tell(_handler.Fail(refusal));
        _queuedAudits.Add(new QueuedAudit(command.Caller.Id, admission with { Detail = $"{admission.Detail} refused={refusal.Code}".Trim() }, AuditOutcome.Failed, _host.Time.GetUtcNow()));
        ScheduleFlush();
        return false;
    }

    private void Prepare(Pending pending, IShardPreparation preparation)
    {
        pending.Ready = false;
        var context = _context!;
        var command = pending.Command;
        Interlocked.Increment(ref _tasksInFlight);
        Task.Run(() =>
        {
            try
            {
                return RunPreparation(preparation, pending, command, context);
            }
            finally
            {
                Interlocked.Decrement(ref _tasksInFlight);
            }
        }).PipeTo(Self);
    }

    private static Prepared RunPreparation(IShardPreparation preparation, Pending pending, IShardCommand command, ShardContext context)
    {
        try
        {
            return new Prepared(pending, preparation.Prepare(command, context), null);
        }
        catch (Exception e)
        {
            return new Prepared(pending, null, e is ForgeOneException fe ? fe.Error : new ForgeOneError(ErrorCodes.InvalidArgument, e.Message));
        }
    }

    private void OnPrepared(Prepared prepared)
    {
        if (Settle(prepared))
        {
            ScheduleFlush();
        }
    }

    /// <summary>Puts a prepared command in line for the next group commit, or fails it; false when it was settled already.</summary>
    private bool Settle(Prepared prepared)
    {
        var pending = prepared.Pending;
        if (pending.Ready || !_pending.Contains(pending))
        {
            return false; // already prepared inline (hand-off) or failed with the shard
        }

        if (prepared.Command is { } command)
        {
            pending.Command = command;
            pending.Ready = true;
        }
        else
        {
            _pending.Remove(pending);
            Release(pending);
            pending.Sender.Tell(_handler.Fail(prepared.Error!));
            _queuedAudits.Add(new QueuedAudit(pending.Command.Caller.Id, pending.Admission, AuditOutcome.Failed, _host.Time.GetUtcNow()));
        }

        return true;
    }

    /// <summary>Hand-off and stop: commands still being prepared are prepared here, so nothing admitted is dropped.</summary>
    private void PrepareRemainingInline()
    {
        foreach (var pending in _pending.Where(p => !p.Ready).ToList())
        {
            Settle(RunPreparation(_preparation!, pending, pending.Command, _context!));
        }
    }

    private void OnMaintain()
    {
        IShardCommand? command;
        try
        {
            var context = _context!;
            command = _store!.Read(txn => ((IShardMaintenance)_handler).MaintenanceCommand(txn, context));
        }
        catch (Exception e)
        {
            _log.Error(e, "Shard {0}-{1}: maintenance check failed", _kind.FolderName(), _shard);
            return;
        }

        if (command is not null)
        {
            OnCommand(command);
        }
    }

    private void OnQuery(IShardQuery query)
    {
        var admission = Admit(query);
        if (!admission.Admitted)
        {
            return;
        }

        // The read's outcome is known only once Read ran: a check against stored state (a
        // topic's classification or zone) may refuse it with auth.forbidden. So the audit record
        // is made by the read task from the actual reply, handed to the actor through
        // _completedReads, and joins the next group commit (bounded delay, DESIGN.md §6). The
        // task queues the record before it replies, and decrements _tasksInFlight only after
        // both: HandOff waits for the count to reach zero, then drains the queue before the
        // final commit, so no read's record is lost when the shard stops. The reply goes
        // straight to the sender, not through this (pinned, possibly committing) actor, so a
        // read still never waits behind the write queue.
        var admittedAt = _host.Time.GetUtcNow();
        var store = _store!;
        var context = _context!;
        var handler = _handler;
        var sender = Sender;
        var self = Self;
        var completed = _completedReads;
        Interlocked.Increment(ref _tasksInFlight);
        _ = Task.Run(() =>
        {
            try
            {
                object reply;
                try
                {
                    reply = store.Read(txn => handler.Read(txn, query, context));
                }
                catch (ForgeOneException e)
                {
                    reply = handler.Fail(e.Error);
                }
                catch (Exception e)
                {
                    reply = handler.Fail(new ForgeOneError(ErrorCodes.StorageIo, e.Message));
                }

                completed.Enqueue(new QueuedAudit(query.Caller.Id, admission, ReadOutcome(reply), admittedAt));
                if (Interlocked.Exchange(ref _drainSignalled, 1) == 0)
                {
                    self.Tell(DrainReadAudits.Instance, ActorRefs.NoSender);
                }

                sender.Tell(reply, self);
            }
            finally
            {
                Interlocked.Decrement(ref _tasksInFlight);
            }
        });
    }

    /// <summary>The audit outcome of a read, from its reply: a refusal made inside Read is a denial.</summary>
    internal static AuditOutcome ReadOutcome(object reply) =>
        reply switch
        {
            IFailureReply { Error.Code: ErrorCodes.Forbidden } => AuditOutcome.Denied,
            IFailureReply => AuditOutcome.Failed,
            _ => AuditOutcome.Success,
        };

    /// <summary>Moves the audit records of finished reads into the next group commit.</summary>
    private void DrainCompletedReads()
    {
        Volatile.Write(ref _drainSignalled, 0);
        var drained = false;
        while (_completedReads.TryDequeue(out var audit))
        {
            _queuedAudits.Add(audit);
            drained = true;
        }

        if (drained)
        {
            ScheduleAuditFlush();
        }
    }

    private void OnStreamRequest(IShardStreamRequest request)
    {
        if (_stream is null)
        {
            Sender.Tell(_handler.Fail(new ForgeOneError(ErrorCodes.InvalidArgument, $"{_kind.FolderName()} shards serve no streams.")));
            return;
        }

        var admission = Admit(request);
        if (!admission.Admitted)
        {
            return;
        }

        // Opening a stream is audited like a read: the record joins the next group commit.
        _queuedAudits.Add(new QueuedAudit(request.Caller.Id, admission, AuditOutcome.Success, _host.Time.GetUtcNow()));
        ScheduleAuditFlush();
        _stream.Forward(request);
    }

    private void OnStreamRead(ShardStreamRead read)
    {
        // Same discipline as a query: off the actor thread, counted so the file is never closed
        // under it. The stream actor is our child, so no read can be asked after HandOff.
        var store = _store!;
        Interlocked.Increment(ref _tasksInFlight);
        Task.Run(() =>
        {
            try
            {
                return store.Read(read.Read);
            }
            finally
            {
                Interlocked.Decrement(ref _tasksInFlight);
            }
        }).PipeTo(Sender);
    }

    private Admission Admit(IShardOperation operation)
    {
        Admission admission;
        try
        {
            admission = _handler.Admit(operation, _context!);
        }
        catch (Exception e)
        {
            admission = Admission.Reject("unknown", _context!.ResourcePrefix, new ForgeOneError(ErrorCodes.InvalidArgument, e.Message));
        }

        if (!admission.Admitted)
        {
            Sender.Tell(_handler.Fail(admission.Refusal!));
            _queuedAudits.Add(new QueuedAudit(operation.Caller?.Id ?? "<none>", admission, admission.Outcome, _host.Time.GetUtcNow()));
            ScheduleFlush();
        }

        return admission;
    }

    private void ScheduleFlush()
    {
        if (!_flushScheduled)
        {
            _flushScheduled = true;
            Self.Tell(Flush.Instance);
        }
    }

    /// <summary>
    /// Read audits may wait (DESIGN.md §6: bounded delay) for the next write's group commit, or
    /// for <see cref="Hosting.ShardOptions.ReadAuditDelay"/>: a stream of reads then costs one commit
    /// per delay instead of one per burst. Zero commits them at once.
    /// </summary>
    private void ScheduleAuditFlush()
    {
        var delay = _host.Options.ReadAuditDelay;
        if (delay <= TimeSpan.Zero)
        {
            ScheduleFlush();
        }
        else if (!_auditFlushScheduled && !_flushScheduled)
        {
            _auditFlushScheduled = true;
            Timers.StartSingleTimer(nameof(FlushAudits), FlushAudits.Instance, delay);
        }
    }

    /// <summary>
    /// Commits everything buffered that is ready, in admission order, in groups of at most
    /// MaxGroupCommit commands; a command still being prepared holds back the ones behind it.
    /// </summary>
    private void CommitBuffered()
    {
        while (ReadyCount() > 0 || _queuedAudits.Count > 0)
        {
            var take = Math.Min(ReadyCount(), _host.Options.MaxGroupCommit);
            var group = _pending.GetRange(0, take);
            _pending.RemoveRange(0, take);
            var audits = _queuedAudits.ToArray();
            _queuedAudits.Clear();
            CommitGroup(group, audits);
        }
    }

    /// <summary>A command's fate is settled (replied): a prepared one may hand back pooled buffers.</summary>
    private void Release(Pending pending)
    {
        if (pending.Ticket is { } ticket)
        {
            _requests?.End(ticket);
        }

        if (pending.Ready && _preparation is { } preparation)
        {
            preparation.Release(pending.Command);
        }
    }

    private int ReadyCount()
    {
        var ready = 0;
        while (ready < _pending.Count && _pending[ready].Ready)
        {
            ready++;
        }

        return ready;
    }

    private void CommitGroup(List<Pending> group, QueuedAudit[] audits)
    {
        object[] replies;
        IAuditAppender appender;
        try
        {
            (replies, appender) = WriteGroup(group, audits);
        }
        catch (Exception e) when (group.Count > 1 || (group.Count == 1 && audits.Length > 0))
        {
            // One bad command must not fail its neighbours: redo each alone, then the audits.
            _log.Warning("Shard {0}-{1}: group of {2} aborted ({3}); re-running one by one", _kind.FolderName(), _shard, group.Count, e.Message);
            foreach (var pending in group)
            {
                CommitGroup([pending], []);
            }

            if (audits.Length > 0)
            {
                CommitGroup([], audits);
            }

            return;
        }
        catch (Exception e)
        {
            StaleOwnerCheck(e);
            var error = e is ForgeOneException fe ? fe.Error : new ForgeOneError(ErrorCodes.StorageIo, e.Message);
            foreach (var pending in group)
            {
                pending.Sender.Tell(_handler.Fail(error));
                Release(pending);

                // A handler's check against stored state (a topic's classification, say) that
                // refuses access is a denial in the audit trail, like a refusal at admission.
                var outcome = error.Code == ErrorCodes.Forbidden ? AuditOutcome.Denied : AuditOutcome.Failed;
                _queuedAudits.Add(new QueuedAudit(pending.Command.Caller.Id, pending.Admission, outcome, _host.Time.GetUtcNow()));
            }

            if (group.Count == 0)
            {
                _log.Error(e, "Shard {0}-{1}: could not commit {2} queued audit records", _kind.FolderName(), _shard, audits.Length);
            }

            return;
        }

        _security!.CommitAudit(appender);
        _commandsApplied += group.Count;
        for (var i = 0; i < group.Count; i++)
        {
            group[i].Sender.Tell(replies[i]);
            Release(group[i]);
        }

        // Live streams see a write only once it is durable.
        if (_stream is not null && group.Count > 0)
        {
            _stream.Tell(new ShardCommitted([.. group.Select(p => p.Command)], replies));
        }
    }

    private (object[] Replies, IAuditAppender Appender) WriteGroup(List<Pending> group, QueuedAudit[] audits)
    {
        var store = _store!;
        var context = _context!;
        var security = _security!;
        var requests = _requests;

        // The group's time is read once, here: inside the transaction every clock read of this
        // thread (ids, timestamps, retention, request outcomes) sees it, so applying the same
        // batch again decides the same way.
        using var frozen = _clock!.Freeze();
        var batchTime = frozen.Time;
        return store.Write(txn =>
        {
            // Fence a stale owner: if another node claimed the shard since we opened it, stop
            // writing rather than interleave with the new owner.
            var meta = txn.Get(Tables.ShardMeta, ShardMeta.Key);
            if (meta is not null && ShardMeta.Decode(meta).Owner is { } owner && (owner.NodeAddress != _nodeAddress || owner.Epoch != _epoch))
            {
                throw new ForgeOneException(ErrorCodes.StorageStaleOwner, $"Shard {_kind.FolderName()}-{_shard} is now owned by {owner.NodeAddress} (epoch {owner.Epoch}); this node ({_nodeAddress}, epoch {_epoch}) no longer writes it.");
            }

            // A fresh appender per attempt: Write re-runs this delegate after growing the map.
            var appender = security.BeginAudit();
            foreach (var audit in audits)
            {
                appender.Append(txn, audit.Time, audit.Principal, audit.Admission.Action, audit.Admission.Resource, audit.Outcome, audit.Admission.Detail);
            }

            var hwmBefore = context.Ids.HighWaterMark;
            var replies = new object[group.Count];
            var recorded = 0;
            for (var i = 0; i < group.Count; i++)
            {
                var pending = group[i];
                var outcome = AuditOutcome.Success;
                string detail;
                if (pending.Ticket is { } ticket && requests!.Find(txn, ticket, batchTime) is { } prior)
                {
                    // Committed before (a retry after a timeout, a node's death, a hand-off):
                    // answer with the original ids and write nothing.
                    var same = RequestLedger.SameRequest(prior, ticket);
                    replies[i] = same
                        ? IdempotentWrites.Replay((IIdempotentCommand)pending.Command, prior.Ids)
                        : _handler.Fail(RequestLedger.Reused(ticket.Id));
                    outcome = same ? AuditOutcome.Success : AuditOutcome.Failed;
                    detail = same ? $"{pending.Admission.Detail} replayed ids={prior.Ids.Length}".Trim() : $"{pending.Admission.Detail} refused={ErrorCodes.RequestKeyReused}".Trim();
                }
                else
                {
                    replies[i] = _handler.Apply(txn, pending.Command, context);
                    detail = replies[i] is IAuditDetail known ? known.AuditDetail : pending.Admission.Detail;
                    if (pending.Ticket is { } fresh && replies[i] is IWriteOutcome written)
                    {
                        requests!.Record(txn, fresh, written.OutcomeIds, batchTime);
                        recorded++;
                    }
                }

                appender.Append(txn, batchTime, pending.Command.Caller.Id, pending.Admission.Action, pending.Admission.Resource, outcome, detail);
            }

            // Expired outcomes go a few per commit, faster than new ones arrive, so the table
            // stays about one window's worth of requests.
            requests?.Prune(txn, batchTime, (2 * recorded) + 16);

            if (context.Ids.HighWaterMark != hwmBefore)
            {
                Span<byte> hwm = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64BigEndian(hwm, context.Ids.HighWaterMark.Value);
                txn.Put(Tables.Keys, HighWaterMarkKey, hwm);
            }

            return (replies, appender);
        });
    }

    private void StaleOwnerCheck(Exception e)
    {
        if (e is ForgeOneException { Code: ErrorCodes.StorageStaleOwner })
        {
            _log.Error(e, "SHARD {0}-{1} FENCED on {2}: {3}", _kind.FolderName(), _shard, _nodeAddress, e.Message);
            _openFailure = ((ForgeOneException)e).Error;
            foreach (var waiting in _pending)
            {
                waiting.Sender.Tell(_handler.Fail(Unavailable()));
                Release(waiting);
            }

            _pending.Clear();
            if (_stream is not null)
            {
                // Its subscribers see their sources die and re-subscribe to the new owner.
                Context.Stop(_stream);
                _stream = null;
            }

            CloseQuietly();
            Become(Failed);
        }
    }

    private void OnRotate(ShardProtocol.RotateKey rotate)
    {
        CommitBuffered();
        try
        {
            var (rotated, version, events) = _security!.RotateKey(_store!, rotate.Caller, rotate.Reason, rotate.OnlyIfDue);
            Sender.Tell(new ShardProtocol.KeyRotated(_kind, _shard, rotated, version, [.. events]));
        }
        catch (Exception e)
        {
            _log.Error(e, "Shard {0}-{1}: key rotation failed", _kind.FolderName(), _shard);
            Sender.Tell(new ShardProtocol.ShardFailed(_kind, _shard, e is ForgeOneException fe ? fe.Error : new ForgeOneError(ErrorCodes.CryptoKeyUnavailable, e.Message)));
        }
    }

    private ShardProtocol.ShardStats Stats() =>
        new(_kind, _shard, _store!.CommitCount, _commandsApplied, _security!.AuditHead.Sequence, _store.FilePath, _nodeAddress);

    private void HandOff()
    {
        FinalFlush();
        CloseQuietly();
        _log.Info("Shard {0}-{1} handed off: file closed", _kind.FolderName(), _shard);
        Context.Stop(Self);
    }

    /// <summary>
    /// Before the file closes: commands still being prepared are prepared here, reads finish and
    /// hand over their audit records, and everything admitted commits.
    /// </summary>
    private void FinalFlush()
    {
        PrepareRemainingInline();
        WaitForTasks();
        DrainCompletedReads();
        CommitBuffered();
    }

    private void CloseQuietly()
    {
        // A read task may still hold a read transaction; closing the environment under it
        // would be a use-after-free in native code. Reads are short: wait for them.
        WaitForTasks();

        try
        {
            _security?.Dispose();
            _store?.Dispose();
        }
        catch (Exception e)
        {
            _log.Error(e, "Shard {0}-{1}: error closing the file", _kind.FolderName(), _shard);
        }

        _security = null;
        _store = null;
    }

    private void WaitForTasks()
    {
        var spin = new SpinWait();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (Volatile.Read(ref _tasksInFlight) > 0 && DateTime.UtcNow < deadline)
        {
            spin.SpinOnce();
        }
    }

    /// <summary>An admitted command waiting for its group commit; not <see cref="Ready"/> while being prepared.</summary>
    private sealed class Pending(IShardCommand command, IActorRef sender, Admission admission)
    {
        public IShardCommand Command { get; set; } = command;

        /// <summary>The request id's place in the ledger, when the command carries one.</summary>
        public RequestTicket? Ticket { get; init; }

        public IActorRef Sender { get; } = sender;

        public Admission Admission { get; } = admission;

        public bool Ready { get; set; } = true;
    }

    private sealed record QueuedAudit(string Principal, Admission Admission, AuditOutcome Outcome, DateTimeOffset Time);

    private sealed class UnsupportedKindHandler(ShardKind kind) : IShardHandler
    {
        public ShardKind Kind => kind;

        public Admission Admit(IShardOperation operation, ShardContext context) =>
            Admission.Reject($"{kind.FolderName()}.unsupported", context.ResourcePrefix, new ForgeOneError(ErrorCodes.InvalidArgument, $"{kind.FolderName()} shards do not serve {operation.GetType().Name} yet."));

        public object Apply(IWriteTransaction txn, IShardCommand command, ShardContext context) => throw new NotSupportedException();

        public object Read(IReadTransaction txn, IShardQuery query, ShardContext context) => throw new NotSupportedException();

        public object Fail(ForgeOneError error) => new ShardProtocol.ShardFailed(kind, -1, error);
    }
}
