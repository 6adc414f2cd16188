using System.Net;
using ForgeOne.Common.Api;

namespace ForgeOne.Edge.Tests;

/// <summary>
/// <c>/v1/schema</c> against the fixture's cluster: every shard's status, <c>migrate</c> refused
/// without a rehearsal, a rehearsal on a restore of a real backup (two regions), <c>migrate</c>
/// accepted after it naming it, the override only with a reason, and callers without the
/// permissions refused.
/// </summary>
[Collection(EdgeCollection.Name)]
public sealed class SchemaApiTests(EdgeFixture fx)
{
    [Fact]
    public async Task Migrate_IsRefusedWithoutARehearsal_AcceptedAfterAPassingOne_AndTheOverrideNeedsAReason()
    {
        var status = await (await fx.Admin.GetAsync("/v1/schema")).ReadAsync<SchemaStatusView>();
        Assert.Empty(status.Unreachable);
        Assert.Equal(2, status.TargetVersion);
        Assert.True(status.Shards.Length >= 1 + EdgeFixture.Counts.Logs + EdgeFixture.Counts.Events + EdgeFixture.Counts.Blobs);
        Assert.All(status.Shards, s =>
        {
            Assert.Equal(2, s.Version);
            Assert.Empty(s.Pending);
            Assert.Equal([(0, 1), (1, 2)], s.History.Select(h => (h.FromVersion, h.ToVersion)));
        });
        if (status.LastRehearsal is null)
        {
            await (await fx.Admin.PostJsonAsync("/v1/schema/migrate", "{}")).ProblemAsync(HttpStatusCode.Conflict, "storage.rehearsal_required");
        }

        await (await fx.Admin.PostJsonAsync("/v1/schema/migrate", """{"withoutRehearsal":true}""")).ProblemAsync(HttpStatusCode.BadRequest, "validation.invalid_argument");

        await (await fx.Admin.PostJsonAsync("/v1/backups?wait=true", """{"type":"full"}""")).ReadAsync<BackupView>();
        var rehearsal = await (await fx.Admin.PostAsync("/v1/schema/rehearse", null)).ReadAsync<RehearsalView>();
        Assert.True(rehearsal.Passed, string.Join("; ", rehearsal.Failures));
        Assert.Equal(2, rehearsal.TargetVersion);
        Assert.Equal(["eu-west", "us-east"], rehearsal.StoredIn);
        Assert.Equal(status.Shards.Length, rehearsal.Shards.Length);
        Assert.All(rehearsal.Shards, s => Assert.Equal((2, 2, s.Records, s.AuditBefore), (s.FromVersion, s.ToVersion, s.RecordsAfter, s.AuditAfter)));
        Assert.Equal(rehearsal.Id, (await (await fx.Admin.GetAsync("/v1/schema")).ReadAsync<SchemaStatusView>()).LastRehearsal?.Id);

        var migrated = await (await fx.Admin.PostJsonAsync("/v1/schema/migrate", "{}")).ReadAsync<SchemaMigratedView>();
        Assert.StartsWith($"rehearsal={rehearsal.Id} ", migrated.Gate, StringComparison.Ordinal);
        Assert.Empty(migrated.Failures);
        Assert.Equal(status.Shards.Length, migrated.Shards.Length);
        Assert.All(migrated.Shards, s => Assert.Equal((2, 2, 0), (s.FromVersion, s.Version, s.Applied.Length)));

        var overridden = await (await fx.Admin.PostJsonAsync("/v1/schema/migrate", """{"withoutRehearsal":true,"reason":"hotfix 42"}""")).ReadAsync<SchemaMigratedView>();
        Assert.Equal("without-rehearsal reason=hotfix 42", overridden.Gate);
    }

    [Fact]
    public async Task CallersWithoutThePermissions_CannotReadRehearseOrMigrate()
    {
        using var writer = fx.Client(fx.Jwt("w1", ["writer"]));
        await (await writer.PostAsync("/v1/schema/rehearse", null)).ProblemAsync(HttpStatusCode.Forbidden, "auth.forbidden");
        await (await writer.PostJsonAsync("/v1/schema/migrate", """{"withoutRehearsal":true,"reason":"mine"}""")).ProblemAsync(HttpStatusCode.Forbidden, "auth.forbidden");
        await (await fx.Anonymous.GetAsync("/v1/schema")).ProblemAsync(HttpStatusCode.Unauthorized, "auth.unauthenticated");
    }
}
