using Akka.Actor;
using Akka.Event;
using ForgeOne.Cluster.Integrity;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;
using ForgeOne.Storage;

namespace ForgeOne.Cluster.Shards;

/// <content>
/// The shard's schema: its status, and <c>schema migrate</c>. A shard that opens an existing
/// file at an older schema does not migrate it by itself (unless <c>Shards:MigrateAtOpen</c>):
/// it keeps the file exactly as it is, answers data requests with
/// <c>storage.migration_pending</c>, and still answers what operators and the sealer need
/// (status, audit head, stats, backups, so the rehearsal has a backup to restore).
/// </content>
public sealed partial class ShardActor
{
    // The steps this shard's file has still to run, or null when it is current.
    private PendingMigration[]? _schemaPending;

    private ForgeOneError? SchemaRefusal => _schemaPending is { Length: > 0 } pending
        ? new ForgeOneError(ErrorCodes.StorageMigrationPending,
            $"Shard {ChainId} is at schema {_store?.Meta.SchemaVersion} and waits for its migration ({string.Join("; ", pending.Select(p => $"{p.FromVersion} -> {p.ToVersion}: {p.Description}"))}): rehearse it, then run `forgeone schema migrate`.")
        : null;

    private void SchemaReceives()
    {
        Receive<ShardProtocol.GetSchemaStatus>(get =>
        {
            if (AdmitControl(get, "schema.status") is not null)
            {
                Sender.Tell(SchemaStatusNow());
            }
        });
        Receive<ShardProtocol.MigrateSchema>(migrate =>
        {
            if (AdmitControl(migrate, "schema.migrate_request") is not null)
            {
                OnMigrateSchema(migrate);
            }
        });
    }

    private ShardProtocol.SchemaStatus SchemaStatusNow()
    {
        var store = _store!;
        return new ShardProtocol.SchemaStatus(_kind, _shard, ChainId, store.Meta.SchemaVersion, ShardMigrations.TargetVersion, _schemaPending ?? [], History(store));
    }

    private static ShardProtocol.SchemaStep[] History(IShardStore store) =>
        [.. store.Read(txn => txn.Scan(Tables.SchemaHistory, [], []).Select(kv => SchemaHistoryEntry.Decode(kv.Key, kv.Value)).ToList())
            .Select(h => new ShardProtocol.SchemaStep((long)h.Sequence, h.FromVersion, h.ToVersion, h.Description, h.At))];

    private void OnMigrateSchema(ShardProtocol.MigrateSchema migrate)
    {
        CommitBuffered();
        var store = _store!;
        var security = _security!;
        var from = store.Meta.SchemaVersion;
        if (migrate.TargetVersion != ShardMigrations.TargetVersion)
        {
            Sender.Tell(new ShardProtocol.ShardFailed(_kind, _shard, new ForgeOneError(ErrorCodes.InvalidArgument,
                $"Shard {ChainId} migrates to schema {ShardMigrations.TargetVersion}, not {migrate.TargetVersion}: the node runs other code than the rehearsal assumed.")));
            return;
        }

        if (_chainBroken is { } broken)
        {
            // Nothing is appended to a broken chain, a migration's record neither.
            Sender.Tell(new ShardProtocol.ShardFailed(_kind, _shard, broken));
            return;
        }

        var steps = ShardMigrations.Pending(_host.Migrations(store, _context!), from);
        try
        {
            var applied = RunMigrations(store, security, _context!.ResourcePrefix, steps, migrate.Principal, migrate.Detail);
            var wasPending = _schemaPending is { Length: > 0 };
            _schemaPending = null;
            if (wasPending)
            {
                StartScrubber();
            }

            Sender.Tell(new ShardProtocol.SchemaMigrated(_kind, _shard, ChainId, from, store.Meta.SchemaVersion,
                [.. applied.Select(a => new ShardProtocol.SchemaStep(0, a.FromVersion, a.ToVersion, a.Description, a.AppliedAt))]));
        }
        catch (ForgeOneException e)
        {
            // Each step is one transaction: the file stays at the version before the failed step.
            var left = ShardMigrations.Pending(_host.Migrations(store, _context!), store.Meta.SchemaVersion);
            _schemaPending = left.Count > 0 ? ShardMigrations.Describe(left) : null;
            _log.Error("Shard {0}: migration failed, the file stays at schema {1}: {2}", ChainId, store.Meta.SchemaVersion, e.Error);
            Sender.Tell(new ShardProtocol.ShardFailed(_kind, _shard, e.Error));
        }
    }
}
