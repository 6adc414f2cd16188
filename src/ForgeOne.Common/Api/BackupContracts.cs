using System.Text.Json.Serialization;

namespace ForgeOne.Common.Api;

/// <summary>Starts a backup: <c>full</c>, <c>incremental</c>, or null for what the schedule would take now.</summary>
public sealed record BackupRunInput(string? Type = null);

/// <summary>The backup that runs (joined: it was already running).</summary>
public sealed record BackupAcceptedView(string Id, string Type, string? Parent, bool Joined);

/// <summary>A catalogued backup.</summary>
public sealed record BackupView(string Id, string Type, string? Parent, string Base, string Status, DateTimeOffset StartedAt, DateTimeOffset? CompletedAt, long Size, string[] Regions, int ShardsDone, int Shards, string By, string? Error);

/// <summary>Backups, newest first.</summary>
public sealed record BackupListView(BackupView[] Backups);

/// <summary>One shard's file in a backup.</summary>
public sealed record BackupShardView(string Shard, string File, long Size, string Sha256, ulong TxnId, ulong SinceTxnId, long AuditSeq, string AuditHash, long Records, long? SealNumber);

/// <summary>A backup with its shards and the KEK versions a restore needs.</summary>
public sealed record BackupDetailsView(BackupView Backup, BackupShardView[] Shards, int[] KekVersions);

/// <summary>What one region holds of a backup's chain.</summary>
public sealed record RegionCheckView(string Region, bool Complete, string[] Problems);

/// <summary>The outcome of a verification (every file of the chain re-read in every region).</summary>
public sealed record BackupVerifiedView(string Id, bool Ok, string[] Chain, RegionCheckView[] Regions);

/// <summary>Restores a backup (by id, or the newest started at or before a time, or the newest of all).</summary>
public sealed record RestoreInput(string? BackupId = null, DateTimeOffset? AtOrBefore = null);

/// <summary>The restore that runs.</summary>
public sealed record RestoreAcceptedView(string Id, string BackupId);

/// <summary>A restore's outcome.</summary>
public sealed record RestoreView(string Id, string BackupId, string By, DateTimeOffset At, string[] Chain, string? Version, int Incarnation, bool Succeeded, string Detail, string[] Warnings);

/// <summary>One version of the data root.</summary>
public sealed record DataVersionView(string Name, bool Active, int Incarnation, DateTimeOffset CreatedAt, string CreatedBy, string? RestoredFrom);

/// <summary>The data root's versions, oldest first.</summary>
public sealed record DataVersionList(DataVersionView[] Versions);

/// <summary>Seals the keys directory under the operator's recovery secret.</summary>
public sealed record KeyBackupInput(string RecoverySecret)
{
    /// <inheritdoc />
    public override string ToString() => "KeyBackupInput { RecoverySecret = *** }";
}

/// <summary>Proves the recovery secret opens a key backup (the newest when <paramref name="Id"/> is null).</summary>
public sealed record KeyBackupVerifyInput(string RecoverySecret, string? Id = null)
{
    /// <inheritdoc />
    public override string ToString() => $"KeyBackupVerifyInput {{ Id = {Id}, RecoverySecret = *** }}";
}

/// <summary>A stored key backup.</summary>
public sealed record KeyBackupView(string Id, string[] Regions, string Summary);

/// <summary>The secret opens it; how it compares with the live keys directory.</summary>
public sealed record KeyBackupVerifiedView(string Id, string Region, string Summary, string[] Matching, string[] MissingFromDirectory, string[] Different, string[] NotInBackup);

/// <summary>One key backup and the regions holding it.</summary>
public sealed record KeyBackupEntry(string Id, string[] Regions);

/// <summary>Key backups, oldest first.</summary>
public sealed record KeyBackupListView(KeyBackupEntry[] KeyBackups);

/// <summary>Runs a DR drill of one region (every region in turn when null).</summary>
public sealed record DrillInput(string? Region = null);

/// <summary>The drill that runs.</summary>
public sealed record DrillAcceptedView(string Id, string Region);

/// <summary>A drill's outcome.</summary>
public sealed record DrillView(string Id, string Region, DateTimeOffset At, string? BackupId, bool Passed, double RtoSeconds, double? RpoSeconds, string[] StoredIn, string[] Failures);

/// <summary>Drills, newest first.</summary>
public sealed record DrillListView(DrillView[] Drills);

/// <summary>A drill's signed evidence report as stored: JSON (signed), Markdown and the signature file.</summary>
public sealed record DrillReportView(string Id, string Json, string Markdown, string Signature);

/// <summary>What the backup coordinator is doing (<c>idle</c> when nothing runs).</summary>
public sealed record BackupProgressView(string Operation, string? Id, int Done, int Total, long Bytes, double ElapsedSeconds, double BytesPerSecond);

/// <summary>The schedule: full, incremental and drill intervals (e.g. <c>7.00:00:00</c>).</summary>
public sealed record BackupScheduleInput(TimeSpan Full, TimeSpan Incremental, TimeSpan Drill);

/// <summary>The schedule, who set it, what runs next and the node hosting the coordinator.</summary>
public sealed record BackupScheduleView(TimeSpan Full, TimeSpan Incremental, TimeSpan Drill, DateTimeOffset SetAt, string SetBy, string Node, DateTimeOffset? NextBackupAt, DateTimeOffset? NextDrillAt);

/// <summary><c>schema migrate</c>: without an override the newest rehearsal must have passed for the same target version; the override needs a reason and is audited.</summary>
public sealed record SchemaMigrateInput(bool WithoutRehearsal = false, string? Reason = null);

/// <summary>One schema step: pending (no time), applied or in the history.</summary>
public sealed record SchemaStepView(int FromVersion, int ToVersion, string Description, DateTimeOffset? At = null);

/// <summary>One shard's schema: its version, the steps it waits for (it serves no data meanwhile) and its history.</summary>
public sealed record ShardSchemaView(string Shard, int Version, int TargetVersion, SchemaStepView[] Pending, SchemaStepView[] History);

/// <summary>What a rehearsal found in one restored shard.</summary>
public sealed record RehearsalShardView(string Shard, int FromVersion, int ToVersion, long Records, long RecordsAfter, long AuditBefore, long AuditAfter, string[] Problems);

/// <summary>A schema rehearsal's signed report (restore into scratch, migrations, deep integrity, chains, counts).</summary>
public sealed record RehearsalView(string Id, DateTimeOffset StartedAt, DateTimeOffset FinishedAt, string? BackupId, int TargetVersion, double RestoreSeconds, double MigrateSeconds,
    bool Passed, string[] Failures, RehearsalShardView[] Shards, string SignedBy, string Node, string By, string[] StoredIn);

/// <summary>Every shard's schema, the shards that did not answer, and the newest rehearsal.</summary>
public sealed record SchemaStatusView(int TargetVersion, ShardSchemaView[] Shards, string[] Unreachable, RehearsalView? LastRehearsal);

/// <summary>One shard's migration: from, to, the steps applied now.</summary>
public sealed record ShardMigrationView(string Shard, int FromVersion, int Version, SchemaStepView[] Applied);

/// <summary>What <c>schema migrate</c> did: the gate (rehearsal or override), each shard, and those that failed (left at their version).</summary>
public sealed record SchemaMigratedView(int TargetVersion, string Gate, ShardMigrationView[] Shards, string[] Failures);

/// <summary>Source-generated JSON of the backup API (same conventions as <see cref="ApiJsonContext"/>).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    AllowTrailingCommas = false,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Disallow)]
[JsonSerializable(typeof(BackupRunInput))]
[JsonSerializable(typeof(BackupAcceptedView))]
[JsonSerializable(typeof(BackupView))]
[JsonSerializable(typeof(BackupListView))]
[JsonSerializable(typeof(BackupDetailsView))]
[JsonSerializable(typeof(BackupVerifiedView))]
[JsonSerializable(typeof(RestoreInput))]
[JsonSerializable(typeof(RestoreAcceptedView))]
[JsonSerializable(typeof(RestoreView))]
[JsonSerializable(typeof(DataVersionList))]
[JsonSerializable(typeof(KeyBackupInput))]
[JsonSerializable(typeof(KeyBackupVerifyInput))]
[JsonSerializable(typeof(KeyBackupView))]
[JsonSerializable(typeof(KeyBackupVerifiedView))]
[JsonSerializable(typeof(KeyBackupListView))]
[JsonSerializable(typeof(DrillInput))]
[JsonSerializable(typeof(DrillAcceptedView))]
[JsonSerializable(typeof(DrillView))]
[JsonSerializable(typeof(DrillListView))]
[JsonSerializable(typeof(DrillReportView))]
[JsonSerializable(typeof(BackupProgressView))]
[JsonSerializable(typeof(BackupScheduleInput))]
[JsonSerializable(typeof(BackupScheduleView))]
[JsonSerializable(typeof(SchemaMigrateInput))]
[JsonSerializable(typeof(SchemaStatusView))]
[JsonSerializable(typeof(RehearsalView))]
[JsonSerializable(typeof(SchemaMigratedView))]
public sealed partial class BackupApiJsonContext : JsonSerializerContext;
