using Akka.Actor;
using Akka.Event;
using ForgeOne.Cluster.Protocol;

namespace ForgeOne.Cluster.Compliance;

/// <summary>
/// Cluster singleton driving the log retention sweep: every interval it asks each log shard
/// (of every residency zone) to delete one bounded batch of expired entries, and asks again
/// while the shard says there is more. One shard at a time, so a sweep never competes with
/// itself for a shard's write lock; each batch is one transaction and one audit record.
/// </summary>
public sealed class RetentionSweeper : ReceiveActor, IWithTimers
{
    private readonly ILoggingAdapter _log = Context.GetLogger();

    /// <summary>Creates the sweeper.</summary>
    /// <param name="regions">Log shard regions with their zone (null = default).</param>
    /// <param name="logShards">Log shard count.</param>
    /// <param name="interval">Time between sweeps.</param>
    /// <param name="batch">Entries per sweep transaction.</param>
    public RetentionSweeper(IReadOnlyList<(IActorRef Region, string? Zone)> regions, int logShards, TimeSpan interval, int batch = 1000)
    {
        ReceiveAsync<SweepNow>(async _ =>
        {
            // Captured before the first await: Sender and Self are not available after it.
            var sender = Sender;
            var self = Self;
            long deleted = 0;
            foreach (var (region, zone) in regions)
            {
                for (var n = 0; n < logShards; n++)
                {
                    // Bounded: a shard with a huge backlog gets at most 100 batches per round.
                    for (var round = 0; round < 100; round++)
                    {
                        object reply;
                        try
                        {
                            reply = await region.Ask<object>(new LogProtocol.SweepLogRetention(Caller.System, n, batch, zone), TimeSpan.FromSeconds(30)).ConfigureAwait(false);
                        }
                        catch (Exception e)
                        {
                            _log.Warning("Retention sweep of logs-{0} (zone {1}) did not answer: {2}", n, zone ?? "default", e.Message);
                            break;
                        }

                        if (reply is not LogProtocol.RetentionSwept swept)
                        {
                            _log.Warning("Retention sweep of logs-{0} (zone {1}) failed: {2}", n, zone ?? "default", reply);
                            break;
                        }

                        deleted += swept.Deleted;
                        if (!swept.More)
                        {
                            break;
                        }
                    }
                }
            }

            if (!sender.IsNobody() && !sender.Equals(self))
            {
                sender.Tell(new SweepCompleted(deleted));
            }
        });

        Interval = interval;
    }

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    private TimeSpan Interval { get; }

    /// <summary>Props of the sweeper.</summary>
    public static Props Props(IReadOnlyList<(IActorRef Region, string? Zone)> regions, int logShards, TimeSpan interval, int batch = 1000) =>
        Akka.Actor.Props.Create(() => new RetentionSweeper(regions, logShards, interval, batch));

    /// <inheritdoc />
    protected override void PreStart() => Timers.StartPeriodicTimer("sweep", SweepNow.Instance, Interval);

    /// <summary>Runs a sweep round now; the sender gets <see cref="SweepCompleted"/>.</summary>
    public sealed record SweepNow : IForgeOneMessage
    {
        /// <summary>The instance.</summary>
        public static readonly SweepNow Instance = new();

        private SweepNow()
        {
        }
    }

    /// <summary>A sweep round finished, having deleted <paramref name="Deleted"/> entries.</summary>
    public sealed record SweepCompleted(long Deleted) : IForgeOneMessage;
}
