using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Serialization;

namespace ForgeOne.Cluster.Protocol;

/// <summary>
/// Wire serializer of every <see cref="IForgeOneMessage"/>: Hyperion for the body (unsafe types
/// disallowed), with our own allow-list enforced on the manifest. Deserialization refuses any
/// manifest that is not one of <see cref="ProtocolTypes.AllowList"/> before Hyperion sees the
/// bytes.
/// </summary>
/// <remarks>
/// Why not Hyperion's own <c>allowed-types</c>: with Hyperion 0.12.2 a type filter refuses even the
/// types it lists when serializing (every message fails with "Unsafe Type Deserialization
/// Detected"), so the allow-list lives here. Nested values are still guarded by Hyperion's
/// unsafe-type deny list, and our messages carry only our records, primitives, arrays and
/// string dictionaries.
/// </remarks>
public sealed class ForgeOneWireSerializer : SerializerWithStringManifest
{
    /// <summary>Serializer id (unique among the system's serializers).</summary>
    public const int SerializerId = 7302;

    private readonly HyperionSerializer _hyperion;
    private readonly IReadOnlyDictionary<string, Type> _allowed;

    /// <summary>Created by Akka.</summary>
    public ForgeOneWireSerializer(ExtendedActorSystem system)
        : base(system)
    {
        // Default settings: unsafe types disallowed, no type filter (see remarks).
        _hyperion = new HyperionSerializer(system, HyperionSerializerSettings.Default);
        if (!_hyperion.Settings.DisallowUnsafeType)
        {
            throw new InvalidOperationException("Hyperion must run with unsafe types disallowed.");
        }

        _allowed = ProtocolTypes.Messages().ToDictionary(ManifestOf, t => t, StringComparer.Ordinal);
    }

    /// <inheritdoc />
    public override int Identifier => SerializerId;

    /// <inheritdoc />
    public override string Manifest(object o) => ManifestOf(o.GetType());

    /// <inheritdoc />
    public override byte[] ToBinary(object obj)
    {
        if (!_allowed.ContainsKey(Manifest(obj)))
        {
            throw new SerializationException($"{obj.GetType()} is not an allow-listed ForgeOne message.");
        }

        return _hyperion.ToBinary(obj);
    }

    /// <inheritdoc />
    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (!_allowed.TryGetValue(manifest, out var type))
        {
            throw new SerializationException($"Refusing to deserialize '{manifest}': not an allow-listed ForgeOne message.");
        }

        var value = _hyperion.FromBinary(bytes, type);
        return value?.GetType() == type
            ? value
            : throw new SerializationException($"Payload for '{manifest}' decoded to {value?.GetType().ToString() ?? "null"}.");
    }

    private static string ManifestOf(Type type) => type.FullName ?? type.Name;
}
