using ForgeOne.Cluster.Hosting;
using ForgeOne.Backup;
using ForgeOne.Cluster.Integrity;
using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage;

namespace ForgeOne.Cluster.Tests.Backup;

/// <summary>
/// A schema rehearsal on a real backup (a node's coordinator took it into two regions) whose
/// migration step fails on every restored shard: the report fails naming each shard, the
/// staging copy is gone, and once stored the gate refuses <c>schema migrate</c> on it.
/// </summary>
public sealed class SchemaRehearsalSpec : IAsyncLifetime
{
    private static readonly PrincipalToken Operator = TestAuth.Token("ops", ["operator"], null, ["*"], 0);
    private readonly TempRoot _root = new();
    private InProcessNode? _node;

    public async Task InitializeAsync()
    {
        var port = InProcessNode.FreePort();
        var options = BackupCoordinatorSpec.WithTargets(InProcessNode.Options_(_root, port, port), _root);
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

    [Fact]
    public async Task ARehearsalWhoseStepFails_ReportsEveryShard_LeavesNoStagingCopy_AndTheGateRefusesIt()
    {
        var backup = await BackupCoordinatorSpec.BackupAsync(_node!.Cluster.Backup, Operator);
        var breaking = TestHosts.Create(_root.DataRoot, _root.KeysDirectory, new ShardCounts(3, 1, 1)) with { Migrations = (_, _) => [new Breaks()] };
        using var signer = AuditSigner.Load(_root.KeysDirectory, _root.DataRoot);
        var targets = _node.Options.Backup.Targets.Select(t => new BackupTarget(new BackupTargetOptions(t.Region, t.Path))).ToList();
        var repository = new BackupRepository(targets, signer.ExportPublicKeyPem());
        var scratch = Path.Combine(_root.Root, "scratch");

        var report = SchemaRehearsal.Run("rh-20261201T000000000Z-abcdef", scratch, repository, breaking, new FileKekProvider(_root.KeysDirectory, _root.DataRoot), signer, "test", "node", "ops");

        Assert.False(report.Passed);
        Assert.Equal(backup.Id, report.BackupId);
        Assert.Equal(1 + 3 + 1 + 1, report.Shards.Length);
        Assert.All(report.Shards, s =>
        {
            Assert.Equal((2, 2), (s.FromVersion, s.ToVersion));
            Assert.Equal(s.Records, s.RecordsAfter);
            Assert.Equal(s.AuditBefore, s.AuditAfter);
            Assert.Contains(ErrorCodes.StorageMigrationFailed, string.Join("; ", s.Problems), StringComparison.Ordinal);
        });
        Assert.Equal(report.Shards.Length, report.Failures.Length);
        Assert.False(Directory.Exists(Path.Combine(scratch, report.Id)));

        Assert.Equal(["eu-west", "us-east"], SchemaRehearsal.Store(report, targets, signer));
        var latest = SchemaRehearsal.Latest(repository);
        Assert.Equal(report.Id, latest?.Id);
        Assert.Equal(ErrorCodes.SchemaRehearsalRequired, Assert.Throws<ForgeOneException>(() => RehearsalGate.Check(latest, 2, DateTimeOffset.UtcNow, TimeSpan.FromDays(1), false, null)).Code);
    }

    /// <summary>A next schema step that fails after writing: the rehearsal must catch it.</summary>
    private sealed class Breaks : IMigration
    {
        public int FromVersion => 2;

        public int ToVersion => 3;

        public string Description => "a step that fails midway";

        public void Apply(IWriteTransaction txn)
        {
            txn.Put(Tables.Keys, "rehearsal-probe"u8, [1]);
            throw new InvalidOperationException("the step broke after its first write");
        }
    }
}
