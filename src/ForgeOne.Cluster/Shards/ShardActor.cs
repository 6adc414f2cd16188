using System.Buffers.Binary;
using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using ForgeOne.Cluster.Integrity;
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
///   +--------+  command: admit -> queue, Self ! Flush once         +---------+
///   | Active |  Flush: one txn per group + queued audits           | Failed  |  every request -> typed
///   |        |  query: node's QueryPool |> sender, audited         |         |  failure reply; logged once;
///   +--------+  idle (no client operation) -> Parent ! Passivate   +---------+  no restart loop
///       |  |  another owner's claim seen at commit (fenced):              ^
///       |  +--- refuse queued commands, commit queued audits, close ------+
///       |  HandOff (hand-off stop message / passivation)                 | HandOff
///       v                                                                v
///   wait for in-flight reads -> flush buffered writes + read audits -> close file -> Stop
/// </code>
/// Group commit: a command is admitted (validate + authorize, no I/O) and queued in
/// <see cref="GroupCommit{TReplyTo}"/>, which bounds the queue (while it is full, commands are
/// refused with cluster.overloaded before admission, one audit record per burst), orders it, cuts it into transactions and isolates a failing command. The first queued
/// command sends <see cref="Flush"/> to self; everything that arrives before that Flush is
/// dequeued joins the same transaction, so one commit serves a burst while a lone write at low
/// load commits at once. Replies go out only after the commit. The LMDB write transaction
/// begins and commits inside the Flush handler (thread-affine). This actor is the shell: the
/// store, timers, preparation and read tasks, and the replies.
/// Queries and control messages use a priority mailbox so a read never waits behind queued writes.
/// Idle means no client operation for <c>PassivateIdleAfter</c>: stats, audit-head and
/// rotation checks from the node's own collectors do not keep a shard open.
/// </remarks>
public sealed partial class ShardActor : ReceiveActor, IWithTimers
{
    private readonly ShardHost _host;
    private readonly ShardKind _kind;
    private readonly int _shard;
    private readonly string _nodeAddress;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly GroupCommit<ReplyTo> _commits;
    private readonly IShardHandler _handler;
    private readonly IShardPreparation? _preparation;

    // Audit records of finished reads, filled by read tasks (off the actor thread) and drained
    // by the actor into the group commit's audit queue; _drainSignalled coalesces the wake-up messages.
    private readonly ConcurrentQueue<QueuedAudit> _completedReads = new();
    private int _drainSignalled;

    private IShardStore? _store;
    private IShardSecurity? _security;
    private ShardContext? _context;

    // Handlers read this clock: inside a group's transaction it holds the group's one time.
    private readonly BatchClock _clock;

    // Request ids of idempotent writes (log and events shards); null on kinds without them.
    private RequestLedger? _requests;
    private long _epoch;
    private bool _flushScheduled;
    private long _commandsApplied;
    private bool _auditFlushScheduled;
    private bool _passivating;
    private long _lastActivity; // TimeProvider timestamp of the last client operation
    private RecordId _persistedHighWaterMark;
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
        _clock = new BatchClock(host.Time);
        _commits = new GroupCommit<ReplyTo>(GroupCommitLimits.From(host.Options), _clock);
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
    internal sealed class FlushAudits
    {
        public static readonly FlushAudits Instance = new();

        private FlushAudits()
        {
        }
    }

    /// <summary>Read tasks finished and queued audit records in <c>_completedReads</c>. Internal: sent only to self.</summary>
    internal sealed class DrainReadAudits
    {
        public static readonly DrainReadAudits Instance = new();

        private DrainReadAudits()
        {
        }
    }

    /// <summary>A command's preparation finished: the prepared command, or the error that refused it.</summary>
    private sealed record Prepared(PendingCommand<ReplyTo> Pending, IShardCommand? Command, ForgeOneError? Error);

    /// <summary>Periodic check for idleness (passivation). Internal: a timer to self.</summary>
    internal sealed class IdleCheck
    {
        public static readonly IdleCheck Instance = new();

        private IdleCheck()
        {
        }
    }

    /// <summary>Timer tick for <see cref="IShardMaintenance"/> handlers; like every message that is no client's operation, not activity.</summary>
    internal sealed class Maintain
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
            _lastActivity = _host.Time.GetTimestamp();
            var idle = _host.Options.PassivateIdleAfter;
            Timers.StartPeriodicTimer(nameof(IdleCheck), IdleCheck.Instance, idle / 4 < TimeSpan.FromMilliseconds(100) ? TimeSpan.FromMilliseconds(100) : idle / 4);
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
        var store = _host.OpenStore(_host.StoreOptions(_kind, _shard));
        _store = store;
        _auditTree = new Integrity.AuditTree();
        _epoch = (store.Meta.Owner?.Epoch ?? 0) + 1;
        _security = _host.Security.Open(store, _kind, _shard, _host.Zone);

        // Keys first: the store's own records are checked (and later written) under the record
        // MAC, older files are migrated to it, and only then is the file claimed.
        _persistedHighWaterMark = AuthenticateStore(store, _security);
        store.ClaimOwnership(_nodeAddress, _epoch);
        CheckChainAtOpen(store, _security);
        var ids = new RecordIdGenerator(_shard, _clock, _persistedHighWaterMark);
        _context = new ShardContext(_kind, _shard, _host.Counts.Of(_kind), _security, ids, _clock, _host.Limits) { Zone = _host.Zone };
        _requests = Tables.For(_kind).Contains(Tables.Requests) ? new RequestLedger(_security, _host.Options.IdempotencyWindow) : null;
        if (_handler is IShardStreamHandler streams)
        {
            // A new name per open: after a restore's suspend the previous stream actor may still be stopping.
            _stream = Context.ActorOf(streams.StreamProps(_context, Self), $"stream-{++_opens}");
        }

        if (_schemaPending is null)
        {
            // A file waiting for its migration has untagged entries the scrubber would report.
            StartScrubber();
        }
    }

    // Kept in the keys table beside the keyring (with the record MAC): both are per-shard state
    // that must never go backwards when the shard moves (shard_meta is written only by the store).
    private static ReadOnlySpan<byte> HighWaterMarkKey => ShardRecordVerifier.HighWaterMarkKey;

    private void Active()
    {
        Receive<IShardCommand>(command =>
        {
            Touch();
            OnCommand(command, ReplyTo.Actor(Sender));
        });
        Receive<ShardProtocol.CommandBatch>(batch =>
        {
            Touch();
            OnCommandBatch(batch);
        });
        Receive<IShardQuery>(query =>
        {
            Touch();
            OnQuery(query);
        });
        Receive<IShardStreamRequest>(request =>
        {
            Touch();
            OnStreamRequest(request);
        });
        Receive<ShardStreamRead>(read =>
        {
            Touch();
            OnStreamRead(read);
        });
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
        Receive<ShardProtocol.GetShardStats>(stats =>
        {
            if (AdmitControl(stats, "shard.stats") is not null)
            {
                Sender.Tell(Stats());
            }
        });
        Receive<ShardProtocol.GetAuditHead>(get =>
        {
            if (AdmitControl(get, "audit.head") is not null)
            {
                OnGetAuditHead(get);
            }
        });
        Receive<ShardProtocol.AcceptIncarnation>(accept =>
        {
            if (AdmitControl(accept, "audit.incarnation") is not null)
            {
                OnAcceptIncarnation(accept);
            }
        });
        Receive<ShardProtocol.ScrubNow>(scrub =>
        {
            if (AdmitControl(scrub, "integrity.scrub") is not null)
            {
                OnScrubNow();
            }
        });
        Receive<ShardProtocol.ReadAudit>(read =>
        {
            if (AdmitControl(read, "audit.export") is not null)
            {
                OnReadAudit(read);
            }
        });
        Receive<ScrubTick>(_ => OnScrubTick());
        Receive<ScrubSliceDone>(OnScrubSliceDone);
        Receive<ScrubPassDone>(OnScrubPassDone);
        Receive<ShardProtocol.RotateKey>(OnRotate);
        Receive<ShardProtocol.HandOff>(_ =>
        {
            if (FromThisNode(Sender))
            {
                HandOff();
            }
            else
            {
                // Not obeyed, and on record: another node tried to stop this shard.
                _log.Warning("Shard {0}-{1}: ignored a HandOff from {2}: only this node's sharding may stop a shard", _kind.FolderName(), _shard, Sender.Path);
                var refused = Admission.Deny("shard.hand_off", _context!.ResourcePrefix, $"a hand-off from {Sender.Path} (not this node's sharding) was ignored");
                _commits.QueueAudit(new QueuedAudit(Admission.UnauthenticatedPrincipal, refused, AuditOutcome.Denied, _host.Time.GetUtcNow()));
                ScheduleAuditFlush();
            }
        });
        BackupReceives();
        SchemaReceives();
        Receive<Maintain>(_ =>
        {
            if (_schemaPending is null)
            {
                OnMaintain();
            }
        });
        Receive<IdleCheck>(_ => OnIdleCheck());
    }

    private void Failed()
    {
        // A restore may have replaced the file that failed to open: it may be worth reopening.
        Receive<BackupProtocol.ResumeShard>(OnResume);
        Receive<IShardOperation>(_ => Sender.Tell(_handler.Fail(Unavailable())));
        Receive<ShardProtocol.CommandBatch>(batch =>
        {
            var replies = new CommandBatchReplySink(Sender, batch.Commands?.Length ?? 0, Self);
            for (var i = 0; i < replies.Count; i++)
            {
                replies.Set(i, _handler.Fail(Unavailable()));
            }
        });
        Receive<IShardControl>(_ => Sender.Tell(new ShardProtocol.ShardFailed(_kind, _shard, Unavailable())));
        Receive<ShardStreamRead>(_ => Sender.Tell(new Status.Failure(new ForgeOneException(Unavailable()))));
        Receive<ShardProtocol.HandOff>(_ =>
        {
            if (FromThisNode(Sender))
            {
                Context.Stop(Self);
            }
        });
        ReceiveAny(_ => { });
    }

    // The hand-off stop message comes from this node's sharding (the shard actor, or its
    // hand-off stopper) or a local test; a message from another node has a remote sender, and
    // one sent remotely without a sender arrives from dead letters.
    private static bool FromThisNode(IActorRef sender) =>
        sender is not null && !sender.IsNobody() && sender.Path.Address.HasLocalScope && sender.Path.Name != "deadLetters";

    private ForgeOneError Unavailable() =>
        new(_openFailure!.Code, $"Shard {_kind.FolderName()}-{_shard} is unavailable on {_nodeAddress}: {_openFailure.Message}");

    private void Touch() => _lastActivity = _host.Time.GetTimestamp();

    private void OnIdleCheck()
    {
        var idleFor = _host.Time.GetElapsedTime(_lastActivity);
        if (!_passivating && idleFor >= _host.Options.PassivateIdleAfter && _commits.PendingCount == 0 && Volatile.Read(ref _tasksInFlight) == 0)
        {
            // Asked once: the Shard answers with the HandOff stop message, which flushes and closes.
            _passivating = true;
            _log.Debug("Shard {0}-{1} idle for {2}, passivating", _kind.FolderName(), _shard, idleFor);
            Context.Parent.Tell(new Passivate(ShardProtocol.HandOff.Instance));
        }
    }

    /// <summary>
    /// Independent commands that travel together (a client's coalesced single writes): each is
    /// checked, admitted, de-duplicated, audited and answered exactly as if it came alone; only
    /// the replies travel back together, in the same order.
    /// </summary>
    private void OnCommandBatch(ShardProtocol.CommandBatch batch)
    {
        var commands = batch.Commands ?? [];
        var replies = new CommandBatchReplySink(Sender, commands.Length, Self);
        for (var i = 0; i < commands.Length; i++)
        {
            var command = commands[i];
            var misrouted = command is null
                ? "a batch slot is empty"
                : command.Kind != _kind || ShardOf(command) != _shard
                    ? $"{command.GetType().Name} belongs to {command.Kind.FolderName()} shard {ShardOf(command)?.ToString(global::System.Globalization.CultureInfo.InvariantCulture) ?? "?"}, not {_kind.FolderName()}-{_shard}"
                    : null;
            if (misrouted is not null)
            {
                replies.Set(i, _handler.Fail(new ForgeOneError(ErrorCodes.StorageWrongShard, $"Command {i} of the batch was refused: {misrouted}.")));
                continue;
            }

            OnCommand(command!, ReplyTo.Slot(replies, i));
        }
    }

    private int? ShardOf(IShardMessage message) =>
        message.ShardNumber ?? (message.RoutingKey is { } key ? ShardRouter.ShardFor(key, _host.Counts.Of(_kind)) : null);

    private void OnCommand(IShardCommand command, ReplyTo replyTo)
    {
        if (_chainBroken is { } broken)
        {
            // Nothing is appended to a broken chain: the refusal is the break's, reported once.
            replyTo.Tell(_handler.Fail(broken), Self);
            return;
        }

        if (SchemaRefusal is { } waiting)
        {
            replyTo.Tell(_handler.Fail(waiting), Self);
            return;
        }

        if (_commits.IsFull)
        {
            // Shed before admission: under a flood the token check, the handler's validation and
            // an audit record per refusal would take the thread the queued writes need to commit.
            // The burst's one audit record joins the next group.
            replyTo.Tell(_handler.Fail(_commits.Shed(command.GetType().Name, _context!.ResourcePrefix)), Self);
            ScheduleAuditFlush();
            return;
        }

        var admission = Admit(command, replyTo);
        if (!admission.Admitted)
        {
            return;
        }

        var principal = admission.Principal!;
        RequestTicket? ticket = null;
        if (command is IIdempotentCommand { RequestId: { } requestId } idempotent && !BeginRequest(idempotent, requestId, admission, replyTo, out ticket))
        {
            return;
        }

        var needsPreparation = _preparation is { } preparation && preparation.NeedsPreparation(command);
        var pending = _commits.Enqueue(command, replyTo, admission, CommandSize.Of(command), needsPreparation, out var overloaded, ticket);
        if (pending is null)
        {
            if (ticket is not null)
            {
                _requests!.End(ticket);
            }

            replyTo.Tell(_handler.Fail(overloaded!), Self);
            _commits.QueueAudit(new QueuedAudit(principal.Id, admission with { Detail = GroupCommit<ReplyTo>.RefusedDetail(admission, overloaded!) }, AuditOutcome.Failed, _host.Time.GetUtcNow()));
            ScheduleAuditFlush();
            return;
        }

        if (needsPreparation)
        {
            Prepare(pending, _preparation!);
            return;
        }

        ScheduleFlush();
    }

    /// <summary>
    /// An admitted write with a request id: in line for the group commit with its ticket, or
    /// refused (malformed id, or a duplicate whose original is still in flight) and audited.
    /// Whether it was committed before is decided inside the group's transaction.
    /// </summary>
    private bool BeginRequest(IIdempotentCommand command, RequestId requestId, Admission admission, ReplyTo replyTo, out RequestTicket? ticket)
    {
        ticket = null;
        var refusal = requestId.Validate()
            ?? (_requests is null ? new ForgeOneError(ErrorCodes.InvalidArgument, $"{_kind.FolderName()} shards keep no request ids.") : null);
        if (refusal is null)
        {
            try
            {
                // Request ids are scoped to the verified principal: nobody can replay (or block)
                // another principal's requests by reusing their ids.
                (ticket, refusal) = _requests!.Begin(admission.Principal!.Id, requestId, requestId.Fingerprint ?? IdempotentWrites.Fingerprint(command));
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

        replyTo.Tell(_handler.Fail(refusal), Self);
        _commits.QueueAudit(new QueuedAudit(admission.Principal!.Id, admission with { Detail = GroupCommit<ReplyTo>.RefusedDetail(admission, refusal) }, AuditOutcome.Failed, _host.Time.GetUtcNow()));
        ScheduleFlush();
        return false;
    }

    /// <summary>A command's fate is settled (replied): its request id is no longer in flight, a prepared command may hand back pooled buffers.</summary>
    private void Release(PendingCommand<ReplyTo> pending)
    {
        if (pending.Ticket is { } ticket)
        {
            _requests?.End(ticket);
        }

        if (pending.WasPrepared)
        {
            _preparation!.Release(pending.Command);
        }
    }

    private void Prepare(PendingCommand<ReplyTo> pending, IShardPreparation preparation)
    {
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

    private static Prepared RunPreparation(IShardPreparation preparation, PendingCommand<ReplyTo> pending, IShardCommand command, ShardContext context)
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
        if (prepared.Command is { } command)
        {
            if (_commits.Prepared(pending, command))
            {
                return true;
            }

            // Prepared inline at hand-off, or refused with the shard: nobody will commit this copy.
            _preparation!.Release(command);
            return false;
        }

        if (!_commits.PreparationFailed(pending, prepared.Error!))
        {
            return false;
        }

        Release(pending);
        pending.ReplyTo.Tell(_handler.Fail(prepared.Error!), Self);
        return true;
    }

    /// <summary>Hand-off and stop: commands still being prepared are prepared here, so nothing admitted is dropped.</summary>
    private void PrepareRemainingInline()
    {
        foreach (var pending in _commits.Preparing)
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
            OnCommand(command, ReplyTo.Actor(ActorRefs.Nobody));
        }
    }

    private void OnQuery(IShardQuery query)
    {
        if (_chainBroken is { } broken && !_host.Options.AllowReadsOnBrokenChain)
        {
            Sender.Tell(_handler.Fail(broken));
            return;
        }

        if (SchemaRefusal is { } waiting)
        {
            Sender.Tell(_handler.Fail(waiting));
            return;
        }

        var admission = Admit(query, ReplyTo.Actor(Sender));
        if (!admission.Admitted)
        {
            return;
        }

        var principal = admission.Principal!;
        // The read's outcome is known only once Read ran: a check against stored state (a
        // topic's classification or zone) may refuse it with auth.forbidden. So the audit record
        // is made by the read task from the actual reply, handed to the actor through
        // _completedReads, and joins the next group commit (bounded delay: one group-commit interval). The
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
        var events = Context.System.EventStream;
        var chain = ChainId;
        var sync = _host.Options.SyncReadAudits;
        Interlocked.Increment(ref _tasksInFlight);
        var started = _host.Queries.TryRun(() =>
        {
            try
            {
                object reply;
                try
                {
                    reply = store.Read(txn => handler.Read(txn, query, principal, context));
                }
                catch (ForgeOneException e)
                {
                    ReportReadDamage(events, chain, e.Error);
                    reply = handler.Fail(e.Error);
                }
                catch (Exception e)
                {
                    reply = handler.Fail(new ForgeOneError(ErrorCodes.StorageIo, e.Message));
                }

                if (reply is IFailureReply { Error: var failure })
                {
                    // Handlers that answer damage with a failure reply instead of throwing.
                    ReportReadDamage(events, chain, failure);
                }

                // Synchronous mode: the reply waits for the record's commit (QueuedAudit.Committed).
                var audit = new QueuedAudit(principal.Id, admission, ReadOutcome(reply), admittedAt) { Committed = sync ? () => sender.Tell(reply, self) : null };
                completed.Enqueue(audit);
                if (Interlocked.Exchange(ref _drainSignalled, 1) == 0)
                {
                    self.Tell(DrainReadAudits.Instance, ActorRefs.NoSender);
                }

                if (!sync)
                {
                    sender.Tell(reply, self);
                }
            }
            finally
            {
                Interlocked.Decrement(ref _tasksInFlight);
            }
        });
        if (started is null)
        {
            // Refused before it ran: answered at once, audited like any refusal.
            Interlocked.Decrement(ref _tasksInFlight);
            var refusal = _host.Queries.Refusal();
            sender.Tell(handler.Fail(refusal), self);
            _commits.QueueAudit(new QueuedAudit(principal.Id, admission with { Detail = GroupCommit<ReplyTo>.RefusedDetail(admission, refusal) }, AuditOutcome.Failed, admittedAt));
            ScheduleFlush();
        }
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
            _commits.QueueAudit(audit);
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

        if (_chainBroken is { } broken && !_host.Options.AllowReadsOnBrokenChain)
        {
            Sender.Tell(_handler.Fail(broken));
            return;
        }

        if (SchemaRefusal is { } waiting)
        {
            Sender.Tell(_handler.Fail(waiting));
            return;
        }

        var admission = Admit(request, ReplyTo.Actor(Sender));
        if (!admission.Admitted)
        {
            return;
        }

        // Opening a stream is audited like a read: the record joins the next group commit.
        _commits.QueueAudit(new QueuedAudit(admission.Principal!.Id, admission, AuditOutcome.Success, _host.Time.GetUtcNow()));
        ScheduleAuditFlush();
        _stream.Tell(new AdmittedStream(request, admission.Principal), Sender);
    }

    private void OnStreamRead(ShardStreamRead read)
    {
        // Same discipline as a query: off the actor thread, counted so the file is never closed
        // under it. The stream actor is our child, so no read can be asked after HandOff.
        var store = _store!;
        Interlocked.Increment(ref _tasksInFlight);
        _host.Queries.Run(() =>
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

    /// <summary>
    /// Authentication, then the handler's validation and authorization. The principal is the one
    /// the request's token proves, never anything else it says; an admitted operation carries it
    /// (<see cref="Admission.Principal"/>). A refusal is replied at once and audited in the next
    /// group commit.
    /// </summary>
    private Admission Admit(IShardOperation operation, ReplyTo replyTo)
    {
        var authentication = _security!.Authenticate(operation.Token);
        var principal = authentication.IsAuthenticated ? authentication.Principal : Admission.Nobody;
        Admission admission;
        try
        {
            admission = _handler.Admit(operation, principal, _context!);
        }
        catch (Exception e)
        {
            admission = Admission.Reject("unknown", _context!.ResourcePrefix, new ForgeOneError(ErrorCodes.InvalidArgument, e.Message));
        }

        // An unverified request is refused as such whatever the handler found: it only named
        // the action and resource the audit record of the attempt shows.
        admission = authentication.IsAuthenticated
            ? admission with { Principal = authentication.Principal }
            : Admission.Unauthenticated(admission, authentication.Error!);

        if (!admission.Admitted)
        {
            replyTo.Tell(_handler.Fail(admission.Refusal!), Self);
            _commits.QueueAudit(new QueuedAudit(admission.AuditPrincipal, admission, admission.Outcome, _host.Time.GetUtcNow()));
            ScheduleFlush();
        }

        return admission;
    }

    /// <summary>
    /// Authentication and authorization of a control message (<see cref="MessagePermissions"/>),
    /// audited either way (the record joins the next group commit); replies the refusal itself.
    /// </summary>
    /// <returns>The principal when allowed, else null.</returns>
    private Principal? AdmitControl(IShardControl control, string action)
    {
        if (_security is null)
        {
            Sender.Tell(new ShardProtocol.ShardFailed(_kind, _shard, Unavailable()));
            return null;
        }

        var resource = _context!.ResourcePrefix;
        var authentication = _security.Authenticate(control.Token);
        Admission admission;
        if (!authentication.IsAuthenticated)
        {
            admission = Admission.Unauthenticated(Admission.Allow(action, resource), authentication.Error!);
        }
        else
        {
            var decision = MessagePermissions.PermissionOf(control) is { } permission
                ? _security.Authorize(authentication.Principal, permission, new ResourceDescriptor(ControlKind(control), ResidencyZone: _context.Zone))
                : new AuthorizationDecision(false, $"denied: {control.GetType().Name} is not accepted by shards", FieldClasses.None);
            admission = (decision.Allowed ? Admission.Allow(action, resource) : Admission.Deny(action, resource, decision.Reason)) with { Principal = authentication.Principal };
        }

        if (!(admission.Admitted && IsNodeHousekeeping(control, admission.Principal!)))
        {
            _commits.QueueAudit(new QueuedAudit(admission.AuditPrincipal, admission, admission.Outcome, _host.Time.GetUtcNow()));
            ScheduleAuditFlush();
        }

        if (!admission.Admitted)
        {
            Sender.Tell(new ShardProtocol.ShardFailed(_kind, _shard, admission.Refusal!));
            return null;
        }

        return admission.Principal;
    }

    // The cluster's own reads of counters and heads (the metrics collector and the sealer every
    // interval, readiness probes) are not audited when allowed: a record per shard per poll
    // would say nothing an auditor needs (the seals record every head the sealer collected).
    // Refusals, key rotations and anyone else's reads are.
    private static bool IsNodeHousekeeping(IShardControl control, Principal principal) =>
        control is ShardProtocol.GetShardStats or ShardProtocol.GetAuditHead or ShardProtocol.ScrubNow or ShardProtocol.AcceptIncarnation && principal.Roles.Contains(NodeSecurity.NodeRole);

    private static string ControlKind(IShardControl control) => control switch
    {
        ShardProtocol.RotateKey => "keys",
        ShardProtocol.GetAuditHead or ShardProtocol.AcceptIncarnation or ShardProtocol.ScrubNow or ShardProtocol.ReadAudit => "audit",
        _ => "system",
    };

    private void ScheduleFlush()
    {
        if (!_flushScheduled)
        {
            _flushScheduled = true;
            Self.Tell(Flush.Instance);
        }
    }

    /// <summary>
    /// Read audits may wait (bounded delay) for the next write's group commit, or for
    /// <see cref="Hosting.ShardOptions.ReadAuditDelay"/>: a stream of reads then costs one commit
    /// per delay instead of one per burst. Zero commits them at once.
    /// </summary>
    private void ScheduleAuditFlush()
    {
        var delay = _host.Options.ReadAuditDelay;
        if (delay <= TimeSpan.Zero || _host.Options.SyncReadAudits)
        {
            ScheduleFlush();
        }
        else if (!_auditFlushScheduled && !_flushScheduled)
        {
            _auditFlushScheduled = true;
            Timers.StartSingleTimer(nameof(FlushAudits), FlushAudits.Instance, delay);
        }
    }

    /// <summary>Commits everything queued that is ready, group by group, and replies.</summary>
    private void CommitBuffered()
    {
        while (_store is not null && _commits.NextGroup() is { } group)
        {
            var outcome = _commits.Commit(group, Transact);
            Deliver(outcome);
            if (outcome.Aborts > 0)
            {
                _log.Warning("Shard {0}-{1}: {2} of a group of {3} commands failed after writing; the group was re-run without them ({4} transactions)", _kind.FolderName(), _shard, outcome.Aborts, group.Commands.Count, outcome.Transactions);
            }

            if (outcome.Fault is { } fault)
            {
                if (fault.Code == ErrorCodes.StorageStaleOwner)
                {
                    Fenced(fault);
                }
                else
                {
                    // The audit records went back to the queue; the next trigger tries again.
                    _log.Error("Shard {0}-{1}: a group of {2} commands could not commit ({3}); {4} audit records wait for the next commit", _kind.FolderName(), _shard, group.Commands.Count, fault, _commits.QueuedAudits);
                }

                return;
            }
        }
    }

    /// <summary>
    /// One write transaction around <paramref name="body"/>: owner fence first; then the group;
    /// then a few expired request outcomes and the id high-water mark.
    /// </summary>
    private CommandResult[] Transact(Func<IGroupTransaction, CommandResult[]> body)
    {
        var store = _store!;
        var context = _context!;
        var security = _security!;
        var requests = _requests;

        // The group's time is read once, here: inside the transaction every clock read of this
        // thread (ids, timestamps, retention, request outcomes, audit records) sees it, so
        // applying the same batch again decides the same way.
        using var frozen = _clock.Freeze();
        var batchTime = frozen.Time;
        IAuditAppender? appender = null;
        var started = global::System.Diagnostics.Stopwatch.GetTimestamp();
        var results = store.Write(txn =>
        {
            CheckOwner(txn);

            // A fresh appender per attempt: Write re-runs this delegate after growing the map.
            appender = security.BeginAudit();
            var group = new ShardGroupTransaction(txn, _handler, context, appender, requests, batchTime);
            var results = body(group);

            // Expired outcomes go a few per commit, faster than new ones arrive, so the table
            // stays about one window's worth of requests.
            requests?.Prune(txn, batchTime, (2 * group.Recorded) + 16);
            if (context.Ids.HighWaterMark.Value > _persistedHighWaterMark.Value)
            {
                Span<byte> hwm = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64BigEndian(hwm, context.Ids.HighWaterMark.Value);
                IndexEntries.Put(txn, security, Tables.Keys, HighWaterMarkKey, hwm);
            }

            return results;
        });
        security.CommitAudit(appender!);
        ShardMetrics.Committed(_kind, results.Length, global::System.Diagnostics.Stopwatch.GetElapsedTime(started));
        _persistedHighWaterMark = context.Ids.HighWaterMark;
        return results;
    }

    /// <summary>
    /// Fences a stale owner: if another node claimed the shard since this one opened it, this
    /// one must stop writing rather than interleave with the new owner. Inside the write
    /// transaction, so the check and the write cannot be separated by the other owner's claim.
    /// </summary>
    private void CheckOwner(IReadTransaction txn)
    {
        var meta = txn.Get(Tables.ShardMeta, ShardMeta.Key);
        if (meta is not null && ShardMeta.Decode(meta).Owner is { } owner && (owner.NodeAddress != _nodeAddress || owner.Epoch != _epoch))
        {
            throw new ForgeOneException(ErrorCodes.StorageStaleOwner, $"Shard {_kind.FolderName()}-{_shard} is now owned by {owner.NodeAddress} (epoch {owner.Epoch}); this node ({_nodeAddress}, epoch {_epoch}) no longer writes it.");
        }
    }

    /// <summary>Replies to every command of a committed (or failed) group, in order; only then do live streams see it.</summary>
    private void Deliver(GroupOutcome<ReplyTo> outcome)
    {
        List<IShardCommand>? committed = null;
        List<object>? replies = null;
        foreach (var (pending, result) in outcome.Results)
        {
            if (result.Committed)
            {
                pending.ReplyTo.Tell(result.Reply!, Self);
                _commandsApplied++;
                if (_stream is not null)
                {
                    (committed ??= []).Add(pending.Command);
                    (replies ??= []).Add(result.Reply!);
                }
            }
            else
            {
                pending.ReplyTo.Tell(_handler.Fail(result.Error!), Self);
            }

            Release(pending);
        }

        if (committed is not null)
        {
            _stream!.Tell(new ShardCommitted(committed, replies!));
        }
    }

    /// <summary>
    /// Another owner claimed the file. Nothing this shard still holds may be lost: commands not
    /// yet committed are refused back to their senders (with their failure audited), and every
    /// audit record it holds (reads it served, refusals) is committed on top of the new owner's
    /// chain in one last transaction, the file's writer lock keeping the two owners apart. Then
    /// the file is closed and the shard refuses everything.
    /// </summary>
    private void Fenced(ForgeOneError fault)
    {
        _log.Error("SHARD {0}-{1} FENCED on {2}: {3}", _kind.FolderName(), _shard, _nodeAddress, fault.Message);
        _openFailure = fault;
        foreach (var pending in _commits.RefuseAll(Unavailable()))
        {
            pending.ReplyTo.Tell(_handler.Fail(Unavailable()), Self);
            Release(pending);
        }

        _requests?.Clear();

        WaitForTasks();
        DrainCompletedReads();
        var audits = _commits.TakeAudits();
        try
        {
            var security = _security!;
            IAuditAppender? appender = null;
            var suffix = $" (committed by fenced owner {_nodeAddress} epoch {_epoch})";
            _store!.Write(txn =>
            {
                appender = security.BeginAudit();
                foreach (var audit in audits)
                {
                    appender.Append(txn, audit.Time, audit.Principal, audit.Admission.Action, audit.Admission.Resource, audit.Outcome, audit.Admission.Detail + suffix);
                }

                return 0;
            });
            security.CommitAudit(appender!);
            foreach (var audit in audits)
            {
                audit.Committed?.Invoke();
            }

            _log.Warning("Shard {0}-{1}: {2} audit records committed after the fence", _kind.FolderName(), _shard, audits.Count);
        }
        catch (Exception e)
        {
            _log.Error(e, "SHARD {0}-{1}: {2} AUDIT RECORDS COULD NOT BE COMMITTED after the fence", _kind.FolderName(), _shard, audits.Count);
        }

        if (_stream is not null)
        {
            // Its subscribers see their sources die and re-subscribe to the new owner.
            Context.Stop(_stream);
            _stream = null;
        }

        CloseQuietly();
        Become(Failed);
    }

    private void OnRotate(ShardProtocol.RotateKey rotate)
    {
        if (AdmitControl(rotate, "keys.rotate") is not { } principal)
        {
            return;
        }

        CommitBuffered();
        if (_chainBroken is { } broken)
        {
            Sender.Tell(new ShardProtocol.ShardFailed(_kind, _shard, broken));
            return;
        }

        if (_store is null)
        {
            Sender.Tell(new ShardProtocol.ShardFailed(_kind, _shard, Unavailable()));
            return;
        }

        try
        {
            var (rotated, version, events) = _security!.RotateKey(_store!, principal, rotate.Reason, rotate.OnlyIfDue);
            Sender.Tell(new ShardProtocol.KeyRotated(_kind, _shard, rotated, version, [.. events]));
        }
        catch (Exception e)
        {
            _log.Error(e, "Shard {0}-{1}: key rotation failed", _kind.FolderName(), _shard);
            Sender.Tell(new ShardProtocol.ShardFailed(_kind, _shard, e is ForgeOneException fe ? fe.Error : new ForgeOneError(ErrorCodes.CryptoKeyUnavailable, e.Message)));
        }
    }

    private ShardProtocol.ShardStats Stats() =>
        _store is null
            ? new(_kind, _shard, 0, _commandsApplied, 0, "", _nodeAddress)
            : new(_kind, _shard, _store.CommitCount, _commandsApplied, _security!.AuditHead.Sequence, _store.FilePath, _nodeAddress);

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
        CancelBackup();
        PrepareRemainingInline();
        WaitForTasks();
        DrainCompletedReads();
        CommitBuffered();
        if (_store is not null && (_commits.QueuedAudits > 0 || _commits.PendingCount > 0))
        {
            _log.Error("SHARD {0}-{1}: closing with {2} commands and {3} audit records that could not commit", _kind.FolderName(), _shard, _commits.PendingCount, _commits.QueuedAudits);
        }
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

    private sealed class UnsupportedKindHandler(ShardKind kind) : IShardHandler
    {
        public ShardKind Kind => kind;

        public Admission Admit(IShardOperation operation, Principal principal, ShardContext context) =>
            Admission.Reject($"{kind.FolderName()}.unsupported", context.ResourcePrefix, new ForgeOneError(ErrorCodes.InvalidArgument, $"{kind.FolderName()} shards do not serve {operation.GetType().Name} yet."));

        public object Apply(IWriteTransaction txn, IShardCommand command, Principal principal, ShardContext context) => throw new NotSupportedException();

        public object Read(IReadTransaction txn, IShardQuery query, Principal principal, ShardContext context) => throw new NotSupportedException();

        public object Fail(ForgeOneError error) => new ShardProtocol.ShardFailed(kind, -1, error);
    }
}
