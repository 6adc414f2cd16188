using Akka.Actor;
using Akka.Remote.Serialization;
using Akka.Serialization;
using ForgeOne.Common;

namespace ForgeOne.Cluster.Protocol.Wire;

/// <summary>
/// Akka's <see cref="MiscMessageSerializer"/> (identify, actor references, heartbeats, poison pill)
/// under its own identifier, minus the manifests that rebuild objects from type names: a
/// <c>Status.Failure</c> (its exception is recreated from a type name and a serialization
/// constructor; ForgeOne sends failures through <see cref="ForgeOneWireSerializer"/>), and the
/// router and scope configurations that exist only for remote deployment, which ForgeOne does not
/// use. Those are refused when they arrive.
/// </summary>
public sealed class GuardedMiscMessageSerializer : SerializerWithStringManifest
{
    /// <summary>Akka's identifier of the misc serializer (kept: every member must agree on it).</summary>
    public const int AkkaIdentifier = 16;

    // Status.Failure, and the remote-deployment-only scope, config and router manifests.
    private static readonly HashSet<string> Refused = new(StringComparer.Ordinal)
    {
        "STF", "LS", "RS", "CF", "FC", "DR", "RORRP", "ROBP", "RORP", "ROSGP", "ROTCP", "ROCHP", "RORRC",
    };

    private readonly MiscMessageSerializer _inner;

    /// <summary>Created by Akka.</summary>
    public GuardedMiscMessageSerializer(ExtendedActorSystem system)
        : base(system)
    {
        _inner = new MiscMessageSerializer(system);
    }

    /// <inheritdoc />
    public override int Identifier => AkkaIdentifier;

    /// <inheritdoc />
    public override string Manifest(object o) => _inner.Manifest(o);

    /// <inheritdoc />
    /// <remarks>Outbound is unchanged: what this node sends is its own code's choice; the guard is on what arrives.</remarks>
    public override byte[] ToBinary(object obj) => _inner.ToBinary(obj);

    /// <inheritdoc />
    public override object FromBinary(byte[] bytes, string manifest) =>
        Refused.Contains(manifest)
            ? throw new WireFormatException(ErrorCodes.WireUnknownType, $"Refusing Akka misc message '{manifest}': it would rebuild objects from type names in the bytes.")
            : _inner.FromBinary(bytes, manifest);
}
