using ForgeOne.Common;
using ForgeOne.Common.Model;

namespace ForgeOne.Cluster.Protocol;

/// <summary>
/// The Hyperion allow-list: every type our messages may carry across the wire. Anything else
/// (in particular any type named by a forged manifest) is refused at deserialization.
/// Client bytes never reach Hyperion: the edge and clients build these records from typed values.
/// </summary>
public static class ProtocolTypes
{
    /// <summary>Assembly-qualified names (without version) of the allowed types.</summary>
    public static IEnumerable<string> AllowList()
    {
        var ours = typeof(IForgeOneMessage).Assembly.GetTypes()
            .Where(t => t.Namespace == typeof(IForgeOneMessage).Namespace && !t.IsInterface && !t.IsAbstract && (t.IsPublic || t.IsNestedPublic));
        Type[] data =
        [
            typeof(RecordId), typeof(ForgeOneError), typeof(LogEntry), typeof(Severity), typeof(Priority),
            typeof(EventMessage), typeof(Storage.ShardKind),
        ];
        return ours.Concat(data).Select(Name).Distinct(StringComparer.Ordinal);
    }

    private static string Name(Type t) => $"{t.FullName}, {t.Assembly.GetName().Name}";
}
