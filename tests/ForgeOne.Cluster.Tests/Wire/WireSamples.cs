using System.Reflection;
using System.Text;
using Akka.Actor;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Protocol.Wire;
using ForgeOne.Common;

namespace ForgeOne.Cluster.Tests.Wire;

/// <summary>
/// Random instances of any wire record, built from its constructor the way the wire schema reads
/// it (nullable fields sometimes null, non-nullable never), so the round-trip and fuzz tests cover
/// every protocol type, including ones added after these tests were written.
/// </summary>
internal sealed class WireSamples
{
    private static readonly NullabilityInfoContext Nullability = new();
    private readonly Random _random;
    private readonly IActorRef _actor;

    public WireSamples(int seed, IActorRef actor)
    {
        _random = new Random(seed);
        _actor = actor;
    }

    public object Create(Type type) => CreateRecord(type, depth: 0);

    private object CreateRecord(Type type, int depth)
    {
        var constructor = type.GetConstructors(BindingFlags.Public | BindingFlags.Instance)
            .SingleOrDefault(c => !(c.GetParameters() is [var only] && only.ParameterType == type));
        if (constructor is null)
        {
            return type.GetField("Instance", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
        }

        var arguments = constructor.GetParameters().Select(p => Value(p.ParameterType, Nullability.Create(p), depth)).ToArray();
        return constructor.Invoke(arguments);
    }

    private object? Value(Type type, NullabilityInfo nullability, int depth)
    {
        if (!type.IsValueType && nullability.ReadState != NullabilityState.NotNull && _random.Next(4) == 0)
        {
            return null;
        }

        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            return _random.Next(3) == 0 ? null : Value(underlying, nullability, depth);
        }

        return type switch
        {
            _ when type == typeof(bool) => _random.Next(2) == 1,
            _ when type == typeof(byte) => (byte)_random.Next(256),
            _ when type == typeof(int) => _random.Next(4) == 0 ? _random.Next(int.MinValue, int.MaxValue) : _random.Next(-1000, 1000),
            _ when type == typeof(long) => _random.NextInt64(long.MinValue, long.MaxValue),
            _ when type == typeof(ulong) => (ulong)_random.NextInt64(),
            _ when type == typeof(double) => _random.NextDouble() * 1e6,
            _ when type == typeof(string) => Text(),
            _ when type == typeof(byte[]) => Bytes(),
            _ when type == typeof(RecordId) => new RecordId((ulong)_random.NextInt64()),
            _ when type == typeof(DateTimeOffset) => new DateTimeOffset(_random.NextInt64(DateTimeOffset.UnixEpoch.Ticks, DateTimeOffset.MaxValue.Ticks / 2), TimeSpan.Zero)
                .ToOffset(TimeSpan.FromMinutes(_random.Next(-14 * 60, 14 * 60))),
            _ when type == typeof(TimeSpan) => TimeSpan.FromTicks(_random.NextInt64(-TimeSpan.TicksPerDay * 1000, TimeSpan.TicksPerDay * 1000)),
            _ when type == typeof(IActorRef) => _actor,
            _ when type.IsEnum => Enum.GetValues(type).GetValue(_random.Next(Enum.GetValues(type).Length)),
            _ when type.IsArray => Array(type.GetElementType()!, nullability.ElementType!, depth),
            _ when type.IsGenericType => Map(type, nullability, depth),
            _ when type.IsInterface => Message(type, depth),
            _ => CreateRecord(type, depth + 1),
        };
    }

    // Some allow-listed message of the declared kind; past a small depth only ones without nested messages.
    private object Message(Type kind, int depth)
    {
        var candidates = ProtocolTypes.ByManifest.Values
            .Where(t => kind.IsAssignableFrom(t) && (depth < 2 || !((IWireRecord)WireSchema.For(t)).Describe.Contains("msg<", StringComparison.Ordinal)))
            .OrderBy(t => t.FullName, StringComparer.Ordinal)
            .ToArray();
        return CreateRecord(candidates[_random.Next(candidates.Length)], depth + 1);
    }

    private Array Array(Type element, NullabilityInfo nullability, int depth)
    {
        var array = System.Array.CreateInstance(element, depth > 2 ? 0 : _random.Next(4));
        for (var i = 0; i < array.Length; i++)
        {
            array.SetValue(Value(element, nullability, depth + 1), i);
        }

        return array;
    }

    private object Map(Type type, NullabilityInfo nullability, int depth)
    {
        var (keyType, valueType) = (type.GetGenericArguments()[0], type.GetGenericArguments()[1]);
        var map = (System.Collections.IDictionary)Activator.CreateInstance(typeof(Dictionary<,>).MakeGenericType(keyType, valueType))!;
        for (var i = depth > 2 ? 0 : _random.Next(4); i > 0; i--)
        {
            var key = Value(keyType, nullability.GenericTypeArguments[0], depth + 1)!;
            if (!map.Contains(key))
            {
                map[key] = Value(valueType, nullability.GenericTypeArguments[1], depth + 1);
            }
        }

        return map;
    }

    private string Text()
    {
        var sb = new StringBuilder();
        for (var i = _random.Next(12); i > 0; i--)
        {
            // ASCII, accented, CJK and an astral (surrogate pair) character: every UTF-8 length.
            sb.Append(_random.Next(5) switch { 0 => "é", 1 => "中", 2 => "\U0001F600", _ => ((char)_random.Next('a', 'z' + 1)).ToString() });
        }

        return sb.ToString();
    }

    private byte[] Bytes()
    {
        var bytes = new byte[_random.Next(40)];
        _random.NextBytes(bytes);
        return bytes;
    }
}
