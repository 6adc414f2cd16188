using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Configuration;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Shards;
using ForgeOne.Security;

namespace ForgeOne.Cluster.Tests;

/// <summary>One in-process cluster node: an ActorSystem on a loopback port running <see cref="ForgeOneCluster"/>.</summary>
public sealed class InProcessNode
{
    private InProcessNode(ActorSystem system, ForgeOneCluster cluster, ForgeOneNodeOptions options)
    {
        System = system;
        Cluster = cluster;
        Options = options;
    }

    public ActorSystem System { get; }

    public ForgeOneCluster Cluster { get; }

    public ForgeOneNodeOptions Options { get; }

    public string Address => Akka.Cluster.Cluster.Get(System).SelfAddress.ToString();

    /// <summary>Short failure-detection and downing timings so fail-over takes seconds, not a minute.</summary>
    public static ForgeOneNodeOptions Options_(TempRoot root, int port, int seedPort) => new()
    {
        Port = port,
        SeedNodes = [$"akka.ssl.tcp://forgeone@127.0.0.1:{seedPort}"],
        Roles = ["storage"],
        DataRoot = root.DataRoot,
        KeysDirectory = root.KeysDirectory,
        ShardCounts = new ShardCountOptions { Logs = 9, Events = 2, Blobs = 2 },
        Shards = new ShardOptions { NoSync = true },
        Singletons = new SingletonOptions { SealInterval = TimeSpan.FromSeconds(1) },
        Failure = new FailureOptions
        {
            AcceptableHeartbeatPause = TimeSpan.FromSeconds(2),
            StableAfter = TimeSpan.FromSeconds(2),
            DownRemovalMargin = TimeSpan.FromMilliseconds(500),
        },
    };

    public const string FastTestHocon = """
        akka.loglevel = WARNING
        akka.cluster.sharding.retry-interval = 200ms
        akka.cluster.sharding.coordinator-failure-backoff = 500ms
        akka.cluster.sharding.rebalance-interval = 2s
        akka.cluster.sharding.waiting-for-state-timeout = 1s
        akka.cluster.sharding.updating-state-timeout = 2s
        akka.cluster.failure-detector.heartbeat-interval = 500ms
        akka.cluster.gossip-interval = 300ms
        akka.cluster.leader-actions-interval = 300ms
        akka.cluster.singleton.hand-over-retry-interval = 300ms
        akka.remote.retry-gate-closed-for = 500ms
        """;

    public static async Task<InProcessNode> StartAsync(ForgeOneNodeOptions options, string extraHocon = "", TimeProvider? time = null, Func<ShardHost, ShardHost>? tuneHost = null)
    {
        options.ThrowIfInvalid();
        // The test's own settings win over the fast defaults.
        var system = ClusterConfig.CreateSystem(options, ConfigurationFactory.ParseString(extraHocon).WithFallback(ConfigurationFactory.ParseString(FastTestHocon)));
        if (options.Audit.SealsFile == new AuditOptions().SealsFile)
        {
            // Beside the test's data root, never the working directory every test shares.
            options.Audit.SealsFile = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(options.DataRoot))!, "seals", "audit-seals.log");
        }

        var seals = SealLogFile.OutsideDataRoot(options.Audit.SealsFileFull, options.DataRoot);
        var signer = AuditSigner.LoadFor(seals, options.KeysDirectory, options.DataRoot);
        var security = TestAuth.Node(time, Akka.Cluster.Cluster.Get(system).SelfAddress.ToString());
        var host = TestHosts.Create(options.DataRoot, options.KeysDirectory, options.ShardCounts.ToCounts(), security: security) with { Time = time ?? TimeProvider.System };
        var kek = new FileKekProvider(options.KeysDirectory, options.DataRoot);
        host = (host with { Backup = BackupHosting.Writer(options, kek, host.Time) }).WithTamperEvidence(seals, signer, options.Scrubber);
        host = tuneHost?.Invoke(host) ?? host;
        var backup = new BackupHosting(kek, options.KeysDirectoryFull);
        var cluster = await ForgeOneCluster.StartAsync(system, options, host, signer, TimeSpan.FromSeconds(30), security, backup: backup);
        return new InProcessNode(system, cluster, options);
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
