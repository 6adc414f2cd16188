using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;
using ForgeOne.Common;

namespace ForgeOne.Cluster.Protocol.Wire;

/// <summary>
/// Takes the place (and the identifier) of an Akka serializer that builds objects from type names
/// found in the bytes or the manifest: Newtonsoft JSON with embedded <c>$type</c> (Akka's default
/// for any type without a binding), Protobuf by manifest type name, and remote deployment
/// (<c>DaemonMsgCreate</c>: an actor class and its constructor arguments chosen by the sender).
/// With this in place the identifier is still known, so a member that sends bytes under it gets
/// a typed refusal (logged, message dropped) instead of deserialization; and a message of ours
/// that has no binding fails loudly when sent instead of silently going out as JSON.
/// </summary>
/// <remarks>
/// One class for several refused serializers: each gets its identifier and the reason from its
/// <c>akka.actor.serialization-settings.{name}</c> section (<c>identifier</c>, <c>refused-because</c>).
/// </remarks>
public sealed class RefusedSerializer : Serializer
{
    private readonly int _identifier;
    private readonly string _reason;

    /// <summary>Created by Akka with the serializer's settings section.</summary>
    public RefusedSerializer(ExtendedActorSystem system, Config config)
        : base(system)
    {
        ArgumentNullException.ThrowIfNull(config);
        _identifier = config.GetInt("identifier", int.MinValue);
        if (_identifier == int.MinValue)
        {
            throw new ConfigurationException("A RefusedSerializer needs an 'identifier' in its serialization-settings section.");
        }

        _reason = config.GetString("refused-because", "it would build objects from type names chosen by the sender");
    }

    /// <inheritdoc />
    public override int Identifier => _identifier;

    /// <inheritdoc />
    public override bool IncludeManifest => false;

    /// <inheritdoc />
    public override byte[] ToBinary(object obj) =>
        throw new WireFormatException(ErrorCodes.WireUnknownType, $"{obj?.GetType().ToString() ?? "null"} has no ForgeOne wire binding; serializer {_identifier} is disabled because {_reason}.");

    /// <inheritdoc />
    public override object FromBinary(byte[] bytes, Type type) =>
        throw new WireFormatException(ErrorCodes.WireUnknownType, $"Refusing a message for serializer {_identifier}: disabled because {_reason}.");
}
