using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Cluster;

namespace ForgeOne.FaultTests.Harness;

/// <summary>
/// The client's view of membership as timestamped events (unreachable, reachable, downed,
/// removed, up), whichever member took the decision: what the time-to-serve breakdown is read from.
/// </summary>
public sealed class MembershipRecorder : ReceiveActor
{

    /// <summary>Records into <paramref name="events"/>.</summary>
    public MembershipRecorder(ConcurrentQueue<MembershipEvent> events)
    {
        Receive<ClusterEvent.UnreachableMember>(e => events.Enqueue(new(DateTimeOffset.UtcNow, "unreachable", e.Member.Address.Port ?? 0)));
        Receive<ClusterEvent.ReachableMember>(e => events.Enqueue(new(DateTimeOffset.UtcNow, "reachable", e.Member.Address.Port ?? 0)));
        Receive<ClusterEvent.MemberDowned>(e => events.Enqueue(new(DateTimeOffset.UtcNow, "downed", e.Member.Address.Port ?? 0)));
        Receive<ClusterEvent.MemberRemoved>(e => events.Enqueue(new(DateTimeOffset.UtcNow, "removed", e.Member.Address.Port ?? 0)));
        Receive<ClusterEvent.MemberUp>(e => events.Enqueue(new(DateTimeOffset.UtcNow, "up", e.Member.Address.Port ?? 0)));
        Receive<ClusterEvent.MemberLeft>(e => events.Enqueue(new(DateTimeOffset.UtcNow, "leaving", e.Member.Address.Port ?? 0)));
        ReceiveAny(_ => { });
    }

    /// <inheritdoc />
    protected override void PreStart() =>
        Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));

    /// <inheritdoc />
    protected override void PostStop() => Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
}

/// <summary>A membership change the client saw: when, what, and the member's port.</summary>
public sealed record MembershipEvent(DateTimeOffset At, string Kind, int Port);
