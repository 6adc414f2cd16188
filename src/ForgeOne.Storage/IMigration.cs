namespace ForgeOne.Storage;

/// <summary>
/// One step of the shard schema, from <see cref="FromVersion"/> to <see cref="ToVersion"/>.
/// Pending migrations run at open, in order, inside ONE write transaction together with the
/// new schema version and their <c>schema_history</c> entries: a crash or a throwing
/// migration leaves the file exactly at its old version.
/// </summary>
public interface IMigration
{
    /// <summary>The schema version this step starts from.</summary>
    int FromVersion { get; }

    /// <summary>The schema version after this step; must be <see cref="FromVersion"/> + 1.</summary>
    int ToVersion { get; }

    /// <summary>What the step does, recorded in <c>schema_history</c> and shown to auditors.</summary>
    string Description { get; }

    /// <summary>Transforms the data. Runs inside the open's write transaction; throwing aborts all pending steps.</summary>
    void Apply(IWriteTransaction txn);
}

/// <summary>A migration that was applied while opening a shard, for the cluster layer to audit.</summary>
/// <param name="FromVersion">The version before the step.</param>
/// <param name="ToVersion">The version after the step.</param>
/// <param name="Description">The migration's description.</param>
/// <param name="AppliedAt">When the open that applied it committed (from the store's <see cref="TimeProvider"/>).</param>
public sealed record AppliedMigration(int FromVersion, int ToVersion, string Description, DateTimeOffset AppliedAt);

/// <summary>The schema versions and the migrations this code ships with.</summary>
public static class ShardSchema
{
    /// <summary>The version of a file created before any migration existed.</summary>
    public const int BaseVersion = 1;

    /// <summary>
    /// The newest schema this code reads. Version 2 authenticates what is stored unencrypted
    /// (index entries, <c>shard_meta</c>, <c>schema_history</c>) with the shard's record MAC; that
    /// step needs the shard's keys, so the cluster layer runs it through
    /// <see cref="ShardStore.Migrate"/> once they are loaded, not at open.
    /// </summary>
    public const int CurrentVersion = 2;

    /// <summary>The built-in migrations that run at open (those that need no keys), in order. Empty today.</summary>
    public static IReadOnlyList<IMigration> BuiltInMigrations { get; } = [];

    /// <summary>The newest version a store opened with <paramref name="migrations"/> accepts: what they reach, or <see cref="CurrentVersion"/>.</summary>
    public static int KnownVersion(IReadOnlyList<IMigration> migrations) => Math.Max(TargetVersion(migrations), CurrentVersion);

    /// <summary>The version a store reaches after running <paramref name="migrations"/> (validated to be a contiguous chain).</summary>
    public static int TargetVersion(IReadOnlyList<IMigration> migrations)
    {
        var version = BaseVersion;
        foreach (var migration in migrations)
        {
            if (migration.FromVersion != version || migration.ToVersion != version + 1)
            {
                throw new ArgumentException(
                    $"migrations must form a chain {BaseVersion} -> {BaseVersion + 1} -> ...; found {migration.FromVersion} -> {migration.ToVersion} where {version} -> {version + 1} was expected",
                    nameof(migrations));
            }

            version = migration.ToVersion;
        }

        return version;
    }
}
