using Akka.Actor;
using ForgeOne.Backup;
using ForgeOne.Cluster.Security;
using ForgeOne.Cluster.Shards;
using ForgeOne.Cluster.Singletons;
using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage;

namespace ForgeOne.Cluster.Hosting;

/// <summary>
/// What a storage node needs to run backups: its KEK (to wrap and unwrap backup data keys) and
/// its keys directory (for key backups); the coordinator authorizes with the node's security
/// state. The targets, schedule and tuning come from <see cref="ForgeOneNodeOptions.Backup"/>.
/// </summary>
public sealed record BackupHosting(IKekProvider Kek, string KeysDirectory)
{
    /// <summary>Where a restore records the shards' new incarnation (see <see cref="IRestoreIncarnations"/>).</summary>
    public IRestoreIncarnations Incarnations { get; init; } = new NoIncarnationRecords();

    /// <summary>The region targets of <paramref name="options"/>.</summary>
    public static IReadOnlyList<BackupTarget> Targets(ForgeOneNodeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return [.. options.Backup.Targets.Select(t => new BackupTarget(new BackupTargetOptions(t.Region, t.Path, t.Required, t.KeysPath)))];
    }

    /// <summary>The shard-side writer of a node (null without targets: shards then refuse backups with backup.no_targets).</summary>
    public static IShardBackupWriter? Writer(ForgeOneNodeOptions options, IKekProvider kek, TimeProvider time) =>
        options.Backup.Targets.Count == 0 ? null : new ShardBackupWriter(kek, Targets(options), time);

    /// <summary>The coordinator's services on this node.</summary>
    internal BackupServices Services(ForgeOneNodeOptions options, ShardRegions regions, IReadOnlyDictionary<(ShardKind, string), IActorRef> zones, AuditSigner signer, TimeProvider time, NodeSecurity security)
    {
        var b = options.Backup;
        var settings = new BackupSettings(
            new BackupSchedule(b.FullInterval, options.Singletons.BackupInterval, b.DrillInterval),
            new RetentionPolicy(b.KeepChains, b.MaxAge),
            b.Parallelism,
            b.ShardTimeout,
            b.MaxAttempts,
            b.VerifyAfterWrite,
            new KeyBackupCost((uint)b.KeyBackupOpsLimit, (uint)b.KeyBackupMemoryKiB),
            b.Scheduled,
            b.RehearsalMaxAge);
        return new BackupServices(regions, zones, Kek, signer, Targets(options), KeysDirectory, new DataRootLayout(options.DataRootFull),
            b.ScratchDirectoryFull(options.DataRootFull), security, settings, options.ClusterName, time)
        {
            Incarnations = Incarnations,
        };
    }

    /// <summary>A node started without backup hosting: the coordinator runs but refuses every backup (no targets, no KEK).</summary>
    internal static BackupHosting Disabled(string keysDirectory) => new(new NoKek(), keysDirectory);

    private sealed class NoKek : IKekProvider
    {
        public int CurrentVersion => 0;

        public KeyEncryptionKey Get(int version) => throw new ForgeOneException(ErrorCodes.CryptoKeyUnavailable, "this node was started without backups (no KEK given to the backup coordinator)");

        public KeyEncryptionKey Rotate() => throw new NotSupportedException();
    }
}
