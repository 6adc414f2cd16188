using Akka.Actor;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;
using ForgeOne.Security;
using static ForgeOne.Cluster.Protocol.BackupProtocol;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Cluster.Tests.Backup;

/// <summary>
/// The backup coordinator on a one-node cluster with two region targets: on-demand backups
/// (full, then incrementals), an online restore of a middle one into a new data-root version,
/// drills, key backups, a backup under sustained writes that its drill proves consistent, and
/// refusals of callers without backup:admin / keys:admin.
/// </summary>
public sealed class BackupCoordinatorSpec : IAsyncLifetime
{
    internal static readonly TimeSpan Ask = TimeSpan.FromSeconds(60);
    private static readonly PrincipalToken Operator = TestAuth.Token("ops", ["operator"], null, ["*"], 0);
    private readonly TempRoot _root = new();
    private InProcessNode? _node;

    private IActorRef Coordinator => _node!.Cluster.Backup;

    public async Task InitializeAsync()
    {
        var port = InProcessNode.FreePort();
        var options = WithTargets(InProcessNode.Options_(_root, port, port), _root);
        options.SeedNodes = [];
        _node = await InProcessNode.StartAsync(options);
    }

    public async Task DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.System.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
        }

        _root.Dispose();
    }

    internal static ForgeOneNodeOptions WithTargets(ForgeOneNodeOptions options, TempRoot root, bool scheduled = false)
    {
        options.ShardCounts = new ShardCountOptions { Logs = 3, Events = 1, Blobs = 1 };
        options.Backup = new BackupOptions
        {
            Targets =
            [
                new BackupTargetConfig { Region = "eu-west", Path = Path.Combine(root.Root, "region-a") },
                new BackupTargetConfig { Region = "us-east", Path = Path.Combine(root.Root, "region-b") },
            ],
            Scheduled = scheduled,
            KeyBackupOpsLimit = 1,
            KeyBackupMemoryKiB = 8 * 1024,
        };
        return options;
    }

    internal static async Task<BackupInfo> BackupAsync(IActorRef coordinator, PrincipalToken caller, BackupKind? type = null)
    {
        var accepted = await coordinator.Ask<object>(new RunBackup(caller, type), Ask);
        var id = accepted is BackupAccepted a ? a.Id : throw new Xunit.Sdk.XunitException($"backup refused: {accepted}");
        var done = Assert.IsType<BackupInfo>(await coordinator.Ask<object>(new AwaitOperation(caller, id), Ask));
        Assert.True(done.Status == "completed", $"backup {id} ended {done.Status}: {done.Error}");
        return done;
    }

    [Fact]
    public async Task FullPlusIncrementals_RestoringTheMiddleOne_ServesExactlyItsDataFromANewVersion()
    {
        string[] topics = ["alpha", "beta", "gamma", "delta"];
        await Write(topics, 5);
        var full = await BackupAsync(Coordinator, Operator);
        await Write(topics, 3);
        var first = await BackupAsync(Coordinator, Operator);
        var atFirst = await Counts(topics);
        var keptId = await Write(topics, 2);
        var second = await BackupAsync(Coordinator, Operator);
        var lostId = await Write(topics, 4);

        Assert.Equal([BackupKind.Full, BackupKind.Incremental, BackupKind.Incremental], new[] { full.Type, first.Type, second.Type });
        Assert.Equal(full.Id, second.Base);
        Assert.Equal(["eu-west", "us-east"], first.Regions);
        Assert.Equal(first.Id, second.Parent);

        // Sealed past the backup: the restored chains are behind these heads.
        var before = Assert.IsType<SealerProtocol.SealDone>(await _node!.Cluster.Sealer.Ask<object>(new SealerProtocol.SealNow(Callers.System), Ask));
        Assert.Empty(before.Failed);

        var restore = Assert.IsType<RestoreAccepted>(await Coordinator.Ask<object>(new RestoreBackup(Operator, first.Id), Ask));
        var restored = Assert.IsType<RestoreInfo>(await Coordinator.Ask<object>(new AwaitOperation(Operator, restore.Id), Ask));
        Assert.True(restored.Succeeded, restored.Detail);
        Assert.Equal([full.Id, first.Id], restored.Chain);
        Assert.Equal("v1", restored.Version);
        Assert.Equal(2, restored.Incarnation);

        Assert.Equal(atFirst, await Counts(topics));
        var logs = _node!.Cluster.Region(ShardKind.Logs);
        Assert.Equal(ErrorCodes.NotFound, Assert.IsType<LogFailed>(await logs.Ask<object>(new GetLog(Callers.Reader, keptId), Ask)).Error.Code);
        Assert.Equal(ErrorCodes.NotFound, Assert.IsType<LogFailed>(await logs.Ask<object>(new GetLog(Callers.Reader, lostId), Ask)).Error.Code);

        // The restored version serves writes; the previous one is kept until discarded.
        await Write(topics, 1);

        // The rewind was sealed as authorized: one seal names every restored chain as a new
        // incarnation at its restored head, and the next seal continues every chain from there.
        var after = Assert.IsType<SealerProtocol.SealDone>(await _node.Cluster.Sealer.Ask<object>(new SealerProtocol.SealNow(Callers.System), Ask));
        Assert.Empty(after.Failed);
        var seals = new SealLogFile(_node.Options.Audit.SealsFileFull).ReadAll();
        var rewind = Assert.Single(seals, s => s.NewIncarnations.Count > 0);
        var sealedBefore = seals.Single(s => s.Number == before.Number);
        Assert.True(rewind.Number > before.Number);
        Assert.Equal(sealedBefore.Heads.Select(h => h.ShardId), rewind.Heads.Select(h => h.ShardId));
        Assert.Equal(rewind.Heads.Select(h => h.ShardId), rewind.NewIncarnations);
        Assert.Contains(rewind.Heads, h => h.Seq < sealedBefore.HeadOf(h.ShardId)!.Seq);
        using (var verifier = new SealVerifier(Assert.IsType<SealerProtocol.AuditPublicKey>(await _node.Cluster.Sealer.Ask<object>(new SealerProtocol.GetAuditPublicKey(Callers.System), Ask)).Pem))
        {
            Assert.True(verifier.VerifyHistory(seals).IsValid, verifier.VerifyHistory(seals).Message);
        }

        var versions = Assert.IsType<DataVersions>(await Coordinator.Ask<object>(new ListDataVersions(Operator), Ask)).Versions;
        Assert.Equal(["v0", "v1"], versions.Select(v => v.Name));
        Assert.True(versions[1].Active);
        Assert.Equal(first.Id, versions[1].RestoredFrom);
        Assert.Equal(ErrorCodes.BackupVersionActive, Assert.IsType<BackupOperationFailed>(await Coordinator.Ask<object>(new DiscardVersion(Operator, "v1"), Ask)).Error.Code);
        Assert.IsType<VersionDiscarded>(await Coordinator.Ask<object>(new DiscardVersion(Operator, "v0"), Ask));

        // Every backup and the restore are in the system store's snapshots table, with their history.
        var system = _node.Cluster.Region(ShardKind.System);
        var history = Assert.IsType<SystemProtocol.SnapshotHistory>(await system.Ask<object>(new SystemProtocol.GetSnapshotHistory(Operator, restore.Id), Ask));
        Assert.Equal(Storage.Records.SnapshotStatus.Completed, history.Versions[^1].Snapshot.Status);
        Assert.Contains(Assert.IsType<SystemProtocol.SnapshotList>(await system.Ask<object>(new SystemProtocol.ListSnapshots(Operator), Ask)).Snapshots, s => s.Id == second.Id);
    }

    [Fact]
    public async Task Drill_OfEachRegion_PassesAndLeavesASignedReport()
    {
        await Write(["drilled"], 10);
        var backup = await BackupAsync(Coordinator, Operator);

        var accepted = Assert.IsType<DrillAccepted>(await Coordinator.Ask<object>(new RunDrill(Operator, "us-east"), Ask));
        var drill = Assert.IsType<DrillInfo>(await Coordinator.Ask<object>(new AwaitOperation(Operator, accepted.Id), Ask));
        Assert.True(drill.Passed, string.Join("; ", drill.Failures));
        Assert.Equal(backup.Id, drill.BackupId);
        Assert.Equal(["eu-west", "us-east"], drill.StoredIn);

        var report = Assert.IsType<BackupProtocol.DrillReport>(await Coordinator.Ask<object>(new ShowDrill(Operator, accepted.Id), Ask));
        Assert.Contains("PASSED", report.Markdown, StringComparison.Ordinal);
        Assert.Contains(accepted.Id, Assert.IsType<DrillList>(await Coordinator.Ask<object>(new ListDrills(Operator), Ask)).Drills.Select(d => d.Id));
    }

    [Fact]
    public async Task KeyBackup_IsStoredInEveryRegion_AndVerifyProvesTheSecretWithoutRestoring()
    {
        var admin = Callers.Admin;
        var done = Assert.IsType<KeyBackupDone>(await Coordinator.Ask<object>(new BackupKeys(admin, "a long recovery secret"), Ask));
        Assert.Equal(["eu-west", "us-east"], done.Regions);
        Assert.Contains("Kek=1", done.Summary, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_root.Root, "region-a", "backups", done.Id + ".fokeys")));
        Assert.True(File.Exists(Path.Combine(_root.Root, "region-a", "keys", done.Id + ".fokeys")));

        var verified = Assert.IsType<KeyBackupVerified>(await Coordinator.Ask<object>(new VerifyKeyBackup(admin, done.Id, "a long recovery secret"), Ask));
        Assert.Empty(verified.MissingFromDirectory);
        Assert.Empty(verified.Different);
        Assert.Contains("kek-v1.key", verified.Matching);

        var wrong = Assert.IsType<BackupOperationFailed>(await Coordinator.Ask<object>(new VerifyKeyBackup(admin, done.Id, "not the recovery secret"), Ask));
        Assert.Equal(ErrorCodes.BackupRecoverySecretInvalid, wrong.Error.Code);
    }

    [Fact]
    public async Task CallersWithoutThePermission_AreRefused_AndNothingRuns()
    {
        Assert.Equal(ErrorCodes.Forbidden, Assert.IsType<BackupOperationFailed>(await Coordinator.Ask<object>(new RunBackup(Callers.Writer), Ask)).Error.Code);
        Assert.Equal(ErrorCodes.Forbidden, Assert.IsType<BackupOperationFailed>(await Coordinator.Ask<object>(new RestoreBackup(Callers.Reader), Ask)).Error.Code);
        // Operators run backups but hold no keys:admin... they do in the default policy; a writer does not.
        Assert.Equal(ErrorCodes.Forbidden, Assert.IsType<BackupOperationFailed>(await Coordinator.Ask<object>(new BackupKeys(Callers.Writer, "a long recovery secret"), Ask)).Error.Code);
        Assert.Empty(Assert.IsType<BackupList>(await Coordinator.Ask<object>(new ListBackups(Operator), Ask)).Backups);
        Assert.False(Directory.Exists(Path.Combine(_root.Root, "region-a", "backups")));

        // A shard refuses a forged shard-level request from a caller without backup:admin, too.
        var reply = await _node!.Cluster.Region(ShardKind.Logs).Ask<object>(new BackupShard(ShardKind.Logs, 0, null, Callers.Writer, "b-forged", 1, 0, new byte[40]), Ask);
        Assert.Equal(ErrorCodes.Forbidden, Assert.IsType<ShardProtocol.ShardFailed>(reply).Error.Code);
    }

    [Fact]
    public async Task BackupUnderSustainedWrites_Completes_AndItsDrillVerifiesHeadsAndCounts()
    {
        var coordinator = Coordinator;
        await Write(["load"], 50);
        using var stop = new CancellationTokenSource();
        var logs = _node!.Cluster.Region(ShardKind.Logs);
        var writers = Enumerable.Range(0, 3).Select(w => Task.Run(async () =>
        {
            var written = 0;
            while (!stop.IsCancellationRequested)
            {
                var batch = Enumerable.Range(0, 20).Select(i => TestHosts.Entry($"w{w} {written + i}")).ToArray();
                Assert.IsType<LogBatchAppended>(await logs.Ask<object>(new AppendLogBatch(Callers.Writer, $"load-{w}", batch), Ask));
                written += batch.Length;
            }

            return written;
        })).ToList();

        var backup = await BackupAsync(coordinator, Operator, BackupKind.Full);
        var incremental = await BackupAsync(coordinator, Operator, BackupKind.Incremental);
        stop.Cancel();
        var written = (await Task.WhenAll(writers)).Sum();
        Assert.True(written > 0);
        Assert.Equal(backup.Id, incremental.Parent);

        // The drill restores the incremental's chain from one region and checks every shard's
        // audit chain up to the manifest's head and every table's count against it.
        var accepted = Assert.IsType<DrillAccepted>(await coordinator.Ask<object>(new RunDrill(Operator, "eu-west"), Ask));
        var drill = Assert.IsType<DrillInfo>(await coordinator.Ask<object>(new AwaitOperation(Operator, accepted.Id), Ask));
        Assert.True(drill.Passed, string.Join("; ", drill.Failures));
        Assert.Equal(incremental.Id, drill.BackupId);
    }

    private async Task<RecordId> Write(string[] topics, int each)
    {
        RecordId last = default;
        foreach (var topic in topics)
        {
            for (var i = 0; i < each; i++)
            {
                var appended = await _node!.Cluster.Region(ShardKind.Logs).Ask<object>(new AppendLog(Callers.Writer, topic, TestHosts.Entry($"{topic} {i}")), Ask);
                last = Assert.IsType<LogAppended>(appended).Id;
            }
        }

        return last;
    }

    private async Task<Dictionary<string, long>> Counts(string[] topics)
    {
        var counts = new Dictionary<string, long>();
        foreach (var topic in topics)
        {
            var reply = await _node!.Cluster.Region(ShardKind.Logs).Ask<object>(new CountLogs(Callers.Reader, topic, DateTimeOffset.UnixEpoch, DateTimeOffset.UtcNow.AddDays(1)), Ask);
            counts[topic] = reply is LogCount count ? count.Count : throw new Xunit.Sdk.XunitException($"count of {topic}: {reply}");
        }

        return counts;
    }
}
