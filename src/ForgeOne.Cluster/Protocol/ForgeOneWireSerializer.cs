using Akka.Actor;
using Akka.Serialization;
using ForgeOne.Cluster.Protocol.Wire;
using ForgeOne.Common;

namespace ForgeOne.Cluster.Protocol;

/// <summary>
/// Wire serializer of every <see cref="IForgeOneMessage"/> (and of <see cref="Status.Failure"/>
/// replies): the ForgeOne wire format, a schema-bound binary encoding derived from each record's
/// declaration (<see cref="WireSchema"/>). No type information travels in the bytes: the manifest
/// is looked up in <see cref="ProtocolTypes.ByManifest"/>, and everything nested is fixed by that
/// type's schema.
/// </summary>
/// <remarks>
/// Layout of a message body:
/// <code>
/// +---------+------------------------+-------------------------------------------+
/// | version | schema fingerprint     | fields in constructor order (WireSchema)  |
/// | 1 byte  | 4 bytes, little-endian |                                           |
/// +---------+------------------------+-------------------------------------------+
/// </code>
/// The fingerprint is the first 4 bytes of the SHA-256 of the type's schema description, so a
/// member whose record differs (another release, or bytes altered in transit) is refused with
/// <see cref="ErrorCodes.WireSchemaMismatch"/> instead of being misread.
/// A <see cref="Status.Failure"/> carries an exception, which Akka's own serializer rebuilds from
/// a type name in the bytes; here it travels as a <see cref="ForgeOneError"/> and arrives as a
/// <see cref="ForgeOneException"/>.
/// </remarks>
public sealed class ForgeOneWireSerializer : SerializerWithStringManifest, IWireContext
{
    /// <summary>Serializer id (unique among the system's serializers).</summary>
    public const int SerializerId = 7302;

    /// <summary>Version byte of the body layout above.</summary>
    public const byte FormatVersion = 1;

    /// <summary>Manifest of a <see cref="Status.Failure"/>.</summary>
    public const string FailureManifest = "akka.status-failure";

    private readonly ExtendedActorSystem _system;
    private readonly Dictionary<Type, Entry> _byType;
    private readonly Dictionary<string, Entry> _byManifest;
    private readonly Entry _failure;

    /// <summary>Created by Akka. Builds (and so validates) the schema of every allow-listed message.</summary>
    public ForgeOneWireSerializer(ExtendedActorSystem system)
        : base(system)
    {
        _system = system;
        _byManifest = ProtocolTypes.ByManifest.ToDictionary(kv => kv.Key, kv => Entry.Of(kv.Value), StringComparer.Ordinal);
        _byType = _byManifest.Values.ToDictionary(e => e.Type);

        // A nested message is told apart by its fingerprint: two allow-listed schemas may not share one.
        if (_byManifest.Values.GroupBy(e => e.Fingerprint).FirstOrDefault(g => g.Count() > 1) is { } clash)
        {
            throw new InvalidOperationException($"Wire schemas of {string.Join(" and ", clash.Select(e => e.Type.FullName))} have the same fingerprint {clash.Key:x8}; rename one.");
        }

        _failure = Entry.Of(typeof(ForgeOneError));
    }

    /// <inheritdoc />
    public override int Identifier => SerializerId;

    /// <inheritdoc />
    public override string Manifest(object o) => o is Status.Failure ? FailureManifest : ProtocolTypes.ManifestOf(o.GetType());

    /// <inheritdoc />
    public override byte[] ToBinary(object obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        var (entry, value) = obj is Status.Failure failure
            ? (_failure, ErrorOf(failure.Cause))
            : (_byType.GetValueOrDefault(obj.GetType()) ?? throw new WireFormatException(ErrorCodes.WireUnknownType, $"{obj.GetType()} is not an allow-listed ForgeOne message; it was not sent."), obj);
        using var writer = new WireWriter(this);
        writer.WriteByte(FormatVersion);
        writer.WriteFixed32(entry.Fingerprint);
        entry.Codec.WriteBody(writer, value);
        return writer.ToArray();
    }

    /// <inheritdoc />
    public override object FromBinary(byte[] bytes, string manifest)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        var entry = manifest == FailureManifest
            ? _failure
            : _byManifest.GetValueOrDefault(manifest ?? string.Empty)
                ?? throw new WireFormatException(ErrorCodes.WireUnknownType, $"Refusing '{manifest}': not an allow-listed ForgeOne message.");
        var reader = new WireReader(bytes, this);
        if (bytes.Length < 5 || reader.ReadByte() != FormatVersion)
        {
            throw new WireFormatException(ErrorCodes.WireMalformed, $"'{manifest}' does not start with wire format version {FormatVersion}.");
        }

        var fingerprint = reader.ReadFixed32();
        if (fingerprint != entry.Fingerprint)
        {
            throw new WireFormatException(ErrorCodes.WireSchemaMismatch,
                $"The sender's schema of '{manifest}' ({fingerprint:x8}) differs from this node's ({entry.Fingerprint:x8}): another release, or altered bytes.");
        }

        object value;
        try
        {
            value = entry.Codec.ReadBody(reader);
            reader.EnsureEnd();
        }
        catch (Exception e) when (e is not WireFormatException and not OutOfMemoryException)
        {
            // The codecs bound-check everything; this is the belt to their braces.
            throw new WireFormatException(ErrorCodes.WireMalformed, $"'{manifest}' could not be decoded.", e);
        }

        return value is ForgeOneError error && entry == _failure ? new Status.Failure(new ForgeOneException(error)) : value;
    }

    /// <inheritdoc />
    string IWireContext.SerializeActorRef(IActorRef actorRef) => Akka.Serialization.Serialization.SerializedActorPath(actorRef);

    /// <inheritdoc />
    IActorRef IWireContext.ResolveActorRef(string path) => _system.Provider.ResolveActorRef(path);

    private static ForgeOneError ErrorOf(Exception? cause) => cause switch
    {
        ForgeOneException f => f.Error,
        AskTimeoutException t => new ForgeOneError(ErrorCodes.Timeout, t.Message),
        ArgumentException a => new ForgeOneError(ErrorCodes.InvalidArgument, a.Message),
        null => new ForgeOneError(ErrorCodes.RemoteFailure, "A remote actor failed without a cause."),
        _ => new ForgeOneError(ErrorCodes.RemoteFailure, $"{cause.GetType().Name}: {cause.Message}"),
    };

    private sealed record Entry(Type Type, IWireRecord Codec, uint Fingerprint)
    {
        public static Entry Of(Type type)
        {
            var codec = (IWireRecord)WireSchema.For(type);
            return new Entry(type, codec, WireSchema.FingerprintOf(codec.Describe));
        }
    }
}
