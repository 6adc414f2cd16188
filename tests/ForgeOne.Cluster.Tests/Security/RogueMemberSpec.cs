using System.Security.Cryptography;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Sharding;
using ForgeOne.Cluster.Shards;
using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Cluster.Tests.Security;

/// <summary>
/// A member of the cluster that holds no token (an ActorSystem that joined and builds its own
/// messages): through its own sharding proxy and by actor selection straight to the shard and
/// the singletons, with no token, a forged one and one it signed with a key of its own, nothing
/// succeeds and nothing is written; every attempt is on record as a denial.
/// </summary>
public sealed class RogueMemberSpec : TestKit, IAsyncLifetime
{
    private const string Topic = "acme.payroll";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private readonly TempRoot _root = new();
    private InProcessNode? _node;
    private ActorSystem? _rogue;

    public RogueMemberSpec()
        : base(ConfigurationFactory.ParseString("akka.loglevel = WARNING"), "rogue-member-spec")
    {
    }

    public async Task InitializeAsync()
    {
        var port = InProcessNode.FreePort();
        var options = InProcessNode.Options_(_root, port, port);
        options.SeedNodes = [];
        options.ShardCounts = new ShardCountOptions { Logs = 1, Events = 1, Blobs = 1 };
        _node = await InProcessNode.StartAsync(options);

        var rogueOptions = new ForgeOneNodeOptions
        {
            Port = 0,
            SeedNodes = [_node.Address],
            Roles = [ForgeOneNodeOptions.ClientRole],
            ShardCounts = options.ShardCounts,

            // A certificate of the cluster's CA: mutual TLS admits this member, so only the missing
            // principal token stands between it and the shards.
            KeysDirectory = options.KeysDirectory,
        };
        _rogue = ClusterConfig.CreateSystem(rogueOptions, ConfigurationFactory.ParseString(InProcessNode.FastTestHocon));
        var joined = new TaskCompletionSource();
        Akka.Cluster.Cluster.Get(_rogue).RegisterOnMemberUp(() => joined.TrySetResult());
        await joined.Task.WaitAsync(Wait);
    }

    public async Task DisposeAsync()
    {
        if (_rogue is not null)
        {
            await _rogue.Terminate().WaitAsync(Wait);
        }

        if (_node is not null)
        {
            await _node.System.Terminate().WaitAsync(Wait);
        }

        Shutdown();
        _root.Dispose();
    }

    [Fact]
    public async Task AMemberWithoutATokenOfItsOwn_CanMakeNothingSucceed_AndNothingIsWritten()
    {
        var rogue = _rogue!;
        var admin = Principal.Of("root", ["admin"], null, ["*"], int.MaxValue);
        var forged = new PrincipalToken([.. Callers.Admin.Value[..^1], (byte)(Callers.Admin.Value[^1] ^ 1)]);
        var ownKey = AuthenticationKeyring.InMemory(RandomNumberGenerator.GetBytes(AuthenticationKeyring.KeyLength));
        var selfSigned = ownKey.Sign(new TokenClaims(admin, "rogue", DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(10), 1));
        var empty = new PrincipalToken([]);
        PrincipalToken[] proofs = [empty, forged, selfSigned];

        // No token at all cannot even leave the rogue: the wire format has no null for a required field.
        var wire = (Akka.Serialization.SerializerWithStringManifest)rogue.Serialization.FindSerializerForType(typeof(AppendLog));
        Assert.Equal(ErrorCodes.WireMalformed, Assert.Throws<Protocol.Wire.WireFormatException>(() => wire.ToBinary(new AppendLog(null!, Topic, TestHosts.Entry("rogue")))).Error.Code);

        // Through the rogue's own sharding proxy: writes, a read, a key rotation.
        var proxy = await ClusterSharding.Get(rogue).StartProxyAsync(ShardEntityId.TypeName(ShardKind.Logs), ForgeOneNodeOptions.StorageRole, new ShardMessageExtractor(ShardKind.Logs, 1));
        foreach (var token in proofs)
        {
            Assert.Equal(ErrorCodes.Unauthenticated, Assert.IsType<LogFailed>(await proxy.Ask<object>(new AppendLog(token, Topic, TestHosts.Entry("rogue")), Wait)).Error.Code);
            Assert.Equal(ErrorCodes.Unauthenticated, Assert.IsType<LogFailed>(await proxy.Ask<object>(new AppendLogBatch(token, Topic, [TestHosts.Entry("rogue")]), Wait)).Error.Code);
            Assert.Equal(ErrorCodes.Unauthenticated, Assert.IsType<LogFailed>(await proxy.Ask<object>(new QueryLogs(token, Topic, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1)), Wait)).Error.Code);
            Assert.Equal(ErrorCodes.Unauthenticated, Assert.IsType<ShardProtocol.ShardFailed>(await proxy.Ask<object>(new ShardProtocol.RotateKey(token, ShardKind.Logs, 0, "rogue", false), Wait)).Error.Code);
        }

        // By actor selection, straight at the shard entity and at the singletons.
        var entityPath = $"{_node!.Address}/system/sharding/{ShardEntityId.TypeName(ShardKind.Logs)}/0/{ShardEntityId.Of(ShardKind.Logs, 0)}";
        var entity = rogue.ActorSelection(entityPath);
        var watcher = CreateTestProbe(_node.System);
        watcher.Watch(await _node.System.ActorSelection($"/system/sharding/{ShardEntityId.TypeName(ShardKind.Logs)}/0/{ShardEntityId.Of(ShardKind.Logs, 0)}").ResolveOne(Wait));
        Assert.Equal(ErrorCodes.Unauthenticated, Assert.IsType<LogFailed>(await entity.Ask<object>(new AppendLog(selfSigned, Topic, TestHosts.Entry("rogue, direct")), Wait)).Error.Code);
        Assert.Equal(ErrorCodes.Unauthenticated, Assert.IsType<ShardProtocol.ShardFailed>(await entity.Ask<object>(new ShardProtocol.GetAuditHead(forged, ShardKind.Logs, 0), Wait)).Error.Code);
        entity.Tell(ShardProtocol.HandOff.Instance, ActorRefs.NoSender);
        rogue.ActorSelection(entityPath).Tell(ShardProtocol.HandOff.Instance, rogue.DeadLetters);
        var sealer = rogue.ActorSelection($"{_node.Address}/user/audit-sealer/singleton");
        var rotation = rogue.ActorSelection($"{_node.Address}/user/key-rotation/singleton");
        var backup = rogue.ActorSelection($"{_node.Address}/user/backup/singleton");
        Assert.Equal(ErrorCodes.Unauthenticated, Assert.IsType<SealerProtocol.SealFailed>(await sealer.Ask<object>(new SealerProtocol.SealNow(selfSigned), Wait)).Error.Code);
        Assert.Equal(ErrorCodes.Unauthenticated, Assert.IsType<SealerProtocol.SealFailed>(await sealer.Ask<object>(new SealerProtocol.GetSealHistory(empty), Wait)).Error.Code);
        Assert.Equal(ErrorCodes.Unauthenticated, Assert.IsType<KeyRotationProtocol.RotationFailed>(await rotation.Ask<object>(new KeyRotationProtocol.RotateAll(forged, "rogue"), Wait)).Error.Code);
        Assert.Equal(ErrorCodes.Unauthenticated, Assert.IsType<BackupProtocol.BackupOperationFailed>(await backup.Ask<object>(new BackupProtocol.SetBackupSchedule(selfSigned, TimeSpan.FromDays(1), TimeSpan.FromHours(1), TimeSpan.FromDays(7)), Wait)).Error.Code);

        // The shard was not stopped by the rogue's hand-off, and a genuine reader sees nothing of it.
        watcher.ExpectNoMsg(TimeSpan.FromMilliseconds(500));
        var count = Assert.IsType<LogCount>(await _node.Cluster.Region(ShardKind.Logs).Ask<object>(new CountLogs(Callers.Reader, Topic, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1)), Wait));
        Assert.Equal(0, count.Count);

        // Stop the node (shards flush and close), then read both shards' files.
        await _rogue!.Terminate().WaitAsync(Wait);
        _rogue = null;
        await CoordinatedShutdown.Get(_node.System).Run(CoordinatedShutdown.ClrExitReason.Instance).WaitAsync(Wait);
        _node = null;

        var host = TestHosts.Create(_root.DataRoot, _root.KeysDirectory, new ShardCounts(1, 1, 1));
        var (logs, logAudit) = Read(host, ShardKind.Logs);
        var (_, systemAudit) = Read(host, ShardKind.System);
        Assert.Equal(0, logs);
        Assert.DoesNotContain(logAudit.Concat(systemAudit), r => r.Principal is "root" or "rogue");
        // 3 proofs x 4 requests through the proxy, 2 direct requests, 2 hand-offs from outside.
        Assert.Equal(16, logAudit.Count(r => r.Principal == Admission.UnauthenticatedPrincipal && r.Outcome == AuditOutcome.Denied));
        Assert.Equal(2, logAudit.Count(r => r.Action == "shard.hand_off" && r.Outcome == AuditOutcome.Denied));
        Assert.Equal(
            ["audit.seal_history", "audit.seal_now", "backup.schedule_set", "keys.rotate_all"],
            systemAudit.Where(r => r.Principal == Admission.UnauthenticatedPrincipal).Select(r => r.Action).Order(StringComparer.Ordinal));
        Assert.All(systemAudit.Where(r => r.Principal == Admission.UnauthenticatedPrincipal), r => Assert.Equal(AuditOutcome.Denied, r.Outcome));
        Assert.DoesNotContain(logAudit, r => r.Action.StartsWith("keys.", StringComparison.Ordinal) && r.Outcome == AuditOutcome.Success && r.Resource.EndsWith("/v2", StringComparison.Ordinal));
    }

    private static (long Logs, List<AuditRecord> Audit) Read(ShardHost host, ShardKind kind)
    {
        using var store = ShardStore.Open(host.StoreOptions(kind, 0));
        return store.Read(txn => (kind == ShardKind.Logs ? txn.Count(Tables.Logs) : 0, txn.Scan(Tables.Audit, [], []).Select(kv => AuditRecordCodec.Decode(kv.Value)).ToList()));
    }
}
