using ForgeOne.Common.Api;

namespace ForgeOne.Cli.Commands;

/// <summary>
/// pbm's shapes for cluster output: one line per member,
/// <c>address | [roles] | status | reachability | version</c>, then <c>Count: N nodes</c>.
/// Status is lower case (<c>up</c>, <c>leaving</c>, ...); roles are sorted, without the automatic
/// data-center role (<c>dc-default</c>), which every member has.
/// </summary>
public static class ClusterFormat
{
    /// <summary>One member's line.</summary>
    public static string MemberLine(MemberView member)
    {
        ArgumentNullException.ThrowIfNull(member);
        var roles = member.Roles.Where(r => !r.StartsWith("dc-", StringComparison.Ordinal)).Order(StringComparer.Ordinal);
        return $"{member.Address} | [{string.Join(", ", roles)}] | {member.Status.ToLowerInvariant()} | {(member.Reachable ? "reachable" : "unreachable")} | {member.Version ?? "unknown"}";
    }

    /// <summary>The footer after the member lines.</summary>
    public static string CountLine(int count) => $"Count: {count} nodes";

    /// <summary>One member event as <c>cluster tail</c> prints it.</summary>
    public static string EventLine(ClusterEventView e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var time = Infrastructure.CliOutput.Time(e.Time);
        if (e.Type == "LeaderChanged")
        {
            return $"{time} {e.Type} {(e.Address.Length == 0 ? "(no leader)" : e.Address)}";
        }

        var roles = e.Roles.Where(r => !r.StartsWith("dc-", StringComparison.Ordinal)).Order(StringComparer.Ordinal);
        return $"{time} {e.Type} {e.Address} | [{string.Join(", ", roles)}] | {e.Status.ToLowerInvariant()}";
    }
}
