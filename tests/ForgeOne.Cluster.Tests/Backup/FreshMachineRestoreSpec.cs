using Akka.Actor;
using ForgeOne.Backup;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Common;
using ForgeOne.Security;
using static ForgeOne.Cluster.Protocol.BackupProtocol;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Cluster.Tests.Backup;

/// <summary>
/// The machine is lost: data root and keys directory gone. On a fresh machine, the key backup
/// and the recovery secret bring the keys back, the region targets bring the data back into a
/// new data-root version, and a node started there serves exactly the backed-up data; the
/// coordinator finds the old backups and records the offline restore.
/// </summary>
public sealed class FreshMachineRestoreSpec : IDisposable
{
    private const string Secret = "correct horse battery staple";
    private static readonly PrincipalToken Operator = TestAuth.Token("ops", ["operator"], null, ["*"], 0);
    private readonly TempRoot _lost = new();
    private readonly TempRoot _fresh = new();

    public void Dispose()
    {
        _lost.Dispose();
        _fresh.Dispose();
    }

    [Fact]
    public async Task KeysAndDataRestoredOnAFreshMachine_ServeExactlyTheBackedUpData()
    {
        var topics = new[] { "orders", "payments", "audit" };
        var written = new List<(RecordId Id, string Message)>();
        string keyBackupId;
        string backupId;

        var port = InProcessNode.FreePort();
        var options = BackupCoordinatorSpec.WithTargets(InProcessNode.Options_(_lost, port, port), _lost);
        options.SeedNodes = [];
        var first = await InProcessNode.StartAsync(options);
        try
        {
            foreach (var topic in topics)
            {
                for (var i = 0; i < 4; i++)
                {
                    var message = $"{topic} {i}";
                    written.Add((Assert.IsType<LogAppended>(await first.Cluster.Region(ShardKind.Logs).Ask<object>(new AppendLog(Callers.Writer, topic, TestHosts.Entry(message)), BackupCoordinatorSpec.Ask)).Id, message));
                }
            }

            backupId = (await BackupCoordinatorSpec.BackupAsync(first.Cluster.Backup, Operator)).Id;
            keyBackupId = Assert.IsType<KeyBackupDone>(await first.Cluster.Backup.Ask<object>(new BackupKeys(Callers.Admin, Secret), BackupCoordinatorSpec.Ask)).Id;
        }
        finally
        {
            await first.System.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
        }

        // The machine is gone; only the region targets survive.
        Directory.Delete(_lost.DataRoot, recursive: true);
        Directory.Delete(_lost.KeysDirectory, recursive: true);
        var targets = BackupHosting.Targets(options);
        var keyFile = Path.Combine(targets[1].KeysRoot, keyBackupId + ForgeOne.Security.KeyBackup.Extension);

        // Data before keys is refused without creating a key; a wrong secret restores nothing.
        Assert.Equal(ErrorCodes.CryptoKeyUnavailable, Assert.Throws<ForgeOneException>(() => OfflineRestore.RestoreData(_fresh.DataRoot, _fresh.KeysDirectory, targets, null, null, "dr", TimeProvider.System)).Code);
        Assert.False(Directory.Exists(_fresh.KeysDirectory));
        Assert.Equal(ErrorCodes.BackupRecoverySecretInvalid, Assert.Throws<ForgeOneException>(() => OfflineRestore.RestoreKeys(keyFile, "not the secret", _fresh.KeysDirectory, _fresh.DataRoot)).Code);
        Assert.False(Directory.Exists(_fresh.KeysDirectory));

        OfflineRestore.RestoreKeys(keyFile, Secret, _fresh.KeysDirectory, _fresh.DataRoot);
        var (version, result) = OfflineRestore.RestoreData(_fresh.DataRoot, _fresh.KeysDirectory, targets, null, null, "dr", TimeProvider.System);
        Assert.Equal(("v1", backupId), (version.Name, result.Chain[^1]));

        var freshPort = InProcessNode.FreePort();
        var freshOptions = BackupCoordinatorSpec.WithTargets(InProcessNode.Options_(_fresh, freshPort, freshPort), _lost);
        freshOptions.SeedNodes = [];
        var second = await InProcessNode.StartAsync(freshOptions);
        try
        {
            foreach (var (id, message) in written)
            {
                var found = Assert.IsType<LogFound>(await second.Cluster.Region(ShardKind.Logs).Ask<object>(new GetLog(Callers.Reader, id), BackupCoordinatorSpec.Ask));
                Assert.Equal(message, found.Entry.Message);
            }

            // It serves new writes, knows the old backups, and recorded the offline restore.
            Assert.IsType<LogAppended>(await second.Cluster.Region(ShardKind.Logs).Ask<object>(new AppendLog(Callers.Writer, "orders", TestHosts.Entry("after")), BackupCoordinatorSpec.Ask));
            var backups = Assert.IsType<BackupList>(await second.Cluster.Backup.Ask<object>(new ListBackups(Operator), BackupCoordinatorSpec.Ask)).Backups;
            Assert.Equal([(backupId, "completed")], backups.Select(b => (b.Id, b.Status)));
            var restore = Assert.IsType<RestoreInfo>(await second.Cluster.Backup.Ask<object>(new AwaitOperation(Operator, "r-offline-v1"), BackupCoordinatorSpec.Ask));
            Assert.Equal((backupId, "v1", 2, true), (restore.BackupId, restore.Version, restore.Incarnation, restore.Succeeded));
        }
        finally
        {
            await second.System.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
        }
    }
}
