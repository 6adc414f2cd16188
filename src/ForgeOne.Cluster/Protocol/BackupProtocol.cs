using ForgeOne.Common;
using ForgeOne.Security;

namespace ForgeOne.Cluster.Protocol;

/// <summary>
/// Messages of the <c>BackupCoordinator</c> singleton (every one authorized with
/// <c>backup:admin</c>, key backups with <c>keys:admin</c>, and audited in the system store) and
/// the shard-level messages it drives. Long operations (backup, restore, drill) answer at once
/// with their id; <see cref="AwaitOperation"/> answers when one ends and
/// <see cref="GetBackupProgress"/> reports progress meanwhile.
/// </summary>
public static class BackupProtocol
{
    /// <summary>Full or incremental (<c>null</c> in <see cref="RunBackup"/>: whatever the schedule would take now).</summary>
    public enum BackupKind
    {
        /// <summary>Every page of every shard.</summary>
        Full = 0,

        /// <summary>Pages written since the parent backup.</summary>
        Incremental = 1,
    }

    // --- schedule -------------------------------------------------------------------------

    /// <summary>Sets the schedule. Reply: <see cref="BackupSchedule"/>.</summary>
    public sealed record SetBackupSchedule(PrincipalToken Token, TimeSpan Full, TimeSpan Incremental, TimeSpan Drill) : IAuthenticated;

    /// <summary>Asks for the schedule. Reply: <see cref="BackupSchedule"/>.</summary>
    public sealed record GetBackupSchedule(PrincipalToken Token) : IAuthenticated;

    /// <summary>The schedule, who set it, what it runs next and the node hosting the coordinator.</summary>
    public sealed record BackupSchedule(TimeSpan Full, TimeSpan Incremental, TimeSpan Drill, DateTimeOffset SetAt, string SetBy, string Node, DateTimeOffset? NextBackupAt, DateTimeOffset? NextDrillAt) : IReply;

    // --- backups --------------------------------------------------------------------------

    /// <summary>Starts a backup now (joins the running one if any). Reply: <see cref="BackupAccepted"/>.</summary>
    public sealed record RunBackup(PrincipalToken Token, BackupKind? Type = null) : IAuthenticated;

    /// <summary>The backup that runs (<paramref name="Joined"/>: it was already running).</summary>
    public sealed record BackupAccepted(string Id, BackupKind Type, string? Parent, bool Joined) : IReply;

    /// <summary>Waits for a backup, restore or drill to end. Reply: <see cref="BackupInfo"/>, <see cref="RestoreInfo"/> or <see cref="DrillInfo"/>.</summary>
    public sealed record AwaitOperation(PrincipalToken Token, string Id) : IAuthenticated;

    /// <summary>The catalog. Reply: <see cref="BackupList"/>.</summary>
    public sealed record ListBackups(PrincipalToken Token, int Limit = 100) : IAuthenticated;

    /// <summary>One backup with its shards. Reply: <see cref="BackupDetails"/>.</summary>
    public sealed record ShowBackup(PrincipalToken Token, string Id) : IAuthenticated;

    /// <summary>Re-reads a backup in every region: manifest signature, chain, every file's size and SHA-256. Reply: <see cref="BackupVerified"/>.</summary>
    public sealed record VerifyBackup(PrincipalToken Token, string Id) : IAuthenticated;

    /// <summary>A catalogued backup.</summary>
    public sealed record BackupInfo(string Id, BackupKind Type, string? Parent, string Base, string Status, DateTimeOffset StartedAt, DateTimeOffset? CompletedAt, long Size, string[] Regions, int ShardsDone, int Shards, string By, string? Error) : IReply;

    /// <summary>Backups, newest first.</summary>
    public sealed record BackupList(BackupInfo[] Backups) : IReply;

    /// <summary>One shard's file in a backup.</summary>
    public sealed record BackupShardInfo(string Shard, string File, long Size, string Sha256, ulong TxnId, ulong SinceTxnId, long AuditSeq, string AuditHash, long Records, long? SealNumber, string[] Regions);

    /// <summary>A backup and its shards.</summary>
    public sealed record BackupDetails(BackupInfo Backup, BackupShardInfo[] Shards, int[] KekVersions) : IReply;

    /// <summary>What each region holds of a backup.</summary>
    public sealed record RegionCheck(string Region, bool Complete, string[] Problems);

    /// <summary>The outcome of <see cref="VerifyBackup"/> (<paramref name="Ok"/>: every required region holds it all).</summary>
    public sealed record BackupVerified(string Id, bool Ok, string[] Chain, RegionCheck[] Regions) : IReply;

    // --- restore and data-root versions ----------------------------------------------------

    /// <summary>
    /// Restores a backup (<paramref name="Id"/>, or the newest completed one started at or before
    /// <paramref name="AtOrBefore"/>, or the newest of all) into a new version of the data root,
    /// verifies it, then switches every shard to it. Reply: <see cref="RestoreAccepted"/>.
    /// </summary>
    public sealed record RestoreBackup(PrincipalToken Token, string? Id = null, DateTimeOffset? AtOrBefore = null) : IAuthenticated;

    /// <summary>The restore that runs.</summary>
    public sealed record RestoreAccepted(string Id, string BackupId) : IReply;

    /// <summary>A restore, finished or not.</summary>
    public sealed record RestoreInfo(string Id, string BackupId, string By, DateTimeOffset At, string[] Chain, string? Version, int Incarnation, bool Succeeded, string Detail, string[] Warnings) : IReply;

    /// <summary>The data root's versions. Reply: <see cref="DataVersions"/>.</summary>
    public sealed record ListDataVersions(PrincipalToken Token) : IAuthenticated;

    /// <summary>One data-root version.</summary>
    public sealed record DataVersionSummary(string Name, bool Active, int Incarnation, DateTimeOffset CreatedAt, string CreatedBy, string? RestoredFrom);

    /// <summary>Versions, oldest first.</summary>
    public sealed record DataVersions(DataVersionSummary[] Versions) : IReply;

    /// <summary>Deletes a data-root version that is not active. Reply: <see cref="VersionDiscarded"/>.</summary>
    public sealed record DiscardVersion(PrincipalToken Token, string Version) : IAuthenticated;

    /// <summary>The version is gone.</summary>
    public sealed record VersionDiscarded(string Version) : IReply;

    // --- key backups ------------------------------------------------------------------------

    /// <summary>
    /// Seals the keys directory under <paramref name="RecoverySecret"/> and stores it in every
    /// region's key folder (<c>keys:admin</c>). Reply: <see cref="KeyBackupDone"/>.
    /// </summary>
    public sealed record BackupKeys(PrincipalToken Token, string RecoverySecret) : IAuthenticated
    {
        /// <inheritdoc />
        public override string ToString() => $"BackupKeys {{ Token = {Token}, RecoverySecret = *** }}";
    }

    /// <summary>A key backup was stored.</summary>
    public sealed record KeyBackupDone(string Id, string[] Regions, string Summary) : IReply;

    /// <summary>Proves <paramref name="RecoverySecret"/> opens a key backup (the newest when <paramref name="Id"/> is null) without restoring anything. Reply: <see cref="KeyBackupVerified"/>.</summary>
    public sealed record VerifyKeyBackup(PrincipalToken Token, string? Id, string RecoverySecret) : IAuthenticated
    {
        /// <inheritdoc />
        public override string ToString() => $"VerifyKeyBackup {{ Token = {Token}, Id = {Id}, RecoverySecret = *** }}";
    }

    /// <summary>The secret opens it; how it compares with the live keys directory.</summary>
    public sealed record KeyBackupVerified(string Id, string Region, string Summary, string[] Matching, string[] MissingFromDirectory, string[] Different, string[] NotInBackup) : IReply;

    /// <summary>Key backups held by the regions. Reply: <see cref="KeyBackupList"/>.</summary>
    public sealed record ListKeyBackups(PrincipalToken Token) : IAuthenticated;

    /// <summary>Key backup ids with the regions holding each, newest last.</summary>
    public sealed record KeyBackupList(string[] Ids, string[][] Regions) : IReply;

    // --- drills -----------------------------------------------------------------------------

    /// <summary>Runs a DR drill of <paramref name="Region"/> (every region in turn when null). Reply: <see cref="DrillAccepted"/>.</summary>
    public sealed record RunDrill(PrincipalToken Token, string? Region = null) : IAuthenticated;

    /// <summary>The drill that runs.</summary>
    public sealed record DrillAccepted(string Id, string Region) : IReply;

    /// <summary>A drill's outcome.</summary>
    public sealed record DrillInfo(string Id, string Region, DateTimeOffset At, string? BackupId, bool Passed, double RtoSeconds, double? RpoSeconds, string[] StoredIn, string[] Failures) : IReply;

    /// <summary>Drills, newest first. Reply: <see cref="DrillList"/>.</summary>
    public sealed record ListDrills(PrincipalToken Token) : IAuthenticated;

    /// <summary>Drills.</summary>
    public sealed record DrillList(DrillInfo[] Drills) : IReply;

    /// <summary>A drill's signed evidence report. Reply: <see cref="DrillReport"/>.</summary>
    public sealed record ShowDrill(PrincipalToken Token, string Id) : IAuthenticated;

    /// <summary>The report as stored: JSON (signed), Markdown, and the signature file.</summary>
    public sealed record DrillReport(string Id, string Json, string Markdown, string Signature) : IReply;

    // --- progress ---------------------------------------------------------------------------

    /// <summary>What the coordinator is doing. Reply: <see cref="BackupProgress"/>.</summary>
    public sealed record GetBackupProgress(PrincipalToken Token) : IAuthenticated;

    /// <summary>The running operation (<paramref name="Operation"/> <c>idle</c> when none) and its throughput.</summary>
    public sealed record BackupProgress(string Operation, string? Id, int Done, int Total, long Bytes, double ElapsedSeconds, double BytesPerSecond) : IReply;

    // --- schema ---------------------------------------------------------------------------

    /// <summary>
    /// <c>schema rehearse</c>: restores the newest backup into scratch, runs the pending migrations
    /// there, checks integrity, chains and counts, stores the signed report in every target and
    /// audits it (<c>backup:admin</c>). Reply, when it ends: <see cref="SchemaRehearsed"/>.
    /// </summary>
    public sealed record RehearseSchema(PrincipalToken Token) : IAuthenticated;

    /// <summary>A rehearsal's report and the regions that hold it.</summary>
    public sealed record SchemaRehearsed(Integrity.RehearsalReport Report, string[] StoredIn) : IReply;

    /// <summary><c>schema status</c>: every shard's schema and the newest rehearsal (<c>system:read</c>). Reply: <see cref="ClusterSchemaStatus"/>.</summary>
    public sealed record GetClusterSchemaStatus(PrincipalToken Token) : IAuthenticated;

    /// <summary>Every shard's schema, the shards that did not answer, and the newest verified rehearsal report (or null).</summary>
    public sealed record ClusterSchemaStatus(int TargetVersion, ShardProtocol.SchemaStatus[] Shards, string[] Unreachable, Integrity.RehearsalReport? LastRehearsal) : IReply;

    /// <summary>
    /// <c>schema migrate</c> on the live cluster (<c>backup:admin</c>): refused with
    /// <c>storage.rehearsal_required</c> unless the newest rehearsal passed for the same target
    /// version within <c>Backup:RehearsalMaxAge</c>, or <paramref name="WithoutRehearsal"/> with a
    /// <paramref name="Reason"/> (audited as an override). Reply: <see cref="ClusterMigrated"/>.
    /// </summary>
    public sealed record MigrateCluster(PrincipalToken Token, bool WithoutRehearsal = false, string? Reason = null) : IAuthenticated;

    /// <summary>What <c>schema migrate</c> did: the gate's verdict (rehearsal or override), each shard's result, and the shards that failed (each left at its version).</summary>
    public sealed record ClusterMigrated(int TargetVersion, string Gate, ShardProtocol.SchemaMigrated[] Shards, string[] Failures) : IReply;

    /// <summary>A refusal or failure of any coordinator message.</summary>
    public sealed record BackupOperationFailed(ForgeOneError Error) : IFailureReply;

    // --- shard level (sent by the coordinator to each shard's owner) ------------------------

    /// <summary>
    /// Writes shard (<paramref name="Kind"/>, <paramref name="Shard"/>) of <paramref name="Zone"/>
    /// into backup <paramref name="BackupId"/>: the pages written after <paramref name="SinceTxnId"/>,
    /// encrypted with the data key <paramref name="WrappedKey"/> (wrapped by the KEK), to every
    /// region target of the owning node. Authorized (<c>backup:admin</c>) and audited in the
    /// shard's own chain. Reply: <see cref="ShardBackupWritten"/> or <see cref="ShardProtocol.ShardFailed"/>.
    /// </summary>
    public sealed record BackupShard(ShardKind Kind, int Shard, string? Zone, PrincipalToken Token, string BackupId, int Attempt, ulong SinceTxnId, byte[] WrappedKey) : IShardControl
    {
        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => Shard;
    }

    /// <summary>The shard's file is in <paramref name="Regions"/>; <paramref name="Entry"/> is its manifest entry (JSON).</summary>
    public sealed record ShardBackupWritten(ShardKind Kind, int Shard, string? Zone, byte[] Entry, string[] Regions) : IReply;

    /// <summary>
    /// Closes the shard's file and refuses every request (<c>cluster.unavailable</c>) until
    /// <see cref="ResumeShard"/>: the moment a restore switches data-root versions.
    /// Reply: <see cref="ShardSuspended"/>.
    /// </summary>
    public sealed record SuspendShard(ShardKind Kind, int Shard, PrincipalToken Token, string Reason) : IShardControl
    {
        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => Shard;
    }

    /// <summary>The shard's file is closed; its last audit head before the switch.</summary>
    public sealed record ShardSuspended(ShardKind Kind, int Shard, long AuditSeq) : IReply;

    /// <summary>Reopens the shard from the data root's active version (also a shard that was not suspended but serves another version). Reply: <see cref="ShardResumed"/>.</summary>
    public sealed record ResumeShard(ShardKind Kind, int Shard, PrincipalToken Token) : IShardControl
    {
        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => Shard;
    }

    /// <summary>The shard serves <paramref name="FilePath"/> at audit head <paramref name="AuditSeq"/>.</summary>
    public sealed record ShardResumed(ShardKind Kind, int Shard, string FilePath, long AuditSeq) : IReply;
}
