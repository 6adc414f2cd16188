using System.Diagnostics.Metrics;
using Akka.Actor;
using Akka.Serialization;
using ForgeOne.Backup;
using ForgeOne.Cluster.Security;
using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage;

namespace ForgeOne.Cluster.Singletons;

/// <summary>How the coordinator runs backups (from <c>ForgeOne:Backup</c>).</summary>
/// <param name="Schedule">Default schedule, persisted on first start (then changed with SetBackupSchedule).</param>
/// <param name="Retention">How long backups are kept.</param>
/// <param name="Parallelism">Shards copied at once.</param>
/// <param name="ShardTimeout">Longest one shard's file may take before the attempt counts as failed.</param>
/// <param name="MaxAttempts">Attempts per shard before the backup fails.</param>
/// <param name="VerifyAfterWrite">Re-read every file in every region and compare its SHA-256 before a backup is complete.</param>
/// <param name="KeyCost">Argon2id cost of key backups.</param>
/// <param name="Scheduled">Run the schedule (off: on demand only).</param>
/// <param name="RehearsalMaxAge">How old a passing schema rehearsal may be for <c>schema migrate</c> (null: 7 days).</param>
public sealed record BackupSettings(
    BackupSchedule Schedule,
    RetentionPolicy Retention,
    int Parallelism = 2,
    TimeSpan? ShardTimeout = null,
    int MaxAttempts = 3,
    bool VerifyAfterWrite = false,
    KeyBackupCost? KeyCost = null,
    bool Scheduled = true,
    TimeSpan? RehearsalMaxAge = null);

/// <summary>
/// Records that a restore made the shards start a new incarnation at the restored heads, so
/// the run-time chain checks (open-time check against the last seal, the sealer's
/// continuation check) accept the rewind as authorized instead of calling it tampering
/// (<see cref="SealedRestoreIncarnations"/>: a seal naming the restored heads as new incarnations).
/// </summary>
public interface IRestoreIncarnations
{
    /// <summary>
    /// Called after the new version is verified and every shard is suspended, before the switch;
    /// a failure (thrown <see cref="ForgeOneException"/>) leaves every shard on the previous version.
    /// </summary>
    Task Record(string restoreId, string backupId, string version, int incarnation, IReadOnlyList<ShardRestored> heads, Principal caller);
}

/// <summary>Nothing recorded: for hosts without a sealer (tests of the coordinator alone).</summary>
public sealed class NoIncarnationRecords : IRestoreIncarnations
{
    /// <inheritdoc />
    public Task Record(string restoreId, string backupId, string version, int incarnation, IReadOnlyList<ShardRestored> heads, Principal caller) => Task.CompletedTask;
}

/// <summary>
/// What the backup coordinator works with: the shard regions it drives, the node's keys and
/// targets, the data root's versions, the node's security state (it verifies and authorizes
/// requests, and asks shards as the node) and its settings.
/// </summary>
public sealed record BackupServices(
    ShardRegions Regions,
    IReadOnlyDictionary<(ShardKind Kind, string Zone), IActorRef> Zones,
    IKekProvider Kek,
    AuditSigner Signer,
    IReadOnlyList<BackupTarget> Targets,
    string KeysDirectory,
    DataRootLayout Layout,
    string ScratchDirectory,
    NodeSecurity Security,
    BackupSettings Settings,
    string ClusterId,
    TimeProvider Time)
{
    /// <summary>Seals' incarnation records (see <see cref="IRestoreIncarnations"/>).</summary>
    public IRestoreIncarnations Incarnations { get; init; } = new NoIncarnationRecords();

    /// <summary>Every shard of the cluster: each kind of the default zone and each data kind of each residency zone.</summary>
    public IReadOnlyList<ShardRef> AllShards() =>
        [.. Regions.Counts.All().Select(s => new ShardRef(null, s.Kind, s.Shard))
            .Concat(Zones.Keys.SelectMany(z => Enumerable.Range(0, Regions.Counts.Of(z.Kind)).Select(n => new ShardRef(z.Zone, z.Kind, n))))
            .Order()];

    /// <summary>The region (or proxy) that reaches <paramref name="shard"/>.</summary>
    public IActorRef RegionOf(ShardRef shard) => shard.Zone is null ? Regions.ByKind[shard.Kind] : Zones[(shard.Kind, shard.Zone)];

    /// <summary>Shard counts in manifest order (logs, events, blobs).</summary>
    public int[] ShardCounts => [Regions.Counts.Logs, Regions.Counts.Events, Regions.Counts.Blobs];
}

/// <summary>
/// Instruments for <c>/metrics</c> (a <see cref="Meter"/>; the edge exports every <c>ForgeOne.*</c>
/// meter of its node, so these appear on the edge node that hosts the backup coordinator).
/// </summary>
public static class BackupMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "ForgeOne.Backup";

    private static readonly Meter Meter = new(MeterName);
    private static Func<(string Operation, int Done, int Total, long Bytes, double Seconds)>? _progress;

    static BackupMetrics()
    {
        Meter.CreateObservableGauge("forgeone.backup.progress.bytes", () => Observe(p => p.Bytes), "By", "Bytes the running backup, restore or drill has moved so far.");
        Meter.CreateObservableGauge("forgeone.backup.progress.done", () => Observe(p => p.Done), "{file}", "Shard files the running operation has finished.");
        Meter.CreateObservableGauge("forgeone.backup.progress.total", () => Observe(p => p.Total), "{file}", "Shard files the running operation has in all.");
        Meter.CreateObservableGauge("forgeone.backup.progress.throughput", () => Observe(p => p.Seconds > 0 ? p.Bytes / p.Seconds : 0), "By/s", "Throughput of the running operation.");
    }

    /// <summary>Backups completed, by type.</summary>
    public static readonly Counter<long> Completed = Meter.CreateCounter<long>("forgeone.backup.completed", "{backup}", "Backups complete in every required region.");

    /// <summary>Backups that failed.</summary>
    public static readonly Counter<long> Failed = Meter.CreateCounter<long>("forgeone.backup.failed", "{backup}", "Backups that gave up (their files removed).");

    /// <summary>Backup file bytes written (one region's copy).</summary>
    public static readonly Counter<long> BytesWritten = Meter.CreateCounter<long>("forgeone.backup.bytes", "By", "Backup file bytes written (one region's copy).");

    /// <summary>Restores, by outcome.</summary>
    public static readonly Counter<long> Restores = Meter.CreateCounter<long>("forgeone.restore.count", "{restore}", "Restores, by outcome.");

    /// <summary>DR drills, by outcome.</summary>
    public static readonly Counter<long> Drills = Meter.CreateCounter<long>("forgeone.dr.drills", "{drill}", "DR drills, by outcome.");

    /// <summary>Seconds each completed backup took.</summary>
    public static readonly Histogram<double> Duration = Meter.CreateHistogram<double>("forgeone.backup.duration", "s", "Wall time of each completed backup.");

    /// <summary>Throughput of each completed backup.</summary>
    public static readonly Histogram<double> Throughput = Meter.CreateHistogram<double>("forgeone.backup.throughput", "By/s", "Stored bytes per second of each completed backup.");

    /// <summary>The coordinator on this node reports its running operation here (null: none runs here).</summary>
    internal static void ReportProgress(Func<(string Operation, int Done, int Total, long Bytes, double Seconds)>? progress) => Volatile.Write(ref _progress, progress);

    private static IEnumerable<Measurement<double>> Observe(Func<(string Operation, int Done, int Total, long Bytes, double Seconds), double> value)
    {
        if (Volatile.Read(ref _progress)?.Invoke() is { Operation: not "idle" } p)
        {
            yield return new Measurement<double>(value(p), new KeyValuePair<string, object?>("operation", p.Operation));
        }
    }
}

/// <summary>Serializer of the backup coordinator's journal events: versioned JSON, no CLR type names.</summary>
public sealed class BackupEventSerializer : SerializerWithStringManifest
{
    /// <summary>Serializer id (unique among the system's serializers: 7301 singleton events, 7302 the wire).</summary>
    public const int SerializerId = 7310;

    private const string EventManifest = "backup-event-v1";

    /// <summary>Created by Akka.</summary>
    public BackupEventSerializer(ExtendedActorSystem system)
        : base(system)
    {
    }

    /// <inheritdoc />
    public override int Identifier => SerializerId;

    /// <inheritdoc />
    public override string Manifest(object o) => o is BackupEvent ? EventManifest : throw new ArgumentException($"{o.GetType()} is not a backup event.");

    /// <inheritdoc />
    public override byte[] ToBinary(object obj) => obj is BackupEvent e ? BackupEventJson.Encode(e) : throw new ArgumentException($"{obj.GetType()} is not a backup event.");

    /// <inheritdoc />
    public override object FromBinary(byte[] bytes, string manifest) =>
        manifest == EventManifest
            ? BackupEventJson.Decode(bytes)
            : throw new ForgeOneException(ErrorCodes.StorageUnknownFormat, $"Unknown backup event manifest '{manifest}'.");
}
