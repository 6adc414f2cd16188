using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Integrity;
using ForgeOne.Cluster.Security;
using ForgeOne.Common;
using ForgeOne.Common.Validation;
using ForgeOne.Security;
using ForgeOne.Storage;

namespace ForgeOne.Cluster.Shards;

/// <summary>
/// What every shard actor on a node shares: where files live, the counts, the tuning, how to
/// open a shard's security state and which handler serves each kind. Immutable; built once per
/// node by the bootstrap. <see cref="DataRoot"/> is the configured data root; the files of the
/// active version of it (see <see cref="DataRootLayout"/>) are resolved at each open, so a
/// restore that switches versions takes effect for every shard the next time it opens.
/// </summary>
public sealed record ShardHost(
    string DataRoot,
    ShardCounts Counts,
    ShardOptions Options,
    IShardSecurityFactory Security,
    IReadOnlyDictionary<ShardKind, IShardHandler> Handlers,
    TimeProvider Time,
    Limits Limits)
{
    /// <summary>
    /// Residency zone of the shards this host opens (null = default). A zone's shards live
    /// under <c>{active version}/zones/{zone}</c>, so <c>logs</c> shard 3 of zone eu and of the
    /// default zone are different files.
    /// </summary>
    public string? Zone { get; init; }

    /// <summary>The versions of <see cref="DataRoot"/>: the one resolver of where shard files live.</summary>
    public DataRootLayout Layout => new(DataRoot);

    /// <summary>Writes this node's shards' backup files (null on a node without backup targets: backups are refused).</summary>
    public IShardBackupWriter? Backup { get; init; }

    /// <summary>
    /// Opens a shard's file. <see cref="ShardStore.Open"/> unless a test puts a store in between
    /// (one that fails or delays its commits, say).
    /// </summary>
    public Func<ShardStoreOptions, IShardStore> OpenStore { get; init; } = ShardStore.Open;

    /// <summary>
    /// The schema steps that need the shard's keys, for one open shard:
    /// <see cref="ShardMigrations.BuiltIn"/> unless a test puts others in (one that fails midway, say).
    /// </summary>
    public Func<IShardStore, ShardContext, IReadOnlyList<IMigration>> Migrations { get; init; } = ShardMigrations.BuiltIn;

    /// <summary>Where the shards read their last sealed head when they open (the seals file outside the data root), or null.</summary>
    public ISealStore? Seals { get; init; }

    /// <summary>The audit public key that checks those seals (a seal that does not verify is not an anchor).</summary>
    public SealVerifier? SealKey { get; init; }

    /// <summary>The background scrubber's settings.</summary>
    public ScrubberOptions Scrubber { get; init; } = new();

    /// <summary>The node's scrub budget, shared by all its shards (see <see cref="ScrubberOptions.RateMBps"/>).</summary>
    public ScrubThrottle ScrubThrottle { get; init; } = new(4_000_000, TimeProvider.System);

    /// <summary>
    /// This host with tamper evidence on: shards anchor their open check in <paramref name="seals"/>
    /// (checked with <paramref name="signer"/>'s public key) and scrub as <paramref name="scrubber"/> says.
    /// </summary>
    public ShardHost WithTamperEvidence(ISealStore seals, AuditSigner signer, ScrubberOptions scrubber) =>
        this with
        {
            Seals = seals,
            SealKey = new SealVerifier(signer.ExportPublicKeyPem()),
            Scrubber = scrubber,
            ScrubThrottle = new ScrubThrottle(scrubber.RateMBps * 1_000_000, Time),
        };

    /// <summary>
    /// This node's claim on <see cref="DataRoot"/> (null: unchecked, as in tests that stand up
    /// several clusters in one process). With a claim, <see cref="ForgeOneCluster.StartAsync"/>
    /// opens no shard until every other live holder of the root is a member of this node's cluster.
    /// </summary>
    public DataRootClaim? Claim { get; init; }

    /// <summary>The node's read pool, shared by every shard of this host and its zones.</summary>
    public QueryPool Queries { get; init; } = new(Options.QueryWorkers, Options.MaxQueuedQueries);

    /// <summary>The host of zone <paramref name="zone"/>'s shards: same settings, the zone's folder.</summary>
    public ShardHost ForZone(string zone) => this with { Zone = zone };

    /// <summary>Store options for shard <paramref name="n"/> of <paramref name="kind"/>, in the data root's active version.</summary>
    public ShardStoreOptions StoreOptions(ShardKind kind, int n)
    {
        var active = Layout.ActivePath;
        return new(Zone is null ? active : Path.Combine(active, "zones", Zone), kind, n, Counts.Of(kind)) { NoSync = Options.NoSync, Time = Time, StoreName = ShardSecurityFactory.ChainIdOf(kind, n, Zone) };
    }
}
