using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Shards;
using ForgeOne.Common;
using ForgeOne.Security;
using Microsoft.Extensions.Time.Testing;

namespace ForgeOne.Cluster.Tests;

/// <summary>The group-commit state machine alone: no actor system, no LMDB; a dictionary stands in for the file.</summary>
public sealed class GroupCommitTests
{
    private static readonly GroupCommitLimits Roomy = new(MaxGroupCommands: 1000, MaxGroupBytes: 1 << 30, MaxPendingCommands: 100_000, MaxPendingBytes: 1L << 40);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public void NextGroup_TakesTheReadyPrefixInAdmissionOrder_APreparingCommandHoldsBackTheOnesBehindIt()
    {
        var commits = new GroupCommit<string>(Roomy, _time);
        Enqueue(commits, "a");
        var b = Enqueue(commits, "b", preparing: true);
        Enqueue(commits, "c");

        var first = commits.NextGroup()!;
        Assert.Equal(["a"], first.Commands.Select(p => p.ReplyTo));
        Assert.Null(commits.NextGroup());
        Assert.False(commits.HasWork);

        Assert.True(commits.Prepared(b, new Cmd("b-prepared")));
        Assert.False(commits.Prepared(b, new Cmd("b-again")));
        var second = commits.NextGroup()!;
        Assert.Equal(["b", "c"], second.Commands.Select(p => p.ReplyTo));
        Assert.Equal("b-prepared", ((Cmd)second.Commands[0].Command).Key);
        Assert.True(second.Commands[0].WasPrepared);
        Assert.Equal(0, commits.PendingCount);
        Assert.Equal(0, commits.PendingBytes);
    }

    [Fact]
    public void NextGroup_CutsByCountAndByBytes_ALargerCommandGoesAlone()
    {
        var commits = new GroupCommit<string>(Roomy with { MaxGroupCommands = 3, MaxGroupBytes = 1000 }, _time);
        for (var i = 0; i < 5; i++)
        {
            Enqueue(commits, $"small-{i}", bytes: 100);
        }

        Enqueue(commits, "huge", bytes: 5000);
        Enqueue(commits, "after", bytes: 600);
        Enqueue(commits, "after-2", bytes: 600);

        Assert.Equal(["small-0", "small-1", "small-2"], commits.NextGroup()!.Commands.Select(p => p.ReplyTo));
        Assert.Equal(["small-3", "small-4"], commits.NextGroup()!.Commands.Select(p => p.ReplyTo));
        Assert.Equal(["huge"], commits.NextGroup()!.Commands.Select(p => p.ReplyTo));
        Assert.Equal(["after"], commits.NextGroup()!.Commands.Select(p => p.ReplyTo));
        Assert.Equal(["after-2"], commits.NextGroup()!.Commands.Select(p => p.ReplyTo));
        Assert.Null(commits.NextGroup());
    }

    [Fact]
    public void NextGroup_AuditRecordsCountTowardTheByteCap()
    {
        var commits = new GroupCommit<string>(Roomy with { MaxGroupBytes = 3 * GroupCommit<string>.AuditRecordBytes }, _time);
        for (var i = 0; i < 5; i++)
        {
            commits.QueueAudit(Audit($"read-{i}"));
        }

        Enqueue(commits, "write", bytes: 100);
        var first = commits.NextGroup()!;
        Assert.Equal(3, first.Audits.Count);
        Assert.Empty(first.Commands);
        var second = commits.NextGroup()!;
        Assert.Equal(2, second.Audits.Count);
        Assert.Equal(["write"], second.Commands.Select(p => p.ReplyTo));
    }

    [Fact]
    public void Enqueue_BeyondThePendingLimits_RefusesWithOverloaded_ButNeverIntoAnEmptyQueue()
    {
        var commits = new GroupCommit<string>(Roomy with { MaxPendingCommands = 2, MaxPendingBytes = 1000 }, _time);
        Assert.NotNull(commits.Enqueue(new Cmd("huge"), "huge", Allow("huge"), 50_000, false, out _));
        Assert.Null(commits.Enqueue(new Cmd("x"), "x", Allow("x"), 1, false, out var overloaded));
        Assert.Equal(ErrorCodes.Overloaded, overloaded!.Code);
        commits.NextGroup();

        Assert.NotNull(commits.Enqueue(new Cmd("a"), "a", Allow("a"), 400, false, out _));
        Assert.Null(commits.Enqueue(new Cmd("b"), "b", Allow("b"), 700, false, out overloaded));
        Assert.Contains("1000 bytes", overloaded!.Message, StringComparison.Ordinal);
        Assert.NotNull(commits.Enqueue(new Cmd("c"), "c", Allow("c"), 600, false, out _));
        Assert.Null(commits.Enqueue(new Cmd("d"), "d", Allow("d"), 0, false, out overloaded));
        Assert.Contains("2 commands", overloaded!.Message, StringComparison.Ordinal);
        Assert.Equal(2, commits.PendingCount);
        Assert.Equal(1000, commits.PendingBytes);
    }

    [Fact]
    public void Shed_WhileTheQueueIsFull_RefusesWithOverloaded_AndTheBurstBecomesOneAuditRecordInTheNextGroup()
    {
        var commits = new GroupCommit<string>(Roomy with { MaxPendingCommands = 2 }, _time);
        Assert.False(commits.IsFull);
        Enqueue(commits, "a");
        Assert.False(commits.IsFull);
        Enqueue(commits, "b");
        Assert.True(commits.IsFull);

        var first = _time.GetUtcNow();
        for (var i = 0; i < 1000; i++)
        {
            Assert.Equal(ErrorCodes.Overloaded, commits.Shed(i % 4 == 0 ? "AppendLog" : "AppendLogBatch", "logs/0").Code);
            _time.Advance(TimeSpan.FromMilliseconds(1));
        }

        Assert.Equal(1000, commits.ShedSinceLastCommit);
        Assert.Equal(0, commits.QueuedAudits);
        var group = commits.NextGroup()!;
        Assert.Equal(["a", "b"], group.Commands.Select(p => p.ReplyTo));
        var burst = Assert.Single(group.Audits);
        Assert.Equal(GroupCommit<string>.ShedAction, burst.Admission.Action);
        Assert.Equal("logs/0", burst.Admission.Resource);
        Assert.Equal(Admission.UnauthenticatedPrincipal, burst.Principal);
        Assert.Equal(AuditOutcome.Failed, burst.Outcome);
        Assert.Equal(first, burst.Time);
        Assert.Equal(
            "refused=cluster.overloaded count=1000 AppendLog=250 AppendLogBatch=750 first=2026-01-01T00:00:00.0000000+00:00 last=2026-01-01T00:00:00.9990000+00:00",
            burst.Admission.Detail);
        Assert.Equal(0, commits.ShedSinceLastCommit);
        Assert.False(commits.IsFull);
        Assert.Null(commits.NextGroup());

        // A burst is never lost with the shard: fenced or closing, it is among the records taken.
        Enqueue(commits, "c");
        Enqueue(commits, "d");
        commits.Shed("AppendLog", "logs/0");
        Assert.True(commits.HasWork);
        commits.RefuseAll(new ForgeOneError(ErrorCodes.StorageStaleOwner, "fenced"));
        Assert.Equal([GroupCommit<string>.ShedAction, "test.put", "test.put"], commits.TakeAudits().Select(a => a.Admission.Action));
    }

    [Fact]
    public void IsFull_CountsBytesToo_ButNeverAnEmptyQueue()
    {
        var commits = new GroupCommit<string>(Roomy with { MaxPendingBytes = 1000 }, _time);
        Assert.False(commits.IsFull);
        Enqueue(commits, "huge", bytes: 50_000);
        Assert.True(commits.IsFull);
        commits.NextGroup();
        Enqueue(commits, "half", bytes: 999);
        Assert.False(commits.IsFull);
        Enqueue(commits, "rest", bytes: 1);
        Assert.True(commits.IsFull);
    }

    [Fact]
    public void Commit_ACommandThatFailsBeforeWriting_FailsAlone_InTheSameSingleTransaction()
    {
        var commits = new GroupCommit<string>(Roomy, _time);
        commits.QueueAudit(Audit("an earlier read"));
        foreach (var key in new[] { "a", "b", "clean-poison", "c" })
        {
            Enqueue(commits, key);
        }

        var store = new FakeStore();
        var outcome = commits.Commit(commits.NextGroup()!, store.Transact);

        Assert.Null(outcome.Fault);
        Assert.Equal(1, outcome.Transactions);
        Assert.Equal(0, outcome.Aborts);
        Assert.Equal(1, store.Attempts);
        Assert.Equal(["a", "b", "c"], store.Committed);
        Assert.Equal([true, true, false, true], outcome.Results.Select(r => r.Result.Committed));
        Assert.Equal(ErrorCodes.Conflict, outcome.Results[2].Result.Error!.Code);
        Assert.Equal(
            ["an earlier read:Success", "a:Success", "b:Success", "clean-poison:Failed", "c:Success"],
            store.Audits);
    }

    [Fact]
    public void Commit_ACommandThatFailsAfterWriting_AbortsOnce_AndTheRestCommitWithoutItsWrites()
    {
        var commits = new GroupCommit<string>(Roomy, _time);
        foreach (var key in new[] { "a", "b", "dirty-poison", "c", "d" })
        {
            Enqueue(commits, key);
        }

        var store = new FakeStore();
        var outcome = commits.Commit(commits.NextGroup()!, store.Transact);

        Assert.Null(outcome.Fault);
        Assert.Equal(1, outcome.Transactions);
        Assert.Equal(1, outcome.Aborts);
        Assert.Equal(2, store.Attempts);
        Assert.Equal(["a", "b", "c", "d"], store.Committed);
        Assert.DoesNotContain("dirty-poison", store.Committed);
        Assert.Equal(["a", "b", "dirty-poison", "c", "d"], outcome.Results.Select(r => r.Pending.ReplyTo));
        Assert.Equal([true, true, false, true, true], outcome.Results.Select(r => r.Result.Committed));
        Assert.Equal(["a:Success", "b:Success", "c:Success", "d:Success", "dirty-poison:Failed"], store.Audits.Order());
        Assert.Single(store.Audits, a => a.StartsWith("dirty-poison", StringComparison.Ordinal));
    }

    [Fact]
    public void Commit_ManyCommandsFailingAfterWriting_RerunsEachCommandAtMostTwiceMore()
    {
        const int n = 1000;
        var commits = new GroupCommit<string>(Roomy, _time);
        for (var i = 0; i < n; i++)
        {
            Enqueue(commits, i % 2 == 1 ? $"dirty-poison-{i}" : $"ok-{i}");
        }

        var store = new FakeStore();
        var outcome = commits.Commit(commits.NextGroup()!, store.Transact);

        Assert.Equal(Enumerable.Range(0, n).Where(i => i % 2 == 0).Select(i => $"ok-{i}"), store.Committed);
        Assert.Equal(n / 2, outcome.Aborts);
        Assert.True(store.Applies <= 4 * n, $"{store.Applies} applies for a group of {n}");
        Assert.Equal(n, store.Audits.Count);
        Assert.Equal(n / 2, store.Audits.Count(a => a.EndsWith(":Failed", StringComparison.Ordinal)));
    }

    [Fact]
    public void Commit_AFailureThatIsNoCommandsOwn_FailsTheGroup_AndKeepsEveryAuditRecordQueued()
    {
        var commits = new GroupCommit<string>(Roomy, _time);
        commits.QueueAudit(Audit("read-1"));
        commits.QueueAudit(Audit("read-2"));
        Enqueue(commits, "a");
        Enqueue(commits, "b");
        var group = commits.NextGroup()!;
        commits.QueueAudit(Audit("read-3"));

        var fenced = new ForgeOneError(ErrorCodes.StorageStaleOwner, "another owner");
        var outcome = commits.Commit(group, _ => throw new ForgeOneException(fenced));

        Assert.Equal(fenced, outcome.Fault);
        Assert.All(outcome.Results, r => Assert.Equal(fenced, r.Result.Error));
        var queued = commits.TakeAudits();
        Assert.Equal(["read-1", "read-2", "a", "b", "read-3"], queued.Select(a => a.Principal));
        Assert.Equal([AuditOutcome.Success, AuditOutcome.Success, AuditOutcome.Failed, AuditOutcome.Failed, AuditOutcome.Success], queued.Select(a => a.Outcome));
    }

    [Fact]
    public void PreparationFailed_RemovesTheCommandAndAuditsIt_OnlyOnce()
    {
        var commits = new GroupCommit<string>(Roomy, _time);
        var a = Enqueue(commits, "a", preparing: true, bytes: 500);
        Assert.True(commits.PreparationFailed(a, new ForgeOneError(ErrorCodes.ChecksumMismatch, "bad chunk")));
        Assert.False(commits.PreparationFailed(a, new ForgeOneError(ErrorCodes.ChecksumMismatch, "bad chunk")));
        Assert.False(commits.Prepared(a, new Cmd("a")));
        Assert.Equal(0, commits.PendingCount);
        Assert.Equal(0, commits.PendingBytes);
        var audit = Assert.Single(commits.TakeAudits());
        Assert.Equal(("a", AuditOutcome.Failed), (audit.Principal, audit.Outcome));
    }

    [Fact]
    public void RefuseAll_EmptiesTheQueue_AndAuditsEveryRefusal()
    {
        var commits = new GroupCommit<string>(Roomy, _time);
        Enqueue(commits, "a");
        var b = Enqueue(commits, "b", preparing: true);
        var refused = commits.RefuseAll(new ForgeOneError(ErrorCodes.StorageStaleOwner, "fenced"));
        Assert.Equal(["a", "b"], refused.Select(p => p.ReplyTo));
        Assert.False(commits.Prepared(b, new Cmd("b")));
        Assert.Equal(0, commits.PendingCount);
        var audits = commits.NextGroup()!;
        Assert.Empty(audits.Commands);
        Assert.Equal([("a", AuditOutcome.Failed), ("b", AuditOutcome.Failed)], audits.Audits.Select(a => (a.Principal, a.Outcome)));
    }

    /// <summary>
    /// Random groups of clean, dirty and healthy commands: every command gets exactly one result
    /// and one audit record, exactly the healthy ones are in the file, in admission order, and
    /// the work stays linear in the group's size.
    /// </summary>
    [Fact]
    public void Commit_RandomPoison_EveryCommandSettledOnce_HealthyOnesCommittedInOrder()
    {
        var random = new Random(1234);
        for (var round = 0; round < 300; round++)
        {
            var commits = new GroupCommit<string>(Roomy with { MaxGroupCommands = 1 + random.Next(200) }, _time);
            var keys = Enumerable.Range(0, random.Next(1, 300)).Select(i => random.Next(10) switch
            {
                0 => $"dirty-poison-{i}",
                1 => $"clean-poison-{i}",
                _ => $"ok-{i}",
            }).ToList();
            foreach (var key in keys)
            {
                Enqueue(commits, key);
            }

            var store = new FakeStore();
            var results = new List<(string Key, bool Committed)>();
            long applies = 0;
            while (commits.NextGroup() is { } group)
            {
                var before = store.Applies;
                var outcome = commits.Commit(group, store.Transact);
                Assert.Null(outcome.Fault);
                results.AddRange(outcome.Results.Select(r => (r.Pending.ReplyTo, r.Result.Committed)));
                applies = Math.Max(applies, (store.Applies - before) / Math.Max(1, group.Commands.Count));
            }

            Assert.Equal(keys, results.Select(r => r.Key));
            Assert.All(results, r => Assert.Equal(r.Key.StartsWith("ok-", StringComparison.Ordinal), r.Committed));
            Assert.Equal(keys.Where(k => k.StartsWith("ok-", StringComparison.Ordinal)), store.Committed);
            Assert.Equal(keys.Order(), store.Audits.Select(a => a[..a.IndexOf(':', StringComparison.Ordinal)]).Order());
            Assert.True(applies <= 4, $"round {round}: {applies} applies per command");
        }
    }

    private static PendingCommand<string> Enqueue(GroupCommit<string> commits, string key, bool preparing = false, long bytes = 10) =>
        commits.Enqueue(new Cmd(key), key, Allow(key), bytes, preparing, out _) ?? throw new InvalidOperationException("refused");

    // Admitted for a principal named like the command, as the shard actor hands it over.
    private static Admission Allow(string key) => Admission.Allow("test.put", $"test/{key}") with { Principal = Principal.Of(key, ["writer"], "acme", ["*"], 0) };

    private QueuedAudit Audit(string principal) => new(principal, Allow(principal), AuditOutcome.Success, _time.GetUtcNow());

    private sealed record Cmd(string Key) : IShardCommand
    {
        public PrincipalToken Token => TestAuth.Token(Key, ["writer"], "acme", ["*"], 0);

        public ShardKind Kind => ShardKind.Logs;

        public string? RoutingKey => Key;

        public int? ShardNumber => null;
    }

    /// <summary>
    /// A file as a list of keys: a transaction stages its writes and keeps them only when the
    /// body returns. A "clean-poison" command throws before writing, a "dirty-poison" one after.
    /// </summary>
    private sealed class FakeStore
    {
        public List<string> Committed { get; } = [];

        public List<string> Audits { get; } = [];

        public int Attempts { get; private set; }

        public long Applies { get; set; }

        public CommandResult[] Transact(Func<IGroupTransaction, CommandResult[]> body)
        {
            Attempts++;
            var txn = new Txn(this);
            var results = body(txn);
            Committed.AddRange(txn.Writes_);
            Audits.AddRange(txn.Audits);
            return results;
        }

        private sealed class Txn(FakeStore store) : IGroupTransaction
        {
            public List<string> Writes_ { get; } = [];

            public List<string> Audits { get; } = [];

            public long Writes => Writes_.Count + Audits.Count;

            public AppliedCommand Apply(IShardCommand command, Principal principal, ForgeOne.Cluster.Shards.Requests.RequestTicket? ticket)
            {
                store.Applies++;
                var key = ((Cmd)command).Key;
                if (key.StartsWith("clean-poison", StringComparison.Ordinal))
                {
                    throw new ForgeOneException(ErrorCodes.Conflict, key);
                }

                Writes_.Add(key);
                return key.StartsWith("dirty-poison", StringComparison.Ordinal) ? throw new ForgeOneException(ErrorCodes.Conflict, key) : new AppliedCommand($"done-{key}");
            }

            public void Audit(string principal, string action, string resource, AuditOutcome outcome, string detail, DateTimeOffset time) =>
                Audits.Add($"{principal}:{outcome}");
        }
    }
}
