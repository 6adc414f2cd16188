using System.Linq.Expressions;
using System.Reflection;

namespace ForgeOne.Cluster.Protocol.Wire;

/// <summary>A record codec seen without its type parameter (what the serializer holds per manifest).</summary>
public interface IWireRecord : IWireField
{
    /// <summary>The fields, in wire order.</summary>
    IReadOnlyList<WireSchema.Member> Members { get; }

    /// <summary>Writes the fields of <paramref name="value"/> (which must be of the record's type).</summary>
    void WriteBody(WireWriter writer, object value);

    /// <summary>Reads the fields and constructs the record.</summary>
    object ReadBody(WireReader reader);
}

/// <summary>
/// The codec of a record type, derived from its constructor by convention: the body is the
/// constructor's parameters in declaration order, each encoded by its type's codec, and
/// decoding calls that constructor, so the record's own invariants (and nothing else) decide
/// what an instance can be. A type without a public constructor is a singleton read back as its
/// static <c>Instance</c>. Reading and writing are compiled once, on first use.
/// </summary>
/// <typeparam name="T">The record type.</typeparam>
internal sealed class RecordField<T> : WireField<T?>, IWireRecord
    where T : class
{
    private readonly Lazy<Action<WireWriter, T>> _write;
    private readonly Lazy<Func<WireReader, T>> _read;

    public RecordField(IReadOnlyList<WireSchema.Member> members, ConstructorInfo? constructor, T? singleton, string describe)
    {
        Members = members;
        Describe = describe;
        _write = new Lazy<Action<WireWriter, T>>(() => CompileWrite(members));
        _read = new Lazy<Func<WireReader, T>>(() => singleton is not null ? _ => singleton : CompileRead(members, constructor!));
    }

    /// <inheritdoc />
    public IReadOnlyList<WireSchema.Member> Members { get; }

    public override string Describe { get; }

    /// <summary>Writes the fields (no presence marker: a top-level message is never null).</summary>
    public void WriteBody(WireWriter writer, T value) => _write.Value(writer, value);

    /// <summary>Reads the fields and constructs the record.</summary>
    public T ReadBody(WireReader reader) => _read.Value(reader);

    void IWireRecord.WriteBody(WireWriter writer, object value) => WriteBody(writer, (T)value);

    object IWireRecord.ReadBody(WireReader reader) => ReadBody(reader);

    public override void Write(WireWriter writer, T? value)
    {
        if (value is null)
        {
            writer.WriteByte(0);
            return;
        }

        writer.WriteByte(1);
        WriteBody(writer, value);
    }

    public override T? Read(WireReader reader) => reader.ReadByte() switch
    {
        0 => null,
        1 => ReadBody(reader),
        var b => throw WireFormatException.Malformed($"A presence marker of {typeof(T).Name} is {b}."),
    };

    private static Action<WireWriter, T> CompileWrite(IReadOnlyList<WireSchema.Member> members)
    {
        var writer = Expression.Parameter(typeof(WireWriter), "writer");
        var value = Expression.Parameter(typeof(T), "value");
        Expression body = members.Count == 0
            ? Expression.Empty()
            : Expression.Block(members.Select(m =>
                Expression.Call(Expression.Constant(m.Codec), m.Codec.GetType().GetMethod(nameof(WireField<int>.Write))!, writer, Expression.Property(value, m.Property))));
        return Expression.Lambda<Action<WireWriter, T>>(body, writer, value).Compile();
    }

    private static Func<WireReader, T> CompileRead(IReadOnlyList<WireSchema.Member> members, ConstructorInfo constructor)
    {
        var reader = Expression.Parameter(typeof(WireReader), "reader");

        // Arguments are evaluated left to right: the fields are read in wire order.
        var arguments = members.Select(m =>
            (Expression)Expression.Call(Expression.Constant(m.Codec), m.Codec.GetType().GetMethod(nameof(WireField<int>.Read))!, reader));
        var construct = Expression.New(constructor, arguments);

        // A constructor that validates its arguments may throw: that is malformed input too.
        var failure = Expression.Parameter(typeof(Exception), "e");
        var wrap = Expression.Throw(
            Expression.New(typeof(WireFormatException).GetConstructor([typeof(string), typeof(string), typeof(Exception)])!,
                Expression.Constant(Common.ErrorCodes.WireMalformed),
                Expression.Constant($"{typeof(T).Name} refused its decoded fields."),
                failure),
            typeof(T));
        var guarded = Expression.TryCatch(
            construct,
            Expression.Catch(typeof(WireFormatException), Expression.Rethrow(typeof(T))),
            Expression.Catch(failure, wrap));
        return Expression.Lambda<Func<WireReader, T>>(guarded, reader).Compile();
    }
}
