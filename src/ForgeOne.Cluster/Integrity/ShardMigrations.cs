using ForgeOne.Cluster.Security;
using ForgeOne.Cluster.Shards;
using ForgeOne.Security;
using ForgeOne.Storage;

namespace ForgeOne.Cluster.Integrity;

/// <summary>A schema step a shard has not run yet.</summary>
/// <param name="FromVersion">The version it starts from.</param>
/// <param name="ToVersion">The version it reaches.</param>
/// <param name="Description">What it does.</param>
public sealed record PendingMigration(int FromVersion, int ToVersion, string Description);

/// <summary>
/// The shard schema steps that need the shard's keys (so they run after open, through
/// <see cref="IShardStore.Migrate"/>), and the one way to apply them: each step in one
/// transaction with its <c>schema_history</c> row, the new version in <c>shard_meta</c> and its
/// audit record in the shard's chain. The live shard (<c>schema migrate</c>) and the rehearsal on a
/// restored copy run exactly this code, so a rehearsal tests what the live run will do.
/// </summary>
public static class ShardMigrations
{
    /// <summary>The version every shard reaches after its steps (<see cref="ShardSchema.CurrentVersion"/>).</summary>
    public static int TargetVersion => ShardSchema.CurrentVersion;

    /// <summary>The built-in steps for one open shard whose store has its MAC attached: today schema 1 -> 2.</summary>
    public static IReadOnlyList<IMigration> BuiltIn(IShardStore store, ShardContext context) =>
        [new AuthenticateRecordsMigration(store, context)];

    /// <summary>The steps of <paramref name="all"/> a file at <paramref name="version"/> has still to run, in order.</summary>
    public static IReadOnlyList<IMigration> Pending(IReadOnlyList<IMigration> all, int version) =>
        [.. all.Where(m => m.FromVersion >= version).OrderBy(m => m.FromVersion)];

    /// <summary>The same steps as plain descriptions (status replies, reports).</summary>
    public static PendingMigration[] Describe(IReadOnlyList<IMigration> steps) =>
        [.. steps.Select(m => new PendingMigration(m.FromVersion, m.ToVersion, m.Description))];

    /// <summary>
    /// Runs <paramref name="steps"/> in order, each in its own transaction with its history row and
    /// its <c>schema.migrate</c> audit record (by <paramref name="principal"/>, with
    /// <paramref name="detail"/>: the rehearsal it follows, or the override's reason). A step that
    /// throws leaves the file at the version before it (<c>storage.migration_failed</c>, or the
    /// integrity error that stopped it); the steps before it stay applied.
    /// </summary>
    public static IReadOnlyList<AppliedMigration> Apply(IShardStore store, IShardSecurity security, string resourcePrefix, IReadOnlyList<IMigration> steps, string principal, string detail, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(security);
        var applied = new List<AppliedMigration>();
        foreach (var step in steps)
        {
            IAuditAppender? appender = null;
            AppliedMigration? done = null;
            var migrated = store.Migrate(step, (txn, m) =>
            {
                appender = security.BeginAudit();
                appender.Append(txn, time.GetUtcNow(), principal, "schema.migrate", $"{resourcePrefix}/schema/v{m.ToVersion}", AuditOutcome.Success,
                    $"from={m.FromVersion} to={m.ToVersion} {m.Description}; {detail}");
                done = m;
            });
            if (migrated)
            {
                // The audit head moves only once the step's transaction committed.
                security.CommitAudit(appender!);
                applied.Add(done!);
            }
        }

        return applied;
    }
}
