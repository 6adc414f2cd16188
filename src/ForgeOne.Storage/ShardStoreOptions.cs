using ForgeOne.Common;

namespace ForgeOne.Storage;

/// <summary>Where a shard file lives and how it is opened.</summary>
/// <param name="DataRoot">The data root; the file is <c>{DataRoot}/{kind}/shard-{n:D4}.mdb</c>.</param>
/// <param name="Kind">The shard kind.</param>
/// <param name="ShardNumber">The shard number, 0 &lt;= n &lt; <paramref name="ShardCount"/>.</param>
/// <param name="ShardCount">The kind's shard count; an existing file must have been created with the same count.</param>
public sealed record ShardStoreOptions(string DataRoot, ShardKind Kind, int ShardNumber, int ShardCount)
{
    /// <summary>
    /// The map size a new environment starts with. The map grows on demand (doubling) when a
    /// write fills it, so this is a starting point, never a ceiling.
    /// </summary>
    public long InitialMapSize { get; init; } = 64L * 1024 * 1024;

    /// <summary>The migration chain; its last <see cref="IMigration.ToVersion"/> is the schema version this code writes.</summary>
    public IReadOnlyList<IMigration> Migrations { get; init; } = ShardSchema.BuiltInMigrations;

    /// <summary>
    /// Skip fsync at commit (MDB_NOSYNC). Only for tests and benchmarks: a power loss may
    /// lose recent commits. A process crash loses nothing either way.
    /// </summary>
    public bool NoSync { get; init; }

    /// <summary>
    /// The store's name in errors and findings (<c>store</c> detail), e.g. <c>logs-0003</c> or
    /// <c>logs-0003@eu</c> for a residency zone's shard; default <c>{kind}-{n:D4}</c>.
    /// </summary>
    public string? StoreName { get; init; }

    /// <summary>Clock for <c>schema_history</c> timestamps.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}
