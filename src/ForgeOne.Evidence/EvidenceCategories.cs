namespace ForgeOne.Evidence;

/// <summary>
/// A kind of evidence and the file that holds it. Most categories are cut from the audit chains
/// themselves (records whose action starts with one of <see cref="Actions"/>), so every line
/// points at a record whose chain the verifier checks; the exporter adds lines from other
/// sources (backup catalog entries with their drill reports, for example) to the same file.
/// </summary>
/// <param name="Name">Stable name (used in control maps).</param>
/// <param name="Path">The file in the package.</param>
/// <param name="Title">What it holds, for the auditor.</param>
/// <param name="Actions">Audit action prefixes whose records it lists.</param>
public sealed record EvidenceCategory(string Name, string Path, string Title, string[] Actions)
{
    /// <summary>Whether an audit record belongs here.</summary>
    public bool Matches(string action, bool denied) =>
        Name == EvidenceCategories.Denied ? denied : Actions.Any(a => action.StartsWith(a, StringComparison.Ordinal));
}

/// <summary>The categories a package holds and their files.</summary>
public static class EvidenceCategories
{
    /// <summary>Every shard's audit chain of the period: <c>audit/{shard}.jsonl</c>.</summary>
    public const string Audit = "audit";

    /// <summary>Seals of the period and their verification: <c>seals/seals.jsonl</c>, <c>seals/verification.json</c>.</summary>
    public const string Seals = "seals";

    /// <summary>GDPR Art. 30 records of processing: <c>gdpr/records-of-processing.json</c>.</summary>
    public const string Processing = "processing";

    /// <summary>Test reports passed with <c>--attach</c>: <c>attachments/*</c>.</summary>
    public const string Attachments = "attachments";

    /// <summary>Refused operations (audit outcome Denied).</summary>
    public const string Denied = "access-denied";

    /// <summary>Key events.</summary>
    public const string Keys = "keys";

    /// <summary>Backups and restores.</summary>
    public const string Backups = "backups";

    /// <summary>DR drills with their reports.</summary>
    public const string Drills = "drills";

    /// <summary>Schema changes.</summary>
    public const string Schema = "schema";

    /// <summary>Policy versions.</summary>
    public const string Policy = "policy";

    /// <summary>API key lifecycle.</summary>
    public const string ApiKeys = "apikeys";

    /// <summary>Retention sweeps.</summary>
    public const string Retention = "retention";

    /// <summary>Legal holds.</summary>
    public const string LegalHolds = "legal-holds";

    /// <summary>Integrity events (scrubber findings, incarnations, seal failures).</summary>
    public const string Integrity = "integrity";

    /// <summary>Seals file.</summary>
    public const string SealsPath = "seals/seals.jsonl";

    /// <summary>Export-time seal verification.</summary>
    public const string SealVerificationPath = "seals/verification.json";

    /// <summary>Records of processing.</summary>
    public const string ProcessingPath = "gdpr/records-of-processing.json";

    /// <summary>Auditor instructions.</summary>
    public const string ReadmePath = "README.txt";

    /// <summary>Categories listed from the audit chains (and other sources), in file order.</summary>
    public static IReadOnlyList<EvidenceCategory> Listed { get; } =
    [
        new(Keys, "keys/events.jsonl", "Key events: data-key creation, rotation, retirement, destruction, KEK rewrap, record rewrap, key backups", ["keys.", "backup.keys"]),
        new(Backups, "backups/backups.jsonl", "Backups, restores and their verification", ["backup.", "restore."]),
        new(Drills, "backups/drills.jsonl", "Disaster-recovery drills and their reports", ["backup.drill", "dr."]),
        new(Schema, "schema/history.jsonl", "Schema migrations applied, rehearsed or overridden", ["schema.", "backup.schema_"]),
        new(Policy, "policy/versions.jsonl", "Access policy versions with their hashes", ["policy."]),
        new(ApiKeys, "apikeys/events.jsonl", "API key creation, use refusals and revocation", ["apikey.", "system.bootstrap_key"]),
        new(Retention, "retention/sweeps.jsonl", "Retention sweeps (what expired and was erased)", ["events.retention_sweep", "logs.retention", "retention.", "system.metrics_sweep"]),
        new(LegalHolds, "retention/legal-holds.jsonl", "Legal holds placed and released", ["events.topic_legal_hold", "logs.legal_hold", "legal_hold."]),
        new(Integrity, "integrity/events.jsonl", "Integrity events: scrubber findings, new incarnations after restores, residency changes", ["system.integrity_event", "audit.", "system.residency_set"]),
        new(Denied, "access/denied.jsonl", "Every refused operation (authorization denials)", []),
    ];

    /// <summary>The listed category called <paramref name="name"/>, or null.</summary>
    public static EvidenceCategory? Find(string name) => Listed.FirstOrDefault(c => c.Name == name);
}
