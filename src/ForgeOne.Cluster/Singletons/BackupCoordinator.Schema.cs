using Akka.Actor;
using Akka.Event;
using ForgeOne.Backup;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Integrity;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Security;
using ForgeOne.Cluster.Shards;
using ForgeOne.Common;
using ForgeOne.Common.Validation;
using ForgeOne.Security;
using static ForgeOne.Cluster.Protocol.BackupProtocol;

namespace ForgeOne.Cluster.Singletons;

/// <summary>
/// Schema migrations across the cluster: <c>schema status</c> (every shard's version and pending
/// steps, the newest rehearsal), <c>schema rehearse</c> (on a restored staging copy, see
/// <see cref="SchemaRehearsal"/>) and <c>schema migrate</c> behind <see cref="RehearsalGate"/>. The
/// coordinator owns them because a rehearsal needs what it already has: the backups, the KEK,
/// the audit key and the scratch folder.
/// </summary>
public sealed partial class BackupCoordinator
{
    private static readonly TimeSpan SchemaAskTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan MigrateTimeout = TimeSpan.FromMinutes(10);

    private TimeSpan RehearsalMaxAge => _services.Settings.RehearsalMaxAge ?? TimeSpan.FromDays(7);

    private void SchemaCommands()
    {
        Command<RehearseSchema>(rehearse => Authorized(rehearse, "schema_rehearse", StartRehearsal));
        Command<RehearsalDone>(OnRehearsalDone);
        Command<GetClusterSchemaStatus>(get => Authorized(get, "schema_status", _ => ClusterSchema()));
        Command<MigrateCluster>(migrate => Authorized(migrate, "schema_migrate", who => StartMigrate(migrate, who)));
        Command<MigrateDone>(OnMigrateDone);
    }

    private void StartRehearsal(Principal caller)
    {
        if (Busy(Sender) || NoTargets(Sender))
        {
            return;
        }

        var id = BackupIds.New("rh", _time.GetUtcNow());
        var operation = BeginTask("rehearsal", id, caller);
        _waiting[operation.Id] = [Sender];
        var services = _services;
        var repository = _repository;
        var host = RehearsalHost(services);
        var node = Node;
        Task.Run(() =>
        {
            var report = SchemaRehearsal.Run(id, services.ScratchDirectory, repository, host, services.Kek, services.Signer, services.ClusterId, node, caller.Id);
            var stored = SchemaRehearsal.Store(report, services.Targets, services.Signer);
            return new RehearsalDone(caller, report, [.. stored], null);
        }).ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : new RehearsalDone(caller, null, [], t.Exception?.GetBaseException().Message ?? "cancelled") with { Id = id })
            .PipeTo(Self);
    }

    // The node's own keys open the restored keyrings; nothing of this host touches the live data root.
    private static ShardHost RehearsalHost(BackupServices services) =>
        new(services.ScratchDirectory, services.Regions.Counts, new ShardOptions { NoSync = true }, new ShardSecurityFactory(services.Kek, services.Security, services.Time),
            ShardHandlers.CreateDefault(), services.Time, Limits.Default);

    private void OnRehearsalDone(RehearsalDone done)
    {
        if (done.Report is not { } report)
        {
            _log.Error("Schema rehearsal {0} could not run: {1}", done.Id, done.Error);
            Record(done.Caller.Id, "schema_rehearsal_failed", $"rehearsal={done.Id} error={Truncate(done.Error ?? "?")}", outcome: AuditOutcome.Failed);
            Finish(done.Id, new BackupOperationFailed(new ForgeOneError(ErrorCodes.StorageIo, $"the rehearsal {done.Id} could not run: {done.Error}")));
            return;
        }

        if (!report.Passed)
        {
            _log.Error("SCHEMA REHEARSAL {0} FAILED: {1}", report.Id, string.Join("; ", report.Failures));
        }

        var migrated = report.Shards.Count(s => s.FromVersion != s.ToVersion);
        Record(done.Caller.Id, report.Passed ? "schema_rehearsal_passed" : "schema_rehearsal_failed",
            $"rehearsal={report.Id} backup={report.BackupId ?? "-"} target={report.TargetVersion} shards={report.Shards.Length} migrated={migrated} restore_s={report.RestoreSeconds:F2} migrate_s={report.MigrateSeconds:F2} regions={string.Join(',', done.StoredIn)}"
                + (report.Passed ? "" : $" failures={Truncate(string.Join("; ", report.Failures))}"),
            outcome: report.Passed ? AuditOutcome.Success : AuditOutcome.Failed);
        Finish(report.Id, new SchemaRehearsed(report, done.StoredIn));
    }

    private void ClusterSchema()
    {
        var regions = _services.Regions;
        var token = _services.Security.Identity.Current;
        var repository = _repository;
        Task.Run(async () =>
        {
            var replies = await regions.AskEvery((kind, n, _) => new ShardProtocol.GetSchemaStatus(token, kind, n), SchemaAskTimeout).ConfigureAwait(false);
            var latest = repository.Targets.Count > 0 ? SchemaRehearsal.Latest(repository) : null;
            return (object)new ClusterSchemaStatus(ShardMigrations.TargetVersion,
                [.. replies.Select(r => r.Reply).OfType<ShardProtocol.SchemaStatus>()],
                [.. replies.Where(r => r.Reply is not ShardProtocol.SchemaStatus).Select(r => $"{r.ChainId}: {Why(r.Reply)}")],
                latest);
        }).PipeTo(Sender);
    }

    private void StartMigrate(MigrateCluster migrate, Principal caller)
    {
        var regions = _services.Regions;
        var token = _services.Security.Identity.Current;
        var repository = _repository;
        var now = _time.GetUtcNow();
        var maxAge = RehearsalMaxAge;
        var replyTo = Sender;
        Task.Run(async () =>
        {
            string gate;
            try
            {
                var latest = repository.Targets.Count > 0 ? SchemaRehearsal.Latest(repository) : null;
                gate = RehearsalGate.Check(latest, ShardMigrations.TargetVersion, now, maxAge, migrate.WithoutRehearsal, migrate.Reason);
            }
            catch (ForgeOneException e)
            {
                return new MigrateDone(caller, replyTo, migrate.WithoutRehearsal, null, e.Error);
            }

            var replies = await regions.AskEvery((kind, n, _) => new ShardProtocol.MigrateSchema(token, kind, n, ShardMigrations.TargetVersion, caller.Id, gate), MigrateTimeout).ConfigureAwait(false);
            var result = new ClusterMigrated(ShardMigrations.TargetVersion, gate,
                [.. replies.Select(r => r.Reply).OfType<ShardProtocol.SchemaMigrated>()],
                [.. replies.Where(r => r.Reply is not ShardProtocol.SchemaMigrated).Select(r => $"{r.ChainId}: {Why(r.Reply)}")]);
            return new MigrateDone(caller, replyTo, migrate.WithoutRehearsal, result, null);
        }).PipeTo(Self);
    }

    private void OnMigrateDone(MigrateDone done)
    {
        var action = done.Override ? "schema_migrate_override" : "schema_migrate";
        if (done.Result is not { } result)
        {
            Record(done.Caller.Id, action, $"refused: {done.Refusal}", outcome: AuditOutcome.Denied);
            done.ReplyTo.Tell(new BackupOperationFailed(done.Refusal!));
            return;
        }

        var applied = result.Shards.Sum(s => s.Applied.Length);
        if (result.Failures.Length > 0)
        {
            _log.Error("Schema migrate: {0} shard(s) failed and stay at their version: {1}", result.Failures.Length, string.Join("; ", result.Failures));
        }

        Record(done.Caller.Id, action, $"target={result.TargetVersion} {result.Gate} shards={result.Shards.Length} steps_applied={applied}"
            + (result.Failures.Length > 0 ? $" failures={Truncate(string.Join("; ", result.Failures))}" : ""),
            outcome: result.Failures.Length > 0 ? AuditOutcome.Failed : AuditOutcome.Success);
        done.ReplyTo.Tell(result);
    }

    private static string Why(object? reply) => reply switch
    {
        null => "no reply in time",
        IFailureReply f => f.Error.ToString(),
        _ => $"unexpected reply {reply.GetType().Name}",
    };

    private sealed record RehearsalDone(Principal Caller, RehearsalReport? Report, string[] StoredIn, string? Error)
    {
        public string Id { get; init; } = Report?.Id ?? "";
    }

    private sealed record MigrateDone(Principal Caller, IActorRef ReplyTo, bool Override, ClusterMigrated? Result, ForgeOneError? Refusal);
}
