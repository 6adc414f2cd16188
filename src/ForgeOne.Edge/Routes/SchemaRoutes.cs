using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Integrity;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common.Api;
using ForgeOne.Edge.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using B = ForgeOne.Cluster.Protocol.BackupProtocol;

namespace ForgeOne.Edge.Routes;

/// <summary>
/// <c>/v1/schema</c>: shard schema status, rehearsal and migration (what <c>forgeone schema</c>
/// calls). The backup coordinator authorizes (<c>system:read</c> for status, <c>backup:admin</c>
/// otherwise), gates <c>migrate</c> on a passing rehearsal and audits each call.
/// </summary>
internal static class SchemaRoutes
{
    private static readonly TimeSpan WaitLimit = TimeSpan.FromMinutes(30);

    public static void Map(RouteGroupBuilder v1, EdgeOptions options)
    {
        var schema = v1.MapGroup("/schema").WithTags("Schema");
        schema.MapGet("/", async (HttpContext http, EdgeCluster cluster) =>
        {
            var status = await Ask<B.ClusterSchemaStatus>(cluster, new B.GetClusterSchemaStatus(http.Principal().Token), http).ConfigureAwait(false);
            return Results.Json(new SchemaStatusView(status.TargetVersion, [.. status.Shards.OrderBy(s => s.Chain, StringComparer.Ordinal).Select(View)], status.Unreachable,
                status.LastRehearsal is { } r ? View(r, []) : null), BackupApiJsonContext.Default.SchemaStatusView);
        })
            .WithName("GetSchemaStatus").WithSummary("Every shard's schema version, pending migrations (a shard with any serves no data) and history, and the newest rehearsal.")
            .Produces<SchemaStatusView>().Problems();

        schema.MapPost("/rehearse", async (HttpContext http, EdgeCluster cluster) =>
        {
            var done = await Ask<B.SchemaRehearsed>(cluster, new B.RehearseSchema(http.Principal().Token), http, WaitLimit).ConfigureAwait(false);
            return Results.Json(View(done.Report, done.StoredIn), BackupApiJsonContext.Default.RehearsalView);
        })
            .WithName("RehearseSchema").WithSummary("Restores the newest backup into scratch, runs the pending migrations there, checks integrity, chains and counts; answers with the signed report when it ended.")
            .Produces<RehearsalView>().Problems(409);

        schema.MapPost("/migrate", async (HttpContext http, EdgeCluster cluster) =>
        {
            var input = http.Request.ContentLength is > 0 ? await RequestBody.ReadJsonAsync(http, BackupApiJsonContext.Default.SchemaMigrateInput).ConfigureAwait(false) : new SchemaMigrateInput();
            var done = await Ask<B.ClusterMigrated>(cluster, new B.MigrateCluster(http.Principal().Token, input.WithoutRehearsal, input.Reason), http, WaitLimit).ConfigureAwait(false);
            return Results.Json(new SchemaMigratedView(done.TargetVersion, done.Gate,
                [.. done.Shards.OrderBy(s => s.Chain, StringComparer.Ordinal).Select(s => new ShardMigrationView(s.Chain, s.FromVersion, s.Version, [.. s.Applied.Select(Step)]))], done.Failures),
                BackupApiJsonContext.Default.SchemaMigratedView);
        })
            .WithName("MigrateSchema").WithSummary("Runs every shard's pending migrations: refused (409 storage.rehearsal_required) without a passing rehearsal of the same target, unless withoutRehearsal with a reason (audited).")
            .JsonBody<SchemaMigrateInput>(options.MaxJsonBodyBytes)
            .Produces<SchemaMigratedView>().Problems(409);
    }

    private static Task<T> Ask<T>(EdgeCluster cluster, object message, HttpContext http, TimeSpan? timeout = null) =>
        cluster.AskActorAsync<T>(cluster.Require().Backup, message, http.RequestAborted, timeout);

    private static SchemaStepView Step(ShardProtocol.SchemaStep s) => new(s.FromVersion, s.ToVersion, s.Description, s.At);

    private static ShardSchemaView View(ShardProtocol.SchemaStatus s) =>
        new(s.Chain, s.Version, s.TargetVersion, [.. s.Pending.Select(p => new SchemaStepView(p.FromVersion, p.ToVersion, p.Description))], [.. s.History.Select(Step)]);

    private static RehearsalView View(RehearsalReport r, string[] storedIn) =>
        new(r.Id, r.StartedAt, r.FinishedAt, r.BackupId, r.TargetVersion, r.RestoreSeconds, r.MigrateSeconds, r.Passed, r.Failures,
            [.. r.Shards.Select(s => new RehearsalShardView(s.Shard, s.FromVersion, s.ToVersion, s.Records, s.RecordsAfter, s.AuditBefore, s.AuditAfter, s.Problems))], r.SignedBy, r.Node, r.By, storedIn);
}
