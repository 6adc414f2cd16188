using System.Security.Cryptography;
using ForgeOne.Cluster.Shards.System;
using ForgeOne.Cluster.Tests.Logs;
using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage.Records;
using static ForgeOne.Cluster.Protocol.SystemProtocol;

namespace ForgeOne.Cluster.Tests.SystemStore;

public sealed class SystemStoreTests : IDisposable
{
    private static readonly PrincipalToken Operator = TestAuth.Token("ops", ["operator"], null, ["*"], 0);
    private readonly HandlerHarness _shard = new(new SystemShardHandler(), ShardKind.System);

    [Theory]
    [InlineData(KeyValueTable.Settings)]
    [InlineData(KeyValueTable.Metadata)]
    public void Put_KeepsEveryVersionWithWhoAndWhen(KeyValueTable table)
    {
        _shard.Send<SettingStored>(new PutSetting(Callers.Admin, table, "retention.default", [1]));
        _shard.Time.Advance(TimeSpan.FromMinutes(5));
        var second = _shard.Send<SettingStored>(new PutSetting(Operator, table, "retention.default", [2])).Setting;

        var current = _shard.Send<CurrentSetting>(new GetSetting(Callers.Admin, table, "retention.default")).Setting!;
        var history = _shard.Send<SettingHistory>(new GetSettingHistory(Operator, table, "retention.default")).Versions;

        Assert.Equal(2, second.Version);
        Assert.Equal((2L, (byte)2, "ops"), (current.Version, current.Value[0], current.ChangedBy));
        Assert.Equal(["root:1", "ops:2"], history.Select(v => $"{v.ChangedBy}:{v.Version}"));
        Assert.Equal(TimeSpan.FromMinutes(5), history[1].ChangedAt - history[0].ChangedAt);
        Assert.Null(_shard.Send<CurrentSetting>(new GetSetting(Callers.Admin, table, "never.set")).Setting);
    }

    [Fact]
    public void Put_WithAStaleExpectedVersion_IsAConflict()
    {
        _shard.Send<SettingStored>(new PutSetting(Callers.Admin, KeyValueTable.Settings, "k", [1], ExpectedVersion: 0));

        var conflict = _shard.Send<SystemFailed>(new PutSetting(Callers.Admin, KeyValueTable.Settings, "k", [2], ExpectedVersion: 0));

        Assert.Equal(ErrorCodes.Conflict, conflict.Error.Code);
        Assert.Single(_shard.Send<SettingHistory>(new GetSettingHistory(Callers.Admin, KeyValueTable.Settings, "k")).Versions);
    }

    [Fact]
    public void SettingsAndMetadata_AreSeparateTables()
    {
        _shard.Send<SettingStored>(new PutSetting(Callers.Admin, KeyValueTable.Settings, "k", [1]));

        Assert.Null(_shard.Send<CurrentSetting>(new GetSetting(Callers.Admin, KeyValueTable.Metadata, "k")).Setting);
    }

    [Fact]
    public void Put_ByACallerWithoutSystemWrite_IsRefused()
    {
        var refused = _shard.Send<SystemFailed>(new PutSetting(Callers.Writer, KeyValueTable.Settings, "k", [1]));
        var invalid = _shard.Send<SystemFailed>(new PutSetting(Callers.Admin, KeyValueTable.Settings, "bad\nkey", [1]));

        Assert.Equal(ErrorCodes.Forbidden, refused.Error.Code);
        Assert.Equal(ErrorCodes.InvalidName, invalid.Error.Code);
    }

    [Fact]
    public void Snapshots_AreAddedListedAndFetched()
    {
        var a = new SnapshotInfo("backup-2026-11-01", "backup", _shard.Now, ["/backups/a"], new byte[32], 1024, SnapshotStatus.Completed);
        var b = a with { Id = "backup-2026-11-02", Status = SnapshotStatus.Running, Locations = ["/backups/b", "s3://bucket/b"] };
        _shard.Send<SnapshotAdded>(new AddSnapshot(Callers.Admin, b));
        _shard.Send<SnapshotAdded>(new AddSnapshot(Callers.Admin, a));
        _shard.Send<SnapshotAdded>(new AddSnapshot(Callers.Admin, b with { Status = SnapshotStatus.Verified }));

        var list = _shard.Send<SnapshotList>(new ListSnapshots(Operator)).Snapshots;
        var got = _shard.Send<SnapshotFound>(new GetSnapshot(Operator, b.Id)).Snapshot;

        Assert.Equal([a.Id, b.Id], list.Select(s => s.Id));
        Assert.Equal((SnapshotStatus.Verified, 2), (got.Status, got.Locations.Length));
        Assert.Equal(ErrorCodes.NotFound, _shard.Send<SystemFailed>(new GetSnapshot(Operator, "nope")).Error.Code);
        Assert.Equal(ErrorCodes.InvalidId, _shard.Send<SystemFailed>(new AddSnapshot(Callers.Admin, a with { Id = "../etc" })).Error.Code);
    }

    [Fact]
    public void Metrics_AreQueriedByTimeAndName_AndSweptByRetentionInBoundedBatches()
    {
        var labels = new Dictionary<string, string> { ["node"] = "n1" };
        var old = Enumerable.Range(0, 5).Select(i => new MetricPoint("node.gc_heap_bytes", _shard.Now.AddDays(-10).AddMinutes(i), i, labels));
        _shard.Send<MetricsRecorded>(new RecordMetrics(Callers.System, [.. old]));
        _shard.Send<MetricsRecorded>(new RecordMetrics(Callers.System, [new("node.gc_heap_bytes", _shard.Now, 42, labels), new("shard.commits", _shard.Now, 7, labels)]));

        var recentHeap = _shard.Send<MetricList>(new QueryMetrics(Operator, _shard.Now.AddHours(-1), _shard.Now.AddHours(1), "node.gc_heap_bytes")).Samples;
        var first = _shard.Send<MetricsSwept>(new SweepMetrics(Callers.System, TimeSpan.FromDays(7), MaxEntries: 3));
        var second = _shard.Send<MetricsSwept>(new SweepMetrics(Callers.System, TimeSpan.FromDays(7), MaxEntries: 3));
        var left = _shard.Send<MetricList>(new QueryMetrics(Operator, _shard.Now.AddDays(-30), _shard.Now.AddDays(1))).Samples;

        Assert.Equal(42, Assert.Single(recentHeap).Value);
        Assert.Equal((3, true), (first.Deleted, first.More));
        Assert.Equal((2, false), (second.Deleted, second.More));
        Assert.Equal(["node.gc_heap_bytes", "shard.commits"], left.Select(s => s.Name).Order());
        Assert.Equal("system.metrics_sweep", _shard.LastAudit().Action);
    }

    [Fact]
    public void SetResidency_IsAdminOnly_Audited_AndVersionedAsOneDirectory()
    {
        var eu = _shard.Send<ResidencySet>(new SetResidency(Callers.Admin, ResidencyScope.LogTopic, "payments", "eu")).Entry;
        var audit = _shard.LastAudit();
        _shard.Send<ResidencySet>(new SetResidency(Callers.Admin, ResidencyScope.Tenant, "acme", "us"));
        var cleared = _shard.Send<ResidencySet>(new SetResidency(Callers.Admin, ResidencyScope.LogTopic, "payments", null)).Entry;

        // Operators hold system:* but not residency:admin; writers hold neither.
        var byOperator = _shard.Send<SystemFailed>(new SetResidency(Operator, ResidencyScope.LogTopic, "payments", "eu"));
        var byWriter = _shard.Send<SystemFailed>(new SetResidency(Callers.Writer, ResidencyScope.Tenant, "acme", "eu"));
        var badZone = _shard.Send<SystemFailed>(new SetResidency(Callers.Admin, ResidencyScope.Tenant, "acme", "EU!"));
        var reserved = _shard.Send<SystemFailed>(new PutSetting(Callers.Admin, KeyValueTable.Metadata, Compliance.ResidencyDocument.StoreKey, [1]));
        var directory = _shard.Send<CurrentResidencyDirectory>(new GetResidencyDirectory(Operator));

        Assert.Equal((ResidencyScope.LogTopic, "payments", "eu", 1L, "root"), (eu.Scope, eu.Name, eu.Zone, eu.Version, eu.ChangedBy));
        Assert.Equal(("system.residency_set", "root"), (audit.Action, audit.Principal));
        Assert.Equal(SHA256.HashData("LogTopic 'payments' -> eu"u8), audit.DetailHash);
        Assert.Equal((null, 3L), (cleared.Zone, cleared.Version));
        Assert.Equal(ErrorCodes.Forbidden, byOperator.Error.Code);
        Assert.Equal(ErrorCodes.Forbidden, byWriter.Error.Code);
        Assert.Equal(ErrorCodes.InvalidArgument, badZone.Error.Code);
        Assert.Equal(ErrorCodes.InvalidArgument, reserved.Error.Code);
        Assert.Equal(3, directory.Version);
        Assert.Equal([(ResidencyScope.Tenant, "acme", "us", 2L)], directory.Entries.Select(e => (e.Scope, e.Name, e.Zone, e.Version)));
    }

    public void Dispose() => _shard.Dispose();
}
