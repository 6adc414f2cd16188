using System.Diagnostics;
using System.Text;
using Akka.Event;
using Akka.Actor;
using ForgeOne.Backup;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage;
using ForgeOne.Storage.Records;
using static ForgeOne.Cluster.Protocol.BackupProtocol;
using DrillReport = ForgeOne.Backup.DrillReport;

namespace ForgeOne.Cluster.Singletons;

/// <summary>Restores, drills, key backups, verification and the catalog queries.</summary>
/// <remarks>
/// A restore:
/// <code>
///   RestoreBackup --task: chain checked, files restored into versions/vN.partial, every shard
///   verified--> (any failure: folder removed, nothing switched) --> vN published (inactive)
///   --> SuspendShard to every shard (each flushes and closes its file) --> incarnation recorded
///   --> CURRENT = vN --> ResumeShard to every shard (each reopens from vN) --> recorded
/// </code>
/// If a shard cannot be suspended, every shard is resumed on the old version and vN is removed.
/// </remarks>
public sealed partial class BackupCoordinator
{
    private static readonly TimeSpan SwitchTimeout = TimeSpan.FromSeconds(60);

    private void OperationCommands()
    {
        Command<ListBackups>(list => Authorized(list, "list", who =>
            Sender.Tell(new BackupList([.. _catalog.Backups.Values.OrderByDescending(b => (b.StartedAt, b.Id)).Take(Math.Clamp(list.Limit, 1, 10_000)).Select(Info)]))));
        Command<ShowBackup>(show => Authorized(show, "show", who => Show(show.Id)));
        Command<VerifyBackup>(verify => Authorized(verify, "verify", who => StartVerify(who, verify.Id)));
        Command<RestoreBackup>(restore => Authorized(restore, "restore", who => StartRestore(restore, who)));
        Command<RestorePrepared>(OnRestorePrepared);
        Command<ShardsSwitched>(OnShardsSwitched);
        Command<ListDataVersions>(list => Authorized(list, "versions", _ => ListVersions()));
        Command<DiscardVersion>(discard => Authorized(discard, "discard_version", who => Discard(discard, who)));
        Command<BackupKeys>(keys => Authorized(keys, "key_backup", who => StartKeyBackup(keys, who)));
        Command<VerifyKeyBackup>(verify => Authorized(verify, "key_backup_verify", who => StartKeyVerify(verify, who)));
        Command<ListKeyBackups>(list => Authorized(list, "key_backup_list", _ => ListKeys()));
        Command<RunDrill>(drill => Authorized(drill, "drill", who => StartDrills(who, drill.Region is null ? [.. _services.Targets.Select(t => t.Region)] : [drill.Region], Sender)));
        Command<DrillsDone>(OnDrillsDone);
        Command<ListDrills>(list => Authorized(list, "drill_list", who =>
            Sender.Tell(new DrillList([.. _catalog.Drills.AsEnumerable().Reverse().Select(d => DrillInfoOf(d, []))]))));
        Command<ShowDrill>(show => Authorized(show, "drill_show", who => ShowDrillReport(show.Id)));
        Command<TaskDone>(done => Finish(done.Id, done.Result));
        Command<KeyRecorded>(OnKeyRecorded);
    }

    // --- show and verify -------------------------------------------------------------------

    private void Show(string id)
    {
        if (!_catalog.Backups.TryGetValue(id, out var backup))
        {
            Sender.Tell(new BackupOperationFailed(new ForgeOneError(ErrorCodes.BackupNotFound, $"no backup '{id}' in the catalog")));
            return;
        }

        // Shard facts come from the signed manifest once complete, from the journal while running.
        var sender = Sender;
        var repository = _repository;
        Task.Run(() =>
        {
            IEnumerable<ShardManifest> entries = backup.Done.Values.Select(d => d.Entry);
            int[] kek = [];
            if (backup.Status == BackupStatus.Completed)
            {
                try
                {
                    var manifest = repository.Load(id).Manifest;
                    entries = manifest.Shards;
                    kek = manifest.KekVersions;
                }
                catch (ForgeOneException e)
                {
                    return (object)new BackupOperationFailed(e.Error);
                }
            }

            var regions = backup.HeldBy.IsDefault ? [] : backup.HeldBy.ToArray();
            return new BackupDetails(Info(backup), [.. entries.OrderBy(e => e.Ref).Select(e => new BackupShardInfo(
                e.Ref.Name, e.File, e.Size, e.Sha256, e.TxnId, e.SinceTxnId, e.AuditSeq, e.AuditHash, e.Records.Values.Sum(),
                e.Seal is { } seal ? SealCodec.Decode(Convert.FromBase64String(seal)).Number : null, regions))], kek);
        }).PipeTo(sender);
    }

    private void StartVerify(Principal caller, string id)
    {
        if (Busy(Sender))
        {
            return;
        }

        var sender = Sender;
        var operation = BeginTask("verify", BackupIds.New("v", _time.GetUtcNow()), caller);
        var repository = _repository;
        var rehash = true;
        Task.Run(() =>
        {
            try
            {
                var chain = repository.Chain(id);
                var checks = repository.Targets.Select(target =>
                {
                    var problems = new List<string>();
                    foreach (var link in chain)
                    {
                        try
                        {
                            var copy = repository.Load(link.Manifest.Id, [target.Region]);
                            if (!copy.Bytes.AsSpan().SequenceEqual(link.Bytes))
                            {
                                problems.Add($"region {target.Region}'s manifest of {link.Manifest.Id} differs from region {link.Region}'s");
                            }

                            BackupPublisher.Check(copy.Manifest, target, rehash);
                            Interlocked.Add(ref operation.Bytes, copy.Manifest.Size);
                        }
                        catch (ForgeOneException e)
                        {
                            problems.Add(e.Error.ToString());
                        }
                    }

                    return new RegionCheck(target.Region, problems.Count == 0, [.. problems]);
                }).ToArray();
                var ok = checks.Where(c => repository.Targets.First(t => t.Region == c.Region).Required).All(c => c.Complete);
                return new TaskDone(operation.Id, new BackupVerified(id, ok, [.. chain.Select(c => c.Manifest.Id)], checks), sender);
            }
            catch (ForgeOneException e)
            {
                return new TaskDone(operation.Id, new BackupOperationFailed(e.Error), sender);
            }
        }).PipeTo(Self);
        _waiting[operation.Id] = [sender];
        Record(caller, "verify", $"backup={id}");
    }

    // --- restore --------------------------------------------------------------------------

    private void StartRestore(RestoreBackup request, Principal caller)
    {
        if (Busy(Sender) || NoTargets(Sender))
        {
            return;
        }

        var backup = request.Id is { } wanted
            ? _catalog.Backups.GetValueOrDefault(wanted)
            : _catalog.LatestCompleted(request.AtOrBefore);
        if (backup is null)
        {
            Sender.Tell(new BackupOperationFailed(new ForgeOneError(ErrorCodes.BackupNotFound, request.Id is null
                ? $"no completed backup{(request.AtOrBefore is { } t ? $" started at or before {t:O}" : "")} in the catalog"
                : $"no backup '{request.Id}' in the catalog")));
            return;
        }

        if (backup.Status != BackupStatus.Completed)
        {
            Sender.Tell(new BackupOperationFailed(new ForgeOneError(ErrorCodes.BackupIncomplete, $"backup {backup.Id} is {backup.Status.ToString().ToLowerInvariant()}, not completed: it cannot be restored")));
            return;
        }

        var id = BackupIds.New("r", _time.GetUtcNow());
        var operation = BeginTask("restore", id, caller);
        var current = _services.Layout.Active;
        var incarnation = Math.Max(current.Info.Incarnation, _catalog.Restores.Where(r => r.Succeeded).Select(r => r.Incarnation).DefaultIfEmpty(0).Max()) + 1;
        Sender.Tell(new RestoreAccepted(id, backup.Id));
        _log.Info("Restore {0} of backup {1} started by {2} (data root version {3}, incarnation {4} next)", id, backup.Id, caller.Id, current.Name, incarnation);
        Record(caller, "restore_started", $"restore={id} backup={backup.Id} from_version={current.Name}");

        var services = _services;
        var repository = _repository;
        var time = _time;
        Task.Run(() =>
        {
            var prepared = services.Layout.Prepare();
            try
            {
                var chain = repository.Chain(backup.Id);
                operation.Total = chain.Sum(c => c.Manifest.Shards.Length);
                var result = Restorer.RestoreInto(prepared, chain, repository, services.Kek, progress: new Immediate(p =>
                {
                    Volatile.Write(ref operation.Done, p.FilesDone);
                    Interlocked.Exchange(ref operation.Bytes, p.Bytes);
                }));
                var note = $"restore {id} of {backup.Id} (chain {string.Join(" -> ", result.Chain)}) by {caller.Id}";
                var version = services.Layout.Publish(prepared, new DataVersionInfo(incarnation, time.GetUtcNow(), caller.Id, backup.Id, note));
                return new RestorePrepared(id, backup.Id, caller, result, version.Name, incarnation, null);
            }
            catch (Exception e)
            {
                DataRootLayout.Abandon(prepared);
                return new RestorePrepared(id, backup.Id, caller, null, null, incarnation, e is ForgeOneException fe ? fe.Error : new ForgeOneError(ErrorCodes.StorageIo, e.Message));
            }
        }).PipeTo(Self);
    }

    private void OnRestorePrepared(RestorePrepared prepared)
    {
        if (prepared.Error is not null || prepared.Result is null || prepared.Version is null)
        {
            _log.Error("RESTORE {0} of backup {1} FAILED before anything was switched: {2}", prepared.Id, prepared.BackupId, prepared.Error);
            RecordRestore(prepared, null, false, prepared.Error?.ToString() ?? "unknown", []);
            return;
        }

        // Verified and published: switch every shard over (suspend, record, activate, resume).
        var services = _services;
        var restore = prepared;
        var time = _time;
        Task.Run(async () =>
        {
            // The shards are asked as this node: the requester was checked when the restore
            // started, and a restore may well outlive the requester's token.
            var identity = services.Security.Identity;
            var shards = services.AllShards();
            var suspended = await AskAll(services, shards, s => new SuspendShard(s.Kind, s.Shard, identity.Current, $"restore {restore.Id} by {restore.Caller.Id}")).ConfigureAwait(false);
            var notSuspended = suspended.Where(r => r.Reply is not ShardSuspended).Select(r => $"{r.Shard}: {Describe(r.Reply)}").ToList();
            if (notSuspended.Count > 0)
            {
                await AskAll(services, shards, s => new ResumeShard(s.Kind, s.Shard, identity.Current)).ConfigureAwait(false);
                services.Layout.Discard(restore.Version!);
                return new ShardsSwitched(restore, false, $"shards could not be suspended ({string.Join("; ", notSuspended.Take(10))}); every shard stays on the previous version and {restore.Version} was removed", []);
            }

            try
            {
                // Signed and in the seals file before any shard opens the restored files.
                await services.Incarnations.Record(restore.Id, restore.BackupId, restore.Version!, restore.Incarnation, restore.Result!.Shards, restore.Caller).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                await AskAll(services, shards, s => new ResumeShard(s.Kind, s.Shard, identity.Current)).ConfigureAwait(false);
                services.Layout.Discard(restore.Version!);
                var why = e is ForgeOneException fe ? fe.Error.ToString() : e.Message;
                return new ShardsSwitched(restore, false, $"the new incarnations could not be sealed ({why}); every shard stays on the previous version and {restore.Version} was removed", []);
            }

            services.Layout.Activate(restore.Version!);
            var resumed = await AskAll(services, shards, s => new ResumeShard(s.Kind, s.Shard, identity.Current)).ConfigureAwait(false);
            var problems = resumed.Where(r => r.Reply is not ShardResumed).Select(r => $"{r.Shard} did not reopen: {Describe(r.Reply)}").ToArray();
            _ = time;
            return new ShardsSwitched(restore, true, problems.Length == 0 ? "every shard serves the restored version" : string.Join("; ", problems), problems);
        }).PipeTo(Self);
    }

    private void OnShardsSwitched(ShardsSwitched switched)
    {
        var restore = switched.Restore;
        if (!switched.Switched)
        {
            _log.Error("RESTORE {0} NOT SWITCHED: {1}", restore.Id, switched.Detail);
            RecordRestore(restore, null, false, switched.Detail, []);
            return;
        }

        _log.Info("Restore {0} switched the data root to {1} (incarnation {2}): {3}", restore.Id, restore.Version, restore.Incarnation, switched.Detail);
        var heads = string.Join(' ', restore.Result!.Shards.Take(50).Select(s => $"{s.Shard.Name}@{s.AuditSeq}"));
        RecordRestore(restore, restore.Version, true, $"version={restore.Version} incarnation={restore.Incarnation} heads={heads}{(switched.Problems.Length > 0 ? " problems=" + string.Join("; ", switched.Problems) : "")}", restore.Result.Warnings);

        // The restored system store knows only the backups up to the restored one: record the
        // rest of the catalog again so its snapshots table stays the whole history.
        foreach (var backup in _catalog.Backups.Values.Where(b => b.StartedAt > _catalog.Get(restore.BackupId).StartedAt))
        {
            Record(NodePrincipal, "catalog_resync", $"backup={backup.Id} after restore {restore.Id}", Snapshot(backup));
        }
    }

    private void RecordRestore(RestorePrepared restore, string? version, bool succeeded, string detail, IReadOnlyList<string> warnings)
    {
        var chain = restore.Result?.Chain.ToArray() ?? [];
        Persist(new RestoreRecorded(_time.GetUtcNow(), restore.Id, restore.BackupId, restore.Caller.Id, chain, version, restore.Incarnation, succeeded, Truncate(detail)), e =>
        {
            Applied(e);
            BackupMetrics.Restores.Add(1, new KeyValuePair<string, object?>("outcome", succeeded ? "succeeded" : "failed"));
            Record(restore.Caller, succeeded ? "restore_completed" : "restore_failed", $"restore={restore.Id} backup={restore.BackupId} {Truncate(detail)}",
                new SystemProtocol.SnapshotInfo(restore.Id, "restore", e.At, [version ?? "-"], [], restore.Result?.Bytes ?? 0, succeeded ? SnapshotStatus.Completed : SnapshotStatus.Failed));
            Finish(restore.Id, RestoreInfoOf(e, [.. warnings]));
        });
    }

    private static async Task<List<(ShardRef Shard, object? Reply)>> AskAll(BackupServices services, IReadOnlyList<ShardRef> shards, Func<ShardRef, object> message)
    {
        var asks = shards.Select(async shard =>
        {
            try
            {
                return (shard, (object?)await services.RegionOf(shard).Ask<object>(message(shard), SwitchTimeout).ConfigureAwait(false));
            }
            catch (Exception e)
            {
                return (shard, (object?)e.GetBaseException().Message);
            }
        });
        return [.. await Task.WhenAll(asks).ConfigureAwait(false)];
    }

    private static string Describe(object? reply) => reply switch
    {
        IFailureReply f => f.Error.ToString(),
        string s => s,
        null => "no answer",
        _ => reply.GetType().Name,
    };

    private void ListVersions()
    {
        try
        {
            Sender.Tell(new DataVersions([.. _services.Layout.Versions().Select(v => new DataVersionSummary(v.Name, v.Active, v.Info.Incarnation, v.Info.CreatedAt, v.Info.CreatedBy, v.Info.RestoredFrom))]));
        }
        catch (ForgeOneException e)
        {
            Sender.Tell(new BackupOperationFailed(e.Error));
        }
    }

    private void Discard(DiscardVersion discard, Principal caller)
    {
        if (Busy(Sender))
        {
            return;
        }

        try
        {
            _services.Layout.Discard(discard.Version);
            Record(caller, "version_discarded", $"version={discard.Version}");
            Sender.Tell(new VersionDiscarded(discard.Version));
        }
        catch (Exception e) when (e is ForgeOneException or IOException or UnauthorizedAccessException)
        {
            Sender.Tell(new BackupOperationFailed(e is ForgeOneException fe ? fe.Error : new ForgeOneError(ErrorCodes.StorageIo, e.Message)));
        }
    }

    // --- key backups ----------------------------------------------------------------------

    private void StartKeyBackup(BackupKeys request, Principal caller)
    {
        if (Busy(Sender) || NoTargets(Sender))
        {
            return;
        }

        var sender = Sender;
        var id = BackupIds.New("k", _time.GetUtcNow());
        var operation = BeginTask("key_backup", id, caller);
        var services = _services;
        var time = _time;
        var self = Self;
        var secret = request.RecoverySecret;
        Task.Run(() =>
        {
            try
            {
                var contents = KeyBackup.Collect(services.KeysDirectory);
                var sealedBackup = KeyBackup.Seal(contents, id, time.GetUtcNow(), secret, services.Settings.KeyCost);
                var stored = new List<string>();
                foreach (var target in services.Targets)
                {
                    try
                    {
                        using var file = target.BeginKeyBackup(id);
                        file.Stream.Write(sealedBackup);
                        file.Commit();
                        stored.Add(target.Region);
                    }
                    catch (ForgeOneException) when (!target.Required)
                    {
                    }
                }

                Interlocked.Exchange(ref operation.Bytes, sealedBackup.Length);
                return new TaskDone(id, new KeyBackupDone(id, [.. stored], contents.Summary), sender);
            }
            catch (ForgeOneException e)
            {
                return new TaskDone(id, new BackupOperationFailed(e.Error), sender);
            }
        }).ContinueWith(t =>
        {
            var done = t.Result;
            if (done.Result is KeyBackupDone ok)
            {
                self.Tell(new KeyRecorded(new KeyBackupRecorded(time.GetUtcNow(), ok.Id, caller.Id, ok.Regions, ok.Summary, false), caller));
            }

            return done;
        }, TaskScheduler.Default).PipeTo(Self);
        _waiting[id] = [sender];
    }

    private void OnKeyRecorded(KeyRecorded recorded)
    {
        Persist(recorded.Event, e =>
        {
            Applied(e);
            Record(recorded.Caller, e.Verified ? "key_backup_verified" : "key_backup_created", $"key_backup={e.Id} regions={string.Join(',', e.Regions)} {e.Summary}");
        });
    }

    private void StartKeyVerify(VerifyKeyBackup request, Principal caller)
    {
        if (Busy(Sender) || NoTargets(Sender))
        {
            return;
        }

        var sender = Sender;
        var operation = BeginTask("key_backup_verify", BackupIds.New("kv", _time.GetUtcNow()), caller);
        var services = _services;
        var time = _time;
        var self = Self;
        Task.Run(() =>
        {
            try
            {
                var id = request.Id ?? services.Targets.SelectMany(t => t.ListKeyBackups()).Order(StringComparer.Ordinal).LastOrDefault()
                    ?? throw new ForgeOneException(ErrorCodes.BackupNotFound, "no region holds a key backup");
                var target = services.Targets.FirstOrDefault(t => t.ListKeyBackups().Contains(id))
                    ?? throw new ForgeOneException(ErrorCodes.BackupNotFound, $"no region holds key backup {id}");
                var contents = KeyBackup.Open(target.ReadKeyBackup(id), request.RecoverySecret);
                var comparison = KeyBackup.Compare(contents, services.KeysDirectory);
                self.Tell(new KeyRecorded(new KeyBackupRecorded(time.GetUtcNow(), id, caller.Id, [target.Region], contents.Summary, true), caller));
                return new TaskDone(operation.Id, new KeyBackupVerified(id, target.Region, contents.Summary, [.. comparison.Matching], [.. comparison.MissingFromDirectory], [.. comparison.Different], [.. comparison.NotInBackup]), sender);
            }
            catch (ForgeOneException e)
            {
                return new TaskDone(operation.Id, new BackupOperationFailed(e.Error), sender);
            }
        }).PipeTo(Self);
        _waiting[operation.Id] = [sender];
    }

    private void ListKeys()
    {
        var ids = _services.Targets.SelectMany(t => t.ListKeyBackups()).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        Sender.Tell(new KeyBackupList(ids, [.. ids.Select(id => _services.Targets.Where(t => t.ListKeyBackups().Contains(id)).Select(t => t.Region).ToArray())]));
    }

    // --- drills ---------------------------------------------------------------------------

    private void StartDrills(Principal caller, IReadOnlyList<string> regions, IActorRef? replyTo)
    {
        if (Busy(replyTo) || NoTargets(replyTo))
        {
            return;
        }

        var unknown = regions.Where(r => _services.Targets.All(t => t.Region != r)).ToList();
        if (unknown.Count > 0)
        {
            replyTo?.Tell(new BackupOperationFailed(new ForgeOneError(ErrorCodes.BackupNoTargets, $"region {string.Join(", ", unknown)} is not a backup target (targets: {string.Join(", ", _services.Targets.Select(t => t.Region))})")));
            return;
        }

        var now = _time.GetUtcNow();
        var ids = regions.Select(r => (Region: r, Id: BackupIds.New($"d-{r}", now))).ToList();
        var operation = BeginTask("drill", ids[0].Id, caller);
        operation.Total = ids.Count;
        replyTo?.Tell(new DrillAccepted(ids[0].Id, ids[0].Region));
        var services = _services;
        var repository = _repository;
        var time = _time;
        var node = Node;
        Task.Run(() =>
        {
            var reports = new List<(DrillReport Report, string[] Stored)>();
            foreach (var (region, id) in ids)
            {
                var report = Drill.Run(id, region, services.ScratchDirectory, repository, services.Kek, services.Signer, services.ClusterId, node, time);
                var stored = Drill.Store(report, services.Targets, services.Signer);
                reports.Add((report, [.. stored]));
                Interlocked.Increment(ref operation.Done);
                Interlocked.Add(ref operation.Bytes, report.BytesRead);
            }

            return new DrillsDone(operation.Id, caller, [.. reports]);
        }).PipeTo(Self);
    }

    private void OnDrillsDone(DrillsDone done)
    {
        var events = done.Reports.Select(r => new DrillRecorded(r.Report.FinishedAt, r.Report.Id, r.Report.Region, r.Report.BackupId, r.Report.Passed, r.Report.RtoSeconds, r.Report.RpoSeconds, done.Caller.Id, r.Stored)).ToList();
        var reports = done.Reports.ToDictionary(r => r.Report.Id, r => r.Report, StringComparer.Ordinal);
        PersistAll(events, e =>
        {
            Applied(e);
            var report = reports[e.Id];
            BackupMetrics.Drills.Add(1, new KeyValuePair<string, object?>("outcome", e.Passed ? "passed" : "failed"));
            if (!e.Passed)
            {
                _log.Error("DR DRILL {0} of region {1} FAILED: {2}", e.Id, e.Region, string.Join("; ", report.Failures));
            }

            Record(done.Caller, e.Passed ? "drill_passed" : "drill_failed", $"drill={e.Id} region={e.Region} backup={e.BackupId ?? "-"} rto_s={e.RtoSeconds:F2} rpo_s={e.RpoSeconds:F0}",
                new SystemProtocol.SnapshotInfo(e.Id, "drill", e.At, e.StoredIn, [], report.BytesRead, e.Passed ? SnapshotStatus.Verified : SnapshotStatus.Failed));
        });
        var first = events[0];
        DeferAsync(first, _ => Finish(done.Id, DrillInfoOf(first, reports[first.Id].Failures)));
    }

    private void ShowDrillReport(string id)
    {
        var sender = Sender;
        var repository = _repository;
        var targets = _services.Targets;
        Task.Run(() =>
        {
            try
            {
                var report = Drill.Load(id, repository);
                var target = targets.First(t => t.Exists($"{BackupTarget.DrillFolder(id)}/report.json"));
                string Text(string name) => Encoding.UTF8.GetString(target.ReadAll($"{BackupTarget.DrillFolder(id)}/{name}"));
                return (object)new BackupProtocol.DrillReport(report.Id, Text("report.json"), Text("report.md"), Text("report.sig"));
            }
            catch (ForgeOneException e)
            {
                return new BackupOperationFailed(e.Error);
            }
        }).PipeTo(sender);
    }

    // --- helpers --------------------------------------------------------------------------

    private Operation BeginTask(string kind, string id, Principal caller)
    {
        _operation = new Operation(kind, id, Stopwatch.StartNew(), 0) { Caller = caller };
        return _operation;
    }

    private bool NoTargets(IActorRef? replyTo)
    {
        if (_services.Targets.Count > 0)
        {
            return false;
        }

        replyTo?.Tell(new BackupOperationFailed(new ForgeOneError(ErrorCodes.BackupNoTargets, "no backup targets are configured (ForgeOne:Backup:Targets)")));
        return true;
    }

    private static RestoreInfo RestoreInfoOf(RestoreRecorded r, string[] warnings) =>
        new(r.Id, r.BackupId, r.By, r.At, r.Chain, r.Version, r.Incarnation, r.Succeeded, r.Detail, warnings);

    private static DrillInfo DrillInfoOf(DrillRecorded d, string[] failures) =>
        new(d.Id, d.Region, d.At, d.BackupId, d.Passed, d.RtoSeconds, d.RpoSeconds, d.StoredIn, failures);

    /// <summary>A progress sink that runs on the reporting thread (Progress&lt;T&gt; would post to a pool thread and lag).</summary>
    private sealed class Immediate(Action<RestoreProgress> report) : IProgress<RestoreProgress>
    {
        public void Report(RestoreProgress value) => report(value);
    }

    private sealed record RestorePrepared(string Id, string BackupId, Principal Caller, RestoreResult? Result, string? Version, int Incarnation, ForgeOneError? Error);

    private sealed record ShardsSwitched(RestorePrepared Restore, bool Switched, string Detail, string[] Problems);

    private sealed record DrillsDone(string Id, Principal Caller, (DrillReport Report, string[] Stored)[] Reports);

    private sealed record KeyRecorded(KeyBackupRecorded Event, Principal Caller);

    /// <summary>A task-run operation ended: <paramref name="Result"/> goes to its waiters (the requester among them).</summary>
    private sealed record TaskDone(string Id, object Result, IActorRef Requester);
}
