using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using ForgeOne.Backup;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Shards;
using ForgeOne.Common;
using ForgeOne.Common.Validation;
using ForgeOne.Security;
using ForgeOne.Storage;

namespace ForgeOne.Cluster.Integrity;

/// <summary>What a rehearsal found in one restored shard.</summary>
/// <param name="Shard">The shard (<see cref="ShardRef.Name"/>).</param>
/// <param name="FromVersion">Its schema version as restored.</param>
/// <param name="ToVersion">Its version after the migrations (equal to the target when it passed).</param>
/// <param name="Records">Records outside the audit chain and the schema history, before the migrations.</param>
/// <param name="RecordsAfter">The same count after them (a migration rewrites entries, it never adds or drops one).</param>
/// <param name="AuditBefore">Audit head seq before.</param>
/// <param name="AuditAfter">Audit head seq after (one record per step applied).</param>
/// <param name="Problems">What failed, naming table and key where known.</param>
public sealed record RehearsalShard(string Shard, int FromVersion, int ToVersion, long Records, long RecordsAfter, long AuditBefore, long AuditAfter, string[] Problems);

/// <summary>
/// The evidence a schema rehearsal leaves: the newest backup restored into a scratch folder
/// (the staging copy), the pending migrations run there with the same code the live
/// <c>schema migrate</c> runs, then the deep integrity check, the audit chains and the record
/// counts. Stored signed by the audit key beside the drill reports; <c>schema migrate</c> accepts
/// only a passing one of the same target version, young enough.
/// </summary>
/// <param name="Format">Always <see cref="FormatName"/>.</param>
/// <param name="Id">Rehearsal id.</param>
/// <param name="StartedAt">When it started.</param>
/// <param name="FinishedAt">When it ended.</param>
/// <param name="ClusterId">The cluster.</param>
/// <param name="BackupId">The backup restored, or null when none could be.</param>
/// <param name="TargetVersion">The schema version the migrations reach.</param>
/// <param name="RestoreSeconds">Restoring into scratch.</param>
/// <param name="MigrateSeconds">Running the migrations and the checks.</param>
/// <param name="Passed">True when every shard reached the target and every check passed.</param>
/// <param name="Failures">What failed, each naming shard, table or file.</param>
/// <param name="Shards">Per shard results.</param>
/// <param name="SignedBy">Fingerprint of the audit key that signs the report.</param>
/// <param name="Node">The node that ran it.</param>
/// <param name="By">Who asked for it.</param>
public sealed record RehearsalReport(
    string Format,
    string Id,
    DateTimeOffset StartedAt,
    DateTimeOffset FinishedAt,
    string ClusterId,
    string? BackupId,
    int TargetVersion,
    double RestoreSeconds,
    double MigrateSeconds,
    bool Passed,
    string[] Failures,
    RehearsalShard[] Shards,
    string SignedBy,
    string Node,
    string By)
{
    /// <summary>The report format.</summary>
    public const string FormatName = "forgeone.schema-rehearsal/v1";

    /// <summary>The JSON bytes (what the signature covers).</summary>
    public byte[] Encode() => JsonSerializer.SerializeToUtf8Bytes(this, RehearsalJson.Default.RehearsalReport);

    /// <summary>Parses report bytes. Errors: <c>backup.manifest_invalid</c>.</summary>
    public static RehearsalReport Decode(ReadOnlySpan<byte> bytes, string label)
    {
        try
        {
            return JsonSerializer.Deserialize(bytes, RehearsalJson.Default.RehearsalReport) is { Format: FormatName } report
                ? report
                : throw new JsonException("not a rehearsal report");
        }
        catch (JsonException e)
        {
            throw new ForgeOneException(ErrorCodes.BackupManifestInvalid, $"{label} is not a {FormatName} report: {e.Message}");
        }
    }
}

/// <summary>
/// <c>schema rehearse</c>: restores the newest complete backup into a scratch folder (never the
/// live data root) with the backup engine's <see cref="Restorer"/>, runs every pending migration
/// there through <see cref="ShardMigrations.Apply"/>, checks each shard with
/// <see cref="OfflineIntegrity"/> (envelopes, record MACs, index entries, the audit chain from its
/// genesis) and compares record counts, measures it, removes the scratch folder and signs the
/// report. A rehearsal that fails still produces a (failed) report: that is evidence too.
/// </summary>
public static class SchemaRehearsal
{
    /// <summary>The principal the rehearsal's migration records name in the scratch copy's chains.</summary>
    public const string Principal = "shard:schema-rehearsal";

    private const string Folder = "rehearsals";

    /// <summary>Where a report lives in a backup target.</summary>
    public static string FolderOf(string id) => $"{Folder}/{id}";

    /// <summary>Runs a rehearsal and returns its report (not yet stored).</summary>
    /// <param name="id">The rehearsal id (a folder name).</param>
    /// <param name="scratchRoot">Where the staging copy goes (removed afterwards).</param>
    /// <param name="repository">The backups.</param>
    /// <param name="host">The node's shard host: its security factory opens the restored keyrings, its counts say how many shards of each kind.</param>
    /// <param name="kek">Unwraps the backups' keys and the restored keyrings.</param>
    /// <param name="signer">The audit key (its fingerprint goes into the report).</param>
    /// <param name="clusterId">The cluster.</param>
    /// <param name="node">The node running it.</param>
    /// <param name="by">Who asked.</param>
    /// <param name="cancellation">Stops the restore.</param>
    public static RehearsalReport Run(string id, string scratchRoot, BackupRepository repository, ShardHost host, IKekProvider kek, AuditSigner signer, string clusterId, string node, string by, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(repository);
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(signer);
        var time = host.Time;
        var started = time.GetUtcNow();
        var stopwatch = Stopwatch.StartNew();
        var scratch = Path.Combine(scratchRoot, id);
        var failures = new List<string>();
        var shards = new List<RehearsalShard>();
        string? backupId = null;
        double restoreSeconds = 0;
        try
        {
            var regions = repository.Targets.Select(t => t.Region).ToList();
            backupId = repository.ListBackups().Reverse().FirstOrDefault(candidate => IsRestorable(repository, candidate, regions))
                ?? throw new ForgeOneException(ErrorCodes.BackupNotFound, "no region holds a complete backup whose manifest verifies: take a backup first");
            var chain = repository.Chain(backupId, regions);
            Directory.CreateDirectory(scratch);
            var restored = Restorer.RestoreInto(scratch, chain, repository, kek, regions, cancellation: cancellation);
            restoreSeconds = stopwatch.Elapsed.TotalSeconds;
            var staging = host with { DataRoot = scratch, Seals = null, SealKey = null, Options = new ShardOptions { NoSync = true } };
            foreach (var shard in restored.Shards)
            {
                var result = Rehearse(staging, shard.Shard, id, time);
                shards.Add(result);
                failures.AddRange(result.Problems.Select(p => $"{result.Shard}: {p}"));
            }
        }
        catch (ForgeOneException e)
        {
            failures.Add(e.Error.ToString());
            restoreSeconds = restoreSeconds == 0 ? stopwatch.Elapsed.TotalSeconds : restoreSeconds;
        }
        finally
        {
            if (Directory.Exists(scratch))
            {
                Directory.Delete(scratch, recursive: true);
            }
        }

        var total = stopwatch.Elapsed.TotalSeconds;
        return new RehearsalReport(RehearsalReport.FormatName, id, started, time.GetUtcNow(), clusterId, backupId, ShardMigrations.TargetVersion,
            restoreSeconds, Math.Max(0, total - restoreSeconds), failures.Count == 0 && shards.Count > 0, [.. failures], [.. shards], signer.PublicKeyFingerprint, node, by);
    }

    // One restored shard: migrate with the live code, then the offline deep check and the counts.
    private static RehearsalShard Rehearse(ShardHost staging, ShardRef shard, string id, TimeProvider time)
    {
        var host = shard.Zone is null ? staging : staging.ForZone(shard.Zone);
        var problems = new List<string>();
        int from = 0, to = 0;
        long records = 0, recordsAfter = 0, auditBefore = 0, auditAfter = 0;
        try
        {
            using (var store = ShardStore.Open(host.StoreOptions(shard.Kind, shard.Shard)))
            using (var security = host.Security.Open(store, shard.Kind, shard.Shard, shard.Zone, create: false))
            {
                store.UseAuthenticator(security.Mac);
                from = store.Meta.SchemaVersion;
                records = CountRecords(store);
                auditBefore = security.AuditHead.Sequence;
                var context = new ShardContext(shard.Kind, shard.Shard, host.Counts.Of(shard.Kind), security, new RecordIdGenerator(shard.Shard, time), time, host.Limits ?? Limits.Default) { Zone = shard.Zone };
                var steps = ShardMigrations.Pending(host.Migrations(store, context), from);
                try
                {
                    ShardMigrations.Apply(store, security, context.ResourcePrefix, steps, Principal, $"rehearsal={id}", time);
                }
                catch (ForgeOneException e)
                {
                    // The failed step left the file at the version before it: the counts and
                    // checks below show that it is unchanged, which is evidence too.
                    problems.Add(e.Error.ToString());
                }

                to = store.Meta.SchemaVersion;
                recordsAfter = CountRecords(store);
                auditAfter = security.AuditHead.Sequence;
                if (recordsAfter != records)
                {
                    problems.Add($"{records} records before the migrations, {recordsAfter} after");
                }

                // One audit record per step applied (each step moves the version by one).
                if (auditAfter != auditBefore + (to - from))
                {
                    problems.Add($"the audit chain moved from {auditBefore} to {auditAfter} for {to - from} migration(s)");
                }
            }

            if (to != ShardMigrations.TargetVersion)
            {
                problems.Add($"reached schema {to}, not {ShardMigrations.TargetVersion}");
            }

            var report = OfflineIntegrity.Check(host, shard.Kind, shard.Shard);
            problems.AddRange(report.Errors.Take(20).Select(e => e.ToString()));
        }
        catch (ForgeOneException e)
        {
            problems.Add(e.Error.ToString());
        }

        return new RehearsalShard(shard.Name, from, to, records, recordsAfter, auditBefore, auditAfter, [.. problems]);
    }

    // Every record but the audit chain and the schema history (a migration adds one of each).
    private static long CountRecords(IShardStore store) =>
        store.Read(txn => Tables.For(store.Meta.Kind).Where(t => t is not (Tables.Audit or Tables.SchemaHistory)).Sum(t => txn.Count(t)));

    /// <summary>Stores a report in every target: report.json and report.sig (the audit key's signature), then makes the folder read-only.</summary>
    public static IReadOnlyList<string> Store(RehearsalReport report, IReadOnlyList<BackupTarget> targets, AuditSigner signer)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(targets);
        var json = report.Encode();
        var signature = DetachedSignature.Create(signer, json);
        var stored = new List<string>();
        foreach (var target in targets)
        {
            try
            {
                foreach (var (name, content) in new[] { ("report.json", json), ("report.sig", signature) })
                {
                    using var file = target.Begin($"{FolderOf(report.Id)}/{name}");
                    file.Stream.Write(content);
                    file.Commit();
                }

                target.Seal(FolderOf(report.Id));
                stored.Add(target.Region);
            }
            catch (ForgeOneException) when (!target.Required)
            {
                // An optional region that cannot take the report is skipped.
            }
        }

        return stored;
    }

    /// <summary>
    /// The newest rehearsal report any target holds whose signature verifies under the audit
    /// public key, or null. A report with a bad signature is skipped (an edited "passed" is not one).
    /// </summary>
    public static RehearsalReport? Latest(BackupRepository repository)
    {
        ArgumentNullException.ThrowIfNull(repository);
        var ids = repository.Targets.SelectMany(t => t.List(Folder, "report.sig")).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Reverse();
        foreach (var id in ids)
        {
            foreach (var target in repository.Targets.Where(t => t.Exists($"{FolderOf(id)}/report.json")))
            {
                var label = $"rehearsal report {id} in region {target.Region}";
                try
                {
                    var json = target.ReadAll($"{FolderOf(id)}/report.json");
                    DetachedSignature.Verify(json, target.ReadAll($"{FolderOf(id)}/report.sig"), repository.PublicKeyPem, label);
                    var report = RehearsalReport.Decode(json, label);
                    if (report.Id == id)
                    {
                        return report;
                    }
                }
                catch (ForgeOneException e) when (e.Code is ErrorCodes.BackupManifestInvalid or ErrorCodes.BackupFileMissing)
                {
                    // Try the next copy, then the next older report.
                }
            }
        }

        return null;
    }

    private static bool IsRestorable(BackupRepository repository, string backupId, IReadOnlyList<string> regions)
    {
        try
        {
            repository.Load(backupId, regions);
            return true;
        }
        catch (ForgeOneException)
        {
            return false;
        }
    }
}

/// <summary>
/// The gate of <c>schema migrate</c> on the live cluster: a passing rehearsal of the same target
/// version, no older than the configured age, or an explicit override with a reason (audited by
/// the caller). Pure: the coordinator hands it the newest verified report and the clock.
/// </summary>
public static class RehearsalGate
{
    /// <summary>
    /// The audit detail of an allowed migrate (naming the rehearsal, or the override and its
    /// reason). Throws <c>storage.rehearsal_required</c> when refused, <c>validation.invalid_argument</c>
    /// for an override without a reason.
    /// </summary>
    public static string Check(RehearsalReport? latest, int targetVersion, DateTimeOffset now, TimeSpan maxAge, bool withoutRehearsal, string? reason)
    {
        if (withoutRehearsal)
        {
            return string.IsNullOrWhiteSpace(reason)
                ? throw new ForgeOneException(ErrorCodes.InvalidArgument, "--without-rehearsal needs --reason \"...\": the override is audited with it")
                : $"without-rehearsal reason={reason.Trim()}";
        }

        var refusal = latest is null ? "no rehearsal report exists"
            : !latest.Passed ? $"the newest rehearsal {latest.Id} failed ({string.Join("; ", latest.Failures.Take(3))})"
            : latest.TargetVersion != targetVersion ? $"the newest rehearsal {latest.Id} rehearsed schema {latest.TargetVersion}, not {targetVersion}"
            : now - latest.FinishedAt > maxAge ? $"the newest rehearsal {latest.Id} finished at {latest.FinishedAt:O}, older than {maxAge}"
            : null;
        return refusal is null
            ? $"rehearsal={latest!.Id} backup={latest.BackupId} rehearsed_at={latest.FinishedAt:O}"
            : throw new ForgeOneException(ErrorCodes.SchemaRehearsalRequired,
                $"schema migrate to version {targetVersion} needs a passing rehearsal of it no older than {maxAge}: {refusal}. Run `forgeone schema rehearse`, or override with --without-rehearsal --reason \"...\" (audited).");
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(RehearsalReport))]
internal sealed partial class RehearsalJson : JsonSerializerContext;
