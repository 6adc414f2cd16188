using ForgeOne.Common;
using ForgeOne.Storage;

namespace ForgeOne.Backup.Tests;

/// <summary>The pure planners: schedule (full weekly, incremental daily, drills quarterly), retention, catalog fold, data-root versions.</summary>
public sealed class PlanningTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 5, 0, 0, 0, TimeSpan.Zero);
    private static readonly ShardRef Shard = new(null, ShardKind.Logs, 0);
    private readonly string _root = Directory.CreateTempSubdirectory("forgeone-layout-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Schedule_FullFirst_ThenIncrementalsDaily_ThenAFullAfterAWeek()
    {
        var schedule = BackupSchedule.Default;
        var catalog = BackupCatalog.Empty;
        Assert.Equal((BackupType.Full, T0), schedule.NextBackup(catalog, T0));

        catalog = Complete(catalog, "b-1", BackupType.Full, null, "b-1", T0);
        Assert.Equal((null, T0.AddDays(1)), schedule.NextBackup(catalog, T0.AddHours(1)));
        Assert.Equal(BackupType.Incremental, schedule.NextBackup(catalog, T0.AddDays(1)).Due);

        for (var day = 1; day < 7; day++)
        {
            catalog = Complete(catalog, $"b-{day + 1}", BackupType.Incremental, $"b-{day}", "b-1", T0.AddDays(day));
        }

        Assert.Equal((null, T0.AddDays(7)), schedule.NextBackup(catalog, T0.AddDays(6).AddHours(1)));
        Assert.Equal(BackupType.Full, schedule.NextBackup(catalog, T0.AddDays(7)).Due);
    }

    [Fact]
    public void Drills_FallDueOncePerRegionPerInterval_OnlyWithACompletedBackup()
    {
        var schedule = BackupSchedule.Default;
        Assert.Empty(schedule.NextDrills(BackupCatalog.Empty, ["a", "b"], T0).Due);
        var catalog = Complete(BackupCatalog.Empty, "b-1", BackupType.Full, null, "b-1", T0);
        Assert.Equal(["a", "b"], schedule.NextDrills(catalog, ["a", "b"], T0.AddMinutes(1)).Due);

        catalog = catalog.Apply(new DrillRecorded(T0.AddMinutes(2), "d-1", "a", "b-1", true, 1, 60, "system", ["a", "b"]));
        var (due, next) = schedule.NextDrills(catalog, ["a", "b"], T0.AddMinutes(3));
        Assert.Equal(["b"], due);
        Assert.Equal(T0.AddMinutes(2) + TimeSpan.FromDays(91), next);
        catalog = catalog.Apply(new DrillRecorded(T0.AddMinutes(3), "d-2", "b", "b-1", true, 1, 60, "system", ["a", "b"]));
        Assert.Equal(T0.AddMinutes(2) + TimeSpan.FromDays(91), schedule.NextDrills(catalog, ["a", "b"], T0.AddDays(1)).Next);
        Assert.Equal(["a"], schedule.NextDrills(catalog, ["a", "b"], T0.AddMinutes(2) + TimeSpan.FromDays(91)).Due);
    }

    [Fact]
    public void Retention_RemovesWholeChainsBeyondTheCount_AndNeverARegionsNewestChain()
    {
        var catalog = BackupCatalog.Empty;
        // Three chains (full + 2 incrementals); the newest one is held only by region a.
        foreach (var (chain, day) in new[] { ("f1", 0), ("f2", 7), ("f3", 14) })
        {
            catalog = Complete(catalog, chain, BackupType.Full, null, chain, T0.AddDays(day), chain == "f3" ? ["a"] : ["a", "b"]);
            catalog = Complete(catalog, chain + "-i1", BackupType.Incremental, chain, chain, T0.AddDays(day + 1), chain == "f3" ? ["a"] : ["a", "b"]);
            catalog = Complete(catalog, chain + "-i2", BackupType.Incremental, chain + "-i1", chain, T0.AddDays(day + 2), chain == "f3" ? ["a"] : ["a", "b"]);
        }

        var removals = Retention.Plan(catalog, new RetentionPolicy(KeepChains: 1), T0.AddDays(20));
        // Region a keeps f3 only; region b keeps f2, its newest complete chain, although f2 is beyond the count.
        Assert.Equal(
            ["f1-i2@a", "f1-i1@a", "f1@a", "f2-i2@a", "f2-i1@a", "f2@a", "f1-i2@b", "f1-i1@b", "f1@b"],
            removals.Select(r => $"{r.BackupId}@{r.Region}"));

        // By age: chains whose newest backup is older than 10 days go, the newest chain per region stays.
        var byAge = Retention.Plan(catalog, new RetentionPolicy(KeepChains: 10, MaxAge: TimeSpan.FromDays(10)), T0.AddDays(20));
        Assert.DoesNotContain(byAge, r => r.BackupId.StartsWith("f3", StringComparison.Ordinal));
        Assert.DoesNotContain(byAge, r => r.BackupId.StartsWith("f2", StringComparison.Ordinal) && r.Region == "b");
        Assert.Contains(byAge, r => r.BackupId == "f2" && r.Region == "a");
    }

    [Fact]
    public void Catalog_FoldsARunningBackup_SoAResumedCoordinatorKnowsWhatIsLeft()
    {
        var plan = new BackupStarted(T0, "b-1", BackupType.Full, null, "b-1", "alice", "key", ["a"], [Shard, new ShardRef(null, ShardKind.System, 0)], "v0", 1);
        var catalog = BackupCatalog.Empty.Apply(plan)
            .Apply(new ShardAttemptFailed(T0, "b-1", Shard, 1, "node lost"))
            .Apply(new ShardBackedUp(T0, "b-1", 2, Entry(Shard), ["a"]));
        var running = Assert.IsType<CatalogBackup>(catalog.Running);
        Assert.Equal([new ShardRef(null, ShardKind.System, 0)], running.Pending);
        Assert.Equal(3, running.NextAttempt(Shard));
        Assert.Equal(1, running.NextAttempt(new ShardRef(null, ShardKind.System, 0)));

        // Round trip through the journal encoding.
        foreach (var e in new BackupEvent[] { plan, new ShardBackedUp(T0, "b-1", 2, Entry(Shard), ["a"]) })
        {
            Assert.Equal(BackupEventJson.Encode(e), BackupEventJson.Encode(BackupEventJson.Decode(BackupEventJson.Encode(e))));
        }

        Assert.Equal(ErrorCodes.StorageCorruptRecord, Assert.Throws<ForgeOneException>(() => BackupEventJson.Decode("{\"event\":\"nope\"}"u8)).Code);
    }

    [Fact]
    public void DataRoot_StartsAsV0_RestoresPublishNewVersions_AndOnlyInactiveOnesAreDiscarded()
    {
        var layout = new DataRootLayout(_root);
        Directory.CreateDirectory(Path.Combine(_root, "logs"));
        Assert.Equal(DataRootLayout.BaseVersion, layout.Active.Name);
        Assert.Equal(_root, layout.ActivePath);

        var prepared = layout.Prepare();
        Assert.EndsWith("v1.partial", prepared, StringComparison.Ordinal);
        Assert.Equal(_root, layout.ActivePath); // preparing switches nothing
        var v1 = layout.Publish(prepared, new DataVersionInfo(2, T0, "alice", "b-1", null));
        Assert.Equal(["v0", "v1"], layout.Versions().Select(v => v.Name));
        layout.Activate("v1");
        Assert.Equal(v1.Path, layout.ActivePath);
        Assert.Equal(2, layout.Active.Info.Incarnation);
        Assert.Equal("b-1", layout.Active.Info.RestoredFrom);

        Assert.Equal(ErrorCodes.BackupVersionActive, Assert.Throws<ForgeOneException>(() => layout.Discard("v1")).Code);
        layout.Discard("v0");
        Assert.False(Directory.Exists(Path.Combine(_root, "logs")));
        Assert.Equal(["v1"], layout.Versions().Select(v => v.Name));

        File.WriteAllText(Path.Combine(_root, "CURRENT"), "v9\n");
        Assert.Equal(ErrorCodes.StorageCorruptFile, Assert.Throws<ForgeOneException>(() => layout.ActivePath).Code);
    }

    private static ShardManifest Entry(ShardRef shard) =>
        new(shard.Zone, shard.Kind.FolderName(), shard.Shard, "f", 1, "00", 1, 4096, 2, 0, 3, 1, T0, 1, 2, 1, [1], new Dictionary<string, long> { ["logs"] = 1 }, 1, "00", null);

    private static BackupCatalog Complete(BackupCatalog catalog, string id, BackupType type, string? parent, string full, DateTimeOffset at, string[]? regions = null) =>
        catalog.Apply(new BackupStarted(at, id, type, parent, full, "system", "key", regions ?? ["a", "b"], [Shard], "v0", 1))
            .Apply(new ShardBackedUp(at, id, 1, Entry(Shard), regions ?? ["a", "b"]))
            .Apply(new BackupCompleted(at.AddMinutes(1), id, "00", 1, regions ?? ["a", "b"]));
}
