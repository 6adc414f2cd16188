using ForgeOne.Common;

namespace ForgeOne.Cluster.Hosting;

/// <summary>
/// Everything one node needs to join the cluster and host shards. Bound from the
/// <c>ForgeOne</c> configuration section (appsettings, <c>FORGEONE__...</c> env vars, args)
/// and validated once at start: a bad value stops the node with a clear message instead of
/// surfacing later as a confusing Akka error.
/// </summary>
public sealed class ForgeOneNodeOptions
{
    /// <summary>The configuration section this binds from.</summary>
    public const string Section = "ForgeOne";

    /// <summary>Role of nodes that host storage shards and the singletons.</summary>
    public const string StorageRole = "storage";

    /// <summary>Role of nodes that serve the HTTP edge.</summary>
    public const string EdgeRole = "edge";

    /// <summary>Role of client nodes (actor clients, load runners): they join but host nothing.</summary>
    public const string ClientRole = "client";

    /// <summary>Akka actor system name; every node of a cluster must use the same one.</summary>
    public string ClusterName { get; set; } = "forgeone";

    /// <summary>Address this node binds remoting to.</summary>
    public string Hostname { get; set; } = "127.0.0.1";

    /// <summary>Address other nodes use to reach this one (defaults to <see cref="Hostname"/>).</summary>
    public string? PublicHostname { get; set; }

    /// <summary>Remoting port; 0 picks a free one (tests).</summary>
    public int Port { get; set; } = 4053;

    /// <summary>
    /// Seed node addresses (<c>akka.ssl.tcp://forgeone@host:port</c>; <c>akka.tcp://</c> is accepted
    /// too and means the same node over this cluster's transport). Empty: the node seeds itself (single node).
    /// </summary>
    public List<string> SeedNodes { get; set; } = [];

    /// <summary>Roles of this node: <c>storage</c>, <c>edge</c>, <c>client</c>.</summary>
    public List<string> Roles { get; set; } = [StorageRole, EdgeRole];

    /// <summary>Residency region of this node (data of a zone stays on nodes of its region); carried as the role <c>region-{Region}</c>.</summary>
    public string Region { get; set; } = "default";

    /// <summary>
    /// Residency zones the cluster serves (e.g. <c>eu</c>, <c>us</c>): every node starts one shard
    /// region per zone and data kind (<c>logs@eu</c>), hosted only by storage nodes whose
    /// <see cref="Region"/> is that zone (role <c>region-{zone}</c>). Same list on every node.
    /// </summary>
    public List<string> ResidencyZones { get; set; } = [];

    /// <summary>Retention sweeps and metrics collection.</summary>
    public ComplianceOptions Compliance { get; set; } = new();

    /// <summary>Shared data root: shard files and the embedded singleton journal live here.</summary>
    public string DataRoot { get; set; } = "./data";

    /// <summary>Keys directory (KEK, audit signing key). Must be outside <see cref="DataRoot"/> so backups never carry keys.</summary>
    public string KeysDirectory { get; set; } = "./keys";

    /// <summary>Shard count per kind; fixed for the cluster's life and recorded in the system store.</summary>
    public ShardCountOptions ShardCounts { get; set; } = new();

    /// <summary>Group commit, passivation, durability.</summary>
    public ShardOptions Shards { get; set; } = new();

    /// <summary>Singleton schedules.</summary>
    public SingletonOptions Singletons { get; set; } = new();

    /// <summary>Seals outside the data root.</summary>
    public AuditOptions Audit { get; set; } = new();

    /// <summary>The background scrubber.</summary>
    public ScrubberOptions Scrubber { get; set; } = new();

    /// <summary>Journal and snapshot store of the singletons.</summary>
    public PersistenceOptions Persistence { get; set; } = new();

    /// <summary>Failure detection and downing; the defaults suit a LAN, tests shorten them.</summary>
    public FailureOptions Failure { get; set; } = new();

    /// <summary>Console log format: <c>text</c> (one line per event, ISO-8601 UTC time) or <c>json</c> (one JSON object per line).</summary>
    public string LogFormat { get; set; } = "text";

    /// <summary>The HTTP edge (nodes with the <c>edge</c> role).</summary>
    public EdgeOptions Edge { get; set; } = new();

    /// <summary>Backup targets (regions), schedule, retention and tuning.</summary>
    public BackupOptions Backup { get; set; } = new();

    /// <summary>Principal tokens: lifetime, and (benchmarks only) whether shards verify them.</summary>
    public SecurityOptions Security { get; set; } = new();

    /// <summary>Mutual TLS between members (on unless explicitly turned off for development).</summary>
    public TlsOptions Tls { get; set; } = new();

    /// <summary>Where the bootstrap admin API key file is written (default: <c>{KeysDirectory}/bootstrap-admin.key</c>).</summary>
    public string? BootstrapKeyFile { get; set; }

    /// <summary>True when this node serves the HTTP edge.</summary>
    public bool IsEdge => Roles.Contains(EdgeRole, StringComparer.Ordinal);

    /// <summary>True when this node hosts storage shards and singletons.</summary>
    public bool IsStorage => Roles.Contains(StorageRole, StringComparer.Ordinal);

    /// <summary>Shard count of <paramref name="kind"/> (the system kind always has exactly one).</summary>
    public int ShardCountOf(ShardKind kind) => ShardCounts.Of(kind);

    /// <summary>Absolute data root.</summary>
    public string DataRootFull => Path.GetFullPath(DataRoot);

    /// <summary>Absolute keys directory.</summary>
    public string KeysDirectoryFull => Path.GetFullPath(KeysDirectory);

    /// <summary>The Akka address scheme of this cluster's transport: <c>akka.ssl.tcp</c> with TLS, <c>akka.tcp</c> without.</summary>
    public string TransportScheme => Tls.Enabled ? "akka.ssl.tcp" : "akka.tcp";

    /// <summary>
    /// <see cref="SeedNodes"/> with the scheme of this cluster's transport: a seed written as
    /// <c>akka.tcp://</c> names the same node, and only this transport can reach it.
    /// </summary>
    public IEnumerable<string> SeedAddresses() =>
        SeedNodes.Select(seed => seed.IndexOf("://", StringComparison.Ordinal) is var at and > 0 ? TransportScheme + seed[at..] : seed);

    /// <summary>Every problem with these options, each as a sentence naming the key to fix. Empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(ClusterName) || !ClusterName.All(c => char.IsAsciiLetterOrDigit(c) || c == '-' || c == '_'))
        {
            errors.Add($"ForgeOne:ClusterName '{ClusterName}' must be letters, digits, '-' or '_'.");
        }

        if (string.IsNullOrWhiteSpace(Hostname))
        {
            errors.Add("ForgeOne:Hostname must be set.");
        }

        if (Port is < 0 or > 65535)
        {
            errors.Add($"ForgeOne:Port {Port} must be 0..65535.");
        }

        foreach (var seed in SeedNodes)
        {
            if (!Uri.TryCreate(seed, UriKind.Absolute, out var uri) || uri.Scheme is not ("akka.tcp" or "akka.ssl.tcp") || uri.UserInfo != ClusterName || uri.Port <= 0)
            {
                errors.Add($"ForgeOne:SeedNodes entry '{seed}' must look like {TransportScheme}://{ClusterName}@host:port.");
            }
        }

        string[] knownRoles = [StorageRole, EdgeRole, ClientRole];
        if (Roles.Count == 0)
        {
            errors.Add("ForgeOne:Roles must name at least one of storage, edge, client.");
        }

        foreach (var role in Roles.Where(r => !knownRoles.Contains(r, StringComparer.Ordinal)))
        {
            errors.Add($"ForgeOne:Roles entry '{role}' is unknown (known: {string.Join(", ", knownRoles)}).");
        }

        if (string.IsNullOrWhiteSpace(Region) || !Region.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
        {
            errors.Add($"ForgeOne:Region '{Region}' must be lower-case letters, digits or '-'.");
        }

        foreach (var zone in ResidencyZones.Where(z => string.IsNullOrWhiteSpace(z) || z == "default" || !z.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')))
        {
            errors.Add($"ForgeOne:ResidencyZones entry '{zone}' must be lower-case letters, digits or '-' (and not 'default').");
        }

        errors.AddRange(Compliance.Validate());
        if (LogFormat is not ("text" or "json"))
        {
            errors.Add($"ForgeOne:LogFormat '{LogFormat}' must be text or json.");
        }

        if (IsStorage)
        {
            if (string.IsNullOrWhiteSpace(DataRoot))
            {
                errors.Add("ForgeOne:DataRoot must be set on storage nodes.");
            }

            if (string.IsNullOrWhiteSpace(KeysDirectory))
            {
                errors.Add("ForgeOne:KeysDirectory must be set on storage nodes.");
            }
            else if (Full(KeysDirectory) is not { } keys)
            {
                errors.Add($"ForgeOne:KeysDirectory '{KeysDirectory}' is not a valid path.");
            }
            else if (Full(DataRoot) is { } root && IsInside(keys, root))
            {
                errors.Add($"ForgeOne:KeysDirectory '{keys}' is inside ForgeOne:DataRoot '{root}'; keys must live outside the data root so a backup of the data never carries them.");
            }
        }

        if (IsEdge)
        {
            errors.AddRange(Edge.Validate());
        }

        errors.AddRange(Tls.Validate());
        errors.AddRange(ShardCounts.Validate());
        errors.AddRange(Shards.Validate());
        errors.AddRange(Singletons.Validate());
        errors.AddRange(Scrubber.Validate());
        if (IsStorage && Full(DataRoot) is { } dataRoot && (Full(Audit.SealsFile) is not { } sealsFile || IsInside(sealsFile, dataRoot)))
        {
            errors.Add($"ForgeOne:Audit:SealsFile '{Audit.SealsFile}' must be a path outside ForgeOne:DataRoot '{dataRoot}': deleting the data root's seal journal must not delete this copy.");
        }

        errors.AddRange(Persistence.Validate());
        errors.AddRange(Backup.Validate(Full(DataRoot), Full(KeysDirectory)));
        errors.AddRange(Failure.Validate());
        errors.AddRange(Security.Validate());
        return errors;
    }

    /// <summary>Throws <see cref="ForgeOneException"/> (<see cref="ErrorCodes.InvalidConfiguration"/>) listing every problem.</summary>
    public void ThrowIfInvalid()
    {
        var errors = Validate();
        if (errors.Count > 0)
        {
            throw new ForgeOneException(ErrorCodes.InvalidConfiguration, "Invalid node configuration:" + Environment.NewLine + "  - " + string.Join(Environment.NewLine + "  - ", errors));
        }
    }

    // Validation never throws: an empty or malformed path is reported by its own rule, not here.
    private static string? Full(string? path)
    {
        try
        {
            return string.IsNullOrWhiteSpace(path) ? null : Path.GetFullPath(path);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return null;
        }
    }

    private static bool IsInside(string path, string root)
    {
        var normalizedRoot = Path.TrimEndingDirectorySeparator(root) + Path.DirectorySeparatorChar;
        var normalizedPath = Path.TrimEndingDirectorySeparator(path) + Path.DirectorySeparatorChar;
        return normalizedPath.StartsWith(normalizedRoot, StringComparison.Ordinal);
    }
}

/// <summary>
/// Mutual TLS between members: every connection presents a certificate and accepts only peers
/// whose certificate chains to the cluster's CA. Without <see cref="Certificate"/> a node uses the
/// dev CA and certificate in its keys directory (created on a storage node's first start).
/// </summary>
public sealed class TlsOptions
{
    /// <summary>
    /// False: plain TCP remoting, where any process that reaches a node's port can join and send
    /// anything. For development only; the node says so loudly at start.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>This member's certificate: PEM (key in the same file or in <see cref="PrivateKey"/>) or PKCS#12 (<c>.pfx</c>/<c>.p12</c>).</summary>
    public string? Certificate { get; set; }

    /// <summary>PEM private key of <see cref="Certificate"/> when it is not in the same file (0600).</summary>
    public string? PrivateKey { get; set; }

    /// <summary>Password of a PKCS#12 <see cref="Certificate"/> (prefer the <c>FORGEONE__Tls__CertificatePassword</c> environment variable).</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>PEM bundle of the certificate authorities a peer's certificate must chain to (required with <see cref="Certificate"/>).</summary>
    public string? CaCertificate { get; set; }

    internal IEnumerable<string> Validate()
    {
        if (!Enabled && (Certificate ?? PrivateKey ?? CaCertificate) is not null)
        {
            yield return "ForgeOne:Tls:Enabled is false but certificates are configured; remove them or enable TLS.";
        }

        if (Certificate is null && (PrivateKey ?? CertificatePassword) is not null)
        {
            yield return "ForgeOne:Tls:PrivateKey and CertificatePassword need ForgeOne:Tls:Certificate.";
        }

        if (Certificate is not null && string.IsNullOrWhiteSpace(CaCertificate))
        {
            yield return "ForgeOne:Tls:CaCertificate is required with ForgeOne:Tls:Certificate (the CA peers' certificates must chain to).";
        }

        if (Certificate is null && CaCertificate is not null)
        {
            yield return "ForgeOne:Tls:CaCertificate needs ForgeOne:Tls:Certificate (without both, the dev CA in KeysDirectory is used).";
        }
    }
}

/// <summary>Shard count per kind; part of the routing, so fixed for a data root. The system kind always has one shard.</summary>
public sealed class ShardCountOptions
{
    /// <summary>Log shards.</summary>
    public int Logs { get; set; } = 8;

    /// <summary>Event shards.</summary>
    public int Events { get; set; } = 8;

    /// <summary>Blob shards.</summary>
    public int Blobs { get; set; } = 4;

    /// <summary>The count of <paramref name="kind"/>.</summary>
    public int Of(ShardKind kind) => kind switch
    {
        ShardKind.System => 1,
        ShardKind.Logs => Logs,
        ShardKind.Events => Events,
        ShardKind.Blobs => Blobs,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown shard kind"),
    };

    /// <summary>The counts as an immutable snapshot, for messages and the system store.</summary>
    public ShardCounts ToCounts() => new(Logs, Events, Blobs);

    internal IEnumerable<string> Validate()
    {
        foreach (var (name, value) in new[] { ("Logs", Logs), ("Events", Events), ("Blobs", Blobs) })
        {
            if (value is < 1 or > RecordId.MaxShards)
            {
                yield return $"ForgeOne:ShardCounts:{name} {value} must be 1..{RecordId.MaxShards}.";
            }
        }
    }
}

/// <summary>Immutable shard counts of a cluster.</summary>
public sealed record ShardCounts(int Logs, int Events, int Blobs)
{
    /// <summary>The count of <paramref name="kind"/>.</summary>
    public int Of(ShardKind kind) => kind switch
    {
        ShardKind.System => 1,
        ShardKind.Logs => Logs,
        ShardKind.Events => Events,
        ShardKind.Blobs => Blobs,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown shard kind"),
    };

    /// <summary>Every (kind, shard) of the cluster.</summary>
    public IEnumerable<(ShardKind Kind, int Shard)> All() =>
        Enum.GetValues<ShardKind>().SelectMany(kind => Enumerable.Range(0, Of(kind)).Select(n => (kind, n)));

    /// <inheritdoc />
    public override string ToString() => $"system=1 logs={Logs} events={Events} blobs={Blobs}";
}

/// <summary>Shard actor tuning.</summary>
public sealed class ShardOptions
{
    /// <summary>Most commands folded into one group-commit transaction.</summary>
    public int MaxGroupCommit { get; set; } = 4096;

    /// <summary>
    /// Most estimated bytes in one group-commit transaction. LMDB keeps a transaction's dirty
    /// pages in a list of at most 131,072 pages (512 MiB of 4 KiB pages) and spills beyond it;
    /// the cap keeps a group far below that, index and audit pages included.
    /// </summary>
    public long MaxGroupBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>Most admitted commands one shard holds waiting to commit; more are refused with <c>cluster.overloaded</c>.</summary>
    public int MaxPendingCommands { get; set; } = 8192;

    /// <summary>Most estimated bytes one shard holds waiting to commit; more are refused with <c>cluster.overloaded</c>.</summary>
    public long MaxPendingBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Reads (queries, replays, lists, stream pages) the node runs at once, over all its shards.</summary>
    public int QueryWorkers { get; set; } = Math.Max(2, Environment.ProcessorCount * 2);

    /// <summary>Queries the node holds waiting for a worker; more are refused with <c>cluster.overloaded</c>.</summary>
    public int MaxQueuedQueries { get; set; } = 1024;

    /// <summary>An entity with no messages for this long passivates (closes its file).</summary>
    public TimeSpan PassivateIdleAfter { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Skip fsync at commit. Benchmarks and tests only: a power loss may lose recent commits.</summary>
    public bool NoSync { get; set; }

    /// <summary>
    /// Longest a read's audit record waits for a group commit (the bounded delay): reads arriving
    /// within it share one audit commit. Zero commits each burst at once.
    /// </summary>
    public TimeSpan ReadAuditDelay { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// <c>bounded</c> (default): a read answers at once and its audit record commits within
    /// <see cref="ReadAuditDelay"/>. <c>sync</c>: a read answers only after its audit record
    /// committed, so no answered read can lack its record even if the node dies right after.
    /// </summary>
    public string ReadAuditMode { get; set; } = BoundedReadAudit;

    /// <summary>
    /// An explicit operator override: a shard whose audit chain failed its check keeps serving
    /// reads (still audited). Writes stay refused with <c>audit.chain_broken</c> either way.
    /// Default false: a broken shard refuses reads too.
    /// </summary>
    public bool AllowReadsOnBrokenChain { get; set; }

    /// <summary>
    /// A development switch: a shard whose file is at an older schema runs its pending migrations
    /// when it opens (audited as always). Default false: such a shard opens, serves no data
    /// (<c>storage.migration_pending</c>) and waits for <c>forgeone schema migrate</c>, which
    /// requires a passing rehearsal. A file a shard creates migrates at once either way.
    /// </summary>
    public bool MigrateAtOpen { get; set; }

    /// <summary>The <see cref="ReadAuditMode"/> value of the bounded-delay mode.</summary>
    public const string BoundedReadAudit = "bounded";

    /// <summary>The <see cref="ReadAuditMode"/> value of the synchronous mode.</summary>
    public const string SyncReadAudit = "sync";

    /// <summary>True in the synchronous read-audit mode.</summary>
    public bool SyncReadAudits => ReadAuditMode == SyncReadAudit;

    /// <summary>
    /// How long a log or events shard remembers the outcome of a write that carried a client
    /// request id: a retry within it returns the original ids and writes nothing. Longer costs
    /// disk (one small record per request, pruned as it expires).
    /// </summary>
    public TimeSpan IdempotencyWindow { get; set; } = TimeSpan.FromHours(1);

    internal IEnumerable<string> Validate()
    {
        if (ReadAuditMode is not (BoundedReadAudit or SyncReadAudit))
        {
            yield return $"ForgeOne:Shards:ReadAuditMode '{ReadAuditMode}' must be {BoundedReadAudit} or {SyncReadAudit}.";
        }

        if (IdempotencyWindow < TimeSpan.FromMinutes(1) || IdempotencyWindow > TimeSpan.FromDays(7))
        {
            yield return $"ForgeOne:Shards:IdempotencyWindow {IdempotencyWindow} must be 1 minute..7 days.";
        }

        if (ReadAuditDelay < TimeSpan.Zero || ReadAuditDelay > TimeSpan.FromSeconds(10))
        {
            yield return $"ForgeOne:Shards:ReadAuditDelay {ReadAuditDelay} must be 0..10 seconds.";
        }

        if (MaxGroupCommit is < 1 or > 1_000_000)
        {
            yield return $"ForgeOne:Shards:MaxGroupCommit {MaxGroupCommit} must be 1..1000000.";
        }

        if (MaxGroupBytes is < 64 * 1024 or > 256L * 1024 * 1024)
        {
            yield return $"ForgeOne:Shards:MaxGroupBytes {MaxGroupBytes} must be 65536..268435456 (256 MiB keeps a group below LMDB's dirty-page limit).";
        }

        if (MaxPendingCommands is < 1 or > 1_000_000)
        {
            yield return $"ForgeOne:Shards:MaxPendingCommands {MaxPendingCommands} must be 1..1000000.";
        }

        if (MaxPendingBytes is < 64 * 1024 or > 16L * 1024 * 1024 * 1024)
        {
            yield return $"ForgeOne:Shards:MaxPendingBytes {MaxPendingBytes} must be 65536..17179869184.";
        }

        if (PassivateIdleAfter < TimeSpan.FromSeconds(1))
        {
            yield return $"ForgeOne:Shards:PassivateIdleAfter {PassivateIdleAfter} must be at least 1 second.";
        }

        if (QueryWorkers is < 1 or > 1024)
        {
            yield return $"ForgeOne:Shards:QueryWorkers {QueryWorkers} must be 1..1024.";
        }

        if (MaxQueuedQueries is < 0 or > 1_000_000)
        {
            yield return $"ForgeOne:Shards:MaxQueuedQueries {MaxQueuedQueries} must be 0..1000000.";
        }
    }
}

/// <summary>Where seals are kept outside the data root.</summary>
public sealed class AuditOptions
{
    /// <summary>
    /// The append-only seals file: every seal is appended here besides the sealer's journal
    /// (which lives in the data root), and shards read their last sealed head from it when they
    /// open. Must be outside <see cref="ForgeOneNodeOptions.DataRoot"/>; every storage node must see
    /// the same file.
    /// </summary>
    public string SealsFile { get; set; } = "./seals/audit-seals.log";

    /// <summary>Absolute seals file path.</summary>
    public string SealsFileFull => Path.GetFullPath(SealsFile);
}

/// <summary>The background scrubber every shard runs.</summary>
public sealed class ScrubberOptions
{
    /// <summary>Whether shards scrub in the background (a scrub on demand works either way).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Bytes per second the scrubbers of one node read together, in MB (10^6 bytes).</summary>
    public double RateMBps { get; set; } = 4;

    /// <summary>A shard starts a new pass this long after the previous one started (or at once when the pass took longer).</summary>
    public TimeSpan PassInterval { get; set; } = TimeSpan.FromDays(1);

    internal IEnumerable<string> Validate()
    {
        if (RateMBps is <= 0 or > 10_000 || double.IsNaN(RateMBps))
        {
            yield return $"ForgeOne:Scrubber:RateMBps {RateMBps} must be above 0 and at most 10000.";
        }

        if (PassInterval < TimeSpan.FromMilliseconds(100))
        {
            yield return $"ForgeOne:Scrubber:PassInterval {PassInterval} must be at least 100ms.";
        }
    }
}

/// <summary>Singleton schedules.</summary>
public sealed class SingletonOptions
{
    /// <summary>How often the audit sealer seals every shard's chain head (a seal is written only when some head moved).</summary>
    public TimeSpan SealInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the key rotation coordinator checks the rotation policy.</summary>
    public TimeSpan RotationCheckInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Default backup schedule interval, persisted by the backup coordinator on first start.</summary>
    public TimeSpan BackupInterval { get; set; } = TimeSpan.FromHours(24);

    internal IEnumerable<string> Validate()
    {
        if (SealInterval < TimeSpan.FromMilliseconds(100))
        {
            yield return $"ForgeOne:Singletons:SealInterval {SealInterval} must be at least 100ms.";
        }

        if (RotationCheckInterval < TimeSpan.FromSeconds(1))
        {
            yield return $"ForgeOne:Singletons:RotationCheckInterval {RotationCheckInterval} must be at least 1 second.";
        }

        if (BackupInterval < TimeSpan.FromMinutes(1))
        {
            yield return $"ForgeOne:Singletons:BackupInterval {BackupInterval} must be at least 1 minute.";
        }
    }
}

/// <summary>Principal tokens (see docs/SECURITY.md).</summary>
public sealed class SecurityOptions
{
    /// <summary>
    /// Lifetime of the principal tokens this node issues (API-key sign-ins, its own identity). It
    /// is also the longest a revoked credential's token can still work on a node the revocation
    /// has not reached.
    /// </summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// False makes this node's shards and singletons believe any well-formed token without
    /// checking its signature, expiry or revocation: for benchmarks that measure what the check
    /// costs, never for a node that holds real data. The node logs a warning when it is off.
    /// </summary>
    public bool VerifyTokens { get; set; } = true;

    internal IEnumerable<string> Validate()
    {
        if (TokenLifetime < TimeSpan.FromMinutes(1) || TokenLifetime > TimeSpan.FromHours(1))
        {
            yield return $"ForgeOne:Security:TokenLifetime {TokenLifetime} must be 1 minute..1 hour.";
        }
    }
}

/// <summary>Singleton persistence: embedded SQLite (default) or PostgreSQL.</summary>
public sealed class PersistenceOptions
{
    /// <summary><c>sqlite</c> or <c>postgresql</c>.</summary>
    public string Provider { get; set; } = "sqlite";

    /// <summary>Connection string; for SQLite the default is <c>Data Source={DataRoot}/singletons.db</c>.</summary>
    public string? ConnectionString { get; set; }

    internal IEnumerable<string> Validate()
    {
        if (Provider is not ("sqlite" or "postgresql"))
        {
            yield return $"ForgeOne:Persistence:Provider '{Provider}' must be sqlite or postgresql.";
        }
        else if (Provider == "postgresql" && string.IsNullOrWhiteSpace(ConnectionString))
        {
            yield return "ForgeOne:Persistence:ConnectionString is required for postgresql.";
        }
    }
}

/// <summary>
/// Failure detection and split-brain resolution timings. The defaults are chosen so that a
/// storage node that dies serves its shards again from another node within about 10 s on a
/// LAN: the failure detector notices in ~3 s, the resolver waits <see cref="StableAfter"/>
/// for a stable view before downing it (keep-majority), removal takes a gossip round or two,
/// and the shards start elsewhere after <see cref="DownRemovalMargin"/>. README, Reliability,
/// has the measured parts.
/// </summary>
public sealed class FailureOptions
{
    /// <summary>How often members send each other heartbeats.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Phi accrual acceptable heartbeat pause: heartbeats may be this late before a member is
    /// suspected. Shorter finds a dead node sooner and a long GC pause or a starved process
    /// is marked unreachable more often (it comes back reachable when its heartbeats resume).
    /// </summary>
    public TimeSpan AcceptableHeartbeatPause { get; set; } = TimeSpan.FromSeconds(2.5);

    /// <summary>
    /// Split brain resolver: how long the membership view must stay unchanged before it downs
    /// unreachable members (keep-majority of the storage nodes). Long enough for every side of a
    /// partition to see the same picture; shorter than that risks two sides deciding on
    /// different views.
    /// </summary>
    public TimeSpan StableAfter { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Time after a member was removed before its shards and singletons start elsewhere: the
    /// downed side stops its own first. A stale owner cannot write either way (owner epoch fence
    /// inside every write transaction), so this can be short.
    /// </summary>
    public TimeSpan DownRemovalMargin { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// If the resolver cannot reach a decision for this long after the first unreachability
    /// (the view never stays stable for <see cref="StableAfter"/>), it downs every member: a
    /// flapping network must not end with two sides each keeping a majority view.
    /// </summary>
    public TimeSpan DownAllWhenUnstable { get; set; } = TimeSpan.FromSeconds(15);

    internal IEnumerable<string> Validate()
    {
        if (HeartbeatInterval < TimeSpan.FromMilliseconds(100) || HeartbeatInterval > TimeSpan.FromSeconds(30))
        {
            yield return $"ForgeOne:Failure:HeartbeatInterval {HeartbeatInterval} must be 100 ms .. 30 s.";
        }

        if (AcceptableHeartbeatPause < HeartbeatInterval)
        {
            yield return $"ForgeOne:Failure:AcceptableHeartbeatPause {AcceptableHeartbeatPause} must be at least the heartbeat interval ({HeartbeatInterval}).";
        }

        if (StableAfter < TimeSpan.FromSeconds(1))
        {
            yield return $"ForgeOne:Failure:StableAfter {StableAfter} must be at least 1 second (the resolver needs a stable view to decide on).";
        }

        if (DownRemovalMargin <= TimeSpan.Zero)
        {
            yield return $"ForgeOne:Failure:DownRemovalMargin {DownRemovalMargin} must be positive (Akka reads zero as 'use StableAfter').";
        }

        if (DownAllWhenUnstable < StableAfter)
        {
            yield return $"ForgeOne:Failure:DownAllWhenUnstable {DownAllWhenUnstable} must be at least StableAfter ({StableAfter}).";
        }
    }
}

/// <summary>Retention sweeps (singleton) and metrics collection (every storage node).</summary>
public sealed class ComplianceOptions
{
    /// <summary>How often the retention sweeper visits every log and events shard (of the default region and every residency zone).</summary>
    public TimeSpan RetentionSweepInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Entries (log entries or events) one sweep transaction deletes at most.</summary>
    public int RetentionSweepBatch { get; set; } = 1000;

    /// <summary>How often each storage node writes its metrics to the system store.</summary>
    public TimeSpan MetricsInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Metric samples older than this are swept.</summary>
    public TimeSpan MetricsRetention { get; set; } = TimeSpan.FromDays(7);

    internal IEnumerable<string> Validate()
    {
        if (RetentionSweepInterval < TimeSpan.FromMilliseconds(100))
        {
            yield return $"ForgeOne:Compliance:RetentionSweepInterval {RetentionSweepInterval} must be at least 100ms.";
        }

        if (RetentionSweepBatch is < 1 or > 10_000)
        {
            yield return $"ForgeOne:Compliance:RetentionSweepBatch {RetentionSweepBatch} must be 1..10000.";
        }

        if (MetricsInterval < TimeSpan.FromMilliseconds(100))
        {
            yield return $"ForgeOne:Compliance:MetricsInterval {MetricsInterval} must be at least 100ms.";
        }

        if (MetricsRetention <= TimeSpan.Zero)
        {
            yield return $"ForgeOne:Compliance:MetricsRetention {MetricsRetention} must be positive.";
        }
    }
}

/// <summary>One region target of backups (<c>ForgeOne:Backup:Targets:N</c>).</summary>
public sealed class BackupTargetConfig
{
    /// <summary>Region label (lower-case letters, digits, '-'), unique among the targets.</summary>
    public string Region { get; set; } = "";

    /// <summary>Folder of this region's data backups and drill reports (reachable from every storage node).</summary>
    public string Path { get; set; } = "";

    /// <summary>A backup is complete only when every required region holds every file.</summary>
    public bool Required { get; set; } = true;

    /// <summary>Folder of this region's key backups (default <c>{Path}/keys</c>); never inside the data backups.</summary>
    public string? KeysPath { get; set; }
}

/// <summary>Backups, restores, key backups and DR drills (<c>ForgeOne:Backup</c>). The incremental interval is <c>Singletons:BackupInterval</c>.</summary>
public sealed class BackupOptions
{
    /// <summary>Region targets; none: backups, drills and key backups are refused (and not scheduled).</summary>
    public List<BackupTargetConfig> Targets { get; set; } = [];

    /// <summary>Between full backups (default weekly); backups in between are incremental.</summary>
    public TimeSpan FullInterval { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Between DR drills of each region (default quarterly).</summary>
    public TimeSpan DrillInterval { get; set; } = TimeSpan.FromDays(91);

    /// <summary>Run the schedule; off: backups and drills on demand only.</summary>
    public bool Scheduled { get; set; } = true;

    /// <summary>Full backups (each with its incrementals) kept at least.</summary>
    public int KeepChains { get; set; } = 4;

    /// <summary>Chains whose newest backup is older than this are removed (the newest chain of each region always stays); null: no age limit.</summary>
    public TimeSpan? MaxAge { get; set; }

    /// <summary>Shards copied at once.</summary>
    public int Parallelism { get; set; } = 2;

    /// <summary>Longest one shard's file may take.</summary>
    public TimeSpan ShardTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Attempts per shard before a backup fails.</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>
    /// Re-read every file in every region and compare its SHA-256 before a backup counts as
    /// complete. Off by default: the hash is taken from the bytes written and every copy is
    /// fsynced and its size checked; <c>backup verify</c> and drills re-read every copy. On for
    /// targets whose reads do not come back from this machine's page cache (network storage).
    /// </summary>
    public bool VerifyAfterWrite { get; set; }

    /// <summary>Where drills restore to (default <c>{DataRoot}/drill-scratch</c>); removed after each drill.</summary>
    public string? ScratchDirectory { get; set; }

    /// <summary>Argon2id passes of key backups.</summary>
    public int KeyBackupOpsLimit { get; set; } = 3;

    /// <summary>Argon2id memory of key backups, in KiB (default 256 MiB).</summary>
    public int KeyBackupMemoryKiB { get; set; } = 256 * 1024;

    /// <summary>How old a passing schema rehearsal may be for <c>schema migrate</c> to accept it (default 7 days).</summary>
    public TimeSpan RehearsalMaxAge { get; set; } = TimeSpan.FromDays(7);

    /// <summary>The scratch folder for drills.</summary>
    public string ScratchDirectoryFull(string dataRootFull) => System.IO.Path.GetFullPath(ScratchDirectory ?? System.IO.Path.Combine(dataRootFull, "drill-scratch"));

    internal IEnumerable<string> Validate(string? dataRootFull, string? keysDirectoryFull)
    {
        var regions = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Targets.Count; i++)
        {
            var t = Targets[i];
            var key = $"ForgeOne:Backup:Targets:{i}";
            if (string.IsNullOrWhiteSpace(t.Region) || !t.Region.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-') || t.Region.Length > 40)
            {
                yield return $"{key}:Region '{t.Region}' must be 1..40 lower-case letters, digits or '-'.";
            }
            else if (!regions.Add(t.Region))
            {
                yield return $"{key}:Region '{t.Region}' is used by two targets; each region has one target.";
            }

            if (string.IsNullOrWhiteSpace(t.Path))
            {
                yield return $"{key}:Path must be set.";
                continue;
            }

            var path = FullOrNull(t.Path);
            var keysPath = FullOrNull(t.KeysPath ?? System.IO.Path.Combine(t.Path, "keys"));
            if (path is null || keysPath is null)
            {
                yield return $"{key}:Path '{t.Path}' or KeysPath '{t.KeysPath}' is not a valid path.";
                continue;
            }

            if (dataRootFull is not null && (Inside(path, dataRootFull) || Inside(dataRootFull, path)))
            {
                yield return $"{key}:Path '{path}' overlaps ForgeOne:DataRoot '{dataRootFull}'; backups live apart from the data they protect.";
            }

            if (keysDirectoryFull is not null && (Inside(path, keysDirectoryFull) || Inside(keysPath, keysDirectoryFull)))
            {
                yield return $"{key}: a backup folder inside ForgeOne:KeysDirectory '{keysDirectoryFull}' is refused.";
            }

            if (Inside(keysPath, System.IO.Path.Combine(path, "backups")))
            {
                yield return $"{key}:KeysPath '{keysPath}' is inside the region's data backups; key backups never sit beside the data they unlock.";
            }
        }

        foreach (var (name, value) in new[] { ("FullInterval", FullInterval), ("DrillInterval", DrillInterval), ("ShardTimeout", ShardTimeout), ("RehearsalMaxAge", RehearsalMaxAge) })
        {
            if (value < TimeSpan.FromMinutes(1))
            {
                yield return $"ForgeOne:Backup:{name} {value} must be at least 1 minute.";
            }
        }

        if (MaxAge is { } age && age <= TimeSpan.Zero)
        {
            yield return $"ForgeOne:Backup:MaxAge {age} must be positive.";
        }

        if (KeepChains is < 1 or > 1000)
        {
            yield return $"ForgeOne:Backup:KeepChains {KeepChains} must be 1..1000.";
        }

        if (Parallelism is < 1 or > 64)
        {
            yield return $"ForgeOne:Backup:Parallelism {Parallelism} must be 1..64.";
        }

        if (MaxAttempts is < 1 or > 20)
        {
            yield return $"ForgeOne:Backup:MaxAttempts {MaxAttempts} must be 1..20.";
        }

        if (KeyBackupOpsLimit is < 1 or > 64 || KeyBackupMemoryKiB is < 8 * 1024 or > 4 * 1024 * 1024)
        {
            yield return $"ForgeOne:Backup:KeyBackupOpsLimit {KeyBackupOpsLimit} must be 1..64 and KeyBackupMemoryKiB {KeyBackupMemoryKiB} 8192..4194304.";
        }

        var scratch = dataRootFull is null ? null : FullOrNull(ScratchDirectory ?? System.IO.Path.Combine(dataRootFull, "drill-scratch"));
        if (ScratchDirectory is not null && scratch is null)
        {
            yield return $"ForgeOne:Backup:ScratchDirectory '{ScratchDirectory}' is not a valid path.";
        }
        else if (scratch is not null && Targets.Any(t => FullOrNull(t.Path) is { } p && Inside(scratch, p)))
        {
            yield return $"ForgeOne:Backup:ScratchDirectory '{scratch}' is inside a backup target.";
        }
    }

    private static string? FullOrNull(string? path)
    {
        try
        {
            return string.IsNullOrWhiteSpace(path) ? null : System.IO.Path.GetFullPath(path);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return null;
        }
    }

    private static bool Inside(string path, string root)
    {
        var r = System.IO.Path.TrimEndingDirectorySeparator(root) + System.IO.Path.DirectorySeparatorChar;
        var p = System.IO.Path.TrimEndingDirectorySeparator(path) + System.IO.Path.DirectorySeparatorChar;
        return p.StartsWith(r, StringComparison.Ordinal);
    }
}
