using Akka.Actor;
using Akka.Event;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Sharding;
using ForgeOne.Cluster.Singletons;
using ForgeOne.Common;
using ForgeOne.Security;

namespace ForgeOne.Cluster.Compliance;

/// <summary>
/// Cluster singleton driving the retention sweep of log and event shards: every interval it
/// asks each shard of each <see cref="SweepTarget"/> (a log or events region of the default
/// region or of a residency zone) to delete one bounded batch of expired entries
/// (<see cref="LogProtocol.SweepLogRetention"/> / <see cref="EventProtocol.SweepEventRetention"/>),
/// and asks again while the shard says there is more. One shard at a time, so a sweep never
/// competes with itself for a shard's write lock; each batch is one transaction and one audit
/// record. Both kinds go through the same loop: <see cref="Command"/> and <see cref="Outcome"/>
/// are the only kind-specific parts.
/// </summary>
public sealed class RetentionSweeper : ReceiveActor, IWithTimers
{
    /// <summary>Most batches one shard gets per round, so a huge backlog cannot stall the others.</summary>
    public const int MaxRoundsPerShard = 100;

    /// <summary>The shard kinds the sweeper can drive, in sweep order.</summary>
    public static readonly IReadOnlyList<ShardKind> SweptKinds = [ShardKind.Logs, ShardKind.Events];

    private readonly ILoggingAdapter _log = Context.GetLogger();

    /// <summary>Creates the sweeper.</summary>
    /// <param name="targets">Regions to sweep, with their zone (null = default), kind and shard count.</param>
    /// <param name="gate">Decides and audits requests from outside.</param>
    /// <param name="interval">Time between sweeps.</param>
    /// <param name="batch">Entries per sweep transaction.</param>
    public RetentionSweeper(IReadOnlyList<SweepTarget> targets, SingletonGate gate, TimeSpan interval, int batch = 1000)
    {
        // The timer's rounds run as this node's own principal; a request from outside is
        // decided (and audited) first.
        ReceiveAsync<Tick>(async _ => await Sweep(targets, gate.NodeToken, batch).ConfigureAwait(false));
        Receive<SweepNow>(now => gate.Decide(now, "retention.sweep_now", "", Self, Sender));
        ReceiveAsync<SingletonGate.Decided>(async decided =>
        {
            // Captured before the first await: Sender and Self are not available after it.
            var sender = decided.Sender;
            if (!decided.Verdict.Allowed)
            {
                sender.Tell(new SweepFailed(decided.Verdict.Refusal!));
                return;
            }

            sender.Tell(new SweepCompleted(await Sweep(targets, gate.NodeToken, batch).ConfigureAwait(false)));
        });

        Interval = interval;
    }

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    private TimeSpan Interval { get; }

    /// <summary>Props of the sweeper; throws for a target of a kind not in <see cref="SweptKinds"/>.</summary>
    public static Props Props(IReadOnlyList<SweepTarget> targets, SingletonGate gate, TimeSpan interval, int batch = 1000)
    {
        ArgumentNullException.ThrowIfNull(targets);
        if (targets.FirstOrDefault(t => !SweptKinds.Contains(t.Kind)) is { } unsweepable)
        {
            throw new ArgumentException($"The retention sweeper cannot sweep {unsweepable.Kind} shards.", nameof(targets));
        }

        return Akka.Actor.Props.Create(() => new RetentionSweeper(targets, gate, interval, batch));
    }

    /// <summary>The sweep command of one shard of <paramref name="kind"/> (a kind in <see cref="SweptKinds"/>).</summary>
    public static IShardCommand Command(PrincipalToken token, ShardKind kind, int shard, int batch, string? zone) => kind switch
    {
        ShardKind.Logs => new LogProtocol.SweepLogRetention(token, shard, batch, zone),
        ShardKind.Events => new EventProtocol.SweepEventRetention(token, shard, batch, zone),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "the retention sweeper sweeps only log and events shards"),
    };

    /// <summary>
    /// What a shard's reply to <see cref="Command"/> says: entries deleted and whether expired
    /// entries remain; null for anything else (a failure).
    /// </summary>
    public static (int Deleted, bool More)? Outcome(object reply) => reply switch
    {
        LogProtocol.RetentionSwept swept => (swept.Deleted, swept.More),
        EventProtocol.EventRetentionSwept swept => (swept.Deleted, swept.More),
        _ => null,
    };

    /// <inheritdoc />
    protected override void PreStart() => Timers.StartPeriodicTimer("sweep", Tick.Instance, Interval);

    /// <summary>One round over every shard of every target; returns the entries deleted.</summary>
    private async Task<long> Sweep(IReadOnlyList<SweepTarget> targets, PrincipalToken token, int batch)
    {
        long deleted = 0;
        foreach (var target in targets)
        {
            for (var n = 0; n < target.ShardCount; n++)
            {
                deleted += await SweepShard(target, token, n, batch).ConfigureAwait(false);
            }
        }

        return deleted;
    }

    /// <summary>Sweeps one shard in at most <see cref="MaxRoundsPerShard"/> batches; returns the entries deleted.</summary>
    private async Task<long> SweepShard(SweepTarget target, PrincipalToken token, int n, int batch)
    {
        long deleted = 0;
        for (var round = 0; round < MaxRoundsPerShard; round++)
        {
            object reply;
            try
            {
                reply = await target.Region.Ask<object>(Command(token, target.Kind, n, batch, target.Zone), TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                _log.Warning("Retention sweep of {0}-{1} (zone {2}) did not answer: {3}", ShardEntityId.TypeName(target.Kind), n, target.Zone ?? "default", e.Message);
                break;
            }

            if (Outcome(reply) is not { } outcome)
            {
                _log.Warning("Retention sweep of {0}-{1} (zone {2}) failed: {3}", ShardEntityId.TypeName(target.Kind), n, target.Zone ?? "default", reply);
                break;
            }

            deleted += outcome.Deleted;
            if (!outcome.More)
            {
                break;
            }
        }

        return deleted;
    }

    /// <summary>One region the sweeper sweeps: every shard 0..<paramref name="ShardCount"/>-1 of it.</summary>
    /// <param name="Region">The shard region (or proxy).</param>
    /// <param name="Zone">Its residency zone (null = the default, zone-less region).</param>
    /// <param name="Kind">Its shard kind, one of <see cref="SweptKinds"/>.</param>
    /// <param name="ShardCount">Its shard count.</param>
    public sealed record SweepTarget(IActorRef Region, string? Zone, ShardKind Kind, int ShardCount);

    /// <summary>Runs a sweep round now (<c>system:write</c>); the sender gets <see cref="SweepCompleted"/> or <see cref="SweepFailed"/>.</summary>
    public sealed record SweepNow(PrincipalToken Token) : IAuthenticated;

    /// <summary>A sweep round finished, having deleted <paramref name="Deleted"/> entries (log entries and events together).</summary>
    public sealed record SweepCompleted(long Deleted) : IReply;

    /// <summary>The request was refused; nothing was swept.</summary>
    public sealed record SweepFailed(Common.ForgeOneError Error) : IFailureReply;

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }
}
