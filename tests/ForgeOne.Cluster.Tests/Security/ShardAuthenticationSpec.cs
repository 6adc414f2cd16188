using System.Security.Cryptography;
using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Security;
using ForgeOne.Cluster.Shards;
using ForgeOne.Cluster.Tests.Blobs;
using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Cluster.Tests.Security;

/// <summary>
/// A shard believes only what a verified token proves: absent, forged, expired and revoked
/// tokens are refused with auth.unauthenticated before any handler runs, audited as denials,
/// and nothing is written; a valid token without the permission is auth.forbidden instead.
/// </summary>
public sealed class ShardAuthenticationSpec : TestKit, IDisposable
{
    private const string Topic = "acme.orders";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly TempRoot _root = new();
    private readonly NodeSecurity _node = TestAuth.Node();
    private readonly ShardHost _host;
    private readonly IActorRef _region;

    public ShardAuthenticationSpec()
        : base(ConfigurationFactory.ParseString(ClusterConfig.ShardActorHocon), "shard-authentication-spec")
    {
        _host = TestHosts.Create(_root.DataRoot, _root.KeysDirectory, new ShardCounts(1, 1, 1), security: _node);
        _region = Sys.ActorOf(LocalShardRegion.Props(_host, ShardKind.Logs));
    }

    public new void Dispose()
    {
        Shutdown();
        _root.Dispose();
    }

    public static TheoryData<string> BadProofs() => ["absent", "empty", "forged", "expired", "revoked", "truncated"];

    private PrincipalToken? Proof(string kind)
    {
        var writer = TestAuth.PrincipalOf(Callers.Writer);
        return kind switch
        {
            "absent" => null,
            "empty" => new PrincipalToken([]),
            "forged" => AuthenticationKeyring.InMemory(RandomNumberGenerator.GetBytes(AuthenticationKeyring.KeyLength))
                .Sign(new TokenClaims(writer, "forged", TestAuth.From, TestAuth.Until, 1)),
            "expired" => TestAuth.Token(writer, expires: DateTimeOffset.UtcNow - TokenVerifier.ClockSkew - TimeSpan.FromSeconds(1)),
            "revoked" => TestAuth.Token(writer, credential: "apikey:revoked-one"),
            "truncated" => new PrincipalToken(Callers.Writer.Value[..^4]),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    private object Ask(object message)
    {
        _region.Tell(message, TestActor);
        return ExpectMsg<object>(Wait);
    }

    private (long Logs, List<AuditRecord> Audit) HandOffAndRead()
    {
        _region.Tell(new LocalShardRegion.HandOffShard(0), TestActor);
        ExpectMsg<LocalShardRegion.ShardHandedOff>(Wait);
        using var store = ShardStore.Open(_host.StoreOptions(ShardKind.Logs, 0));
        return store.Read(txn => (txn.Count(Tables.Logs), txn.Scan(Tables.Audit, [], []).Select(kv => AuditRecordCodec.Decode(kv.Value)).ToList()));
    }

    [Theory]
    [MemberData(nameof(BadProofs))]
    public void AWriteOrReadWithoutValidProof_IsUnauthenticated_AuditedAsDenied_AndWritesNothing(string proof)
    {
        _node.Revoked.Add([("apikey:revoked-one", DateTimeOffset.UtcNow)]);
        var token = Proof(proof)!;

        var append = Assert.IsType<LogFailed>(Ask(new AppendLog(token, Topic, TestHosts.Entry("must not land"))));
        var batch = Assert.IsType<LogFailed>(Ask(new AppendLogBatch(token, Topic, [TestHosts.Entry("a"), TestHosts.Entry("b")])));
        var query = Assert.IsType<LogFailed>(Ask(new QueryLogs(token, Topic, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1))));

        Assert.All([append, batch, query], f => Assert.Equal(ErrorCodes.Unauthenticated, f.Error.Code));
        var (logs, audit) = HandOffAndRead();
        Assert.Equal(0, logs);
        // Each attempt is on record as what it tried, refused, under no principal it claimed.
        var refusals = audit.Where(r => r.Principal == Admission.UnauthenticatedPrincipal).ToList();
        Assert.Equal(["logs.append", "logs.append_batch", "logs.query"], refusals.Select(r => r.Action));
        Assert.All(refusals, r =>
        {
            Assert.Equal(AuditOutcome.Denied, r.Outcome);
            // The topic is sealed in the record (only the shard's key reveals it).
            Assert.Equal("logs/0/topic:", r.Resource);
            Assert.NotNull(r.Subject);
        });
        Assert.DoesNotContain(audit, r => r.Outcome == AuditOutcome.Success && r.Action.StartsWith("logs.", StringComparison.Ordinal));
    }

    [Fact]
    public void AValidTokenWithoutThePermission_IsForbidden_NotUnauthenticated_AndAuditedUnderItsPrincipal()
    {
        var reply = Assert.IsType<LogFailed>(Ask(new AppendLog(Callers.Reader, Topic, TestHosts.Entry("a reader may not write"))));

        Assert.Equal(ErrorCodes.Forbidden, reply.Error.Code);
        var (logs, audit) = HandOffAndRead();
        Assert.Equal(0, logs);
        var denied = Assert.Single(audit, r => r.Action == "logs.append");
        Assert.Equal(("bob", AuditOutcome.Denied), (denied.Principal, denied.Outcome));
    }

    [Fact]
    public void ControlMessages_NeedTheirPermission_AndEveryDecisionIsAudited()
    {
        var forged = Proof("forged")!;

        var byWriter = Assert.IsType<ShardProtocol.ShardFailed>(Ask(new ShardProtocol.RotateKey(Callers.Writer, ShardKind.Logs, 0, "writer tries", OnlyIfDue: false)));
        var byForger = Assert.IsType<ShardProtocol.ShardFailed>(Ask(new ShardProtocol.RotateKey(forged, ShardKind.Logs, 0, "forger tries", OnlyIfDue: false)));
        var headByReader = Assert.IsType<ShardProtocol.ShardFailed>(Ask(new ShardProtocol.GetAuditHead(Callers.Reader, ShardKind.Logs, 0)));
        var statsByNobody = Assert.IsType<ShardProtocol.ShardFailed>(Ask(new ShardProtocol.GetShardStats(null!, ShardKind.Logs, 0)));
        var rotated = Assert.IsType<ShardProtocol.KeyRotated>(Ask(new ShardProtocol.RotateKey(Callers.Admin, ShardKind.Logs, 0, "admin rotates", OnlyIfDue: false)));
        Assert.IsType<ShardProtocol.ShardStats>(Ask(new ShardProtocol.GetShardStats(TestAuth.Token("ops", ["operator"], null, ["*"], 0), ShardKind.Logs, 0)));
        Assert.IsType<ShardProtocol.ShardStats>(Ask(new ShardProtocol.GetShardStats(Callers.System, ShardKind.Logs, 0)));
        Assert.IsType<ShardProtocol.AuditHead>(Ask(new ShardProtocol.GetAuditHead(Callers.System, ShardKind.Logs, 0)));

        Assert.Equal(ErrorCodes.Forbidden, byWriter.Error.Code);
        Assert.Equal(ErrorCodes.Unauthenticated, byForger.Error.Code);
        Assert.Equal(ErrorCodes.Forbidden, headByReader.Error.Code);
        Assert.Equal(ErrorCodes.Unauthenticated, statsByNobody.Error.Code);
        Assert.True(rotated.Rotated);
        Assert.Equal(2, rotated.ActiveVersion);

        var (_, audit) = HandOffAndRead();
        Assert.Contains(audit, r => (r.Principal, r.Action, r.Outcome) == ("alice", "keys.rotate", AuditOutcome.Denied));
        Assert.Contains(audit, r => (r.Principal, r.Action, r.Outcome) == ("bob", "audit.head", AuditOutcome.Denied));
        Assert.Contains(audit, r => (r.Principal, r.Action, r.Outcome) == (Admission.UnauthenticatedPrincipal, "keys.rotate", AuditOutcome.Denied));
        Assert.Contains(audit, r => (r.Principal, r.Action, r.Outcome) == (Admission.UnauthenticatedPrincipal, "shard.stats", AuditOutcome.Denied));
        Assert.Contains(audit, r => (r.Principal, r.Action, r.Outcome) == ("root", "keys.rotate", AuditOutcome.Success));
        Assert.Contains(audit, r => r.Principal == "root" && r.Action.StartsWith("keys.", StringComparison.Ordinal) && r.Resource.EndsWith("/v2", StringComparison.Ordinal));
        Assert.DoesNotContain(audit, r => r.Principal is "alice" or "bob" && r.Outcome == AuditOutcome.Success);

        // An operator's read of the counters is on record; the cluster's own polls are not.
        Assert.Contains(audit, r => (r.Principal, r.Action, r.Outcome) == ("ops", "shard.stats", AuditOutcome.Success));
        Assert.DoesNotContain(audit, r => r.Principal.StartsWith(NodeSecurity.NodePrefix, StringComparison.Ordinal));
    }
}
