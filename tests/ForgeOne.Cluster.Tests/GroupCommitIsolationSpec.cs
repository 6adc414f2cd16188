using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Security;
using ForgeOne.Cluster.Shards;
using ForgeOne.Common;
using ForgeOne.Common.Validation;
using ForgeOne.Security;
using ForgeOne.Storage;

namespace ForgeOne.Cluster.Tests;

/// <summary>
/// A command whose Apply throws after writing aborts its group's transaction; the group is
/// re-run without it and its neighbours commit together in one transaction, not one each.
/// </summary>
public sealed class GroupCommitIsolationSpec : TestKit, IDisposable
{
    private readonly TempRoot _root = new();

    public GroupCommitIsolationSpec()
        : base(ConfigurationFactory.ParseString(ClusterConfig.ShardActorHocon), "isolation-spec")
    {
    }

    [Fact]
    public void ApplyFailure_FailsOnlyThatCommand_NeighboursInTheSameGroupCommit()
    {
        var kek = new FileKekProvider(_root.KeysDirectory, _root.DataRoot);
        var host = new ShardHost(_root.DataRoot, new ShardCounts(1, 1, 1), new ShardOptions { NoSync = true },
            new ShardSecurityFactory(kek, TestAuth.Node(), TimeProvider.System),
            new Dictionary<ShardKind, IShardHandler> { [ShardKind.Events] = new PutHandler() },
            TimeProvider.System, Limits.Default);
        var shard = Sys.ActorOf(ShardActor.Props(host, "events-0", "test-node"));
        shard.Tell(new ShardProtocol.GetShardStats(Callers.System, ShardKind.Events, 0));
        var before = ExpectMsg<ShardProtocol.ShardStats>(TimeSpan.FromSeconds(10)).CommitCount;

        // Sent back to back, they queue behind the first Flush and share one transaction.
        // The warning proves the group was aborted and re-run, not committed one by one.
        string[] keys = ["a", "b", "boom", "c", "d"];
        IReadOnlyCollection<object> replies = [];
        EventFilter.Warning(contains: "the group was re-run without them (1 transactions)").ExpectOne(() =>
        {
            foreach (var key in keys)
            {
                shard.Tell(new Put(key));
            }

            replies = ReceiveN(keys.Length, TimeSpan.FromSeconds(10));
        });
        Assert.Equal(["a", "b", "c", "d"], replies.OfType<PutDone>().Select(d => d.Key).Order());
        var failed = Assert.Single(replies.OfType<ShardProtocol.ShardFailed>());
        Assert.Equal(ErrorCodes.Conflict, failed.Error.Code);
        shard.Tell(new ShardProtocol.GetShardStats(Callers.System, ShardKind.Events, 0));
        Assert.Equal(before + 1, ExpectMsg<ShardProtocol.ShardStats>(TimeSpan.FromSeconds(10)).CommitCount);

        Watch(shard);
        shard.Tell(ShardProtocol.HandOff.Instance);
        ExpectTerminated(shard, TimeSpan.FromSeconds(10));
        using var store = ShardStore.Open(host.StoreOptions(ShardKind.Events, 0));
        Assert.Equal(4, store.Read(txn => txn.Count(Tables.Events)));
        var audit = store.Read(txn => txn.Scan(Tables.Audit, [], []).Select(kv => AuditRecordCodec.Decode(kv.Value)).ToList());
        Assert.Equal(4, audit.Count(r => r.Action == "test.put" && r.Outcome == AuditOutcome.Success));
        Assert.Single(audit, r => r.Action == "test.put" && r.Outcome == AuditOutcome.Failed);
    }

    public new void Dispose()
    {
        Shutdown();
        _root.Dispose();
    }

    public sealed record Put(string Key) : IShardCommand
    {
        public PrincipalToken Token => Callers.Writer;

        public ShardKind Kind => ShardKind.Events;

        public string? RoutingKey => null;

        public int? ShardNumber => 0;
    }

    public sealed record PutDone(string Key);

    private sealed class PutHandler : IShardHandler
    {
        public ShardKind Kind => ShardKind.Events;

        public Admission Admit(IShardOperation operation, Principal principal, ShardContext context) => Admission.Allow("test.put", ((Put)operation).Key);

        public object Apply(IWriteTransaction txn, IShardCommand command, Principal principal, ShardContext context)
        {
            var key = ((Put)command).Key;
            txn.Put(Tables.Events, System.Text.Encoding.UTF8.GetBytes(key), [1]);
            return key == "boom" ? throw new ForgeOneException(ErrorCodes.Conflict, "boom") : new PutDone(key);
        }

        public object Read(IReadTransaction txn, IShardQuery query, Principal principal, ShardContext context) => throw new NotSupportedException();

        public object Fail(ForgeOneError error) => new ShardProtocol.ShardFailed(ShardKind.Events, 0, error);
    }
}
