using System.Linq.Expressions;
using Akka.Actor;
using ForgeOne.Common;

namespace ForgeOne.Cluster.Protocol.Wire;

/// <summary>What every field codec says about itself, whatever its type.</summary>
public interface IWireField
{
    /// <summary>The type as it enters the schema fingerprint (e.g. <c>i32</c>, <c>str!</c>, <c>[str!]</c>).</summary>
    string Describe { get; }
}

/// <summary>
/// The codec of one field type. A reference-typed field encodes null itself (a 0 marker); whether
/// null is allowed is the schema's decision (<see cref="NotNullField{T}"/>).
/// </summary>
/// <typeparam name="T">The field's CLR type.</typeparam>
public abstract class WireField<T> : IWireField
{
    /// <inheritdoc />
    public abstract string Describe { get; }

    /// <summary>Writes <paramref name="value"/>.</summary>
    public abstract void Write(WireWriter writer, T value);

    /// <summary>Reads a value.</summary>
    public abstract T Read(WireReader reader);
}

internal sealed class BoolField : WireField<bool>
{
    public override string Describe => "bool";

    public override void Write(WireWriter writer, bool value) => writer.WriteByte(value ? (byte)1 : (byte)0);

    public override bool Read(WireReader reader) => reader.ReadByte() switch
    {
        0 => false,
        1 => true,
        var b => throw WireFormatException.Malformed($"A boolean is encoded as {b}."),
    };
}

internal sealed class ByteField : WireField<byte>
{
    public override string Describe => "u8";

    public override void Write(WireWriter writer, byte value) => writer.WriteByte(value);

    public override byte Read(WireReader reader) => reader.ReadByte();
}

internal sealed class Int32Field : WireField<int>
{
    public override string Describe => "i32";

    public override void Write(WireWriter writer, int value) => writer.WriteVarInt(value);

    public override int Read(WireReader reader) => reader.ReadVarInt32();
}

internal sealed class Int64Field : WireField<long>
{
    public override string Describe => "i64";

    public override void Write(WireWriter writer, long value) => writer.WriteVarInt(value);

    public override long Read(WireReader reader) => reader.ReadVarInt();
}

internal sealed class UInt64Field : WireField<ulong>
{
    public override string Describe => "u64";

    public override void Write(WireWriter writer, ulong value) => writer.WriteFixed64(value);

    public override ulong Read(WireReader reader) => reader.ReadFixed64();
}

internal sealed class DoubleField : WireField<double>
{
    public override string Describe => "f64";

    public override void Write(WireWriter writer, double value) => writer.WriteFixed64(BitConverter.DoubleToUInt64Bits(value));

    public override double Read(WireReader reader) => BitConverter.UInt64BitsToDouble(reader.ReadFixed64());
}

internal sealed class StringField : WireField<string?>
{
    public override string Describe => "str";

    public override void Write(WireWriter writer, string? value) => writer.WriteString(value);

    public override string? Read(WireReader reader) => reader.ReadString();
}

internal sealed class BytesField : WireField<byte[]?>
{
    public override string Describe => "bytes";

    public override void Write(WireWriter writer, byte[]? value) => writer.WriteBytes(value);

    public override byte[]? Read(WireReader reader) => reader.ReadBytes();
}

internal sealed class RecordIdField : WireField<RecordId>
{
    public override string Describe => "id";

    public override void Write(WireWriter writer, RecordId value) => writer.WriteFixed64(value.Value);

    public override RecordId Read(WireReader reader) => new(reader.ReadFixed64());
}

/// <summary>UTC ticks (fixed 8 bytes) and the offset in minutes: the instant and the offset both survive.</summary>
internal sealed class DateTimeOffsetField : WireField<DateTimeOffset>
{
    public override string Describe => "time";

    public override void Write(WireWriter writer, DateTimeOffset value)
    {
        writer.WriteFixed64((ulong)value.UtcTicks);
        writer.WriteVarInt((long)value.Offset.TotalMinutes);
    }

    public override DateTimeOffset Read(WireReader reader)
    {
        var ticks = (long)reader.ReadFixed64();
        var minutes = reader.ReadVarInt();
        if (ticks is < 0 or > 3155378975999999999 || minutes is < -840 or > 840)
        {
            throw WireFormatException.Malformed($"A timestamp ({ticks} ticks, offset {minutes} min) is out of range.");
        }

        try
        {
            return new DateTimeOffset(ticks, TimeSpan.Zero).ToOffset(TimeSpan.FromMinutes(minutes));
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new WireFormatException(ErrorCodes.WireMalformed, "A timestamp is out of range.", e);
        }
    }
}

internal sealed class TimeSpanField : WireField<TimeSpan>
{
    public override string Describe => "span";

    public override void Write(WireWriter writer, TimeSpan value) => writer.WriteVarInt(value.Ticks);

    public override TimeSpan Read(WireReader reader) => TimeSpan.FromTicks(reader.ReadVarInt());
}

/// <summary>An enum by its numeric value; only defined values are accepted.</summary>
internal sealed class EnumField<T> : WireField<T>
    where T : struct, Enum
{
    private static readonly Func<T, long> ToLong = Compile<T, long>();
    private static readonly Func<long, T> FromLong = Compile<long, T>();
    private static readonly HashSet<long> Defined = [.. Enum.GetValues<T>().Select(v => ToLong(v))];

    public override string Describe => $"enum {typeof(T).Name}({string.Join(',', Defined.Order())})";

    public override void Write(WireWriter writer, T value) => writer.WriteVarInt(ToLong(value));

    public override T Read(WireReader reader)
    {
        var raw = reader.ReadVarInt();
        return Defined.Contains(raw)
            ? FromLong(raw)
            : throw WireFormatException.Malformed($"{raw} is not a value of {typeof(T).Name}.");
    }

    private static Func<TIn, TOut> Compile<TIn, TOut>()
    {
        var p = Expression.Parameter(typeof(TIn));
        return Expression.Lambda<Func<TIn, TOut>>(Expression.Convert(p, typeof(TOut)), p).Compile();
    }
}

internal sealed class NullableField<T> : WireField<T?>
    where T : struct
{
    private readonly WireField<T> _inner;

    public NullableField(WireField<T> inner) => _inner = inner;

    public override string Describe => _inner.Describe + "?";

    public override void Write(WireWriter writer, T? value)
    {
        if (value is { } v)
        {
            writer.WriteByte(1);
            _inner.Write(writer, v);
        }
        else
        {
            writer.WriteByte(0);
        }
    }

    public override T? Read(WireReader reader) => reader.ReadByte() switch
    {
        0 => null,
        1 => _inner.Read(reader),
        var b => throw WireFormatException.Malformed($"A presence marker is {b}."),
    };
}

/// <summary>A reference-typed field the schema declares non-nullable: null is refused both ways.</summary>
internal sealed class NotNullField<T> : WireField<T>
    where T : class?
{
    private readonly WireField<T> _inner;
    private readonly string _where;

    public NotNullField(WireField<T> inner, string where)
    {
        _inner = inner;
        _where = where;
    }

    public override string Describe => _inner.Describe + "!";

    public override void Write(WireWriter writer, T value) =>
        _inner.Write(writer, value ?? throw new WireFormatException(ErrorCodes.WireMalformed, $"{_where} is null but not nullable; the message was not sent."));

    public override T Read(WireReader reader) => _inner.Read(reader) ?? throw WireFormatException.Malformed($"{_where} is null but not nullable.");
}

internal sealed class ArrayField<T> : WireField<T[]?>
{
    private readonly WireField<T> _element;

    public ArrayField(WireField<T> element) => _element = element;

    public override string Describe => $"[{_element.Describe}]";

    public override void Write(WireWriter writer, T[]? value)
    {
        writer.WriteLength(value?.Length);
        if (value is not null)
        {
            foreach (var item in value)
            {
                _element.Write(writer, item);
            }
        }
    }

    public override T[]? Read(WireReader reader)
    {
        if (reader.ReadLength() is not { } count)
        {
            return null;
        }

        var value = new T[count];
        for (var i = 0; i < value.Length; i++)
        {
            value[i] = _element.Read(reader);
        }

        return value;
    }
}

/// <summary>
/// A dictionary as (key, value) pairs in its enumeration order; decoded into a
/// <see cref="Dictionary{TKey,TValue}"/> (ordinal keys for strings), duplicate keys refused.
/// </summary>
internal sealed class DictionaryField<TDictionary, TKey, TValue> : WireField<TDictionary?>
    where TDictionary : class, IEnumerable<KeyValuePair<TKey, TValue>>
    where TKey : notnull
{
    private readonly WireField<TKey> _key;
    private readonly WireField<TValue> _value;

    public DictionaryField(WireField<TKey> key, WireField<TValue> value)
    {
        _key = key;
        _value = value;
    }

    public override string Describe => $"{{{_key.Describe}:{_value.Describe}}}";

    public override void Write(WireWriter writer, TDictionary? value)
    {
        if (value is null)
        {
            writer.WriteByte(0);
            return;
        }

        writer.WriteLength(value.Count());
        foreach (var (k, v) in value)
        {
            _key.Write(writer, k);
            _value.Write(writer, v);
        }
    }

    public override TDictionary? Read(WireReader reader)
    {
        if (reader.ReadLength(minBytesPerItem: 2) is not { } count)
        {
            return null;
        }

        var map = typeof(TKey) == typeof(string)
            ? new Dictionary<TKey, TValue>(count, (IEqualityComparer<TKey>)StringComparer.Ordinal)
            : new Dictionary<TKey, TValue>(count);
        for (var i = 0; i < count; i++)
        {
            var key = _key.Read(reader);
            if (!map.TryAdd(key, _value.Read(reader)))
            {
                throw WireFormatException.Malformed($"The key '{key}' appears twice in a map.");
            }
        }

        return (TDictionary)(object)map;
    }
}

/// <summary>An actor reference as its serialized path.</summary>
internal sealed class ActorRefField : WireField<IActorRef?>
{
    public override string Describe => "actor";

    public override void Write(WireWriter writer, IActorRef? value) => writer.WriteString(value is null ? null : writer.Context.SerializeActorRef(value));

    public override IActorRef? Read(WireReader reader) => reader.ReadString() is { } path ? reader.Context.ResolveActorRef(path) : null;
}

/// <summary>
/// A field whose declared type is a kind of protocol message (<see cref="IForgeOneMessage"/> or an
/// interface derived from it, such as the commands of a batch): the value is one of the
/// allow-listed messages of that kind, encoded as a presence byte, its schema fingerprint and its
/// fields. The fingerprint is looked up among the allow-listed messages assignable to the declared
/// type, so the bytes choose only among the types this node's schema already allows there, never
/// by a type name. Nesting is bounded (<see cref="MaxDepth"/>): a message inside a message inside
/// a message may not recurse without end.
/// </summary>
internal sealed class MessageField<T> : WireField<T?>
    where T : class, IForgeOneMessage
{
    /// <summary>Deepest nesting of messages inside messages.</summary>
    public const int MaxDepth = 4;

    private readonly Lazy<Dictionary<uint, (Type Type, IWireRecord Codec)>> _byFingerprint;
    private readonly Lazy<Dictionary<Type, (uint Fingerprint, IWireRecord Codec)>> _byType;

    public MessageField(Func<IEnumerable<Type>> messages)
    {
        // Resolved on first use, not when the schema is built: a message may carry its own kind.
        _byType = new Lazy<Dictionary<Type, (uint, IWireRecord)>>(() => messages()
            .Where(t => typeof(T).IsAssignableFrom(t))
            .ToDictionary(t => t, t => { var codec = (IWireRecord)WireSchema.For(t); return (WireSchema.FingerprintOf(codec.Describe), codec); }));
        _byFingerprint = new Lazy<Dictionary<uint, (Type, IWireRecord)>>(() =>
            _byType.Value.ToDictionary(kv => kv.Value.Item1, kv => (kv.Key, kv.Value.Item2)));
    }

    public override string Describe => $"msg<{typeof(T).Name}>";

    public override void Write(WireWriter writer, T? value)
    {
        if (value is null)
        {
            writer.WriteByte(0);
            return;
        }

        if (!_byType.Value.TryGetValue(value.GetType(), out var entry))
        {
            throw new WireFormatException(ErrorCodes.WireUnknownType, $"{value.GetType()} is not an allow-listed {typeof(T).Name}; the message was not sent.");
        }

        writer.WriteByte(1);
        writer.WriteFixed32(entry.Fingerprint);
        entry.Codec.WriteBody(writer, value);
    }

    public override T? Read(WireReader reader)
    {
        switch (reader.ReadByte())
        {
            case 0:
                return null;
            case 1:
                break;
            case var b:
                throw WireFormatException.Malformed($"A presence marker of a {typeof(T).Name} is {b}.");
        }

        var fingerprint = reader.ReadFixed32();
        if (!_byFingerprint.Value.TryGetValue(fingerprint, out var entry))
        {
            throw new WireFormatException(ErrorCodes.WireUnknownType, $"No allow-listed {typeof(T).Name} has schema {fingerprint:x8}.");
        }

        if (reader.Depth >= MaxDepth)
        {
            throw WireFormatException.Malformed($"Messages nested more than {MaxDepth} deep.");
        }

        reader.Depth++;
        try
        {
            return (T)entry.Codec.ReadBody(reader);
        }
        finally
        {
            reader.Depth--;
        }
    }
}
