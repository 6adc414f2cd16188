using System.Globalization;
using System.Text;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Protocol.Wire;
using ForgeOne.Cluster.Singletons;
using ForgeOne.Security;

namespace ForgeOne.Cluster.Hosting;

/// <summary>
/// Builds the Akka HOCON of a node from <see cref="ForgeOneNodeOptions"/>. One place for every
/// Akka setting ForgeOne depends on, so tests, the node and the benchmark run the same config.
/// </summary>
public static class ClusterConfig
{
    /// <summary>Dispatcher of shard actors: a thread per shard, so one shard's fsync never stalls another or Akka's own dispatcher.</summary>
    public const string ShardDispatcher = "forgeone.shard-dispatcher";

    /// <summary>Mailbox of shard actors (<see cref="Shards.ShardMailbox"/>).</summary>
    public const string ShardMailbox = "forgeone.shard-mailbox";

    /// <summary>
    /// Largest remoting frame (8 MiB): a message over it is dropped by Akka with only a log line,
    /// so clients check requests against it before sending (<see cref="FrameLimit"/>).
    /// </summary>
    public const int MaximumFrameSize = 8 * 1024 * 1024;

    /// <summary>Room left in a frame for the envelope around a message (recipient, sender, manifest).</summary>
    public const int FrameOverhead = 64 * 1024;

    /// <summary>The largest serialized message a client may send: <see cref="MaximumFrameSize"/> less the envelope.</summary>
    public const int FrameLimit = MaximumFrameSize - FrameOverhead;

    /// <summary>The SQLite provider name of Akka.Persistence.Sql (linq2db, Microsoft.Data.Sqlite).</summary>
    public const string SqliteProvider = "SQLite.MS";

    /// <summary>The PostgreSQL provider name of Akka.Persistence.Sql.</summary>
    public const string PostgresProvider = "PostgreSQL15";

    /// <summary>The node's full HOCON.</summary>
    public static Config Build(ForgeOneNodeOptions options)
    {
        var roles = options.Roles.Append($"region-{options.Region}").Select(Quote);
        var seeds = options.SeedAddresses().Select(Quote);
        var persistence = PersistenceHocon(options);
        var hocon = $$"""
            akka {
              loglevel = INFO
              # Everything goes through the configured loggers; Akka's own stdout logger would
              # print start-up and shutdown lines a second time.
              stdout-loglevel = OFF
              actor {
                provider = cluster
                # Serialization: what crosses between members is decoded only by serializers bound
                # to a schema (docs/WIRE.md). Akka serializers that build objects from type names in
                # the bytes are replaced under their identifiers (RefusedSerializer) or guarded.
                serializers {
                  forgeone-events = "{{Name(typeof(SingletonEventSerializer))}}"
                  forgeone-wire = "{{Name(typeof(ForgeOneWireSerializer))}}"
                  forgeone-backup-events = "{{Name(typeof(BackupEventSerializer))}}"
                  json = "{{Name(typeof(RefusedSerializer))}}"
                  proto = "{{Name(typeof(RefusedSerializer))}}"
                  daemon-create = "{{Name(typeof(RefusedSerializer))}}"
                  akka-misc = "{{Name(typeof(GuardedMiscMessageSerializer))}}"
                  akka-system-msg = "{{Name(typeof(GuardedSystemMessageSerializer))}}"
                }
                serialization-bindings {
                  "{{Name(typeof(IForgeOneMessage))}}" = forgeone-wire
                  "Akka.Actor.Status+Failure, Akka" = forgeone-wire
                  "{{Name(typeof(SealWritten))}}" = forgeone-events
                  "{{Name(typeof(KeyEventsRecorded))}}" = forgeone-events
                  "{{Name(typeof(BackupScheduleSet))}}" = forgeone-events
                  "{{Name(typeof(ForgeOne.Backup.BackupEvent))}}" = forgeone-backup-events
                }
                serialization-identifiers {
                  "{{Name(typeof(SingletonEventSerializer))}}" = {{SingletonEventSerializer.SerializerId}}
                  "{{Name(typeof(ForgeOneWireSerializer))}}" = {{ForgeOneWireSerializer.SerializerId}}
                  "{{Name(typeof(BackupEventSerializer))}}" = {{BackupEventSerializer.SerializerId}}
                }
                serialization-settings {
                  json {
                    identifier = 1
                    refused-because = "Newtonsoft JSON takes object types from $type names in the bytes (Akka's default for unbound types)"
                  }
                  proto {
                    identifier = 2
                    refused-because = "the Protobuf serializer instantiates the type named by the manifest"
                  }
                  daemon-create {
                    identifier = 3
                    refused-because = "remote deployment creates an actor class chosen by the sender"
                  }
                }
              }
              remote.dot-netty.tcp {
                hostname = {{Quote(options.Hostname)}}
                public-hostname = {{Quote(options.PublicHostname ?? options.Hostname)}}
                port = {{options.Port.ToString(CultureInfo.InvariantCulture)}}
                maximum-frame-size = {{MaximumFrameSize.ToString(CultureInfo.InvariantCulture)}}
                # Off: on Linux it becomes SO_REUSEPORT, and a second node on the same port would
                # bind beside the first and split the clients between two clusters.
                tcp-reuse-addr = off
                # Mutual TLS (ClusterTls): the certificate and the peer check come from the
                # DotNettySslSetup that CreateSystem adds; without it the transport refuses to start.
                enable-ssl = {{(options.Tls.Enabled ? "on" : "off")}}
                ssl {
                  suppress-validation = off
                  require-mutual-authentication = on
                  validate-certificate-hostname = off
                }
              }
              cluster {
                seed-nodes = [{{string.Join(", ", seeds)}}]
                roles = [{{string.Join(", ", roles)}}]
                min-nr-of-members = 1
                downing-provider-class = "Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster"
                split-brain-resolver {
                  active-strategy = keep-majority
                  # Only storage nodes count: a client or edge node must not tip a partition.
                  keep-majority.role = {{Quote(ForgeOneNodeOptions.StorageRole)}}
                  stable-after = {{Duration(options.Failure.StableAfter)}}
                  down-all-when-unstable = {{Duration(options.Failure.DownAllWhenUnstable)}}
                }
                # Membership news travels faster than Akka's 1 s defaults: a downed node is
                # removed (and its shards restart elsewhere) a round or two after the decision.
                gossip-interval = 500ms
                leader-actions-interval = 500ms
                failure-detector.heartbeat-interval = {{Duration(options.Failure.HeartbeatInterval)}}
                failure-detector.acceptable-heartbeat-pause = {{Duration(options.Failure.AcceptableHeartbeatPause)}}
                down-removal-margin = {{Duration(options.Failure.DownRemovalMargin)}}
                distributed-data.durable.keys = []
                sharding {
                  role = {{Quote(ForgeOneNodeOptions.StorageRole)}}
                  state-store-mode = ddata
                  remember-entities = off
                  # Akka's durable ddata would load a second, different LMDB native library into the process.
                  distributed-data.durable.keys = []
                  # We passivate ourselves (receive timeout + HandOff, which flushes and closes).
                  passivation.strategy = none
                  passivate-idle-entity-after = off
                  # A hand-off is a flush and a file close: well under a second. Kept short because
                  # a rebalance whose source node dies mid-way (after the coordinator asked it to
                  # hand off, before anyone saw it unreachable) waits for this timeout before the
                  # shard can be allocated again (Akka's RebalanceWorker consumes the region's
                  # termination in its first phase and then waits for a ShardStopped that never
                  # comes); at 30 s that shard stayed down long after the rest had moved.
                  handoff-timeout = 5s
                  # How often a region asks again where a shard lives while it buffers messages
                  # for it (Akka's 2 s default): after a node's death the first answer may still
                  # name the dead region, and the next ask is what finds the shard's new home.
                  retry-interval = 500ms
                  rebalance-interval = 10s
                }
                singleton {
                  role = {{Quote(ForgeOneNodeOptions.StorageRole)}}
                  hand-over-retry-interval = 500ms
                }
                singleton-proxy {
                  role = {{Quote(ForgeOneNodeOptions.StorageRole)}}
                }
              }
              coordinated-shutdown {
                run-by-clr-shutdown-hook = on
                phases.cluster-sharding-shutdown-region.timeout = 30s
              }
              {{persistence}}
            }
            {{ShardActorHocon}}
            """;
        // The SQL plugin's reference config (class names, table layout) is not loaded by Akka
        // until the extension starts, which is too late for the journal lookup: add it here.
        return ConfigurationFactory.ParseString(hocon).WithFallback(Akka.Persistence.Sql.SqlPersistence.DefaultConfiguration);
    }

    /// <summary>
    /// Creates the node's actor system: <see cref="Build"/> under <paramref name="overrides"/>, with
    /// the member's TLS identity (<see cref="ClusterTls"/>; loaded from <paramref name="options"/>
    /// unless given). Everything that joins a ForgeOne cluster starts its actor system here.
    /// </summary>
    public static ActorSystem CreateSystem(ForgeOneNodeOptions options, Config? overrides = null, ClusterTlsIdentity? identity = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        return ActorSystem.Create(options.ClusterName, Setup(options, overrides, identity, time));
    }

    /// <summary>The <see cref="ActorSystemSetup"/> of <see cref="CreateSystem"/> (for hosts that create the system themselves).</summary>
    public static ActorSystemSetup Setup(ForgeOneNodeOptions options, Config? overrides = null, ClusterTlsIdentity? identity = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        time ??= TimeProvider.System;
        var config = overrides is null ? Build(options) : overrides.WithFallback(Build(options));
        var bootstrap = BootstrapSetup.Create().WithConfig(config);
        identity ??= ClusterTls.Load(options, time);
        return identity is null ? ActorSystemSetup.Create(bootstrap) : bootstrap.And(ClusterTls.Setup(identity, time));
    }

    /// <summary>The dispatcher and mailbox shard actors need (also used alone by single-system tests).</summary>
    public static string ShardActorHocon => $$"""
        forgeone {
          shard-dispatcher {
            type = PinnedDispatcher
            executor = thread-pool-executor
          }
          shard-mailbox {
            mailbox-type = "{{Name(typeof(Shards.ShardMailbox))}}"
          }
        }
        """;

    /// <summary>
    /// Journal and snapshot store of the singletons: Akka.Persistence.Sql over SQLite in the data
    /// root by default, PostgreSQL when configured. HOCON values on separate lines (a
    /// connection string with quotes or '#' must not break the line it sits on).
    /// </summary>
    public static string PersistenceHocon(ForgeOneNodeOptions options)
    {
        var (provider, connection) = options.Persistence.Provider == "postgresql"
            ? (PostgresProvider, options.Persistence.ConnectionString!)
            : (SqliteProvider, options.Persistence.ConnectionString ?? $"Data Source={Path.Combine(options.DataRootFull, "singletons.db")}");
        var sb = new StringBuilder();
        sb.AppendLine("persistence {");
        foreach (var (section, plugin) in new[] { ("journal", "akka.persistence.journal.sql"), ("snapshot-store", "akka.persistence.snapshot-store.sql") })
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"  {section} {{");
            sb.AppendLine(CultureInfo.InvariantCulture, $"    plugin = \"{plugin}\"");
            sb.AppendLine("    sql {");
            sb.AppendLine(CultureInfo.InvariantCulture, $"      connection-string = {Quote(connection)}");
            sb.AppendLine(CultureInfo.InvariantCulture, $"      provider-name = {Quote(provider)}");
            sb.AppendLine("      auto-initialize = true");
            sb.AppendLine("    }");
            sb.AppendLine("  }");
        }

        sb.AppendLine("}");
        return sb.ToString();
    }

    private static string Quote(string value) =>
        "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private static string Name(Type type) => $"{type.FullName}, {type.Assembly.GetName().Name}";

    private static string Duration(TimeSpan value) => ((long)value.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "ms";
}
