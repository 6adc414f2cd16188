using System.Collections.Frozen;
using ForgeOne.Cluster.Protocol.Wire;

namespace ForgeOne.Cluster.Protocol;

/// <summary>
/// The wire allow-list: every message type that may cross between nodes, each under its
/// manifest. <see cref="ForgeOneWireSerializer"/> decodes a manifest only by looking it up here
/// (never by resolving a type name), and a message's nested data types are fixed by its schema
/// (<see cref="WireSchema"/>), so the bytes choose nothing.
/// </summary>
/// <remarks>
/// The list is every public, concrete <see cref="IForgeOneMessage"/> of this assembly: declaring a
/// protocol record is what puts it on the wire, and a record whose fields the wire format cannot
/// encode fails the node's start (and the serialization tests), naming the field.
/// </remarks>
public static class ProtocolTypes
{
    private static readonly Lazy<FrozenDictionary<string, Type>> ByManifestLazy = new(() =>
        Messages().ToFrozenDictionary(ManifestOf, t => t, StringComparer.Ordinal));

    /// <summary>Every concrete <see cref="IForgeOneMessage"/> of this assembly.</summary>
    public static IEnumerable<Type> Messages() =>
        typeof(IForgeOneMessage).Assembly.GetTypes()
            .Where(t => typeof(IForgeOneMessage).IsAssignableFrom(t) && !t.IsInterface && !t.IsAbstract && (t.IsPublic || t.IsNestedPublic));

    /// <summary>The allow-list, by manifest.</summary>
    public static IReadOnlyDictionary<string, Type> ByManifest => ByManifestLazy.Value;

    /// <summary>
    /// Every record type a message can carry (the closure of the messages' schemas), for review:
    /// these are the only types the wire format ever constructs.
    /// </summary>
    public static IEnumerable<Type> DataTypes()
    {
        var seen = new HashSet<Type>();
        var stack = new Stack<Type>(Messages());
        while (stack.TryPop(out var type))
        {
            if (!seen.Add(type))
            {
                continue;
            }

            foreach (var member in ((IWireRecord)WireSchema.For(type)).Members)
            {
                foreach (var nested in RecordTypesIn(member.Property.PropertyType))
                {
                    stack.Push(nested);
                }
            }
        }

        return seen.Except(Messages());
    }

    /// <summary>The manifest of a message type: its full name, used only as a key into <see cref="ByManifest"/>.</summary>
    public static string ManifestOf(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return type.FullName ?? type.Name;
    }

    private static IEnumerable<Type> RecordTypesIn(Type type)
    {
        if (type.IsArray)
        {
            return RecordTypesIn(type.GetElementType()!);
        }

        if (type.IsGenericType)
        {
            return type.GetGenericArguments().SelectMany(RecordTypesIn);
        }

        return type.IsClass && (type.Assembly.GetName().Name ?? string.Empty).StartsWith("ForgeOne.", StringComparison.Ordinal) ? [type] : [];
    }
}
