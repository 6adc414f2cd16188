using System.Text.Json.Nodes;
using ForgeOne.Security;

namespace ForgeOne.Evidence;

/// <summary>One audit record of the period, as stored, with its data-naming part decrypted when the exporter may show it.</summary>
/// <param name="Record">The record as its chain hashes it.</param>
/// <param name="Subject">The decrypted subject (format 2), the whole resource's data part; null when sealed or absent.</param>
public sealed record AuditEntry(AuditRecord Record, string? Subject = null);

/// <summary>One shard's audit records of the period, in seq order, without gaps.</summary>
/// <param name="ShardId">The chain id, e.g. <c>logs-0003</c>.</param>
/// <param name="Entries">Consecutive records.</param>
public sealed record ShardAudit(string ShardId, IReadOnlyList<AuditEntry> Entries);

/// <summary>A record from outside the audit chains (a backup catalog entry with its drill report, a schema history row, a policy version).</summary>
/// <param name="Category">An <see cref="EvidenceCategories"/> name.</param>
/// <param name="Source">Where it came from, e.g. <c>backup-catalog</c>, <c>schema_history/logs-0001</c>.</param>
/// <param name="Content">The record as JSON.</param>
public sealed record EvidenceItem(string Category, string Source, JsonNode Content);

/// <summary>A topic (or blob namespace) as the GDPR records of processing describe it.</summary>
/// <param name="Name">Topic name.</param>
/// <param name="Kind">logs, events or blobs.</param>
/// <param name="Tenant">Owning tenant, when known.</param>
/// <param name="CreatedAt">Creation time, when known.</param>
/// <param name="Retention">Retention period, or null (kept until deleted).</param>
/// <param name="Zone">Residency zone, or null.</param>
/// <param name="Classification">Classification level (0 = public).</param>
/// <param name="LegalHold">True while a legal hold stops erasure.</param>
/// <param name="Metadata">Declared metadata: <c>purpose</c>, <c>data_subjects</c>, <c>personal_data</c>, <c>recipients</c> are read.</param>
public sealed record ProcessingTopic(string Name, string Kind, string? Tenant, DateTimeOffset? CreatedAt, TimeSpan? Retention, string? Zone, int Classification, bool LegalHold,
    IReadOnlyDictionary<string, string> Metadata);

/// <summary>The controller's declared identity (Art. 30(1)(a)); configured, never guessed.</summary>
/// <param name="Name">Controller name.</param>
/// <param name="Contact">Contact details.</param>
/// <param name="Representative">Representative, if any.</param>
/// <param name="ProtectionOfficer">Data protection officer, if any.</param>
public sealed record ProcessingController(string Name, string Contact, string? Representative = null, string? ProtectionOfficer = null);

/// <summary>Everything an export gathers from the cluster; the package is a pure function of it.</summary>
/// <param name="Audit">Every shard's audit records of the period (extended to the last sealed head).</param>
/// <param name="Seals">The seals of the period, in number order, consecutive.</param>
/// <param name="Items">Records from other sources.</param>
/// <param name="Topics">Topics for the records of processing.</param>
/// <param name="Attachments">Test reports: file name and bytes.</param>
/// <param name="Controller">The controller (Art. 30(1)(a)), if configured.</param>
/// <param name="Regions">Node regions of the cluster (where data may live), if known.</param>
public sealed record EvidenceSources(
    IReadOnlyList<ShardAudit> Audit,
    IReadOnlyList<Seal> Seals,
    IReadOnlyList<EvidenceItem>? Items = null,
    IReadOnlyList<ProcessingTopic>? Topics = null,
    IReadOnlyList<(string Name, byte[] Bytes)>? Attachments = null,
    ProcessingController? Controller = null,
    IReadOnlyList<string>? Regions = null);
