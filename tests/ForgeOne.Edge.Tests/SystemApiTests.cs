using System.Net;
using ForgeOne.Common.Api;

namespace ForgeOne.Edge.Tests;

[Collection(EdgeCollection.Name)]
public sealed class SystemApiTests(EdgeFixture fx)
{
    [Fact]
    public async Task Settings_KeepHistory_AndCompareAndSetConflicts()
    {
        var key = Http.Unique("feature");
        var v1 = await (await fx.Admin.PutJsonAsync($"/v1/system/settings/{key}", """{"value":"off","expectedVersion":0}""")).ReadAsync<SettingView>();
        var v2 = await (await fx.Admin.PutJsonAsync($"/v1/system/settings/{key}", """{"value":"on","expectedVersion":1}""")).ReadAsync<SettingView>();
        Assert.Equal((1L, 2L, "apikey:bootstrap"), (v1.Version, v2.Version, v2.ChangedBy));
        await (await fx.Admin.PutJsonAsync($"/v1/system/settings/{key}", """{"value":"late","expectedVersion":1}""")).ProblemAsync(HttpStatusCode.Conflict, "storage.conflict");

        var current = await (await fx.Admin.GetAsync($"/v1/system/settings/{key}")).ReadAsync<SettingView>();
        Assert.Equal("on", current.Value);
        var history = await (await fx.Admin.GetAsync($"/v1/system/settings/{key}/history")).ReadAsync<SettingHistory>();
        Assert.Equal(["off", "on"], history.Versions.Select(v => v.Value));
        await (await fx.Admin.GetAsync("/v1/system/metadata/never.set")).ProblemAsync(HttpStatusCode.NotFound, "storage.not_found");
        await (await fx.Admin.PutJsonAsync($"/v1/system/metadata/{key}", """{}""")).ProblemAsync(HttpStatusCode.BadRequest, "validation.invalid_argument");
    }

    [Fact]
    public async Task Residency_IsReadableAndOnlyKnownScopesAreAccepted()
    {
        var directory = await (await fx.Admin.GetAsync("/v1/system/residency")).ReadAsync<ResidencyDirectoryView>();
        Assert.True(directory.Version >= 0);
        await (await fx.Admin.PutJsonAsync("/v1/system/residency/planet/earth", """{"zone":"eu"}""")).ProblemAsync(HttpStatusCode.BadRequest, "validation.invalid_argument");
    }

    [Fact]
    public async Task Audit_HeadsSealsAndVerification()
    {
        var heads = await (await fx.Admin.GetAsync("/v1/audit/heads")).ReadAsync<AuditHeadsView>();
        Assert.Empty(heads.Missing);
        Assert.Equal(1 + EdgeFixture.Counts.Logs + EdgeFixture.Counts.Events + EdgeFixture.Counts.Blobs, heads.Heads.Length);

        // The first seal covers whatever moved before; a write moves a head, so the second is a new
        // seal; with nothing moved since, a third request answers that seal again (200).
        await (await fx.Admin.PostJsonAsync("/v1/logs/audit.seals", """{"severity":"info","message":"moves a head"}""")).ReadAsync<LogAppended>(HttpStatusCode.Created);
        var sealed1 = await (await fx.Admin.PostAsync("/v1/audit/seals", null)).ReadAsync<SealWritten>(HttpStatusCode.Created);
        await (await fx.Admin.PostJsonAsync("/v1/logs/audit.seals", """{"severity":"info","message":"moves it again"}""")).ReadAsync<LogAppended>(HttpStatusCode.Created);
        var sealed2 = await (await fx.Admin.PostAsync("/v1/audit/seals", null)).ReadAsync<SealWritten>(HttpStatusCode.Created);
        Assert.Equal(sealed1.Number + 1, sealed2.Number);
        var again = await (await fx.Admin.PostAsync("/v1/audit/seals", null)).ReadAsync<SealWritten>(HttpStatusCode.OK);
        Assert.Equal(sealed2.Number, again.Number);
        var seals = await (await fx.Admin.GetAsync("/v1/audit/seals?limit=2")).ReadAsync<SealList>();
        Assert.Equal([sealed1.Number, sealed2.Number], seals.Seals.Select(s => s.Number));
        Assert.Equal(heads.Heads.Length, seals.Seals[1].Heads.Length);

        var verification = await (await fx.Admin.GetAsync("/v1/audit/seals/verify")).ReadAsync<SealVerificationView>();
        Assert.True(verification.Valid, verification.Message);
        Assert.Equal(("None", (int)seals.Total), (verification.Failure, verification.Checked));
    }

    [Fact]
    public async Task Cluster_ListsMembersWithRolesAndShardPlacement()
    {
        var cluster = await (await fx.Admin.GetAsync("/v1/cluster")).ReadAsync<ClusterView>();
        Assert.Equal(3, cluster.Members.Length);
        Assert.Equal(2, cluster.Members.Count(m => m.Roles.Contains("storage") && m.Status == "Up" && m.Reachable));
        Assert.Single(cluster.Members, m => m.Roles.Contains("edge"));

        // Touch every log shard so each has an owner, then every one shows up exactly once.
        var stats = await (await fx.Admin.GetAsync("/v1/cluster/shards/stats")).ReadAsync<ShardStatsView[]>();
        Assert.Equal(1 + EdgeFixture.Counts.Logs + EdgeFixture.Counts.Events + EdgeFixture.Counts.Blobs, stats.Length);
        var placement = await (await fx.Admin.GetAsync("/v1/cluster/shards")).ReadAsync<ShardPlacementsView>();
        Assert.Empty(placement.Failures);
        Assert.Equal(Enumerable.Range(0, EdgeFixture.Counts.Logs), placement.Placements.Where(p => p.Region == "logs").SelectMany(p => p.Shards).Order());
        Assert.All(placement.Placements, p => Assert.Contains(p.Node, cluster.Members.Where(m => m.Roles.Contains("storage")).Select(m => m.Address)));
    }

    [Fact]
    public async Task Keys_RotateEveryShardAndRecordTheEvents()
    {
        var rotated = await (await fx.Admin.PostJsonAsync("/v1/system/keys/rotate", """{"reason":"test"}""")).ReadAsync<KeyRotationView>();
        Assert.Empty(rotated.Failures);
        Assert.Equal(1 + EdgeFixture.Counts.Logs + EdgeFixture.Counts.Events + EdgeFixture.Counts.Blobs, rotated.Rotated);
        var events = await (await fx.Admin.GetAsync("/v1/system/keys/events")).ReadAsync<KeyEventsView>();
        Assert.Contains(events.Events, e => e.Contains("keys.rotated", StringComparison.Ordinal) || e.Contains("Rotated", StringComparison.Ordinal));
    }
}
