using System.Net;
using System.Net.Http.Headers;
using ForgeOne.Common.Api;

namespace ForgeOne.Edge.Tests;

/// <summary>
/// The backup admin API over HTTP against the fixture's cluster (two region targets): a full
/// backup waited for, listed, shown and verified; a drill and its Markdown evidence; key
/// backups with the right and a wrong recovery secret; and refusals of callers without the
/// permissions. (Restores rewind data, so they are covered by the cluster specs, not here where
/// the cluster is shared.)
/// </summary>
[Collection(EdgeCollection.Name)]
public sealed class BackupApiTests(EdgeFixture fx)
{
    [Fact]
    public async Task Backup_WaitedFor_IsListedShownAndVerified_AndADrillLeavesMarkdownEvidence()
    {
        var backup = await (await fx.Admin.PostJsonAsync("/v1/backups?wait=true", """{"type":"full"}""")).ReadAsync<BackupView>();
        Assert.Equal(("full", "completed"), (backup.Type, backup.Status));
        Assert.Equal(["eu-west", "us-east"], backup.Regions);
        var list = await (await fx.Admin.GetAsync("/v1/backups")).ReadAsync<BackupListView>();
        Assert.Contains(list.Backups, b => b.Id == backup.Id);

        var details = await (await fx.Admin.GetAsync($"/v1/backups/{backup.Id}")).ReadAsync<BackupDetailsView>();
        Assert.Equal(1 + EdgeFixture.Counts.Logs + EdgeFixture.Counts.Events + EdgeFixture.Counts.Blobs, details.Shards.Length);
        Assert.All(details.Shards, s => Assert.Equal(64, s.Sha256.Length));
        Assert.Equal([1], details.KekVersions);

        var verified = await (await fx.Admin.PostAsync($"/v1/backups/{backup.Id}/verify", null)).ReadAsync<BackupVerifiedView>();
        Assert.True(verified.Ok, string.Join("; ", verified.Regions.SelectMany(r => r.Problems)));
        Assert.Equal([backup.Id], verified.Chain);

        var drill = await (await fx.Admin.PostJsonAsync("/v1/dr/drills?wait=true", """{"region":"us-east"}""")).ReadAsync<DrillView>();
        Assert.True(drill.Passed, string.Join("; ", drill.Failures));
        using var markdown = new HttpRequestMessage(HttpMethod.Get, $"/v1/dr/drills/{drill.Id}");
        markdown.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/markdown"));
        var report = await fx.Admin.SendAsync(markdown);
        Assert.Equal(HttpStatusCode.OK, report.StatusCode);
        Assert.Contains("PASSED", await report.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("idle", (await (await fx.Admin.GetAsync("/v1/backups/progress")).ReadAsync<BackupProgressView>()).Operation);

        await (await fx.Admin.GetAsync("/v1/backups/b-nonexistent")).ProblemAsync(HttpStatusCode.NotFound, "backup.not_found");
        await (await fx.Admin.PostJsonAsync("/v1/backups", """{"type":"weekly"}""")).ProblemAsync(HttpStatusCode.BadRequest, "validation.invalid_argument");
    }

    [Fact]
    public async Task KeyBackup_WithTheRightSecretVerifies_AWrongOneIsRefused()
    {
        var made = await (await fx.Admin.PostJsonAsync("/v1/keys/backups", """{"recoverySecret":"a long recovery secret"}""")).ReadAsync<KeyBackupView>();
        Assert.Equal(["eu-west", "us-east"], made.Regions);
        var verified = await (await fx.Admin.PostJsonAsync("/v1/keys/backups/verify", $$"""{"recoverySecret":"a long recovery secret","id":"{{made.Id}}"}""")).ReadAsync<KeyBackupVerifiedView>();
        Assert.Empty(verified.MissingFromDirectory);
        await (await fx.Admin.PostJsonAsync("/v1/keys/backups/verify", $$"""{"recoverySecret":"the wrong secret!","id":"{{made.Id}}"}""")).ProblemAsync(HttpStatusCode.Forbidden, "backup.recovery_secret_invalid");
        await (await fx.Admin.PostJsonAsync("/v1/keys/backups", """{"recoverySecret":"short"}""")).ProblemAsync(HttpStatusCode.BadRequest, "validation.invalid_argument");
    }

    [Fact]
    public async Task CallersWithoutBackupAdmin_AreRefused()
    {
        using var writer = fx.Client(fx.Jwt("w1", ["writer"]));
        await (await writer.PostJsonAsync("/v1/backups", "{}")).ProblemAsync(HttpStatusCode.Forbidden, "auth.forbidden");
        await (await writer.PostJsonAsync("/v1/keys/backups", """{"recoverySecret":"a long recovery secret"}""")).ProblemAsync(HttpStatusCode.Forbidden, "auth.forbidden");
        await (await writer.PostJsonAsync("/v1/restores", "{}")).ProblemAsync(HttpStatusCode.Forbidden, "auth.forbidden");
        await (await fx.Anonymous.GetAsync("/v1/backups")).ProblemAsync(HttpStatusCode.Unauthorized, "auth.unauthenticated");
    }
}
