namespace ForgeOne.Evidence;

/// <summary>One control of a framework and how ForgeOne evidences it.</summary>
/// <param name="Id">The framework's control id (ISO/IEC 27001:2022 Annex A, SOC 2 TSC, GDPR article).</param>
/// <param name="Legacy">ISO/IEC 27001:2013 Annex A numbers the control replaces (ISO only), else null.</param>
/// <param name="Title">The control's name.</param>
/// <param name="Statement">One line: how ForgeOne meets it.</param>
/// <param name="Evidence">Evidence category names (<see cref="EvidenceCategories"/>) whose files evidence it.</param>
public sealed record ControlDefinition(string Id, string? Legacy, string Title, string Statement, string[] Evidence);

/// <summary>A framework's control map.</summary>
/// <param name="Framework">soc2, iso27001 or gdpr.</param>
/// <param name="Title">Full name.</param>
/// <param name="Controls">Its controls.</param>
public sealed record FrameworkMap(string Framework, string Title, IReadOnlyList<ControlDefinition> Controls);

/// <summary>
/// The control maps a package carries. Statements describe what the code does, not intentions:
/// each names the mechanism and the evidence files show it working in the period.
/// </summary>
public static class ControlMaps
{
    /// <summary>SOC 2.</summary>
    public const string Soc2 = "soc2";

    /// <summary>ISO/IEC 27001:2022.</summary>
    public const string Iso27001 = "iso27001";

    /// <summary>GDPR.</summary>
    public const string Gdpr = "gdpr";

    private const string A = EvidenceCategories.Audit;
    private const string S = EvidenceCategories.Seals;

    /// <summary>Every framework, in the order <c>--framework all</c> writes them.</summary>
    public static IReadOnlyList<FrameworkMap> All { get; } =
    [
        new(Iso27001, "ISO/IEC 27001:2022 Annex A (2013 numbering beside each control)",
        [
            new("5.15", "A.9.1.1, A.9.1.2", "Access control",
                "Deny-by-default RBAC+ABAC policy enforced at the owning shard for every operation; every refusal is audited.", [EvidenceCategories.Policy, EvidenceCategories.Denied, A]),
            new("5.17", "A.9.2.4, A.9.3.1, A.9.4.3", "Authentication information",
                "API keys are stored as salted hashes only, issued and revoked through audited operations; the bootstrap key is written once with 0600 permissions.", [EvidenceCategories.ApiKeys, A]),
            new("5.18", "A.9.2.2, A.9.2.5, A.9.2.6", "Access rights",
                "Roles and attribute conditions live in versioned, hashed policies; each policy change and API key lifecycle event is an audit record.", [EvidenceCategories.Policy, EvidenceCategories.ApiKeys, A]),
            new("5.28", "A.16.1.7", "Collection of evidence",
                "This package: audit records as stored, seals signed with the audit key, a signed SHA-256 manifest an auditor verifies offline.", [A, S]),
            new("5.33", "A.18.1.3", "Protection of records",
                "Per-shard SHA-256 audit chains sealed with ECDSA P-256 (with RFC 6962 tree roots); modification, deletion, reordering and truncation are detected.", [A, S, EvidenceCategories.Integrity]),
            new("5.34", "A.18.1.4", "Privacy and protection of PII",
                "Sensitive fields are encrypted under field-class keys, topics are blind-indexed, residency zones pin data to regions, retention erases expired data.", [EvidenceCategories.Processing, EvidenceCategories.Retention, EvidenceCategories.LegalHolds, EvidenceCategories.Keys]),
            new("8.2", "A.9.2.3", "Privileged access rights",
                "Administrative operations (keys, backups, policy, API keys) need named admin permissions and are audited with the principal.", [EvidenceCategories.Policy, EvidenceCategories.Denied, A]),
            new("8.5", "A.9.4.2", "Secure authentication",
                "Edge requests carry API keys or JWTs; shards accept only principal tokens signed by the cluster; members authenticate with mutual TLS.", [EvidenceCategories.ApiKeys, EvidenceCategories.Denied]),
            new("8.13", "A.12.3.1", "Information backup",
                "Encrypted, verified backups to configured regions; restores and DR drills are recorded with signed reports.", [EvidenceCategories.Backups, EvidenceCategories.Drills]),
            new("8.15", "A.12.4.1, A.12.4.2, A.12.4.3", "Logging",
                "Every access, change and query is appended to the owning shard's audit chain in the same transaction as the write; administrators' actions too.", [A, S]),
            new("8.16", null, "Monitoring activities",
                "A background scrubber re-authenticates records and walks chains; the sealer reports shards it could not seal; findings are integrity events.", [EvidenceCategories.Integrity, S]),
            new("8.24", "A.10.1.1, A.10.1.2", "Use of cryptography",
                "AES-256-GCM records under versioned per-shard data keys wrapped by a KEK, rotated and rewrapped with every key event audited; ECDSA P-256 seals.", [EvidenceCategories.Keys, S]),
            new("8.32", "A.12.1.2, A.14.2.2", "Change management",
                "Schema migrations are versioned, rehearsed on a restored copy before the live run and recorded in schema_history and the audit chain.", [EvidenceCategories.Schema]),
        ]),
        new(Soc2, "SOC 2 Trust Services Criteria (2017, revised points of focus 2022)",
        [
            new("CC6.1", null, "Logical access security software, infrastructure and architectures",
                "Encryption at rest with managed keys; deny-by-default authorization at the shard; policy versions hashed and audited.", [EvidenceCategories.Policy, EvidenceCategories.Keys, EvidenceCategories.Denied]),
            new("CC6.6", null, "Security measures against threats from outside the system boundaries",
                "The edge authenticates every request (API key or JWT), rate-limits, and answers refusals as typed problems; cluster members need a CA-signed certificate.", [EvidenceCategories.ApiKeys, EvidenceCategories.Denied]),
            new("CC6.7", null, "Restricting transmission, movement and removal of information",
                "Residency zones keep a topic's data on nodes of its region; backups are encrypted; retention and legal holds govern removal.", [EvidenceCategories.Processing, EvidenceCategories.Retention, EvidenceCategories.LegalHolds, EvidenceCategories.Backups]),
            new("CC7.2", null, "Monitoring system components for anomalies",
                "Chains are checked at shard open, scrubbed in the background and sealed periodically; anomalies become integrity events and seal failures.", [EvidenceCategories.Integrity, S, A]),
            new("CC7.3", null, "Evaluating security events",
                "Seals and chains verify offline with the public key alone; this package's verifier names every altered, missing or added file and damaged record.", [S, A, EvidenceCategories.Integrity]),
            new("A1.2", null, "Backup processes and recovery infrastructure",
                "Scheduled and on-demand encrypted backups to several regions, verified restores into a new data-root version, key backups under a recovery secret.", [EvidenceCategories.Backups]),
            new("A1.3", null, "Testing recovery plan procedures",
                "DR drills restore the latest backup into a scratch location, verify integrity, chains and counts, and record a signed report; schema rehearsals likewise.", [EvidenceCategories.Drills, EvidenceCategories.Schema, EvidenceCategories.Attachments]),
            new("CC8.1", null, "Change management",
                "Schema migrations are versioned, rehearsed and recorded in the audit chain.", [EvidenceCategories.Schema]),
        ]),
        new(Gdpr, "GDPR (Regulation (EU) 2016/679)",
        [
            new("Art. 30(1)(a)", null, "Name and contact details of the controller", "Stated in the records of processing (as configured by the controller).", [EvidenceCategories.Processing]),
            new("Art. 30(1)(b)", null, "Purposes of the processing", "Per topic in the records of processing.", [EvidenceCategories.Processing]),
            new("Art. 30(1)(c)", null, "Categories of data subjects and of personal data", "Per topic: kind, classification and the field classes that are encrypted separately.", [EvidenceCategories.Processing]),
            new("Art. 30(1)(d)", null, "Categories of recipients", "Per topic: the owning tenant; access is limited by policy to principals of that tenant.", [EvidenceCategories.Processing, EvidenceCategories.Policy]),
            new("Art. 30(1)(e)", null, "Transfers to third countries", "Per topic and tenant: the residency zone data is pinned to; none means no zone constraint.", [EvidenceCategories.Processing, EvidenceCategories.Integrity]),
            new("Art. 30(1)(f)", null, "Time limits for erasure", "Per topic: retention period, legal holds, and the retention sweeps of the period.", [EvidenceCategories.Processing, EvidenceCategories.Retention, EvidenceCategories.LegalHolds]),
            new("Art. 30(1)(g)", null, "Technical and organisational security measures", "See Art. 32 below: encryption, access control, tamper-evident audit, backups and drills.", [EvidenceCategories.Processing, EvidenceCategories.Keys, S]),
            new("Art. 32(1)(a)", null, "Pseudonymisation and encryption", "AES-256-GCM at rest, field-class keys, blind-indexed topics and sealed audit subjects; key events audited.", [EvidenceCategories.Keys]),
            new("Art. 32(1)(b)", null, "Confidentiality, integrity, availability and resilience", "Authorization at the shard, sealed audit chains, cluster fail-over.", [EvidenceCategories.Denied, A, S]),
            new("Art. 32(1)(c)", null, "Restoring availability and access in a timely manner", "Verified backups and restores; drills measure the time to restore.", [EvidenceCategories.Backups, EvidenceCategories.Drills]),
            new("Art. 32(1)(d)", null, "Regularly testing, assessing and evaluating effectiveness", "DR drills, schema rehearsals, seal verification, and the attached test reports.", [EvidenceCategories.Drills, EvidenceCategories.Schema, S, EvidenceCategories.Attachments]),
        ]),
    ];

    /// <summary>The frameworks a <c>--framework</c> value names (<c>all</c> = every one); unknown names are refused.</summary>
    public static IReadOnlyList<FrameworkMap> Select(string framework)
    {
        ArgumentNullException.ThrowIfNull(framework);
        if (framework == "all")
        {
            return All;
        }

        return All.FirstOrDefault(m => m.Framework == framework) is { } map
            ? [map]
            : throw new ForgeOne.Common.ForgeOneException(ForgeOne.Common.ErrorCodes.InvalidArgument, $"unknown framework '{framework}' (soc2, iso27001, gdpr or all)");
    }
}
