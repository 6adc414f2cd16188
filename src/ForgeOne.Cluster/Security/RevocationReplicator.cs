using System.Globalization;
using Akka.Actor;
using Akka.DistributedData;
using Akka.Event;
using ForgeOne.Security;

namespace ForgeOne.Cluster.Security;

/// <summary>
/// Keeps this node's <see cref="RevokedCredentials"/> (what its token verifier and API-key cache
/// refuse) in step with every other node's.
/// </summary>
/// <remarks>
/// Why Akka Distributed Data (an <see cref="ORSet{T}"/> of <c>"{credentialId}|{unix ms}"</c>
/// under one key): a shard verifies tokens from memory, so every node must hold the list, and a
/// revocation must reach every node without a coordinator. It is written to every reachable
/// replica at once (<see cref="WriteAll"/>) and gossip completes it for the others. The bound a
/// revocation can take to bite on a node that never hears of it is the token lifetime: tokens
/// are short-lived and the store refuses a revoked key's renewal. The system store stays the
/// source of truth (the revoked record is durable); since ForgeOne runs ddata without durable
/// keys, every node re-seeds the set from the store when it starts (revocations younger than the
/// longest token lifetime).
/// </remarks>
public sealed class RevocationReplicator : ReceiveActor
{
    /// <summary>The replicated key.</summary>
    public static readonly ORSetKey<string> Key = new("forgeone-revoked-credentials");

    private readonly RevokedCredentials _revoked;
    private readonly TimeSpan _writeTimeout;
    private readonly IActorRef _replicator = DistributedData.Get(Context.System).Replicator;
    private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(Context.System);
    private readonly ILoggingAdapter _log = Context.GetLogger();

    /// <summary>Creates the actor feeding <paramref name="revoked"/>.</summary>
    public RevocationReplicator(RevokedCredentials revoked, TimeSpan writeTimeout)
    {
        _revoked = revoked;
        _writeTimeout = writeTimeout;
        Receive<Publish>(OnPublish);
        Receive<Changed>(changed => _revoked.Add(changed.Get(Key).Elements.Select(Decode).OfType<(string, DateTimeOffset)>()));
        Receive<UpdateSuccess>(success => ((IActorRef)success.Request!).Tell(new Published(true)));
        Receive<IUpdateFailure>(failure =>
        {
            // The local replica has it and gossip spreads it; only the wait for every replica's
            // acknowledgement failed (a node unreachable, say).
            _log.Info("Credential revocation not yet acknowledged by every node ({0}); gossip completes it", failure.GetType().Name);
            ((IActorRef)failure.Request!).Tell(new Published(false));
        });
    }

    /// <summary>Props.</summary>
    public static Props Props(RevokedCredentials revoked, TimeSpan writeTimeout) =>
        Akka.Actor.Props.Create(() => new RevocationReplicator(revoked, writeTimeout));

    /// <inheritdoc />
    protected override void PreStart() => _replicator.Tell(Dsl.Subscribe(Key, Self));

    private void OnPublish(Publish publish)
    {
        // Refused here at once (read your writes), elsewhere once the replicator delivers it.
        _revoked.Add(publish.Entries);
        IWriteConsistency consistency = publish.AllNodes ? new WriteAll(_writeTimeout) : WriteLocal.Instance;
        var elements = publish.Entries.Select(Encode).ToList();
        var self = _cluster.SelfUniqueAddress;
        _replicator.Tell(Dsl.Update(Key, ORSet<string>.Empty, consistency, Sender, set =>
        {
            foreach (var element in elements)
            {
                if (!set.Contains(element))
                {
                    set = set.Add(self, element);
                }
            }

            return set;
        }));
    }

    private static string Encode((string CredentialId, DateTimeOffset RevokedAt) e) =>
        $"{e.CredentialId}|{e.RevokedAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}";

    private static (string, DateTimeOffset)? Decode(string element)
    {
        var bar = element.LastIndexOf('|');
        return bar > 0 && long.TryParse(element.AsSpan(bar + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            ? (element[..bar], DateTimeOffset.FromUnixTimeMilliseconds(ms))
            : null;
    }

    /// <summary>
    /// Refuses <paramref name="Entries"/> here and replicates them: to every reachable node at
    /// once when <paramref name="AllNodes"/>, else to this node's replica. Reply: <see cref="Published"/>.
    /// </summary>
    public sealed record Publish((string CredentialId, DateTimeOffset RevokedAt)[] Entries, bool AllNodes);

    /// <summary>Done; <paramref name="Acknowledged"/> when every node's replica confirmed.</summary>
    public sealed record Published(bool Acknowledged);
}
