using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;
using ForgeOne.Common;

namespace ForgeOne.Backup;

/// <summary>Where a catalogued backup stands.</summary>
public enum BackupStatus
{
    /// <summary>Shards are being copied (or the coordinator failed over and resumes it).</summary>
    Running = 0,

    /// <summary>Every file is in every required region and the signed manifest beside them.</summary>
    Completed = 1,

    /// <summary>It gave up; its files were removed. Never restorable.</summary>
    Failed = 2,

    /// <summary>Retention removed it from every region.</summary>
    Expired = 3,
}

/// <summary>An event of the backup coordinator's journal; the catalog is their fold.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "event")]
[JsonDerivedType(typeof(BackupStarted), "backup-started")]
[JsonDerivedType(typeof(ShardBackedUp), "shard-backed-up")]
[JsonDerivedType(typeof(ShardAttemptFailed), "shard-attempt-failed")]
[JsonDerivedType(typeof(BackupCompleted), "backup-completed")]
[JsonDerivedType(typeof(BackupFailed), "backup-failed")]
[JsonDerivedType(typeof(BackupExpired), "backup-expired")]
[JsonDerivedType(typeof(RestoreRecorded), "restore-recorded")]
[JsonDerivedType(typeof(DrillRecorded), "drill-recorded")]
[JsonDerivedType(typeof(KeyBackupRecorded), "key-backup-recorded")]
[JsonDerivedType(typeof(ScheduleSet), "schedule-set")]
[JsonDerivedType(typeof(BackupImported), "backup-imported")]
public abstract record BackupEvent(DateTimeOffset At);

/// <summary>A backup began: its plan (every shard), its parent and its wrapped data key.</summary>
public sealed record BackupStarted(DateTimeOffset At, string Id, BackupType Type, string? Parent, string Base, string By, string WrappedKey, string[] Regions, ShardRef[] Shards, string DataVersion, int Incarnation)
    : BackupEvent(At);

/// <summary>One shard's file is in the listed regions.</summary>
public sealed record ShardBackedUp(DateTimeOffset At, string BackupId, int Attempt, ShardManifest Entry, string[] Regions) : BackupEvent(At);

/// <summary>One attempt at a shard failed (it is retried with the next attempt number).</summary>
public sealed record ShardAttemptFailed(DateTimeOffset At, string BackupId, ShardRef Shard, int Attempt, string Error) : BackupEvent(At);

/// <summary>The manifest is signed and every file verified in every required region.</summary>
public sealed record BackupCompleted(DateTimeOffset At, string Id, string ManifestSha256, long Size, string[] Regions) : BackupEvent(At);

/// <summary>The backup gave up.</summary>
public sealed record BackupFailed(DateTimeOffset At, string Id, string Error) : BackupEvent(At);

/// <summary>Retention removed the backup from these regions (from every region holding it when <paramref name="Gone"/>).</summary>
public sealed record BackupExpired(DateTimeOffset At, string Id, string[] Regions, bool Gone) : BackupEvent(At);

/// <summary>A restore ran: into which data-root version, who asked, what it restored and how it ended.</summary>
public sealed record RestoreRecorded(DateTimeOffset At, string Id, string BackupId, string By, string[] Chain, string? Version, int Incarnation, bool Succeeded, string Detail) : BackupEvent(At);

/// <summary>A drill ran and its signed report was stored in these regions.</summary>
public sealed record DrillRecorded(DateTimeOffset At, string Id, string Region, string? BackupId, bool Passed, double RtoSeconds, double? RpoSeconds, string By, string[] StoredIn) : BackupEvent(At);

/// <summary>A key backup was made (or verified, <paramref name="Verified"/>), stored in these regions.</summary>
public sealed record KeyBackupRecorded(DateTimeOffset At, string Id, string By, string[] Regions, string Summary, bool Verified) : BackupEvent(At);

/// <summary>
/// A completed backup found in the regions that the catalog did not know (a fresh coordinator,
/// a cluster rebuilt on another machine): its manifest verified, so it is restorable.
/// </summary>
public sealed record BackupImported(DateTimeOffset At, string Id, BackupType Type, string? Parent, string Base, DateTimeOffset StartedAt, DateTimeOffset CompletedAt, long Size, string[] Regions, string DataVersion, int Incarnation)
    : BackupEvent(At);

/// <summary>The schedule changed.</summary>
public sealed record ScheduleSet(DateTimeOffset At, TimeSpan Full, TimeSpan Incremental, TimeSpan Drill, string By) : BackupEvent(At);

/// <summary>One backup as the catalog knows it.</summary>
public sealed record CatalogBackup(
    string Id,
    BackupType Type,
    string? Parent,
    string Base,
    DateTimeOffset StartedAt,
    string By,
    string WrappedKey,
    ImmutableArray<string> Regions,
    ImmutableArray<ShardRef> Shards,
    string DataVersion,
    int Incarnation,
    BackupStatus Status,
    ImmutableDictionary<ShardRef, ShardBackedUp> Done,
    ImmutableDictionary<ShardRef, int> Attempts,
    DateTimeOffset? CompletedAt = null,
    string? ManifestSha256 = null,
    long Size = 0,
    ImmutableArray<string> HeldBy = default,
    string? Error = null)
{
    /// <summary>Shards still to copy.</summary>
    public IEnumerable<ShardRef> Pending => Shards.Where(s => !Done.ContainsKey(s));

    /// <summary>The next attempt number for <paramref name="shard"/>.</summary>
    public int NextAttempt(ShardRef shard) => Attempts.GetValueOrDefault(shard) + 1;
}

/// <summary>
/// The backup coordinator's catalog: every backup, restore, drill and key backup, folded from
/// the journal. Immutable: <see cref="Apply"/> returns the next value. Pure, so the
/// coordinator's recovery after a fail-over is this fold, tested without an actor system.
/// </summary>
public sealed record BackupCatalog(
    ImmutableSortedDictionary<string, CatalogBackup> Backups,
    ImmutableList<RestoreRecorded> Restores,
    ImmutableList<DrillRecorded> Drills,
    ImmutableList<KeyBackupRecorded> KeyBackups,
    ScheduleSet? Schedule)
{
    /// <summary>The empty catalog.</summary>
    public static BackupCatalog Empty { get; } = new(ImmutableSortedDictionary.Create<string, CatalogBackup>(StringComparer.Ordinal), [], [], [], null);

    /// <summary>The backup in progress, if any (at most one runs at a time).</summary>
    public CatalogBackup? Running => Backups.Values.FirstOrDefault(b => b.Status == BackupStatus.Running);

    /// <summary>Completed backups, oldest first.</summary>
    public IEnumerable<CatalogBackup> Completed => Backups.Values.Where(b => b.Status == BackupStatus.Completed);

    /// <summary>The newest completed backup started at or before <paramref name="time"/> (any time when null).</summary>
    public CatalogBackup? LatestCompleted(DateTimeOffset? time = null) =>
        Completed.Where(b => time is null || b.StartedAt <= time).MaxBy(b => (b.StartedAt, b.Id));

    /// <summary>The next state.</summary>
    public BackupCatalog Apply(BackupEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e switch
        {
            BackupStarted s => this with
            {
                Backups = Backups.SetItem(s.Id, new CatalogBackup(s.Id, s.Type, s.Parent, s.Base, s.At, s.By, s.WrappedKey, [.. s.Regions], [.. s.Shards], s.DataVersion, s.Incarnation,
                    BackupStatus.Running, ImmutableDictionary<ShardRef, ShardBackedUp>.Empty, ImmutableDictionary<ShardRef, int>.Empty)),
            },
            ShardBackedUp d => Update(d.BackupId, b => b with { Done = b.Done.SetItem(d.Entry.Ref, d), Attempts = b.Attempts.SetItem(d.Entry.Ref, Math.Max(b.Attempts.GetValueOrDefault(d.Entry.Ref), d.Attempt)) }),
            ShardAttemptFailed f => Update(f.BackupId, b => b with { Attempts = b.Attempts.SetItem(f.Shard, Math.Max(b.Attempts.GetValueOrDefault(f.Shard), f.Attempt)) }),
            BackupCompleted c => Update(c.Id, b => b with { Status = BackupStatus.Completed, CompletedAt = c.At, ManifestSha256 = c.ManifestSha256, Size = c.Size, HeldBy = [.. c.Regions] }),
            BackupFailed f => Update(f.Id, b => b with { Status = BackupStatus.Failed, Error = f.Error, CompletedAt = f.At }),
            BackupExpired x => Update(x.Id, b => x.Gone
                ? b with { Status = BackupStatus.Expired, HeldBy = [] }
                : b with { HeldBy = [.. (b.HeldBy.IsDefault ? [] : b.HeldBy).Except(x.Regions, StringComparer.Ordinal)] }),
            RestoreRecorded r => this with { Restores = Restores.Add(r) },
            DrillRecorded d => this with { Drills = Drills.Add(d) },
            KeyBackupRecorded k => this with { KeyBackups = KeyBackups.Add(k) },
            ScheduleSet s => this with { Schedule = s },
            BackupImported i => Backups.ContainsKey(i.Id) ? this : this with
            {
                Backups = Backups.SetItem(i.Id, new CatalogBackup(i.Id, i.Type, i.Parent, i.Base, i.StartedAt, "imported", "", [.. i.Regions], [], i.DataVersion, i.Incarnation,
                    BackupStatus.Completed, ImmutableDictionary<ShardRef, ShardBackedUp>.Empty, ImmutableDictionary<ShardRef, int>.Empty, i.CompletedAt, null, i.Size, [.. i.Regions])),
            },
            _ => throw new ArgumentException($"unknown backup event {e.GetType().Name}", nameof(e)),
        };
    }

    /// <summary>The backup <paramref name="id"/>. Errors: <c>backup.not_found</c>.</summary>
    public CatalogBackup Get(string id) =>
        Backups.TryGetValue(id, out var backup) ? backup : throw new ForgeOneException(ErrorCodes.BackupNotFound, $"no backup '{id}' in the catalog");

    private BackupCatalog Update(string id, Func<CatalogBackup, CatalogBackup> change) =>
        Backups.TryGetValue(id, out var backup) ? this with { Backups = Backups.SetItem(id, change(backup)) } : this;
}

/// <summary>JSON of the coordinator's journal events (the Akka serializer of the cluster wraps it).</summary>
public static class BackupEventJson
{
    /// <summary>The event's bytes.</summary>
    public static byte[] Encode(BackupEvent e) => JsonSerializer.SerializeToUtf8Bytes(e, CatalogJson.Default.BackupEvent);

    /// <summary>An event from its bytes. Errors: <c>storage.corrupt_record</c>.</summary>
    public static BackupEvent Decode(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return JsonSerializer.Deserialize(bytes, CatalogJson.Default.BackupEvent) ?? throw new JsonException("null event");
        }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            throw new ForgeOneException(ErrorCodes.StorageCorruptRecord, $"unreadable backup journal event: {e.Message}");
        }
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UseStringEnumConverter = true)]
[JsonSerializable(typeof(BackupEvent))]
internal sealed partial class CatalogJson : JsonSerializerContext;
