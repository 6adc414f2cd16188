using ForgeOne.Cluster.Hosting;

namespace ForgeOne.Cluster.Compliance;

/// <summary>The membership rule of residency routing, without Akka types so it is tested as a plain function.</summary>
public static class ResidencyRouting
{
    /// <summary>True when some member is Up and carries both the storage role and <c>region-{zone}</c>.</summary>
    /// <param name="members">Every member: whether it is Up, and its roles.</param>
    /// <param name="zone">The residency zone.</param>
    public static bool HasUpStorageMember(IEnumerable<(bool Up, IReadOnlyCollection<string> Roles)> members, string zone)
    {
        ArgumentNullException.ThrowIfNull(members);
        var role = ForgeOneCluster.RegionRole(zone);
        return members.Any(m => m.Up && m.Roles.Contains(ForgeOneNodeOptions.StorageRole) && m.Roles.Contains(role));
    }
}
