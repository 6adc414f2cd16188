using Akka.Actor;

namespace ForgeOne.Cluster.Protocol.Wire;

/// <summary>
/// What the wire format needs from its actor system: actor references travel as their
/// serialized path (Akka's own form) and are resolved by the receiving system's provider,
/// which never creates anything from a path, so a path from the wire is only an address.
/// </summary>
public interface IWireContext
{
    /// <summary>The path form of <paramref name="actorRef"/> for the current transport.</summary>
    string SerializeActorRef(IActorRef actorRef);

    /// <summary>The reference for <paramref name="path"/> (a dead-letters reference when nothing lives there).</summary>
    IActorRef ResolveActorRef(string path);
}
