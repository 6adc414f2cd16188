
namespace ForgeOne.Evidence;

/// <summary>
/// GDPR Art. 30(1) records of processing generated from what the cluster knows: one processing
/// activity per topic (owner tenant, declared purpose and categories from its metadata,
/// classification, residency zone, retention, legal hold), the controller as configured, and
/// the Art. 32 measures that apply to every activity. Nothing is invented: an undeclared
/// purpose reads "not declared" so the gap is visible to the auditor.
/// </summary>
public static class RecordsOfProcessing
{
    private const string NotDeclared = "not declared (set topic metadata)";

    /// <summary>The record for the package's scope (a tenant scope lists only that tenant's topics).</summary>
    public static ProcessingRecord Build(EvidenceSources sources, EvidenceScope scope, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(scope);
        var topics = (sources.Topics ?? []).Where(t => scope.Tenant is null || t.Tenant == scope.Tenant).OrderBy(t => t.Kind, StringComparer.Ordinal).ThenBy(t => t.Name, StringComparer.Ordinal);
        var regions = sources.Regions ?? [];
        var activities = topics.Select(t => new ProcessingActivity(
            t.Name,
            t.Kind,
            t.Tenant,
            Meta(t, "purpose") ?? NotDeclared,
            Meta(t, "data_subjects") ?? NotDeclared,
            Meta(t, "personal_data") ?? NotDeclared,
            t.Classification,
            EncryptedFields(t.Kind),
            Meta(t, "recipients") ?? (t.Tenant is null ? "principals the policy allows" : $"principals of tenant {t.Tenant} the policy allows"),
            t.Zone is null
                ? $"no residency zone: data may be stored on any node region ({(regions.Count == 0 ? "regions not reported" : string.Join(", ", regions))})"
                : $"pinned to residency zone {t.Zone}: stored and processed only on nodes of region {t.Zone}",
            t.Retention is { } r ? $"erased {r.TotalDays:0.##} days after the record's time by retention sweeps" : "kept until deleted (no retention set)",
            t.LegalHold)).ToArray();
        var sweeps = sources.Audit.SelectMany(a => a.Entries).Count(e => EvidenceCategories.Find(EvidenceCategories.Retention)!.Matches(e.Record.Action, false));
        return new ProcessingRecord(
            now,
            scope.From,
            scope.To,
            scope.Tenant,
            sources.Controller is { } c ? new ControllerEntry(c.Name, c.Contact, c.Representative, c.ProtectionOfficer) : new ControllerEntry(NotDeclared, NotDeclared, null, null),
            activities,
            sweeps,
            Measures);
    }

    private static readonly string[] Measures =
    [
        "Art. 32(1)(a): AES-256-GCM encryption at rest under per-shard data keys wrapped by a key-encryption key outside the data root; sensitive fields under separate field-class keys; topics blind-indexed; audit subjects sealed.",
        "Art. 32(1)(b): deny-by-default authorization at the owning shard for every operation, principal tokens signed by the cluster, mutual TLS between members; tamper-evident audit chains sealed with ECDSA P-256.",
        "Art. 32(1)(c): encrypted backups to several regions, verified restores into a new data-root version, key backups under a recovery secret.",
        "Art. 32(1)(d): DR drills and schema rehearsals on restored copies with recorded results; continuous chain scrubbing; offline verification of seals and evidence.",
    ];

    private static string? Meta(ProcessingTopic t, string key) => t.Metadata.TryGetValue(key, out var v) && !string.IsNullOrWhiteSpace(v) ? v : null;

    private static string[] EncryptedFields(string kind) => kind switch
    {
        "logs" => ["message", "metadata"],
        "events" => ["payload", "metadata"],
        "blobs" => ["name", "metadata", "content"],
        _ => [],
    };
}

/// <summary>Art. 30(1) record (gdpr/records-of-processing.json).</summary>
public sealed record ProcessingRecord(DateTimeOffset GeneratedAt, DateTimeOffset From, DateTimeOffset To, string? Tenant, ControllerEntry Controller, ProcessingActivity[] Activities, int RetentionSweepsInPeriod, string[] SecurityMeasures);

/// <summary>Art. 30(1)(a).</summary>
public sealed record ControllerEntry(string Name, string Contact, string? Representative, string? ProtectionOfficer);

/// <summary>One processing activity: Art. 30(1)(b)-(f) for one topic.</summary>
public sealed record ProcessingActivity(string Topic, string Kind, string? Tenant, string Purpose, string DataSubjects, string PersonalData, int Classification, string[] EncryptedFieldClasses,
    string Recipients, string Transfers, string Erasure, bool LegalHold);
