using ForgeOne.Cluster.Hosting;
using ForgeOne.Common;
using ForgeOne.Common.Api;
using ForgeOne.Edge.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using B = ForgeOne.Cluster.Protocol.BackupProtocol;

namespace ForgeOne.Edge.Routes;

/// <summary>
/// <c>/v1/backups</c>, <c>/v1/restores</c>, <c>/v1/data-versions</c>, <c>/v1/keys/backups</c> and
/// <c>/v1/dr/drills</c>: the backup coordinator's operations (what <c>forgeone backup</c>,
/// <c>forgeone keys backup</c> and <c>forgeone dr</c> call). The coordinator authorizes each one
/// (<c>backup:admin</c>, <c>keys:admin</c>) and audits it. Long operations answer 202 with their
/// id; <c>?wait=true</c> holds the request until the operation ends (at most 30 minutes).
/// </summary>
internal static class BackupRoutes
{
    private static readonly TimeSpan WaitLimit = TimeSpan.FromMinutes(30);

    public static void Map(RouteGroupBuilder v1, EdgeOptions options)
    {
        var backups = v1.MapGroup("/backups").WithTags("Backups");
        backups.MapPost("/", async (HttpContext http, EdgeCluster cluster, bool? wait) =>
        {
            var input = http.Request.ContentLength is > 0 ? await RequestBody.ReadJsonAsync(http, BackupApiJsonContext.Default.BackupRunInput).ConfigureAwait(false) : new BackupRunInput();
            var type = input.Type?.ToLowerInvariant() switch
            {
                null => (B.BackupKind?)null,
                "full" => B.BackupKind.Full,
                "incremental" => B.BackupKind.Incremental,
                _ => throw new ForgeOneException(ErrorCodes.InvalidArgument, $"type '{input.Type}' is not full or incremental"),
            };
            var caller = http.Principal().Token;
            var accepted = await Ask<B.BackupAccepted>(cluster, new B.RunBackup(caller, type), http).ConfigureAwait(false);
            if (wait != true)
            {
                return Results.Json(new BackupAcceptedView(accepted.Id, Name(accepted.Type), accepted.Parent, accepted.Joined), BackupApiJsonContext.Default.BackupAcceptedView, statusCode: StatusCodes.Status202Accepted);
            }

            var done = await Ask<B.BackupInfo>(cluster, new B.AwaitOperation(caller, accepted.Id), http, WaitLimit).ConfigureAwait(false);
            return Results.Json(View(done), BackupApiJsonContext.Default.BackupView);
        })
            .WithName("RunBackup").WithSummary("Starts a backup (full or incremental; joins the running one). ?wait=true answers when it ends.")
            .JsonBody<BackupRunInput>(options.MaxJsonBodyBytes)
            .Produces<BackupAcceptedView>(StatusCodes.Status202Accepted).Produces<BackupView>().Problems(409);

        backups.MapGet("/", async (HttpContext http, EdgeCluster cluster, int? limit) =>
        {
            var list = await Ask<B.BackupList>(cluster, new B.ListBackups(http.Principal().Token, limit ?? 100), http).ConfigureAwait(false);
            return Results.Json(new BackupListView([.. list.Backups.Select(View)]), BackupApiJsonContext.Default.BackupListView);
        })
            .WithName("ListBackups").WithSummary("The backup catalog, newest first.")
            .Produces<BackupListView>().Problems();

        backups.MapGet("/progress", async (HttpContext http, EdgeCluster cluster) =>
        {
            var p = await Ask<B.BackupProgress>(cluster, new B.GetBackupProgress(http.Principal().Token), http).ConfigureAwait(false);
            return Results.Json(new BackupProgressView(p.Operation, p.Id, p.Done, p.Total, p.Bytes, p.ElapsedSeconds, p.BytesPerSecond), BackupApiJsonContext.Default.BackupProgressView);
        })
            .WithName("GetBackupProgress").WithSummary("What the coordinator is doing: files done of total, bytes, throughput.")
            .Produces<BackupProgressView>().Problems();

        backups.MapGet("/schedule", async (HttpContext http, EdgeCluster cluster) =>
            Results.Json(View(await Ask<B.BackupSchedule>(cluster, new B.GetBackupSchedule(http.Principal().Token), http).ConfigureAwait(false)), BackupApiJsonContext.Default.BackupScheduleView))
            .WithName("GetBackupSchedule").WithSummary("Full, incremental and drill intervals and what runs next.")
            .Produces<BackupScheduleView>().Problems();

        backups.MapPut("/schedule", async (HttpContext http, EdgeCluster cluster) =>
        {
            var input = await RequestBody.ReadJsonAsync(http, BackupApiJsonContext.Default.BackupScheduleInput).ConfigureAwait(false);
            var schedule = await Ask<B.BackupSchedule>(cluster, new B.SetBackupSchedule(http.Principal().Token, input.Full, input.Incremental, input.Drill), http).ConfigureAwait(false);
            return Results.Json(View(schedule), BackupApiJsonContext.Default.BackupScheduleView);
        })
            .WithName("SetBackupSchedule").WithSummary("Sets the schedule (persisted, audited).")
            .JsonBody<BackupScheduleInput>(options.MaxJsonBodyBytes)
            .Produces<BackupScheduleView>().Problems();

        backups.MapGet("/{id}", async (string id, HttpContext http, EdgeCluster cluster) =>
        {
            var details = await Ask<B.BackupDetails>(cluster, new B.ShowBackup(http.Principal().Token, id), http).ConfigureAwait(false);
            return Results.Json(new BackupDetailsView(View(details.Backup), [.. details.Shards.Select(s => new BackupShardView(s.Shard, s.File, s.Size, s.Sha256, s.TxnId, s.SinceTxnId, s.AuditSeq, s.AuditHash, s.Records, s.SealNumber))], details.KekVersions),
                BackupApiJsonContext.Default.BackupDetailsView);
        })
            .WithName("ShowBackup").WithSummary("One backup: its shards' files, hashes, audit heads and seals, and the KEK versions it needs.")
            .Produces<BackupDetailsView>().Problems(404);

        backups.MapPost("/{id}/verify", async (string id, HttpContext http, EdgeCluster cluster) =>
        {
            var verified = await Ask<B.BackupVerified>(cluster, new B.VerifyBackup(http.Principal().Token, id), http, WaitLimit).ConfigureAwait(false);
            return Results.Json(new BackupVerifiedView(verified.Id, verified.Ok, verified.Chain, [.. verified.Regions.Select(r => new RegionCheckView(r.Region, r.Complete, r.Problems))]), BackupApiJsonContext.Default.BackupVerifiedView);
        })
            .WithName("VerifyBackup").WithSummary("Re-reads the backup's chain in every region: manifest signatures, every file's size and SHA-256.")
            .Produces<BackupVerifiedView>().Problems(404, 409);

        backups.MapPost("/{id}/restore", (string id, HttpContext http, EdgeCluster cluster, bool? wait) => Restore(new RestoreInput(id), http, cluster, wait))
            .WithName("RestoreBackup").WithSummary("Restores this backup into a new data-root version and switches to it. ?wait=true answers when done.")
            .Produces<RestoreAcceptedView>(StatusCodes.Status202Accepted).Produces<RestoreView>().Problems(404, 409);

        var restores = v1.MapGroup("/restores").WithTags("Backups");
        restores.MapPost("/", async (HttpContext http, EdgeCluster cluster, bool? wait) =>
            await Restore(await RequestBody.ReadJsonAsync(http, BackupApiJsonContext.Default.RestoreInput).ConfigureAwait(false), http, cluster, wait).ConfigureAwait(false))
            .WithName("Restore").WithSummary("Restores a backup by id, or the newest started at or before atOrBefore, or the newest of all.")
            .JsonBody<RestoreInput>(options.MaxJsonBodyBytes)
            .Produces<RestoreAcceptedView>(StatusCodes.Status202Accepted).Produces<RestoreView>().Problems(404, 409);

        restores.MapGet("/{id}", async (string id, HttpContext http, EdgeCluster cluster) =>
            Results.Json(View(await Ask<B.RestoreInfo>(cluster, new B.AwaitOperation(http.Principal().Token, id), http, WaitLimit).ConfigureAwait(false)), BackupApiJsonContext.Default.RestoreView))
            .WithName("GetRestore").WithSummary("A restore's outcome (waits while it runs).")
            .Produces<RestoreView>().Problems(404);

        var versions = v1.MapGroup("/data-versions").WithTags("Backups");
        versions.MapGet("/", async (HttpContext http, EdgeCluster cluster) =>
        {
            var list = await Ask<B.DataVersions>(cluster, new B.ListDataVersions(http.Principal().Token), http).ConfigureAwait(false);
            return Results.Json(new DataVersionList([.. list.Versions.Select(v => new DataVersionView(v.Name, v.Active, v.Incarnation, v.CreatedAt, v.CreatedBy, v.RestoredFrom))]), BackupApiJsonContext.Default.DataVersionList);
        })
            .WithName("ListDataVersions").WithSummary("The data root's versions: the active one and those kept after restores.")
            .Produces<DataVersionList>().Problems();

        versions.MapDelete("/{name}", async (string name, HttpContext http, EdgeCluster cluster) =>
        {
            await Ask<B.VersionDiscarded>(cluster, new B.DiscardVersion(http.Principal().Token, name), http).ConfigureAwait(false);
            return Results.NoContent();
        })
            .WithName("DiscardDataVersion").WithSummary("Deletes a data-root version that is not active.")
            .Produces(StatusCodes.Status204NoContent).Problems(404, 409);

        var keys = v1.MapGroup("/keys/backups").WithTags("Backups");
        keys.MapPost("/", async (HttpContext http, EdgeCluster cluster) =>
        {
            var input = await RequestBody.ReadJsonAsync(http, BackupApiJsonContext.Default.KeyBackupInput).ConfigureAwait(false);
            var done = await Ask<B.KeyBackupDone>(cluster, new B.BackupKeys(http.Principal().Token, input.RecoverySecret ?? ""), http, WaitLimit).ConfigureAwait(false);
            return Results.Json(new KeyBackupView(done.Id, done.Regions, done.Summary), BackupApiJsonContext.Default.KeyBackupView);
        })
            .WithName("BackupKeys").WithSummary("Seals the keys directory under the recovery secret (Argon2id) and stores it in every region (keys:admin).")
            .JsonBody<KeyBackupInput>(options.MaxJsonBodyBytes)
            .Produces<KeyBackupView>().Problems(409);

        keys.MapPost("/verify", async (HttpContext http, EdgeCluster cluster) =>
        {
            var input = await RequestBody.ReadJsonAsync(http, BackupApiJsonContext.Default.KeyBackupVerifyInput).ConfigureAwait(false);
            var v = await Ask<B.KeyBackupVerified>(cluster, new B.VerifyKeyBackup(http.Principal().Token, input.Id, input.RecoverySecret ?? ""), http, WaitLimit).ConfigureAwait(false);
            return Results.Json(new KeyBackupVerifiedView(v.Id, v.Region, v.Summary, v.Matching, v.MissingFromDirectory, v.Different, v.NotInBackup), BackupApiJsonContext.Default.KeyBackupVerifiedView);
        })
            .WithName("VerifyKeyBackup").WithSummary("Proves the recovery secret opens a key backup, without restoring anything (keys:admin).")
            .JsonBody<KeyBackupVerifyInput>(options.MaxJsonBodyBytes)
            .Produces<KeyBackupVerifiedView>().Problems(404, 409);

        keys.MapGet("/", async (HttpContext http, EdgeCluster cluster) =>
        {
            var list = await Ask<B.KeyBackupList>(cluster, new B.ListKeyBackups(http.Principal().Token), http).ConfigureAwait(false);
            return Results.Json(new KeyBackupListView([.. list.Ids.Select((id, i) => new KeyBackupEntry(id, list.Regions[i]))]), BackupApiJsonContext.Default.KeyBackupListView);
        })
            .WithName("ListKeyBackups").WithSummary("Key backups the regions hold.")
            .Produces<KeyBackupListView>().Problems();

        var drills = v1.MapGroup("/dr/drills").WithTags("Backups");
        drills.MapPost("/", async (HttpContext http, EdgeCluster cluster, bool? wait) =>
        {
            var input = http.Request.ContentLength is > 0 ? await RequestBody.ReadJsonAsync(http, BackupApiJsonContext.Default.DrillInput).ConfigureAwait(false) : new DrillInput();
            var caller = http.Principal().Token;
            var accepted = await Ask<B.DrillAccepted>(cluster, new B.RunDrill(caller, input.Region), http).ConfigureAwait(false);
            if (wait != true)
            {
                return Results.Json(new DrillAcceptedView(accepted.Id, accepted.Region), BackupApiJsonContext.Default.DrillAcceptedView, statusCode: StatusCodes.Status202Accepted);
            }

            return Results.Json(View(await Ask<B.DrillInfo>(cluster, new B.AwaitOperation(caller, accepted.Id), http, WaitLimit).ConfigureAwait(false)), BackupApiJsonContext.Default.DrillView);
        })
            .WithName("RunDrill").WithSummary("Runs a DR drill of a region (all regions when none is named): restore into scratch, verify, sample-decrypt, signed report.")
            .JsonBody<DrillInput>(options.MaxJsonBodyBytes)
            .Produces<DrillAcceptedView>(StatusCodes.Status202Accepted).Produces<DrillView>().Problems(409);

        drills.MapGet("/", async (HttpContext http, EdgeCluster cluster) =>
        {
            var list = await Ask<B.DrillList>(cluster, new B.ListDrills(http.Principal().Token), http).ConfigureAwait(false);
            return Results.Json(new DrillListView([.. list.Drills.Select(View)]), BackupApiJsonContext.Default.DrillListView);
        })
            .WithName("ListDrills").WithSummary("DR drills, newest first.")
            .Produces<DrillListView>().Problems();

        drills.MapGet("/{id}", async (string id, HttpContext http, EdgeCluster cluster) =>
        {
            var report = await Ask<B.DrillReport>(cluster, new B.ShowDrill(http.Principal().Token, id), http).ConfigureAwait(false);
            return http.Request.Headers.Accept.Any(a => a?.Contains("text/markdown", StringComparison.OrdinalIgnoreCase) == true)
                ? Results.Text(report.Markdown, "text/markdown; charset=utf-8")
                : Results.Json(new DrillReportView(report.Id, report.Json, report.Markdown, report.Signature), BackupApiJsonContext.Default.DrillReportView);
        })
            .WithName("ShowDrill").WithSummary("A drill's signed evidence report (JSON; Accept: text/markdown for the Markdown).")
            .Produces<DrillReportView>().Produces<string>(StatusCodes.Status200OK, "text/markdown").Problems(404);
    }

    private static async Task<IResult> Restore(RestoreInput input, HttpContext http, EdgeCluster cluster, bool? wait)
    {
        var caller = http.Principal().Token;
        var accepted = await Ask<B.RestoreAccepted>(cluster, new B.RestoreBackup(caller, input.BackupId, input.AtOrBefore), http).ConfigureAwait(false);
        if (wait != true)
        {
            return Results.Json(new RestoreAcceptedView(accepted.Id, accepted.BackupId), BackupApiJsonContext.Default.RestoreAcceptedView, statusCode: StatusCodes.Status202Accepted);
        }

        return Results.Json(View(await Ask<B.RestoreInfo>(cluster, new B.AwaitOperation(caller, accepted.Id), http, WaitLimit).ConfigureAwait(false)), BackupApiJsonContext.Default.RestoreView);
    }

    private static Task<T> Ask<T>(EdgeCluster cluster, object message, HttpContext http, TimeSpan? timeout = null) =>
        cluster.AskActorAsync<T>(cluster.Require().Backup, message, http.RequestAborted, timeout);

    private static string Name(B.BackupKind kind) => kind == B.BackupKind.Full ? "full" : "incremental";

    private static BackupView View(B.BackupInfo b) =>
        new(b.Id, Name(b.Type), b.Parent, b.Base, b.Status, b.StartedAt, b.CompletedAt, b.Size, b.Regions, b.ShardsDone, b.Shards, b.By, b.Error);

    private static RestoreView View(B.RestoreInfo r) => new(r.Id, r.BackupId, r.By, r.At, r.Chain, r.Version, r.Incarnation, r.Succeeded, r.Detail, r.Warnings);

    private static DrillView View(B.DrillInfo d) => new(d.Id, d.Region, d.At, d.BackupId, d.Passed, d.RtoSeconds, d.RpoSeconds, d.StoredIn, d.Failures);

    private static BackupScheduleView View(B.BackupSchedule s) => new(s.Full, s.Incremental, s.Drill, s.SetAt, s.SetBy, s.Node, s.NextBackupAt, s.NextDrillAt);
}
