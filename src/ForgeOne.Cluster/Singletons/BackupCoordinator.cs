using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster.Tools.Singleton;
using Akka.Event;
using Akka.Persistence;
using ForgeOne.Backup;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage;
using ForgeOne.Storage.Records;
using static ForgeOne.Cluster.Protocol.BackupProtocol;
using BackupSchedule = ForgeOne.Backup.BackupSchedule;

namespace ForgeOne.Cluster.Singletons;

/// <summary>
/// Cluster singleton that schedules, runs and catalogs backups, restores them into new
/// data-root versions, backs up the keys and runs DR drills. The catalog is the fold of its
/// journal (<see cref="BackupCatalog"/>), so a new incarnation after a fail-over knows every
/// backup and resumes the one that was running: shards already copied stay copied, the others
/// are asked again with a new attempt number (a new file name, so no attempt overwrites another).
/// The heavy work runs off the actor's thread (shards write their own files on their owners'
/// nodes; restores, drills and verification run as tasks here) and reports back as messages.
/// </summary>
/// <remarks>
/// A backup:
/// <code>
///   RunBackup / schedule --persist BackupStarted--> copying: BackupShard to every shard (Parallelism at a time)
///      each ShardBackedUp --persist--> ... all shards --> publishing: manifest signed, written and checked in
///      every region, folder sealed --persist BackupCompleted--> retention; a shard that fails MaxAttempts
///      times --persist BackupFailed--> its files removed
/// </code>
/// One operation at a time (backup, restore, drill, verification, key backup): another is
/// refused with <c>backup.busy</c>, except RunBackup, which joins the running backup.
/// </remarks>
public sealed partial class BackupCoordinator : ReceivePersistentActor, IWithTimers
{
    /// <summary>Persistence id of the single coordinator.</summary>
    public const string Id = "forgeone-backup";

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly BackupServices _services;
    private readonly TimeProvider _time;
    private readonly BackupRepository _repository;
    private readonly HashSet<ShardRef> _inFlight = [];
    private readonly Dictionary<string, List<IActorRef>> _waiting = new(StringComparer.Ordinal);
    private readonly Dictionary<string, object> _finished = new(StringComparer.Ordinal);
    private BackupCatalog _catalog = BackupCatalog.Empty;
    private Operation? _operation;
    private bool _publishing;
    private ITimer? _scheduleTimer;
    private IActorRef? _sealer;

    /// <summary>Creates the coordinator.</summary>
    public BackupCoordinator(BackupServices services)
    {
        _services = services;
        _time = services.Time;
        _repository = new BackupRepository(services.Targets, services.Signer.ExportPublicKeyPem());

        Recover<BackupEvent>(e => _catalog = _catalog.Apply(e)); // recovery replays, it does not announce
        Recover<BackupScheduleSet>(e => _catalog = _catalog.Apply(new ScheduleSet(e.SetAt, services.Settings.Schedule.Full, e.Interval, services.Settings.Schedule.Drill, e.SetBy)));
        Recover<RecoveryCompleted>(_ => OnRecovered());

        Command<SetBackupSchedule>(OnSetSchedule);
        Command<GetBackupSchedule>(get => Authorized(get, "schedule_get", _ => Sender.Tell(CurrentSchedule())));
        Command<RunBackup>(run => Authorized(run, "run", who => StartBackup(who, run.Type, Sender)));
        Command<ShardReply>(OnShardReply);
        Command<DispatchTick>(_ => Dispatch());
        Command<Published>(OnPublished);
        Command<ScheduleTick>(_ => OnScheduleTick());
        Command<AwaitOperation>(wait => Authorized(wait, "await", _ => Await(wait.Id, Sender)));
        Command<GetBackupProgress>(get => Authorized(get, "progress", _ => Sender.Tell(Progress())));
        OperationCommands();
        SchemaCommands();
    }

    /// <inheritdoc />
    public override string PersistenceId => Id;

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Props of the coordinator.</summary>
    public static Props Props(BackupServices services) => Akka.Actor.Props.Create(() => new BackupCoordinator(services));

    private BackupSchedule Schedule => _catalog.Schedule is { } s ? new BackupSchedule(s.Full, s.Incremental, s.Drill) : _services.Settings.Schedule;

    private string Node => Akka.Cluster.Cluster.Get(Context.System).SelfAddress.ToString();

    /// <inheritdoc />
    protected override void PostStop()
    {
        BackupMetrics.ReportProgress(null);
        _scheduleTimer?.Dispose();
        base.PostStop();
    }

    private void OnRecovered()
    {
        var self = this;
        BackupMetrics.ReportProgress(() => self.Progress() is var p ? (p.Operation, p.Done, p.Total, p.Bytes, p.ElapsedSeconds) : default);
        _log.Info("Backup coordinator recovered on {0}: {1} backups, {2} restores, {3} drills in the catalog", Node, _catalog.Backups.Count, _catalog.Restores.Count, _catalog.Drills.Count);
        if (_catalog.Running is { } running)
        {
            // Fail-over during a backup: resume it. Shards are asked again once the new owner
            // regions answer; those already recorded stay done.
            _log.Warning("Backup {0} was running when the previous coordinator stopped: resuming ({1} of {2} shards done)", running.Id, running.Done.Count, running.Shards.Length);
            _operation = new Operation("backup", running.Id, Stopwatch.StartNew(), running.Shards.Length) { Done = running.Done.Count };

            // Whatever the lost coordinator had asked for is an attempt that may or may not have
            // written its file: the retry uses the next attempt number, hence another file name.
            var now = _time.GetUtcNow();
            PersistAll(
                running.Pending.Select(shard => new ShardAttemptFailed(now, running.Id, shard, running.NextAttempt(shard), "the coordinator failed over while this shard was pending")).ToList(),
                e => _catalog = _catalog.Apply(e));
            DeferAsync(running.Id, _ => Timers.StartSingleTimer("dispatch", DispatchTick.Instance, TimeSpan.FromSeconds(1)));
        }

        RecordOfflineRestore();
        if (_services.Targets.Count > 0)
        {
            // Backups the catalog does not know (a fresh coordinator next to old targets): read
            // here, before any command, so the first listing already shows them. Manifests are small.
            OnImported(Import(_repository, _catalog.Backups.Keys.ToHashSet(StringComparer.Ordinal)));
        }
        else
        {
            _log.Info("No backup targets are configured (ForgeOne:Backup:Targets): backups, drills and key backups are refused until some are");
        }

        // A second's grace after start: the cluster is still forming, and a backup due at once
        // (none taken yet) need not race the first writes.
        ArmSchedule(TimeSpan.FromSeconds(1));
    }

    /// <summary>
    /// A data-root version restored while no node ran (<c>ForgeOne.Node offline restore</c>) is
    /// recorded the first time a coordinator sees it active: in the journal and, audited, in the
    /// (restored) system store.
    /// </summary>
    private void RecordOfflineRestore()
    {
        DataVersion active;
        try
        {
            active = _services.Layout.Active;
        }
        catch (ForgeOneException e)
        {
            _log.Error("The data root's active version cannot be read: {0}", e.Error);
            return;
        }

        if (active.Info.RestoredFrom is not { } backupId || _catalog.Restores.Any(r => r.Succeeded && r.Version == active.Name))
        {
            return;
        }

        var recorded = new RestoreRecorded(_time.GetUtcNow(), $"r-offline-{active.Name}", backupId, active.Info.CreatedBy, [], active.Name, active.Info.Incarnation, true,
            $"offline restore found active at start: {active.Info.Note} (made {active.Info.CreatedAt:O})");
        Persist(recorded, e =>
        {
            Applied(e);
            _log.Warning("Data-root version {0} (incarnation {1}) was restored offline from backup {2} by {3}: recorded", active.Name, active.Info.Incarnation, backupId, active.Info.CreatedBy);
            Record(NodePrincipal, "restore_completed", $"restore={e.Id} backup={backupId} version={active.Name} incarnation={active.Info.Incarnation} offline by={active.Info.CreatedBy}",
                new SystemProtocol.SnapshotInfo(e.Id, "restore", e.At, [active.Name], [], 0, SnapshotStatus.Completed));
        });
    }

    /// <summary>
    /// A persisted event joins the catalog and is announced on this node's event stream (for
    /// live views and tests that wait for a backup to end instead of polling).
    /// </summary>
    private void Applied(BackupEvent e)
    {
        _catalog = _catalog.Apply(e);
        Context.System.EventStream.Publish(e);
    }

    // --- authorization -------------------------------------------------------------------

    /// <summary>
    /// Runs <paramref name="then"/> with the verified principal when <paramref name="request"/>'s
    /// token verifies and its principal holds the permission <see cref="MessagePermissions"/>
    /// names; else refuses (<c>auth.unauthenticated</c> or <c>auth.forbidden</c>) and has the
    /// system shard record the refusal as a denial.
    /// </summary>
    private void Authorized(IAuthenticated request, string action, Action<Principal> then)
    {
        var node = _services.Security;
        var authentication = node.Verifier.Verify(request.Token);
        var permission = MessagePermissions.PermissionOf(request) ?? Permissions.BackupAdmin;
        ForgeOneError refusal;
        if (authentication.IsAuthenticated)
        {
            var decision = node.Policy.Authorize(authentication.Principal, permission, new ResourceDescriptor(permission[..permission.IndexOf(':')]));
            if (decision.Allowed)
            {
                then(authentication.Principal);
                return;
            }

            refusal = new ForgeOneError(ErrorCodes.Forbidden, $"{authentication.Principal.Id} may not {action.Replace('_', ' ')} ({permission}): {decision.Reason}");
        }
        else
        {
            refusal = authentication.Error!;
        }

        Sender.Tell(new BackupOperationFailed(refusal));
        Record(authentication.Claims?.Principal.Id ?? Shards.Admission.UnauthenticatedPrincipal, action, $"refused: {refusal}", outcome: AuditOutcome.Denied);
    }

    /// <summary>This node's own principal (scheduled backups, drills and retention run as it).</summary>
    private Principal NodePrincipal => _services.Security.Identity.Principal;

    /// <summary>
    /// Audits <c>backup.{action}</c> of <paramref name="who"/> in the system store (and stores a
    /// snapshot state when given). The node submits it, so a long operation is recorded even
    /// when its requester's token has expired by the time it ends.
    /// </summary>
    private void Record(Principal who, string action, string detail, SystemProtocol.SnapshotInfo? snapshot = null) => Record(who.Id, action, detail, snapshot);

    private void Record(string who, string action, string detail, SystemProtocol.SnapshotInfo? snapshot = null, AuditOutcome outcome = AuditOutcome.Success)
    {
        var system = _services.Regions.ByKind[ShardKind.System];
        var log = _log;
        system.Ask<object>(new SystemProtocol.RecordBackupEvent(_services.Security.Identity.Current, who, action, detail, snapshot, outcome), TimeSpan.FromSeconds(30))
            .ContinueWith(t =>
            {
                if (t.IsFaulted || t.Result is IFailureReply)
                {
                    var why = t.IsFaulted ? t.Exception!.GetBaseException().Message : ((IFailureReply)t.Result).Error.ToString();
                    log.Error("Backup event backup.{0} ({1}) could not be recorded in the system store: {2}", action, detail, why);
                }
            }, TaskScheduler.Default);
    }

    // --- backups -------------------------------------------------------------------------

    private void StartBackup(Principal caller, BackupKind? requested, IActorRef? replyTo)
    {
        if (_catalog.Running is { } running)
        {
            replyTo?.Tell(new BackupAccepted(running.Id, (BackupKind)running.Type, running.Parent, Joined: true));
            return;
        }

        if (Busy(replyTo))
        {
            return;
        }

        if (_services.Targets.Count == 0)
        {
            replyTo?.Tell(new BackupOperationFailed(new ForgeOneError(ErrorCodes.BackupNoTargets, "no backup targets are configured (ForgeOne:Backup:Targets)")));
            return;
        }

        var now = _time.GetUtcNow();
        var version = _services.Layout.Active;
        var type = requested is null ? Schedule.NextBackup(_catalog, now).Due ?? BackupType.Incremental : (BackupType)requested;

        // An incremental continues the newest completed backup of this same data-root version
        // and incarnation; anything else (none yet, a restore since) needs a full.
        var parent = type == BackupType.Incremental
            ? _catalog.Completed.Where(b => b.DataVersion == version.Name && b.Incarnation == version.Info.Incarnation && !b.HeldBy.IsDefault && b.HeldBy.Length > 0).MaxBy(b => (b.StartedAt, b.Id))
            : null;
        if (type == BackupType.Incremental && parent is null)
        {
            type = BackupType.Full;
        }

        var id = BackupIds.New("b", now);
        string wrapped;
        try
        {
            wrapped = Convert.ToBase64String(BackupKey.CreateWrapped(_services.Kek, id));
        }
        catch (ForgeOneException e)
        {
            replyTo?.Tell(new BackupOperationFailed(e.Error));
            return;
        }

        var started = new BackupStarted(now, id, type, parent?.Id, parent?.Base ?? id, caller.Id, wrapped,
            [.. _services.Targets.Select(t => t.Region)], [.. _services.AllShards()], version.Name, version.Info.Incarnation);
        Persist(started, e =>
        {
            Applied(e);
            _operation = new Operation("backup", id, Stopwatch.StartNew(), e.Shards.Length) { Caller = caller };
            _log.Info("Backup {0} started ({1}{2}, {3} shards, regions {4}) by {5}", id, type, parent is null ? "" : $" after {parent.Id}", e.Shards.Length, string.Join(", ", e.Regions), caller.Id);
            replyTo?.Tell(new BackupAccepted(id, (BackupKind)type, parent?.Id, Joined: false));
            Record(caller, "started", $"backup={id} type={type} parent={parent?.Id ?? "-"} shards={e.Shards.Length}", Snapshot(_catalog.Get(id)));
            Dispatch();
        });
    }

    /// <summary>Asks pending shards for their files, at most <see cref="BackupSettings.Parallelism"/> at a time.</summary>
    private void Dispatch()
    {
        if (_catalog.Running is not { } backup || _publishing)
        {
            return;
        }

        // Shards are asked as this node (it checked the requester; a long backup outlives
        // the requester's token), and each shard audits the request it got.
        var token = _services.Security.Identity.Current;
        var timeout = _services.Settings.ShardTimeout ?? TimeSpan.FromMinutes(10);
        foreach (var shard in backup.Pending.Where(s => !_inFlight.Contains(s)).Take(Math.Max(1, _services.Settings.Parallelism) - _inFlight.Count))
        {
            var attempt = backup.NextAttempt(shard);
            var since = backup.Parent is { } parent && _catalog.Backups.TryGetValue(parent, out var p) && p.Done.TryGetValue(shard, out var before) ? before.Entry.TxnId : 0UL;
            if (backup.Parent is not null && since == 0)
            {
                // The parent was imported (no per-shard facts here): read them from its manifest.
                since = ParentTxn(backup.Parent, shard);
            }

            _inFlight.Add(shard);
            var message = new BackupShard(shard.Kind, shard.Shard, shard.Zone, token, backup.Id, attempt, since, Convert.FromBase64String(backup.WrappedKey));
            var id = backup.Id;
            _services.RegionOf(shard).Ask<object>(message, timeout)
                .ContinueWith(t => new ShardReply(id, shard, attempt, t.IsCompletedSuccessfully ? t.Result : null, t.Exception?.GetBaseException().Message ?? (t.IsCanceled ? "timed out" : null)), TaskScheduler.Default)
                .PipeTo(Self);
        }

        if (!backup.Pending.Any() && _inFlight.Count == 0)
        {
            Publish(backup);
        }
    }

    private ulong ParentTxn(string parent, ShardRef shard)
    {
        try
        {
            return _repository.Load(parent).Manifest.Find(shard)?.TxnId ?? 0;
        }
        catch (ForgeOneException)
        {
            return 0;
        }
    }

    private void OnShardReply(ShardReply reply)
    {
        _inFlight.Remove(reply.Shard);
        if (_catalog.Running is not { } backup || backup.Id != reply.BackupId || !backup.Pending.Contains(reply.Shard))
        {
            return; // a late answer of an earlier attempt or backup
        }

        if (reply.Reply is ShardBackupWritten done)
        {
            ShardManifest entry;
            try
            {
                entry = ShardManifest.Decode(done.Entry);
            }
            catch (ForgeOneException e)
            {
                ShardAttemptFailed(backup, reply, e.Error.ToString());
                return;
            }

            Persist(new ForgeOne.Backup.ShardBackedUp(_time.GetUtcNow(), backup.Id, reply.Attempt, entry, done.Regions), e =>
            {
                Applied(e);
                if (_operation is { } op && op.Id == backup.Id)
                {
                    op.Done++;
                    op.Bytes += entry.Size;
                }

                BackupMetrics.BytesWritten.Add(entry.Size);
                Dispatch();
            });
            return;
        }

        var error = reply.Reply is IFailureReply failed ? failed.Error.ToString() : reply.Error ?? $"unexpected reply {reply.Reply?.GetType().Name}";
        ShardAttemptFailed(backup, reply, error);
    }

    private void ShardAttemptFailed(CatalogBackup backup, ShardReply reply, string error)
    {
        _log.Warning("Backup {0}: shard {1} attempt {2} failed: {3}", backup.Id, reply.Shard, reply.Attempt, error);
        Persist(new ShardAttemptFailed(_time.GetUtcNow(), backup.Id, reply.Shard, reply.Attempt, error), e =>
        {
            Applied(e);
            // Refusals that a retry cannot fix end the backup at once.
            var hopeless = error.StartsWith(ErrorCodes.Forbidden, StringComparison.Ordinal) || error.StartsWith(ErrorCodes.BackupNoTargets, StringComparison.Ordinal)
                || error.StartsWith(ErrorCodes.BackupChainBroken, StringComparison.Ordinal) || error.StartsWith(ErrorCodes.CryptoKeyUnavailable, StringComparison.Ordinal);
            if (hopeless || reply.Attempt >= _services.Settings.MaxAttempts)
            {
                FailBackup(backup.Id, $"shard {reply.Shard} failed {reply.Attempt} time(s), last: {error}");
                return;
            }

            // A lost node's shards move; give the new owner a moment before asking again.
            Timers.StartSingleTimer("dispatch", DispatchTick.Instance, TimeSpan.FromSeconds(1));
        });
    }

    private void FailBackup(string id, string error)
    {
        Persist(new BackupFailed(_time.GetUtcNow(), id, error), e =>
        {
            Applied(e);
            _inFlight.Clear();
            _publishing = false;
            BackupMetrics.Failed.Add(1);
            _log.Error("BACKUP {0} FAILED: {1}", id, error);
            var backup = _catalog.Get(id);
            // Incomplete backups are never restorable; their files go (the only deletes besides retention).
            var targets = _services.Targets;
            Task.Run(() =>
            {
                foreach (var target in targets)
                {
                    try
                    {
                        target.Delete(BackupTarget.BackupFolder(id));
                    }
                    catch (Exception)
                    {
                        // Best effort; an unreferenced folder holds no manifest and is never restored.
                    }
                }
            });
            Record(_operation?.Caller ?? NodePrincipal, "failed", $"backup={id} error={Truncate(error)}", Snapshot(backup));
            Finish(id, Info(backup));
        });
    }

    /// <summary>Every shard is in: sign and publish the manifest off the actor's thread.</summary>
    private void Publish(CatalogBackup backup)
    {
        if (_publishing)
        {
            return;
        }

        _publishing = true;
        _sealer ??= Context.ActorOf(
            ClusterSingletonProxy.Props("/user/audit-sealer", ClusterSingletonProxySettings.Create(Context.System).WithRole(ForgeOneNodeOptions.StorageRole)),
            "sealer-proxy");
        var sealer = _sealer;
        var services = _services;
        var time = _time;
        var repository = _repository;
        Task.Run(async () =>
        {
            try
            {
                byte[][] seals;
                try
                {
                    seals = (await sealer.Ask<SealerProtocol.SealHistory>(new SealerProtocol.GetSealHistory(_services.Security.Identity.Current), TimeSpan.FromSeconds(10)).ConfigureAwait(false)).Seals;
                }
                catch (Exception)
                {
                    seals = []; // no seal yet (or the sealer is moving): the manifest records none
                }

                // A coordinator that failed over while publishing finds the manifest it already wrote.
                var manifest = ExistingManifest(repository, backup.Id)
                    ?? BackupPublisher.BuildManifest(backup, services.ClusterId, services.ShardCounts, seals, time.GetUtcNow(), [.. services.Targets.Select(t => t.Region)]);
                var regions = BackupPublisher.Publish(manifest, services.Targets, services.Signer, services.Settings.VerifyAfterWrite);
                var missing = services.Targets.Where(t => t.Required && !regions.Contains(t.Region)).Select(t => t.Region).ToList();
                return missing.Count == 0
                    ? new Published(backup.Id, manifest, [.. regions], null)
                    : new Published(backup.Id, manifest, [.. regions], $"required regions {string.Join(", ", missing)} do not hold every file");
            }
            catch (Exception e)
            {
                return new Published(backup.Id, null, [], e is ForgeOneException fe ? fe.Error.ToString() : e.Message);
            }
        }).PipeTo(Self);
    }

    private static BackupManifest? ExistingManifest(BackupRepository repository, string id)
    {
        try
        {
            return repository.Load(id).Manifest;
        }
        catch (ForgeOneException)
        {
            return null;
        }
    }

    private void OnPublished(Published published)
    {
        _publishing = false;
        if (_catalog.Running is not { } backup || backup.Id != published.Id)
        {
            return;
        }

        if (published.Error is not null || published.Manifest is null)
        {
            FailBackup(backup.Id, $"publishing failed: {published.Error}");
            return;
        }

        var manifest = published.Manifest;
        Persist(new BackupCompleted(_time.GetUtcNow(), backup.Id, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(manifest.Encode())), manifest.Size, published.Regions), e =>
        {
            Applied(e);
            var done = _catalog.Get(backup.Id);
            var elapsed = (done.CompletedAt!.Value - done.StartedAt).TotalSeconds;
            BackupMetrics.Completed.Add(1, new KeyValuePair<string, object?>("type", done.Type.ToString().ToLowerInvariant()));
            BackupMetrics.Duration.Record(elapsed);
            if (elapsed > 0)
            {
                BackupMetrics.Throughput.Record(manifest.Size / elapsed);
            }

            _log.Info("Backup {0} complete: {1} shards, {2:N0} bytes, regions {3}, {4:F1} s", done.Id, manifest.Shards.Length, manifest.Size, string.Join(", ", published.Regions), elapsed);
            Record(_operation?.Caller ?? NodePrincipal, "completed", $"backup={done.Id} type={done.Type} bytes={manifest.Size} regions={string.Join(',', published.Regions)}", Snapshot(done));
            Finish(done.Id, Info(done));
            ApplyRetention();
        });
    }

    /// <summary>Removes what retention says (oldest chains first), then records one event per backup.</summary>
    private void ApplyRetention()
    {
        var removals = Retention.Plan(_catalog, _services.Settings.Retention, _time.GetUtcNow());
        var events = new List<BackupExpired>();
        foreach (var group in removals.GroupBy(r => r.BackupId))
        {
            var id = group.Key;
            var regions = group.Select(r => r.Region).ToArray();
            foreach (var region in regions)
            {
                try
                {
                    _repository.Target(region).Delete(BackupTarget.BackupFolder(id));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or ForgeOneException)
                {
                    _log.Warning("Retention could not remove backup {0} from region {1}: {2}", id, region, e.Message);
                }
            }

            var backup = _catalog.Get(id);
            events.Add(new BackupExpired(_time.GetUtcNow(), id, regions, (backup.HeldBy.IsDefault ? [] : backup.HeldBy).All(regions.Contains)));
        }

        PersistAll(events, e =>
        {
            Applied(e);
            Record(NodePrincipal, "expired", $"backup={e.Id} regions={string.Join(',', e.Regions)} gone={e.Gone}", e.Gone ? Snapshot(_catalog.Get(e.Id)) : null);
        });
    }

    private void OnImported(Imported imported)
    {
        var events = imported.Manifests.Where(m => !_catalog.Backups.ContainsKey(m.Manifest.Id))
            .Select(f => new BackupImported(_time.GetUtcNow(), f.Manifest.Id, f.Manifest.Type, f.Manifest.Parent, f.Manifest.Base, f.Manifest.StartedAt, f.Manifest.CompletedAt, f.Manifest.Size, f.Regions, f.Manifest.DataVersion, f.Manifest.Incarnation))
            .ToList();
        PersistAll(events, e =>
        {
            Applied(e);
            _log.Info("Backup {0} ({1}, {2:O}) found in regions {3}: added to the catalog", e.Id, e.Type, e.CompletedAt, string.Join(", ", e.Regions));
        });
    }

    private static Imported Import(BackupRepository repository, HashSet<string> known)
    {
        var found = new List<(BackupManifest, string[])>();
        foreach (var id in repository.ListBackups().Where(id => !known.Contains(id)))
        {
            try
            {
                var verified = repository.Load(id);
                var holding = repository.Targets.Where(t => t.Exists(BackupTarget.ManifestPath(id))).Select(t => t.Region).ToArray();
                found.Add((verified.Manifest, holding));
            }
            catch (ForgeOneException)
            {
                // Not signed by this cluster's key, or damaged: never offered for restore.
            }
        }

        return new Imported([.. found]);
    }

    // --- schedule ------------------------------------------------------------------------

    private void OnSetSchedule(SetBackupSchedule set)
    {
        Authorized(set, "schedule_set", who =>
        {
            if (set.Full < BackupSchedule.Minimum || set.Incremental < BackupSchedule.Minimum || set.Drill < BackupSchedule.Minimum)
            {
                Sender.Tell(new BackupOperationFailed(new ForgeOneError(ErrorCodes.InvalidArgument, $"Backup, incremental and drill intervals are each at least {BackupSchedule.Minimum}.")));
                return;
            }

            var sender = Sender;
            Persist(new ScheduleSet(_time.GetUtcNow(), set.Full, set.Incremental, set.Drill, who.Id), e =>
            {
                Applied(e);
                Record(who, "schedule_set", $"full={e.Full} incremental={e.Incremental} drill={e.Drill}");
                ArmSchedule();
                sender.Tell(CurrentSchedule());
            });
        });
    }

    private BackupProtocol.BackupSchedule CurrentSchedule()
    {
        var schedule = Schedule;
        var now = _time.GetUtcNow();
        var (due, next) = schedule.NextBackup(_catalog, now);
        var drills = schedule.NextDrills(_catalog, _services.Targets.Select(t => t.Region), now);
        return new BackupProtocol.BackupSchedule(schedule.Full, schedule.Incremental, schedule.Drill, _catalog.Schedule?.At ?? DateTimeOffset.MinValue, _catalog.Schedule?.By ?? "default", Node,
            _services.Targets.Count == 0 ? null : due is null ? next : now, drills.Due.Count > 0 ? now : drills.Next);
    }

    /// <summary>Sets the injected clock's timer for the next backup or drill that falls due (re-checked at least hourly).</summary>
    private void ArmSchedule(TimeSpan? minimum = null)
    {
        _scheduleTimer?.Dispose();
        _scheduleTimer = null;
        if (!_services.Settings.Scheduled || _services.Targets.Count == 0)
        {
            return;
        }

        var now = _time.GetUtcNow();
        var (due, next) = Schedule.NextBackup(_catalog, now);
        var drills = Schedule.NextDrills(_catalog, _services.Targets.Select(t => t.Region), now);
        var when = due is not null || drills.Due.Count > 0 ? now : drills.Next is { } d && d < next ? d : next;
        var delay = when - now;
        var floor = minimum ?? TimeSpan.Zero;
        delay = delay < floor ? floor : delay > TimeSpan.FromHours(1) ? TimeSpan.FromHours(1) : delay;
        var self = Self;
        _scheduleTimer = _time.CreateTimer(_ => self.Tell(ScheduleTick.Instance), null, delay, Timeout.InfiniteTimeSpan);
    }

    private void OnScheduleTick()
    {
        if (_operation is null && _services.Targets.Count > 0)
        {
            var now = _time.GetUtcNow();
            if (Schedule.NextBackup(_catalog, now).Due is { } type)
            {
                _log.Info("Scheduled {0} backup is due", type);
                StartBackup(NodePrincipal, (BackupKind)type, null);
            }
            else if (Schedule.NextDrills(_catalog, _services.Targets.Select(t => t.Region), now).Due is { Count: > 0 } regions)
            {
                _log.Info("Scheduled DR drill is due for {0}", string.Join(", ", regions));
                StartDrills(NodePrincipal, regions, null);
            }
        }

        ArmSchedule();
    }

    // --- waiting and progress -------------------------------------------------------------

    private bool Busy(IActorRef? replyTo)
    {
        if (_operation is null)
        {
            return false;
        }

        replyTo?.Tell(new BackupOperationFailed(new ForgeOneError(ErrorCodes.BackupBusy, $"the backup coordinator is running {_operation.Kind} {_operation.Id}; retry when it ends (GetBackupProgress)")));
        return true;
    }

    private void Await(string id, IActorRef replyTo)
    {
        if (_finished.TryGetValue(id, out var result))
        {
            replyTo.Tell(result);
        }
        else if (_operation?.Id == id)
        {
            (_waiting.TryGetValue(id, out var list) ? list : _waiting[id] = []).Add(replyTo);
        }
        else if (_catalog.Backups.TryGetValue(id, out var backup))
        {
            replyTo.Tell(Info(backup));
        }
        else if (_catalog.Drills.LastOrDefault(d => d.Id == id) is { } drill)
        {
            replyTo.Tell(DrillInfoOf(drill, []));
        }
        else if (_catalog.Restores.LastOrDefault(r => r.Id == id) is { } restore)
        {
            replyTo.Tell(RestoreInfoOf(restore, []));
        }
        else
        {
            replyTo.Tell(new BackupOperationFailed(new ForgeOneError(ErrorCodes.BackupNotFound, $"no backup, restore or drill '{id}'")));
        }
    }

    /// <summary>The operation <paramref name="id"/> ended with <paramref name="result"/>: answer its waiters, free the slot.</summary>
    private void Finish(string id, object result)
    {
        _finished[id] = result;
        if (_finished.Count > 100)
        {
            _finished.Remove(_finished.Keys.First());
        }

        if (_waiting.Remove(id, out var waiters))
        {
            foreach (var waiter in waiters)
            {
                waiter.Tell(result);
            }
        }

        if (_operation?.Id == id)
        {
            _operation = null;
        }

        ArmSchedule();
    }

    private BackupProgress Progress()
    {
        if (_operation is not { } op)
        {
            return new BackupProgress("idle", null, 0, 0, 0, 0, 0);
        }

        var elapsed = op.Clock.Elapsed.TotalSeconds;
        var bytes = Interlocked.Read(ref op.Bytes);
        return new BackupProgress(op.Kind, op.Id, Volatile.Read(ref op.Done), op.Total, bytes, elapsed, elapsed > 0 ? bytes / elapsed : 0);
    }

    private static BackupInfo Info(CatalogBackup b) =>
        new(b.Id, (BackupKind)b.Type, b.Parent, b.Base, b.Status.ToString().ToLowerInvariant(), b.StartedAt, b.CompletedAt, b.Size,
            [.. b.HeldBy.IsDefault ? [] : b.HeldBy], b.Status == BackupStatus.Completed && b.Shards.Length == 0 ? 0 : b.Done.Count, b.Shards.Length, b.By, b.Error);

    private static SystemProtocol.SnapshotInfo Snapshot(CatalogBackup b) =>
        new(b.Id, b.Type == BackupType.Full ? "backup-full" : "backup-incremental", b.StartedAt, [.. b.Regions], b.ManifestSha256 is { } h ? Convert.FromHexString(h) : [], b.Size,
            b.Status switch
            {
                BackupStatus.Running => SnapshotStatus.Running,
                BackupStatus.Completed => SnapshotStatus.Completed,
                BackupStatus.Failed => SnapshotStatus.Failed,
                _ => SnapshotStatus.Expired,
            });

    private static string Truncate(string text) => text.Length <= 1000 ? text : text[..1000] + "...";

    /// <summary>The operation holding the coordinator, for busy checks and progress.</summary>
    private sealed class Operation(string kind, string id, Stopwatch clock, int total)
    {
        public string Kind { get; } = kind;

        public string Id { get; } = id;

        public Stopwatch Clock { get; } = clock;

        public int Total { get; set; } = total;

        public Principal? Caller { get; init; }

        // Fields: background tasks update them with Interlocked.
        public int Done;
        public long Bytes;
    }

    private sealed record ShardReply(string BackupId, ShardRef Shard, int Attempt, object? Reply, string? Error);

    private sealed record Published(string Id, BackupManifest? Manifest, string[] Regions, string? Error);

    private sealed record Imported((BackupManifest Manifest, string[] Regions)[] Manifests);

    private sealed class DispatchTick
    {
        public static readonly DispatchTick Instance = new();
    }

    private sealed class ScheduleTick
    {
        public static readonly ScheduleTick Instance = new();
    }
}
