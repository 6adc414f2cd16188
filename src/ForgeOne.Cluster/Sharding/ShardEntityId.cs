using System.Globalization;
using ForgeOne.Common;

namespace ForgeOne.Cluster.Sharding;

/// <summary>
/// Entity ids are <c>"{kind}-{n}"</c> (one entity per storage shard) and Akka shard ids are
/// <c>"{n}"</c>, so each Akka shard holds exactly one entity and moving a shard moves one file.
/// </summary>
public static class ShardEntityId
{
    /// <summary>The entity id of shard <paramref name="n"/> of <paramref name="kind"/>.</summary>
    public static string Of(ShardKind kind, int n) => $"{kind.FolderName()}-{n.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The sharding type name (one shard region per kind).</summary>
    public static string TypeName(ShardKind kind) => kind.FolderName();

    /// <summary>Parses an entity id; false for anything that is not exactly <c>"{kind}-{n}"</c>.</summary>
    public static bool TryParse(string? entityId, out ShardKind kind, out int n)
    {
        kind = default;
        n = -1;
        if (entityId is null)
        {
            return false;
        }

        var dash = entityId.LastIndexOf('-');
        if (dash <= 0)
        {
            return false;
        }

        var name = entityId[..dash];
        foreach (var candidate in Enum.GetValues<ShardKind>())
        {
            if (candidate.FolderName() == name)
            {
                kind = candidate;
                return int.TryParse(entityId.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out n);
            }
        }

        return false;
    }
}
