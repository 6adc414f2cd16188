using Akka.Actor;
using Akka.Event;
using ForgeOne.Backup;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage;
using static ForgeOne.Cluster.Protocol.BackupProtocol;

namespace ForgeOne.Cluster.Shards;

/// <summary>
/// The shard's part in backups and restores: writing its backup file (off the actor's thread,
/// from one read snapshot, while writes go on), and closing and reopening its file when a
/// restore switches data-root versions.
/// </summary>
/// <remarks>
/// <code>
///   Active --SuspendShard--> (flush, close) Suspended --ResumeShard--> (open active version) Active
///   Active --ResumeShard, file of another version--> (flush, close, open active version) Active
///   Failed --ResumeShard--> (open) Active, or Failed again
/// </code>
/// A backup task reports like a read task: it queues its audit record for the next group
/// commit, then replies to the coordinator itself; hand-off cancels it and waits for it, so the
/// file never closes under it and its audit record is never lost.
/// </remarks>
public sealed partial class ShardActor
{
    // Longest a shard stays suspended without being told to resume.
    private static readonly TimeSpan SuspendLimit = TimeSpan.FromMinutes(2);

    private CancellationTokenSource? _backupCancel;
    private int _backupRunning;
    private int _opens;

    private void BackupReceives()
    {
        Receive<BackupShard>(OnBackupShard);
        Receive<SuspendShard>(OnSuspend);
        Receive<ResumeShard>(OnResume);
    }

    private void Suspended()
    {
        Receive<ResumeShard>(OnResume);
        Receive<SuspendExpired>(_ => Resume(null));
        Receive<SuspendShard>(suspend =>
        {
            if (AdmitBackupControl("backup.shard_suspend", suspend, $"reason={suspend.Reason}").Admitted)
            {
                Sender.Tell(new ShardSuspended(_kind, _shard, -1));
            }
        });
        Receive<IShardOperation>(_ => Sender.Tell(_handler.Fail(SuspendedError())));
        Receive<IShardControl>(_ => Sender.Tell(new ShardProtocol.ShardFailed(_kind, _shard, SuspendedError())));
        Receive<ShardStreamRead>(_ => Sender.Tell(new Status.Failure(new ForgeOneException(SuspendedError()))));
        Receive<ShardProtocol.HandOff>(_ => Context.Stop(Self));
        ReceiveAny(_ => { });
    }

    private ForgeOneError SuspendedError() =>
        new(ErrorCodes.Unavailable, $"Shard {_kind.FolderName()}-{_shard} is suspended on {_nodeAddress} while a restore switches data-root versions; retry in a moment.");

    private void OnBackupShard(BackupShard request)
    {
        var detail = $"backup={request.BackupId} attempt={request.Attempt} since_txn={request.SinceTxnId}";
        var admission = AdmitBackupControl("backup.shard", request, detail);
        if (!admission.Admitted)
        {
            Sender.Tell(new ShardProtocol.ShardFailed(_kind, _shard, admission.Refusal!));
            return;
        }

        var refusal = _host.Backup is null
            ? new ForgeOneError(ErrorCodes.BackupNoTargets, $"node {_nodeAddress} has no backup targets configured (ForgeOne:Backup:Targets)")
            : !string.Equals(request.Zone, _host.Zone, StringComparison.Ordinal)
                ? new ForgeOneError(ErrorCodes.InvalidArgument, $"backup of zone '{request.Zone}' sent to a shard of zone '{_host.Zone}'")
                : Interlocked.CompareExchange(ref _backupRunning, 1, 0) != 0
                    ? new ForgeOneError(ErrorCodes.BackupBusy, $"shard {_kind.FolderName()}-{_shard} is already writing a backup file")
                    : null;
        if (refusal is not null)
        {
            Sender.Tell(new ShardProtocol.ShardFailed(_kind, _shard, refusal));
            _commits.QueueAudit(new QueuedAudit(admission.AuditPrincipal, admission with { Detail = $"{detail} refused={refusal.Code}" }, AuditOutcome.Failed, _host.Time.GetUtcNow()));
            ScheduleAuditFlush();
            return;
        }

        var writer = _host.Backup!;
        var store = _store!;
        var shard = new ShardRef(_host.Zone, _kind, _shard);
        var job = new ShardBackupRequest(request.BackupId, request.Attempt, shard, request.SinceTxnId, request.WrappedKey);
        var cancel = new CancellationTokenSource();
        _backupCancel = cancel;
        var sender = Sender;
        var self = Self;
        var completed = _completedReads;
        var time = _host.Time;
        var (kind, number) = (_kind, _shard);
        Interlocked.Increment(ref _tasksInFlight);
        _ = Task.Run(() =>
        {
            object reply;
            QueuedAudit audit;
            try
            {
                var (entry, regions) = writer.Write(store, job, cancel.Token);
                reply = new ShardBackupWritten(kind, number, shard.Zone, entry.Encode(), [.. regions]);
                audit = new QueuedAudit(admission.AuditPrincipal, admission with { Detail = $"{detail} txn={entry.TxnId} bytes={entry.Size} pages={entry.Pages} regions={string.Join(',', regions)}" }, AuditOutcome.Success, time.GetUtcNow());
            }
            catch (Exception e)
            {
                var error = e switch
                {
                    ForgeOneException fe => fe.Error,
                    OperationCanceledException => new ForgeOneError(ErrorCodes.Unavailable, $"shard {kind.FolderName()}-{number} stopped (hand-off or restore) while writing its backup file; retry"),
                    _ => new ForgeOneError(ErrorCodes.StorageIo, e.Message),
                };
                reply = new ShardProtocol.ShardFailed(kind, number, error);
                audit = new QueuedAudit(admission.AuditPrincipal, admission with { Detail = $"{detail} failed={error.Code}" }, AuditOutcome.Failed, time.GetUtcNow());
            }

            try
            {
                // Like a read: the audit record is queued before the reply, and the task counts
                // as in flight until both are done, so a hand-off commits it.
                completed.Enqueue(audit);
                if (Interlocked.Exchange(ref _drainSignalled, 1) == 0)
                {
                    self.Tell(DrainReadAudits.Instance, ActorRefs.NoSender);
                }

                sender.Tell(reply, self);
            }
            finally
            {
                Volatile.Write(ref _backupRunning, 0);
                Interlocked.Decrement(ref _tasksInFlight);
            }
        });
    }

    private void CancelBackup()
    {
        if (Volatile.Read(ref _backupRunning) != 0)
        {
            _backupCancel?.Cancel();
        }
    }

    private void OnSuspend(SuspendShard suspend)
    {
        var admission = AdmitBackupControl("backup.shard_suspend", suspend, $"reason={suspend.Reason}");
        if (!admission.Admitted)
        {
            Sender.Tell(new ShardProtocol.ShardFailed(_kind, _shard, admission.Refusal!));
            return;
        }

        // Its own record goes into the last commit before the file closes.
        _commits.QueueAudit(new QueuedAudit(admission.AuditPrincipal, admission, AuditOutcome.Success, _host.Time.GetUtcNow()));
        FinalFlush();
        var head = _security?.AuditHead.Sequence ?? -1;
        StopStream();
        CloseQuietly();
        _log.Info("Shard {0}-{1} suspended on {2} ({3}): file closed at audit head {4}", _kind.FolderName(), _shard, _nodeAddress, suspend.Reason, head);
        Become(Suspended);
        // Never suspended for good: if the coordinator's resume is lost (it failed over mid
        // switch), the shard reopens from whatever version is active by then.
        Timers.StartSingleTimer(nameof(ResumeShard), SuspendExpired.Instance, SuspendLimit);
        Sender.Tell(new ShardSuspended(_kind, _shard, head));
    }

    private void OnResume(ResumeShard resume) => Resume(resume);

    /// <summary>
    /// Reopens the shard from the active data-root version: asked by the coordinator
    /// (<paramref name="resume"/>), or by the shard itself once suspended too long (null).
    /// </summary>
    private void Resume(ResumeShard? resume)
    {
        // A shard that is open authorizes with its own security state; a suspended or failed
        // one has none until it opens, so it opens first and closes again if refused.
        Admission? admitted = null;
        if (resume is not null && _security is not null && !(admitted = AdmitBackupControl("backup.shard_resume", resume, "")).Admitted)
        {
            Sender.Tell(new ShardProtocol.ShardFailed(_kind, _shard, admitted.Refusal!));
            return;
        }

        ShardStoreOptions options;
        try
        {
            options = _host.StoreOptions(_kind, _shard);
        }
        catch (ForgeOneException e)
        {
            Sender.Tell(new ShardProtocol.ShardFailed(_kind, _shard, e.Error));
            return;
        }

        var path = Path.GetFullPath(ShardStore.PathFor(options.DataRoot, _kind, _shard));
        if (_store is not null && string.Equals(_store.FilePath, path, StringComparison.Ordinal))
        {
            Sender.Tell(new ShardResumed(_kind, _shard, path, _security!.AuditHead.Sequence));
            return;
        }

        var wasOpen = _store is not null;
        if (wasOpen)
        {
            // Serving another version (it opened while a restore was switching): move over.
            FinalFlush();
            StopStream();
            CloseQuietly();
        }

        Timers.Cancel(nameof(ResumeShard));
        try
        {
            _openFailure = null;
            Open();
        }
        catch (Exception e)
        {
            _openFailure = e is ForgeOneException fe ? fe.Error : new ForgeOneError(ErrorCodes.StorageIo, e.Message);
            _log.Error(e, "SHARD {0}-{1} FAILED TO REOPEN on {2} from {3}: {4}", _kind.FolderName(), _shard, _nodeAddress, path, _openFailure);
            CloseQuietly();
            Become(Failed);
            Sender.Tell(new ShardProtocol.ShardFailed(_kind, _shard, Unavailable()));
            return;
        }

        if (resume is not null && !wasOpen && !(admitted = AdmitBackupControl("backup.shard_resume", resume, "")).Admitted)
        {
            // Refused (and audited in the reopened file): back to where it was.
            FinalFlush();
            StopStream();
            CloseQuietly();
            Become(_openFailure is null ? Suspended : Failed);
            Sender.Tell(new ShardProtocol.ShardFailed(_kind, _shard, admitted.Refusal!));
            return;
        }

        Touch();
        Become(Active);
        var head = _security!.AuditHead.Sequence;
        _commits.QueueAudit(new QueuedAudit(admitted?.AuditPrincipal ?? SuspendLimitPrincipal, Admission.Allow("backup.shard_resume", _context!.ResourcePrefix, $"file={path} head={head}"), AuditOutcome.Success, _host.Time.GetUtcNow()));
        ScheduleAuditFlush();
        _log.Info("Shard {0}-{1} resumed on {2} from {3} (epoch {4}, audit head {5})", _kind.FolderName(), _shard, _nodeAddress, path, _epoch, head);
        Sender.Tell(new ShardResumed(_kind, _shard, path, head));
    }

    private void StopStream()
    {
        if (_stream is not null)
        {
            // Subscribers see their source end and re-subscribe once the shard serves again.
            Context.Stop(_stream);
            _stream = null;
        }
    }

    // Audit principal of a resume the shard makes itself, after SuspendLimit.
    private const string SuspendLimitPrincipal = "shard:suspend-limit";

    /// <summary>
    /// Authenticates and authorizes a backup control message (<see cref="MessagePermissions"/>:
    /// <c>backup:admin</c>). A refusal is audited Denied in this shard's chain here; an admitted
    /// one is audited once its outcome is known, under <see cref="Admission.AuditPrincipal"/>.
    /// </summary>
    private Admission AdmitBackupControl(string action, IShardControl control, string detail)
    {
        var resource = $"{_kind.FolderName()}/{_shard}";
        if (_security is null)
        {
            return Admission.Deny(action, resource, "the shard is not open");
        }

        var authentication = _security.Authenticate(control.Token);
        Admission admission;
        if (!authentication.IsAuthenticated)
        {
            admission = Admission.Unauthenticated(Admission.Allow(action, resource, detail), authentication.Error!);
        }
        else
        {
            var decision = _security.Authorize(authentication.Principal, MessagePermissions.PermissionOf(control) ?? Permissions.BackupAdmin, new ResourceDescriptor("backup"));
            admission = (decision.Allowed ? Admission.Allow(action, resource, detail) : Admission.Deny(action, resource, decision.Reason)) with { Principal = authentication.Principal };
        }

        if (!admission.Admitted)
        {
            _commits.QueueAudit(new QueuedAudit(admission.AuditPrincipal, admission, AuditOutcome.Denied, _host.Time.GetUtcNow()));
            ScheduleAuditFlush();
        }

        return admission;
    }

    /// <summary>The shard has been suspended for <see cref="SuspendLimit"/>: it resumes by itself. Local: a timer to self.</summary>
    private sealed class SuspendExpired
    {
        public static readonly SuspendExpired Instance = new();
    }
}

/// <summary>Writes one shard's backup file on the node that owns the shard (see <see cref="ShardBackup"/>).</summary>
public interface IShardBackupWriter
{
    /// <summary>Writes the file of <paramref name="request"/> from <paramref name="store"/> to every region target.</summary>
    (ShardManifest Entry, IReadOnlyList<string> Regions) Write(IShardStore store, ShardBackupRequest request, CancellationToken cancellation);
}

/// <summary>The node's writer: its KEK (to unwrap the backup's data key) and its region targets.</summary>
public sealed class ShardBackupWriter(IKekProvider kek, IReadOnlyList<BackupTarget> targets, TimeProvider time) : IShardBackupWriter
{
    /// <inheritdoc />
    public (ShardManifest Entry, IReadOnlyList<string> Regions) Write(IShardStore store, ShardBackupRequest request, CancellationToken cancellation) =>
        ShardBackup.Write(store, request, kek, targets, time, cancellation);
}
