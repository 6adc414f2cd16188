using System.CommandLine;
using System.Globalization;
using ForgeOne.Cli.Infrastructure;
using ForgeOne.Common.Api;

namespace ForgeOne.Cli.Commands;

/// <summary>pbm's cluster and cluster-sharding verbs.</summary>
public static class ClusterCommands
{
    /// <summary><c>cluster show | status | leader | tail | leave | down-unreachable | join</c>.</summary>
    public static Command Cluster(Verbs verbs)
    {
        ArgumentNullException.ThrowIfNull(verbs);
        var role = new Option<string?>("--role", "-r") { Description = "Only members with this role (storage, edge, region-eu, ...)" };
        var show = new Command("show", "Every member: address | [roles] | status | reachability | version, then Count: N nodes") { role };
        verbs.Action(show, async (ctx, ct) =>
        {
            var view = await ctx.Client.GetClusterAsync(ct).ConfigureAwait(false);
            var filter = ctx.Get(role);
            var members = view.Members.Where(m => filter is null || m.Roles.Contains(filter, StringComparer.Ordinal)).ToArray();
            ctx.Output.Result(view with { Members = members }, ApiJsonContext.Default.ClusterView, o =>
            {
                foreach (var m in members)
                {
                    o.WriteLine(ClusterFormat.MemberLine(m));
                }

                o.WriteLine(ClusterFormat.CountLine(members.Length));
            }, quiet: string.Join(Environment.NewLine, members.Select(m => m.Address)));
            return ExitCodes.Ok;
        });

        var status = new Command("status", "The edge node's own membership line, the leader and the member counts by status");
        verbs.Action(status, async (ctx, ct) =>
        {
            var view = await ctx.Client.GetClusterAsync(ct).ConfigureAwait(false);
            var self = view.Members.FirstOrDefault(m => m.Address == view.Self) ?? new MemberView(view.Self, "Joining", [], true);
            ctx.Output.Result(self, ApiJsonContext.Default.MemberView, o =>
            {
                o.WriteLine(ClusterFormat.MemberLine(self));
                o.WriteLine($"Leader: {view.Leader ?? "(none)"}");
                var counts = view.Members.GroupBy(m => m.Status.ToLowerInvariant()).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key}: {g.Count()}");
                o.WriteLine($"Members: {string.Join(", ", counts)}; unreachable: {view.Members.Count(m => !m.Reachable)}");
            }, quiet: self.Status.ToLowerInvariant());
            return ExitCodes.Ok;
        });

        var leader = new Command("leader", "The cluster leader's address as the edge node sees it");
        verbs.Action(leader, async (ctx, ct) =>
        {
            var view = await ctx.Client.GetClusterAsync(ct).ConfigureAwait(false);
            if (view.Leader is null)
            {
                throw new CliException(ExitCodes.Failed, "the cluster has no leader (no member is up, or this node is still joining)", "cluster.no_leader");
            }

            ctx.Output.Result(new LeaderView(view.Leader), CliJsonContext.Default.LeaderView, o => o.WriteLine(view.Leader), quiet: view.Leader);
            return ExitCodes.Ok;
        });

        var tail = new Command("tail", "Member events as they happen (joins, ups, leaves, removals, reachability, leader), until Ctrl-C");
        verbs.Action(tail, async (ctx, ct) =>
        {
            var opened = () => ctx.Output.Note($"Tailing member events of the cluster of {ctx.Endpoint.Url} (Ctrl-C to stop)...");
            await foreach (var e in ctx.Client.StreamClusterEventsAsync(opened, ct).ConfigureAwait(false))
            {
                ctx.Output.Line(e, ApiJsonContext.Default.ClusterEventView, ClusterFormat.EventLine(e), quiet: $"{e.Type} {e.Address}");
            }

            throw new CliException(ExitCodes.Unreachable, $"the edge at {ctx.Endpoint.Url} closed the event stream", "cluster.unreachable");
        });

        var leaveAddress = new Option<string?>("--address", "-a") { Description = "The member to leave (default: the edge node itself)" };
        var leave = new Command("leave", "Asks a member to leave the cluster gracefully (its shards hand off first)") { leaveAddress };
        verbs.Action(leave, async (ctx, ct) =>
        {
            var change = await ctx.Client.LeaveClusterAsync(ctx.Get(leaveAddress), ct).ConfigureAwait(false);
            ctx.Output.Result(change, ApiJsonContext.Default.MembershipChange, o => o.WriteLine($"{change.Addresses[0]} is leaving the cluster"), quiet: change.Addresses[0]);
            return ExitCodes.Ok;
        });

        var down = new Command("down-unreachable", "Downs every member the edge node sees as unreachable");
        verbs.Action(down, async (ctx, ct) =>
        {
            var change = await ctx.Client.DownUnreachableAsync(ct).ConfigureAwait(false);
            ctx.Output.Result(change, ApiJsonContext.Default.MembershipChange, o =>
            {
                foreach (var a in change.Addresses)
                {
                    o.WriteLine($"{a} marked down");
                }

                o.WriteLine($"Downed: {change.Addresses.Length.ToString(CultureInfo.InvariantCulture)} nodes");
            }, quiet: string.Join(Environment.NewLine, change.Addresses));
            return ExitCodes.Ok;
        });

        var joinAddress = new Option<string>("--address", "-a") { Description = "A member to join through (akka.ssl.tcp://forgeone@host:port)", Required = true };
        var join = new Command("join", "Makes the edge node join the cluster through the given member") { joinAddress };
        verbs.Action(join, async (ctx, ct) =>
        {
            var change = await ctx.Client.JoinClusterAsync(ctx.Get(joinAddress), ct).ConfigureAwait(false);
            ctx.Output.Result(change, ApiJsonContext.Default.MembershipChange, o => o.WriteLine($"joining through {change.Addresses[0]}"), quiet: change.Addresses[0]);
            return ExitCodes.Ok;
        });

        return Verbs.Group("cluster", "Cluster membership (pbm's verbs)", show, status, leader, tail, leave, down, join);
    }

    /// <summary><c>cluster-sharding regions | region-stats -r kind</c>.</summary>
    public static Command Sharding(Verbs verbs)
    {
        ArgumentNullException.ThrowIfNull(verbs);
        var regions = new Command("regions", "The shard regions (sharded types) and the nodes hosting each, with their shards");
        verbs.Action(regions, async (ctx, ct) =>
        {
            var view = await ctx.Client.GetShardPlacementAsync(ct).ConfigureAwait(false);
            ctx.Output.Result(view, ApiJsonContext.Default.ShardPlacementsView, o =>
            {
                foreach (var region in view.Placements.GroupBy(p => p.Region).OrderBy(g => g.Key, StringComparer.Ordinal))
                {
                    o.WriteLine(region.Key);
                    foreach (var p in region.OrderBy(p => p.Node, StringComparer.Ordinal))
                    {
                        o.WriteLine($"  {p.Node} | shards: {p.Shards.Length.ToString(CultureInfo.InvariantCulture)} [{string.Join(", ", p.Shards)}]");
                    }
                }

                o.WriteLine($"Count: {view.Placements.Select(p => p.Region).Distinct().Count().ToString(CultureInfo.InvariantCulture)} regions");
            }, quiet: string.Join(Environment.NewLine, view.Placements.Select(p => p.Region).Distinct().Order(StringComparer.Ordinal)));
            foreach (var failure in view.Failures)
            {
                ctx.Console.Error.WriteLine($"not answered: {failure}");
            }

            return view.Failures.Length == 0 ? ExitCodes.Ok : ExitCodes.Failed;
        });

        var region = new Option<string>("--region", "-r") { Description = "The shard region: logs, events, blobs, system (or kind@zone)", Required = true };
        var stats = new Command("region-stats", "Shards and entities per node of one region (GetClusterShardingStats); nodes that do not answer in time are named") { region };
        verbs.Action(stats, async (ctx, ct) =>
        {
            var view = await ctx.Client.GetRegionStatsAsync(ctx.Get(region), ct).ConfigureAwait(false);
            ctx.Output.Result(view, ApiJsonContext.Default.RegionStatsView, o =>
            {
                o.WriteLine($"Region: {view.Region}");
                foreach (var node in view.Nodes)
                {
                    o.WriteLine($"  {node.Node} | shards: {node.Shards.Length.ToString(CultureInfo.InvariantCulture)} | entities: {node.Shards.Sum(s => s.Entities).ToString(CultureInfo.InvariantCulture)}");
                    foreach (var shard in node.Shards)
                    {
                        o.WriteLine($"    shard {shard.Shard}: {shard.Entities.ToString(CultureInfo.InvariantCulture)} entities");
                    }
                }

                foreach (var silent in view.NotAnswered)
                {
                    o.WriteLine($"  {silent} | not answered in time");
                }

                o.WriteLine($"Count: {view.Nodes.Length.ToString(CultureInfo.InvariantCulture)} nodes, {view.Nodes.Sum(n => n.Shards.Length).ToString(CultureInfo.InvariantCulture)} shards");
            }, quiet: string.Join(Environment.NewLine, view.Nodes.Select(n => $"{n.Node} {n.Shards.Length.ToString(CultureInfo.InvariantCulture)}")));
            foreach (var silent in view.NotAnswered)
            {
                ctx.Console.Error.WriteLine($"not answered in time: {silent}");
            }

            return view.NotAnswered.Length == 0 ? ExitCodes.Ok : ExitCodes.Failed;
        });

        return Verbs.Group("cluster-sharding", "Shard regions and their distribution (pbm's verbs)", regions, stats);
    }
}
