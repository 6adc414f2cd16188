using System.Collections.Concurrent;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Akka.Actor;
using ForgeOne.Common;

namespace ForgeOne.Cluster.Protocol.Wire;

/// <summary>
/// Derives the wire schema of a message type from its C# declaration, so adding or changing a
/// protocol record needs no codec code: a record's fields are its constructor's parameters, in
/// order; a field's type must be one the format knows, and nested records are derived the same
/// way. Everything a schema can contain is decided here, at build time, never by the bytes:
/// <list type="bullet">
/// <item>primitives <c>bool byte int long ulong double string byte[]</c>, enums (defined values only),
/// <see cref="DateTimeOffset"/>, <see cref="TimeSpan"/>, <see cref="RecordId"/>, <see cref="Nullable{T}"/>;</item>
/// <item>arrays <c>T[]</c>, dictionaries (<c>Dictionary</c>, <c>IDictionary</c>, <c>IReadOnlyDictionary</c>);</item>
/// <item><see cref="IActorRef"/> (as its path);</item>
/// <item>a kind of protocol message (<see cref="IForgeOneMessage"/> or an interface derived from it):
/// one of the allow-listed messages of that kind, told apart by its schema fingerprint;</item>
/// <item>sealed, non-recursive ForgeOne records with one public constructor whose parameters are
/// all readable properties of the same name and type (or, with no public constructor, a static
/// <c>Instance</c>).</item>
/// </list>
/// Anything else (<c>object</c>, interfaces, open hierarchies, framework classes) is refused when
/// the schema is built, naming the field, so nothing polymorphic can ever be decoded.
/// Non-nullable reference fields (C# nullable annotations) refuse null in both directions.
/// </summary>
public static class WireSchema
{
    private static readonly ConcurrentDictionary<Type, IWireField> Records = new();
    private static readonly Lock BuildLock = new();
    private static readonly NullabilityInfoContext Nullability = new();

    /// <summary>One field of a record: the property it is read from and its codec (a <c>WireField&lt;T&gt;</c>).</summary>
    public sealed record Member(string Name, PropertyInfo Property, IWireField Codec);

    /// <summary>
    /// The codec of record type <paramref name="type"/> (a <c>RecordField&lt;T&gt;</c>). Throws
    /// <see cref="InvalidOperationException"/> naming the offending field when the type does not
    /// follow the conventions above.
    /// </summary>
    public static IWireField For(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (Records.TryGetValue(type, out var known))
        {
            return known;
        }

        lock (BuildLock)
        {
            return BuildRecord(type, new Stack<Type>());
        }
    }

    /// <summary>A short stable fingerprint of the schema of <paramref name="type"/> (first 4 bytes of the SHA-256 of its description).</summary>
    public static uint Fingerprint(Type type) => FingerprintOf(Describe(type));

    /// <summary>The human-readable schema of <paramref name="type"/>, e.g. <c>AppendLog(Token:PrincipalToken(Value:bytes!)!,Topic:str!,...)</c>.</summary>
    public static string Describe(Type type) => For(type).Describe;

    // "LogProtocol+AppendLog": what a reader of an error message recognizes.
    private static string ShortName(Type type) =>
        type.Namespace is { Length: > 0 } ns && type.FullName is { } full ? full[(ns.Length + 1)..] : type.Name;

    internal static uint FingerprintOf(string describe) =>
        System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes(describe)));

    private static IWireField BuildRecord(Type type, Stack<Type> path)
    {
        if (Records.TryGetValue(type, out var known))
        {
            return known;
        }

        var where = type.FullName ?? type.Name;
        if (path.Contains(type))
        {
            throw new InvalidOperationException($"{where} contains itself ({string.Join(" -> ", path.Reverse().Select(t => t.Name))}); the wire format has no recursive types.");
        }

        if (!type.IsClass || !type.IsSealed || type.IsGenericType || !(type.Assembly.GetName().Name ?? string.Empty).StartsWith("ForgeOne.", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{where} is not a sealed, non-generic ForgeOne class; the wire format encodes only those as records.");
        }

        path.Push(type);
        try
        {
            var constructors = type.GetConstructors(BindingFlags.Public | BindingFlags.Instance)
                .Where(c => !(c.GetParameters() is [var only] && only.ParameterType == type))
                .ToArray();
            ConstructorInfo? constructor = null;
            object? singleton = null;
            var members = new List<Member>();
            switch (constructors.Length)
            {
                case 0:
                    singleton = type.GetField("Instance", BindingFlags.Public | BindingFlags.Static)?.GetValue(null)
                        ?? type.GetProperty("Instance", BindingFlags.Public | BindingFlags.Static)?.GetValue(null)
                        ?? throw new InvalidOperationException($"{where} has no public constructor and no static Instance.");
                    break;
                case 1:
                    constructor = constructors[0];
                    foreach (var parameter in constructor.GetParameters())
                    {
                        var property = type.GetProperty(parameter.Name!, BindingFlags.Public | BindingFlags.Instance);
                        if (property is null || property.PropertyType != parameter.ParameterType || property.GetMethod is null)
                        {
                            throw new InvalidOperationException($"{where}: constructor parameter '{parameter.Name}' has no public property of the same name and type to read it back from.");
                        }

                        var field = FieldFor(parameter.ParameterType, Nullability.Create(parameter), $"{ShortName(type)}.{parameter.Name}", path);
                        members.Add(new Member(parameter.Name!, property, field));
                    }

                    break;
                default:
                    throw new InvalidOperationException($"{where} has {constructors.Length} public constructors; the wire format needs exactly one to know the fields.");
            }

            // A settable property the constructor does not take would be dropped on the wire.
            var covered = members.Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
            var dropped = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .Where(p => p.SetMethod is { IsPublic: true } && !covered.Contains(p.Name) && p.Name != "EqualityContract")
                .Select(p => p.Name)
                .ToArray();
            if (dropped.Length > 0)
            {
                throw new InvalidOperationException($"{where}: settable properties {string.Join(", ", dropped)} are not constructor parameters and would not cross the wire.");
            }

            // The declaring path ("LogProtocol+LogFailed") keeps same-named records apart: the
            // fingerprint of the description is also how a nested message is told apart.
            var describe = $"{ShortName(type)}({string.Join(',', members.Select(m => $"{m.Name}:{m.Codec.Describe}"))})";
            var record = (IWireField)Activator.CreateInstance(typeof(RecordField<>).MakeGenericType(type), members, constructor, singleton, describe)!;
            Records[type] = record;
            return record;
        }
        finally
        {
            path.Pop();
        }
    }

    private static IWireField FieldFor(Type type, NullabilityInfo nullability, string where, Stack<Type> path)
    {
        var field = BaseFieldFor(type, nullability, where, path);
        return !type.IsValueType && nullability.ReadState == NullabilityState.NotNull
            ? (IWireField)Activator.CreateInstance(typeof(NotNullField<>).MakeGenericType(type), field, where)!
            : field;
    }

    private static IWireField BaseFieldFor(Type type, NullabilityInfo nullability, string where, Stack<Type> path)
    {
        if (type == typeof(bool))
        {
            return new BoolField();
        }

        if (type == typeof(byte))
        {
            return new ByteField();
        }

        if (type == typeof(int))
        {
            return new Int32Field();
        }

        if (type == typeof(long))
        {
            return new Int64Field();
        }

        if (type == typeof(ulong))
        {
            return new UInt64Field();
        }

        if (type == typeof(double))
        {
            return new DoubleField();
        }

        if (type == typeof(string))
        {
            return new StringField();
        }

        if (type == typeof(byte[]))
        {
            return new BytesField();
        }

        if (type == typeof(RecordId))
        {
            return new RecordIdField();
        }

        if (type == typeof(DateTimeOffset))
        {
            return new DateTimeOffsetField();
        }

        if (type == typeof(TimeSpan))
        {
            return new TimeSpanField();
        }

        if (type == typeof(IActorRef))
        {
            return new ActorRefField();
        }

        if (type.IsInterface && typeof(IForgeOneMessage).IsAssignableFrom(type))
        {
            return (IWireField)Activator.CreateInstance(typeof(MessageField<>).MakeGenericType(type), (Func<IEnumerable<Type>>)ProtocolTypes.Messages)!;
        }

        if (type.IsEnum)
        {
            return (IWireField)Activator.CreateInstance(typeof(EnumField<>).MakeGenericType(type))!;
        }

        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            var inner = BaseFieldFor(underlying, nullability, where, path);
            return (IWireField)Activator.CreateInstance(typeof(NullableField<>).MakeGenericType(underlying), inner)!;
        }

        if (type.IsArray && type.GetArrayRank() == 1)
        {
            var elementType = type.GetElementType()!;
            var element = FieldFor(elementType, nullability.ElementType!, where + "[]", path);
            return (IWireField)Activator.CreateInstance(typeof(ArrayField<>).MakeGenericType(elementType), element)!;
        }

        if (type.IsGenericType && type.GetGenericTypeDefinition() is var definition
            && (definition == typeof(Dictionary<,>) || definition == typeof(IDictionary<,>) || definition == typeof(IReadOnlyDictionary<,>)))
        {
            var (keyType, valueType) = (type.GetGenericArguments()[0], type.GetGenericArguments()[1]);
            var key = FieldFor(keyType, nullability.GenericTypeArguments[0], where + ".key", path);
            if (!keyType.IsValueType && !(key.GetType().IsGenericType && key.GetType().GetGenericTypeDefinition() == typeof(NotNullField<>)))
            {
                throw new InvalidOperationException($"{where}: dictionary keys must be non-nullable.");
            }

            var value = FieldFor(valueType, nullability.GenericTypeArguments[1], where + ".value", path);
            return (IWireField)Activator.CreateInstance(typeof(DictionaryField<,,>).MakeGenericType(type, keyType, valueType), key, value)!;
        }

        if (type.IsClass && type.IsSealed && !type.IsGenericType && (type.Assembly.GetName().Name ?? string.Empty).StartsWith("ForgeOne.", StringComparison.Ordinal))
        {
            return BuildRecord(type, path);
        }

        throw new InvalidOperationException(
            $"{where}: type {type} is not supported by the ForgeOne wire format (see WireSchema: primitives, enums, times, RecordId, arrays, dictionaries, IActorRef, sealed ForgeOne records). " +
            "Polymorphic types (object, interfaces, open classes) are never allowed: the receiver would have to take the type from the bytes.");
    }
}
