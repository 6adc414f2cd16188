using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Security;
using ForgeOne.Cluster.Sharding;
using ForgeOne.Common;

namespace ForgeOne.Cluster.Compliance;

/// <summary>
/// One per storage node: every interval writes node and shard metrics to the system store
/// (<c>metrics</c>) and asks it to sweep samples older than the retention, one bounded batch a
/// tick. Node: GC heap, managed memory, working set, thread-pool queue. Shards hosted here:
/// commit count, commands applied, audit sequence, and the number of shards and entities.
/// </summary>
public sealed class MetricsCollector : ReceiveActor, IWithTimers
{
    private readonly ILoggingAdapter _log = Context.GetLogger();

    /// <summary>Creates the collector.</summary>
    public MetricsCollector(IActorRef systemRegion, IReadOnlyDictionary<ShardKind, IActorRef> regions, string node, IPrincipalTokenSource identity, TimeSpan interval, TimeSpan retention)
    {
        Interval = interval;
        ReceiveAsync<Collect>(async _ =>
        {
            // Captured before the first await: Sender and Self are not available after it.
            var sender = Sender;
            var self = Self;
            var samples = new List<SystemProtocol.MetricPoint>();
            var now = DateTimeOffset.UtcNow;
            var nodeLabels = new Dictionary<string, string>(StringComparer.Ordinal) { ["node"] = node };
            var gc = GC.GetGCMemoryInfo();
            samples.Add(new("node.gc_heap_bytes", now, gc.HeapSizeBytes, nodeLabels));
            samples.Add(new("node.managed_bytes", now, GC.GetTotalMemory(false), nodeLabels));
            samples.Add(new("node.working_set_bytes", now, Environment.WorkingSet, nodeLabels));
            samples.Add(new("node.threadpool_queue", now, ThreadPool.PendingWorkItemCount, nodeLabels));
            foreach (var (kind, region) in regions)
            {
                try
                {
                    var state = await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(5)).ConfigureAwait(false);
                    foreach (var shard in state.Shards)
                    {
                        foreach (var entity in shard.EntityIds)
                        {
                            if (!ShardEntityId.TryParse(entity, out var k, out var n))
                            {
                                continue;
                            }

                            var stats = await region.Ask<object>(new ShardProtocol.GetShardStats(identity.Current, k, n), TimeSpan.FromSeconds(5)).ConfigureAwait(false);
                            if (stats is ShardProtocol.ShardStats s)
                            {
                                var labels = new Dictionary<string, string>(StringComparer.Ordinal) { ["node"] = node, ["kind"] = k.FolderName(), ["shard"] = n.ToString(System.Globalization.CultureInfo.InvariantCulture) };
                                samples.Add(new("shard.commits", now, s.CommitCount, labels));
                                samples.Add(new("shard.commands_applied", now, s.CommandsApplied, labels));
                                samples.Add(new("shard.audit_sequence", now, s.AuditSequence, labels));
                            }
                        }
                    }
                }
                catch (Exception e)
                {
                    _log.Debug("Metrics: region {0} did not report: {1}", kind, e.Message);
                }
            }

            object reply;
            try
            {
                reply = await systemRegion.Ask<object>(new SystemProtocol.RecordMetrics(identity.Current, [.. samples]), TimeSpan.FromSeconds(10)).ConfigureAwait(false);
                await systemRegion.Ask<object>(new SystemProtocol.SweepMetrics(identity.Current, retention), TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                _log.Warning("Metrics: the system store did not take {0} samples: {1}", samples.Count, e.Message);
                reply = new Status.Failure(e);
            }

            if (!sender.IsNobody() && !sender.Equals(self))
            {
                sender.Tell(reply);
            }
        });
    }

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    private TimeSpan Interval { get; }

    /// <summary>Props of the collector.</summary>
    public static Props Props(IActorRef systemRegion, IReadOnlyDictionary<ShardKind, IActorRef> regions, string node, IPrincipalTokenSource identity, TimeSpan interval, TimeSpan retention) =>
        Akka.Actor.Props.Create(() => new MetricsCollector(systemRegion, regions, node, identity, interval, retention));

    /// <inheritdoc />
    protected override void PreStart() => Timers.StartPeriodicTimer("collect", Collect.Instance, Interval);

    /// <summary>Collects now; the sender gets the system store's reply (<see cref="SystemProtocol.MetricsRecorded"/>).</summary>
    public sealed class Collect
    {
        /// <summary>The instance.</summary>
        public static readonly Collect Instance = new();

        private Collect()
        {
        }
    }
}
