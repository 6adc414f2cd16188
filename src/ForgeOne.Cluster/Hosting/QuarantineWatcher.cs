using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Akka.Remote;

namespace ForgeOne.Cluster.Hosting;

/// <summary>
/// Downs this member the moment a cluster member tells it that it has been quarantined, i.e.
/// the rest of the cluster downed and removed it while it could not hear them (a process
/// frozen by SIGSTOP or a VM stall, a long partition). Classic remoting says so on the first
/// association attempt after the member runs again, but Akka.NET's cluster does not act on it:
/// left alone, the thawed member still holds its old view, its failure detector may still
/// count heartbeats that sat in its socket buffers while it was frozen as fresh, and its
/// split-brain resolver can then find a "majority" and down the real cluster from its side,
/// becoming an island that starts its own singletons (a second sealer) and serves stale
/// reads. The removal cannot be undone (a quarantined incarnation never rejoins), so the only
/// safe move is to leave at once; downing itself also skips the shard regions' graceful
/// hand-off, which would wait for a coordinator that no longer answers.
/// </summary>
public sealed class QuarantineWatcher : ReceiveActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();

    /// <summary>Creates the watcher.</summary>
    public QuarantineWatcher()
    {
        Receive<ThisActorSystemQuarantinedEvent>(OnQuarantined);
    }

    /// <summary>Props of the watcher (one per actor system).</summary>
    public static Props Props() => Akka.Actor.Props.Create(() => new QuarantineWatcher());

    /// <inheritdoc />
    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(ThisActorSystemQuarantinedEvent));

    /// <inheritdoc />
    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);

    private void OnQuarantined(ThisActorSystemQuarantinedEvent quarantined)
    {
        var cluster = Akka.Cluster.Cluster.Get(Context.System);

        // Only a member's word counts: a process that is not in our view (an old incarnation's
        // peer, a client that left) has no say over our membership.
        if (!cluster.State.Members.Any(m => m.Address == quarantined.RemoteAddress && m.Status != MemberStatus.Removed))
        {
            _log.Info("Quarantined by {0}, which is not a member in this node's view: ignored", quarantined.RemoteAddress);
            return;
        }

        if (cluster.SelfMember.Status is MemberStatus.Down or MemberStatus.Removed || cluster.IsTerminated)
        {
            return;
        }

        _log.Warning("Cluster member {0} has quarantined this node ({1}): the cluster removed it while it could not be reached; downing itself (it must be restarted to rejoin)", quarantined.RemoteAddress, cluster.SelfAddress);
        cluster.Down(cluster.SelfAddress);
    }
}
