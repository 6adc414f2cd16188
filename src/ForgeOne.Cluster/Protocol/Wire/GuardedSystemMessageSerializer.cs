using Akka.Actor;
using Akka.Dispatch.SysMsg;
using Akka.Remote.Serialization;
using Akka.Serialization;
using Akka.Util;
using ForgeOne.Common;

namespace ForgeOne.Cluster.Protocol.Wire;

/// <summary>
/// Akka's <see cref="SystemMessageSerializer"/> under its own identifier, accepting from other
/// members only the system messages remote death watch needs (<see cref="Watch"/>,
/// <see cref="Unwatch"/>, <see cref="DeathWatchNotification"/>). The others exist between a
/// parent and a remotely deployed child, which ForgeOne never creates, and several of them
/// (<c>Create</c>, <c>Recreate</c>, <c>Resume</c>, <c>Failed</c>) carry an exception that Akka
/// rebuilds from a type name in the bytes.
/// </summary>
/// <remarks>
/// A string-manifest serializer on purpose: Akka resolves a plain serializer's manifest with
/// <c>Type.GetType</c> before the serializer sees it; here the manifest is only compared with
/// the three accepted names. The names are Akka's own (the type's qualified name), so the bytes
/// are the same as Akka's.
/// </remarks>
public sealed class GuardedSystemMessageSerializer : SerializerWithStringManifest
{
    /// <summary>Akka's identifier of the system message serializer.</summary>
    public const int AkkaIdentifier = 22;

    private static readonly Dictionary<string, Type> Accepted = new[] { typeof(Watch), typeof(Unwatch), typeof(DeathWatchNotification) }
        .ToDictionary(t => t.TypeQualifiedName(), StringComparer.Ordinal);

    private readonly SystemMessageSerializer _inner;

    /// <summary>Created by Akka.</summary>
    public GuardedSystemMessageSerializer(ExtendedActorSystem system)
        : base(system)
    {
        _inner = new SystemMessageSerializer(system);
    }

    /// <inheritdoc />
    public override int Identifier => AkkaIdentifier;

    /// <inheritdoc />
    public override string Manifest(object o) => o.GetType().TypeQualifiedName();

    /// <inheritdoc />
    /// <remarks>Outbound is unchanged: what this node sends is its own code's choice; the guard is on what arrives.</remarks>
    public override byte[] ToBinary(object obj) => _inner.ToBinary(obj);

    /// <inheritdoc />
    public override object FromBinary(byte[] bytes, string manifest) =>
        Accepted.TryGetValue(manifest, out var type)
            ? _inner.FromBinary(bytes, type)
            : throw new WireFormatException(ErrorCodes.WireUnknownType, $"Refusing system message '{manifest}': only remote death watch is accepted from other members.");
}
