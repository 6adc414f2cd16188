using System.Text;
using ForgeOne.Common;
using ForgeOne.Common.Validation;
using ForgeOne.Security;
using ForgeOne.Storage;
using ForgeOne.Storage.Records;
using static ForgeOne.Cluster.Protocol.SystemProtocol;

namespace ForgeOne.Cluster.Shards.System;

/// <summary>
/// Settings, metadata, snapshots and metrics. Layout:
/// <code>
///   settings / metadata   keyToken (16) | version (8)   -> Encrypt(VersionedSetting)   full history, newest last
///   snapshots             id (UTF-8) | 0 | version (8)  -> Encrypt(SnapshotVersion)      every state kept, newest last
///                         id (UTF-8)                    -> Encrypt(SnapshotRecord)       (before versions: read as version 0)
///   metrics               time (8, ordered) | id (8)    -> Encrypt(MetricSample)       time ordered, swept by retention
/// </code>
/// Setting keys are blind-indexed (no plaintext key names in index keys); the fixed ASCII keys
/// the cluster core keeps in <c>metadata</c> (shard counts, bootstrap key) are never 24 bytes,
/// so they cannot be mistaken for a version key.
/// </summary>
public sealed partial class SystemShardHandler
{
    /// <summary>Longest setting key.</summary>
    public const int MaxKeyLength = 256;

    /// <summary>Largest setting value.</summary>
    public const int MaxValueBytes = 64 * 1024;

    /// <summary>Most samples per <see cref="RecordMetrics"/>.</summary>
    public const int MaxMetricBatch = 10_000;

    /// <summary>Most samples one metrics sweep deletes.</summary>
    public const int MaxSweepEntries = 10_000;

    private static (string Action, ForgeOneError? Error)? AdmitStore(Protocol.IShardOperation operation, Limits limits) => operation switch
    {
        PutSetting p => ("system.setting_put", ValidateKey(p.Key)
            ?? (p.Table == KeyValueTable.Metadata && p.Key == Compliance.ResidencyDocument.StoreKey ? Invalid($"'{p.Key}' is the residency directory; change it with SetResidency.") : null)
            ?? (p.Value is null || p.Value.Length > MaxValueBytes ? Invalid($"A value is 0..{MaxValueBytes} bytes.") : null)
            ?? (p.ExpectedVersion < 0 ? Invalid("ExpectedVersion cannot be negative.") : null)),
        GetSetting g => ("system.setting_get", ValidateKey(g.Key)),
        GetSettingHistory h => ("system.setting_history", ValidateKey(h.Key)),
        AddSnapshot a => ("system.snapshot_add", ValidateSnapshot(a.Snapshot)),
        ListSnapshots l => ("system.snapshot_list", l.Limit is < 1 or > 10_000 ? Invalid("Limit must be 1..10000.") : null),
        GetSnapshot g => ("system.snapshot_get", ValidateId(g.Id)),
        GetSnapshotHistory h => ("system.snapshot_history", ValidateId(h.Id)),
        RecordBackupEvent e => ($"backup.{e.Event}", ValidateEvent(e)),
        RecordMetrics m => ("system.metrics_record", ValidateMetrics(m.Samples, limits)),
        QueryMetrics q => ("system.metrics_query", q.From >= q.To ? Invalid("From must be before To.") : q.Limit is < 1 or > 10_000 ? Invalid("Limit must be 1..10000.") : null),
        SweepMetrics s => ("system.metrics_sweep", s.Retention <= TimeSpan.Zero ? Invalid("Retention must be positive.") : s.MaxEntries is < 1 or > MaxSweepEntries ? Invalid($"A sweep deletes 1..{MaxSweepEntries} samples.") : null),
        _ => null,
    };

    private static object? ApplyStore(IWriteTransaction txn, Protocol.IShardCommand command, Principal principal, ShardContext context)
    {
        switch (command)
        {
            case PutSetting put:
                {
                    var table = TableOf(put.Table);
                    var token = KeyToken(context, put.Key);
                    var current = History(txn, table, token, context, newestOnly: true).LastOrDefault();
                    var currentVersion = current?.Version ?? 0;
                    if (put.ExpectedVersion is { } expected && expected != currentVersion)
                    {
                        throw new ForgeOneException(ErrorCodes.Conflict, $"{put.Table} key '{put.Key}' is at version {currentVersion}, not {expected}.");
                    }

                    var setting = new VersionedSetting(put.Key, currentVersion + 1, put.Value, context.Time.GetUtcNow(), principal.Id);
                    var key = RecordKeys.SettingHistory(token, setting.Version);
                    txn.Put(table, key, context.Security.Encrypt(table, key, setting.Encode()));
                    return new SettingStored(ToProtocol(setting));
                }

            case AddSnapshot add:
                    PutSnapshotVersion(txn, add.Snapshot, principal.Id, "", context);
                    return new SnapshotAdded(add.Snapshot.Id);

            case RecordBackupEvent recorded:
                return new BackupEventRecorded(recorded.Event, recorded.Snapshot is { } snapshot ? PutSnapshotVersion(txn, snapshot, Printable(recorded.Subject, 256), recorded.Detail, context) : 0);

            case RecordMetrics record:
                {
                    foreach (var sample in record.Samples)
                    {
                        // The id makes keys unique when several nodes report in the same millisecond.
                        var key = MetricKey(sample.Time.ToUnixTimeMilliseconds(), context.Ids.Next().Value);
                        var stored = new MetricSample(sample.Name, sample.Time, sample.Value, sample.Labels ?? []);
                        txn.Put(Tables.Metrics, key, context.Security.Encrypt(Tables.Metrics, key, stored.Encode()));
                    }

                    return new MetricsRecorded(record.Samples.Length);
                }

            case SweepMetrics sweep:
                {
                    var cutoff = context.Time.GetUtcNow() - sweep.Retention;
                    var keys = txn.Scan(Tables.Metrics, MetricKey(long.MinValue, 0), MetricKey(cutoff.ToUnixTimeMilliseconds(), 0), limit: sweep.MaxEntries + 1)
                        .Select(kv => kv.Key)
                        .ToList();
                    var take = Math.Min(keys.Count, sweep.MaxEntries);
                    for (var i = 0; i < take; i++)
                    {
                        txn.Delete(Tables.Metrics, keys[i]);
                    }

                    return new MetricsSwept(take, keys.Count > take);
                }

            default:
                return null;
        }
    }

    private static object? ReadStore(IReadTransaction txn, Protocol.IShardQuery query, ShardContext context)
    {
        switch (query)
        {
            case GetSetting get:
                {
                    var current = History(txn, TableOf(get.Table), KeyToken(context, get.Key), context, newestOnly: true).LastOrDefault();
                    return new CurrentSetting(get.Key, current is null ? null : ToProtocol(current));
                }

            case GetSettingHistory history:
                return new SettingHistory(history.Key, [.. History(txn, TableOf(history.Table), KeyToken(context, history.Key), context, newestOnly: false).Select(ToProtocol)]);

            case ListSnapshots list:
                {
                    // Newest state of each id: versions of one id are adjacent and in order.
                    var newest = new List<SnapshotInfo>();
                    string? current = null;
                    foreach (var (key, value) in txn.Scan(Tables.Snapshots, [0x00], [0xFF]))
                    {
                        var id = SnapshotKeys.IdOf(key);
                        var info = ToProtocol(DecodeSnapshot(key, value, context).Snapshot);
                        if (id == current)
                        {
                            newest[^1] = info;
                        }
                        else if (newest.Count < list.Limit)
                        {
                            newest.Add(info);
                            current = id;
                        }
                        else
                        {
                            break;
                        }
                    }

                    return new SnapshotList([.. newest]);
                }

            case GetSnapshot get:
                return SnapshotVersions(txn, get.Id, context).LastOrDefault() is { } last
                    ? new SnapshotFound(ToProtocol(last.Snapshot))
                    : new SystemFailed(new ForgeOneError(ErrorCodes.NotFound, $"No snapshot '{get.Id}'."));

            case GetSnapshotHistory history:
                {
                    var versions = SnapshotVersions(txn, history.Id, context);
                    return versions.Count > 0
                        ? new SnapshotHistory(history.Id, [.. versions.Select(v => new SnapshotVersionInfo(v.Version, v.ChangedAt, v.ChangedBy, v.Detail, ToProtocol(v.Snapshot)))])
                        : new SystemFailed(new ForgeOneError(ErrorCodes.NotFound, $"No snapshot '{history.Id}'."));
                }

            case QueryMetrics q:
                {
                    var samples = new List<MetricPoint>();
                    foreach (var (key, value) in txn.Scan(Tables.Metrics, MetricKey(q.From.ToUnixTimeMilliseconds(), 0), MetricKey(q.To.ToUnixTimeMilliseconds(), 0)))
                    {
                        var sample = MetricSample.Decode(context.Security.Decrypt(Tables.Metrics, key, value));
                        if (q.Name is null || string.Equals(sample.Name, q.Name, StringComparison.Ordinal))
                        {
                            samples.Add(new MetricPoint(sample.Name, sample.Time, sample.Value, new Dictionary<string, string>(sample.Labels, StringComparer.Ordinal)));
                            if (samples.Count == q.Limit)
                            {
                                break;
                            }
                        }
                    }

                    return new MetricList([.. samples]);
                }

            default:
                return null;
        }
    }

    private static IEnumerable<VersionedSetting> History(IReadTransaction txn, string table, byte[] token, ShardContext context, bool newestOnly)
    {
        var from = RecordKeys.SettingHistory(token, 0);
        var until = RecordKeys.SettingHistory(token, long.MaxValue);
        var rows = txn.Scan(table, from, until, reverse: newestOnly, limit: newestOnly ? 1 : int.MaxValue);
        foreach (var (key, value) in rows)
        {
            yield return VersionedSetting.Decode(context.Security.Decrypt(table, key, value));
        }
    }

    private static SnapshotVersion DecodeSnapshot(byte[] key, byte[] value, ShardContext context) =>
        SnapshotVersion.Decode(context.Security.Decrypt(Tables.Snapshots, key, value));

    /// <summary>Every stored state of <paramref name="id"/>, oldest first (a pre-versions record first, as version 0).</summary>
    private static List<SnapshotVersion> SnapshotVersions(IReadTransaction txn, string id, ShardContext context)
    {
        var versions = new List<SnapshotVersion>();
        var bare = Encoding.UTF8.GetBytes(id);
        if (txn.Get(Tables.Snapshots, bare) is { } legacy)
        {
            versions.Add(DecodeSnapshot(bare, legacy, context));
        }

        foreach (var (key, value) in txn.Scan(Tables.Snapshots, SnapshotKeys.Version(id, 0), SnapshotKeys.Version(id, long.MaxValue)))
        {
            versions.Add(DecodeSnapshot(key, value, context));
        }

        return versions;
    }

    private static long PutSnapshotVersion(IWriteTransaction txn, SnapshotInfo s, string by, string detail, ShardContext context)
    {
        var version = SnapshotVersions(txn, s.Id, context).Select(v => v.Version).DefaultIfEmpty(0).Max() + 1;
        var record = new SnapshotVersion(version, context.Time.GetUtcNow(), by, detail, new SnapshotRecord(s.Id, s.Kind, s.CreatedAt, s.Locations, s.Checksum, s.Size, s.Status));
        var key = SnapshotKeys.Version(s.Id, version);
        txn.Put(Tables.Snapshots, key, context.Security.Encrypt(Tables.Snapshots, key, record.Encode()));
        return version;
    }

    private static ForgeOneError? ValidateEvent(RecordBackupEvent e) =>
        string.IsNullOrEmpty(e.Event) || e.Event.Length > 40 || !e.Event.All(c => char.IsAsciiLetterLower(c) || c == '_')
            ? Invalid("A backup event name is 1..40 of a-z and _.")
            : e.Detail is null || e.Detail.Length > 4096 ? Invalid("A backup event detail is at most 4096 characters.")
            : string.IsNullOrWhiteSpace(e.Subject) ? Invalid("A backup event names whose it is.")
            : !Enum.IsDefined(e.Outcome) ? Invalid($"Audit outcome {(int)e.Outcome} is unknown.")
            : e.Snapshot is null ? null : ValidateSnapshot(e.Snapshot);

    private static SettingVersion ToProtocol(VersionedSetting s) => new(s.Key, s.Version, s.Value, s.ChangedAt, s.ChangedBy);

    private static SnapshotInfo ToProtocol(SnapshotRecord s) => new(s.Id, s.Kind, s.CreatedAt, [.. s.Locations], s.Checksum, s.Size, s.Status);

    private static string TableOf(KeyValueTable table) => table switch
    {
        KeyValueTable.Settings => Tables.Settings,
        KeyValueTable.Metadata => Tables.Metadata,
        _ => throw new ForgeOneException(ErrorCodes.InvalidArgument, $"Unknown key-value table {(int)table}."),
    };

    private static byte[] KeyToken(ShardContext context, string key) => context.Security.BlindIndex("\u0000forgeone.setting\u0000" + key);

    private static byte[] MetricKey(long unixMs, ulong id)
    {
        var key = new byte[16];
        KeyCodec.WriteInt64(key, unixMs);
        KeyCodec.WriteUInt64(key.AsSpan(8), id);
        return key;
    }

    private static ForgeOneError Invalid(string message) => new(ErrorCodes.InvalidArgument, message);

    private static ForgeOneError? ValidateKey(string? key) =>
        string.IsNullOrWhiteSpace(key) || key.Length > MaxKeyLength || key.Any(char.IsControl)
            ? new ForgeOneError(ErrorCodes.InvalidName, $"A key is 1..{MaxKeyLength} characters without control characters.")
            : null;

    private static ForgeOneError? ValidateId(string? id) =>
        string.IsNullOrEmpty(id) || id.Length > 200 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':')
            ? new ForgeOneError(ErrorCodes.InvalidId, "A snapshot id is 1..200 of A-Z a-z 0-9 - _ . :")
            : null;

    private static ForgeOneError? ValidateSnapshot(SnapshotInfo? s) =>
        s is null ? Invalid("A snapshot is required.")
        : ValidateId(s.Id)
            ?? (string.IsNullOrWhiteSpace(s.Kind) ? Invalid("A snapshot kind is required.") : null)
            ?? (s.Locations is null || s.Locations.Any(string.IsNullOrWhiteSpace) ? Invalid("Locations must be non-empty strings.") : null)
            ?? (s.Checksum is null ? Invalid("A checksum is required (may be empty while pending).") : null)
            ?? (s.Size < 0 ? Invalid("Size cannot be negative.") : null)
            ?? (Enum.IsDefined(s.Status) ? null : Invalid($"Status {(int)s.Status} is unknown."));

    private static ForgeOneError? ValidateMetrics(MetricPoint[]? samples, Limits limits)
    {
        if (samples is null || samples.Length is 0 or > MaxMetricBatch)
        {
            return Invalid($"A metrics batch holds 1..{MaxMetricBatch} samples.");
        }

        foreach (var s in samples)
        {
            if (s is null || ValidateKey(s.Name) is not null)
            {
                return new ForgeOneError(ErrorCodes.InvalidName, "Every sample needs a metric name of 1..256 characters.");
            }

            if (Validate.Metadata(s.Labels, limits) is { } error)
            {
                return error;
            }
        }

        return null;
    }
}
