using Akka.Actor;
using Akka.Cluster.Sharding;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;
using ForgeOne.Common.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ForgeOne.Edge.Routes;

/// <summary>
/// <c>/healthz</c>: the process serves. <c>/readyz</c>: this node is Up in the cluster, every
/// shard region answers (its coordinator is reachable) and the system shard is open; 503 with
/// the failing checks otherwise. Both unauthenticated (orchestrators probe them).
/// </summary>
internal static class HealthRoutes
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => Results.Text("ok\n"))
            .WithTags("Health").WithName("Health").WithSummary("The process is up.")
            .Produces<string>(StatusCodes.Status200OK, "text/plain");

        app.MapGet("/readyz", async (EdgeCluster cluster) =>
        {
            var readiness = await CheckAsync(cluster).ConfigureAwait(false);
            return Results.Json(readiness, ApiJsonContext.Default.Readiness, statusCode: readiness.Ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        })
            .WithTags("Health").WithName("Ready").WithSummary("Ready to serve: joined, every shard region reachable, system shard open.")
            .Produces<Readiness>().Produces<Readiness>(StatusCodes.Status503ServiceUnavailable);
    }

    internal static async Task<Readiness> CheckAsync(EdgeCluster cluster)
    {
        var checks = new Dictionary<string, string>(StringComparer.Ordinal);
        if (cluster.Current is not { } c)
        {
            checks["cluster"] = "starting: not joined yet";
            return new Readiness(false, checks);
        }

        var akka = Akka.Cluster.Cluster.Get(c.System);
        var self = akka.SelfMember;
        checks["cluster"] = self.Status == Akka.Cluster.MemberStatus.Up ? "ok" : $"member status {self.Status}";

        var regions = c.Regions.ByKind.Select(r => (Name: r.Key.FolderName(), Region: r.Value))
            .Concat(c.ZoneRegions.Select(z => (Name: $"{z.Key.Kind.FolderName()}@{z.Key.Zone}", Region: z.Value)));
        var probes = regions.Select(async r =>
        {
            try
            {
                await r.Region.Ask<ClusterShardingStats>(new GetClusterShardingStats(ProbeTimeout), ProbeTimeout + TimeSpan.FromMilliseconds(500)).ConfigureAwait(false);
                return (r.Name, "ok");
            }
            catch (Exception e) when (e is Akka.Actor.AskTimeoutException or TimeoutException)
            {
                return (r.Name, "unreachable: no answer within 2 s");
            }
        });
        foreach (var (name, status) in await Task.WhenAll(probes).ConfigureAwait(false))
        {
            checks["region:" + name] = status;
        }

        try
        {
            var head = await c.Region(ShardKind.System).Ask<object>(new ShardProtocol.GetAuditHead(c.Tokens.Current, ShardKind.System, 0), ProbeTimeout).ConfigureAwait(false);
            checks["system-shard"] = head is ShardProtocol.AuditHead ? "ok" : $"not open: {(head as IFailureReply)?.Error.Message ?? head.GetType().Name}";
        }
        catch (Exception e) when (e is Akka.Actor.AskTimeoutException or TimeoutException)
        {
            checks["system-shard"] = "no answer within 2 s";
        }

        return new Readiness(checks.Values.All(v => v == "ok"), checks);
    }
}
