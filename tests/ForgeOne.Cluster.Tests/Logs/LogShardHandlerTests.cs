using System.Security.Cryptography;
using System.Text;
using ForgeOne.Cluster.Shards.Logs;
using ForgeOne.Common;
using ForgeOne.Common.Model;
using ForgeOne.Security;
using ForgeOne.Storage;
using ForgeOne.Storage.Records;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Cluster.Tests.Logs;

public sealed class LogShardHandlerTests : IDisposable
{
    private const string Topic = "app.orders";
    private static readonly PrincipalToken Auditor = TestAuth.Token("eve", ["auditor"], null, ["*"], 0);
    private readonly HandlerHarness _shard = new(new LogShardHandler(), ShardKind.Logs);

    private LogInput Input(string message, Severity severity = Severity.Info, TimeSpan? age = null, string? marker = null) =>
        new(_shard.Now - (age ?? TimeSpan.Zero), severity, message, new Dictionary<string, string> { ["user"] = "u-" + message }, marker);

    private RecordId Append(string message, Severity severity = Severity.Info, TimeSpan? age = null, string? marker = null, string topic = Topic) =>
        _shard.Send<LogAppended>(new AppendLog(Callers.Writer, topic, Input(message, severity, age, marker))).Id;

    [Fact]
    public void Append_AssignsIdAndContentHash_GetReturnsThePlaintextToAReader()
    {
        var id = Append("paid", Severity.Warning);

        var found = _shard.Send<LogFound>(new GetLog(Callers.Reader, id)).Entry;

        Assert.Equal(0, id.Shard);
        Assert.Equal("paid", found.Message);
        Assert.Equal("u-paid", found.Metadata["user"]);
        Assert.Equal(Severity.Warning, found.Severity);
        Assert.Equal(ContentHashes.ForLog(found), found.ContentHash);
    }

    [Fact]
    public void Append_StoresMessageAndMetadataFieldEncrypted()
    {
        var id = Append("card 4111-1111");

        var stored = _shard.Store.Read(txn =>
        {
            var key = RecordKeys.Primary(id);
            return StoredLogEntry.Decode(_shard.Security.Decrypt(Tables.Logs, key, txn.Get(Tables.Logs, key)!));
        });

        Assert.Equal(FieldClass.LogMessage, FieldCipher.ReadClass(stored.Message));
        Assert.Equal(FieldClass.LogMetadata, FieldCipher.ReadClass(stored.Metadata));
        Assert.DoesNotContain("4111", Encoding.Latin1.GetString(stored.Message), StringComparison.Ordinal);
    }

    [Fact]
    public void Reader_WithoutTheFieldClasses_GetsRedactedMessageAndMetadata()
    {
        var id = Append("secret");

        var entry = _shard.Send<LogFound>(new GetLog(Auditor, id)).Entry;
        var page = _shard.Send<LogPage>(new QueryLogs(Auditor, Topic, _shard.Now.AddHours(-1), _shard.Now.AddHours(1)));

        Assert.Equal("[redacted:log.message]", entry.Message);
        Assert.Equal("[redacted:log.metadata]", entry.Metadata["redacted"]);
        Assert.Equal("[redacted:log.message]", Assert.Single(page.Entries).Message);
    }

    [Fact]
    public void Append_RejectsOversizedMessage()
    {
        var reply = _shard.Send<LogFailed>(new AppendLog(Callers.Writer, Topic, Input(new string('x', 64 * 1024 + 1))));

        Assert.Equal(ErrorCodes.MessageTooLarge, reply.Error.Code);
    }

    [Theory]
    [InlineData("")]
    [InlineData("bad topic with spaces")]
    [InlineData("tab\there")]
    public void Append_RejectsInvalidTopic(string topic)
    {
        var reply = _shard.Send<LogFailed>(new AppendLog(Callers.Writer, topic, Input("m")));

        Assert.Equal(ErrorCodes.InvalidTopic, reply.Error.Code);
    }

    [Fact]
    public void Append_RefusesACallerWithoutWritePermission()
    {
        var reply = _shard.Send<LogFailed>(new AppendLog(Callers.Reader, Topic, Input("m")));

        Assert.Equal(ErrorCodes.Forbidden, reply.Error.Code);
    }

    [Fact]
    public void Batch_WithOneOversizedEntry_WritesNothing()
    {
        var reply = _shard.Send<LogFailed>(new AppendLogBatch(Callers.Writer, Topic, [Input("ok"), Input(new string('x', 70_000))]));

        Assert.Equal(ErrorCodes.MessageTooLarge, reply.Error.Code);
        Assert.StartsWith("entry 1:", reply.Error.Message, StringComparison.Ordinal);
        Assert.Equal(0, Count());
    }

    [Fact]
    public void Batch_IsOneOperationWithOneAuditRecord()
    {
        var before = _shard.Security.AuditHead.Sequence;

        var ids = _shard.Send<LogBatchAppended>(new AppendLogBatch(Callers.Writer, Topic, [Input("a"), Input("b"), Input("c")])).Ids;

        Assert.Equal(3, ids.Distinct().Count());
        Assert.Equal(before + 1, _shard.Security.AuditHead.Sequence);
        Assert.Equal("logs.append_batch", _shard.LastAudit().Action);
        Assert.Equal(3, Count());
    }

    [Fact]
    public void Query_FiltersByMinimumSeverity_AndPagesWithContinuationTokens()
    {
        var severities = new[] { Severity.Debug, Severity.Info, Severity.Warning, Severity.Error, Severity.Critical };
        for (var i = 0; i < 25; i++)
        {
            Append($"m{i:D2}", severities[i % 5], age: TimeSpan.FromSeconds(30 - i));
        }

        Append("other topic", Severity.Critical, topic: "app.other");
        var seen = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = _shard.Send<LogPage>(new QueryLogs(Callers.Reader, Topic, _shard.Now.AddMinutes(-5), _shard.Now.AddMinutes(1), Severity.Error, Limit: 4, ContinuationToken: token));
            Assert.True(page.Entries.Length <= 4);
            seen.AddRange(page.Entries.Select(e => e.Message));
            token = page.ContinuationToken;
            pages++;
        }
        while (token is not null);

        var expected = Enumerable.Range(0, 25).Where(i => i % 5 >= 3).Select(i => $"m{i:D2}").ToList();
        Assert.Equal(expected, seen);
        Assert.Equal(3, pages);
    }

    [Fact]
    public void Query_RefusesAForgedOrForeignContinuationToken()
    {
        for (var i = 0; i < 3; i++)
        {
            Append($"m{i}", age: TimeSpan.FromSeconds(10 - i));
        }

        var from = _shard.Now.AddMinutes(-5);
        var to = _shard.Now.AddMinutes(1);
        var token = _shard.Send<LogPage>(new QueryLogs(Callers.Reader, Topic, from, to, Limit: 1)).ContinuationToken!;

        var otherQuery = _shard.Send<LogFailed>(new QueryLogs(Callers.Reader, Topic, from, to, Severity.Error, Limit: 1, ContinuationToken: token));
        var forged = _shard.Send<LogFailed>(new QueryLogs(Callers.Reader, Topic, from, to, Limit: 1, ContinuationToken: token[..^2] + (token[^2] == 'A' ? "BA" : "AA")));

        Assert.Equal(ErrorCodes.InvalidContinuationToken, otherQuery.Error.Code);
        Assert.Equal(ErrorCodes.InvalidContinuationToken, forged.Error.Code);
    }

    [Fact]
    public void Count_CountsTheTopicsEntriesInTheRangeOnly()
    {
        Append("old", age: TimeSpan.FromHours(2));
        Append("a", age: TimeSpan.FromMinutes(30));
        Append("b", age: TimeSpan.FromMinutes(10));
        Append("elsewhere", topic: "app.other");

        Assert.Equal(2, _shard.Send<LogCount>(new CountLogs(Callers.Reader, Topic, _shard.Now.AddHours(-1), _shard.Now.AddMinutes(1))).Count);
    }

    [Fact]
    public void Checkpoint_RecreatingANameKeepsEveryVersion()
    {
        var first = Append("a", age: TimeSpan.FromSeconds(2));
        var v1 = _shard.Send<CheckpointCreated>(new CreateCheckpoint(Callers.Writer, Topic, "nightly", first)).Checkpoint;
        var second = Append("b", age: TimeSpan.FromSeconds(1));
        var v2 = _shard.Send<CheckpointCreated>(new CreateCheckpoint(Callers.Writer, Topic, "nightly")).Checkpoint;
        _shard.Send<CheckpointCreated>(new CreateCheckpoint(Callers.Writer, Topic, "adhoc"));

        var list = _shard.Send<CheckpointList>(new ListCheckpoints(Callers.Reader, Topic)).Checkpoints;
        var nightly = _shard.Send<CheckpointList>(new ListCheckpoints(Callers.Reader, Topic, "nightly")).Checkpoints;

        Assert.Equal((1L, first), (v1.Version, v1.Position));
        Assert.Equal((2L, second), (v2.Version, v2.Position));
        Assert.Equal(["adhoc:1", "nightly:1", "nightly:2"], list.Select(c => $"{c.Name}:{c.Version}"));
        Assert.Equal([v1, v2], nightly);
    }

    [Fact]
    public void Checkpoint_AtAnUnknownEntry_IsRefused()
    {
        var reply = _shard.Send<LogFailed>(new CreateCheckpoint(Callers.Writer, Topic, "cp", new RecordId(12345)));

        Assert.Equal(ErrorCodes.NotFound, reply.Error.Code);
    }

    [Fact]
    public void Replay_FromACheckpoint_StreamsTheEntriesAfterItInPages()
    {
        var at = Append("before", age: TimeSpan.FromSeconds(20));
        _shard.Send<CheckpointCreated>(new CreateCheckpoint(Callers.Writer, Topic, "cp", at));
        for (var i = 0; i < 5; i++)
        {
            Append($"after{i}", age: TimeSpan.FromSeconds(10 - i));
        }

        var replayed = ReplayAll(new ReplayLogs(Callers.Reader, Topic, Checkpoint: "cp", Limit: 2), out var pages);

        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"after{i}"), replayed.Select(e => e.Message));
        Assert.Equal(3, pages);
    }

    [Fact]
    public void Replay_FromACheckpointMarker_StartsAtTheMarkedEntry()
    {
        Append("x", age: TimeSpan.FromSeconds(20));
        Append("marked", age: TimeSpan.FromSeconds(15), marker: "deploy-42");
        Append("y", age: TimeSpan.FromSeconds(10));

        var replayed = ReplayAll(new ReplayLogs(Callers.Reader, Topic, Marker: "deploy-42"), out _);

        Assert.Equal(["marked", "y"], replayed.Select(e => e.Message));
        Assert.Equal("deploy-42", replayed[0].CheckpointMarker);
    }

    [Fact]
    public void Replay_FromAnUnknownCheckpoint_FailsWithNotFound()
    {
        Append("x");

        Assert.Equal(ErrorCodes.NotFound, _shard.Send<LogFailed>(new ReplayLogs(Callers.Reader, Topic, Checkpoint: "nope")).Error.Code);
        Assert.Equal(ErrorCodes.NotFound, _shard.Send<LogFailed>(new ReplayLogs(Callers.Reader, Topic, Marker: "nope")).Error.Code);
    }

    [Fact]
    public void Replay_DetectsATamperedEntry_WithATypedError()
    {
        var at = Append("start", age: TimeSpan.FromSeconds(3));
        _shard.Send<CheckpointCreated>(new CreateCheckpoint(Callers.Writer, Topic, "cp", at));
        var victim = Append("amount=10", age: TimeSpan.FromSeconds(2));

        // An insider with the keys rewrites the record consistently (valid encryption) but
        // cannot recompute the hash without changing it: severity downgraded, hash kept.
        _shard.Store.Write(txn =>
        {
            var key = RecordKeys.Primary(victim);
            var stored = StoredLogEntry.Decode(_shard.Security.Decrypt(Tables.Logs, key, txn.Get(Tables.Logs, key)!));
            var tampered = stored with { Severity = Severity.Debug };
            txn.Put(Tables.Logs, key, _shard.Security.Encrypt(Tables.Logs, key, tampered.Encode()));
            return 0;
        });

        var reply = _shard.Send<LogFailed>(new ReplayLogs(Callers.Reader, Topic, Checkpoint: "cp"));

        Assert.Equal(ErrorCodes.ChecksumMismatch, reply.Error.Code);
        Assert.Contains(victim.ToString(), reply.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Append_PastTheTopicsRetention_IsRefused_AndABatchWithOneSuchEntryWritesNothing()
    {
        _shard.Send<LogTopicPolicySet>(new SetLogTopicPolicy(Callers.Admin, Topic, TimeSpan.FromDays(1), LegalHold: false));

        var single = _shard.Send<LogFailed>(new AppendLog(Callers.Writer, Topic, Input("stale", age: TimeSpan.FromDays(2))));
        var batch = _shard.Send<LogFailed>(new AppendLogBatch(Callers.Writer, Topic, [Input("fresh"), Input("stale", age: TimeSpan.FromDays(2))]));

        Assert.Equal(ErrorCodes.RetentionExpired, single.Error.Code);
        Assert.Equal(ErrorCodes.RetentionExpired, batch.Error.Code);
        Assert.Equal(0, Count());
        Append("fresh enough", age: TimeSpan.FromHours(23));
        Assert.Equal(1, Count());
    }

    [Fact]
    public void Sweep_DeletesExpiredEntriesInBoundedBatches_SkipsLegalHold_AndAuditsEachSweep()
    {
        const string held = "app.held";
        _shard.Send<LogTopicPolicySet>(new SetLogTopicPolicy(Callers.Admin, Topic, TimeSpan.FromHours(1), LegalHold: false));
        _shard.Send<LogTopicPolicySet>(new SetLogTopicPolicy(Callers.Admin, held, TimeSpan.FromHours(1), LegalHold: true));
        var doomed = Enumerable.Range(0, 5).Select(i => Append($"d{i}", age: TimeSpan.FromMinutes(50 - i))).ToList();
        Enumerable.Range(0, 3).ToList().ForEach(i => Append($"h{i}", age: TimeSpan.FromMinutes(50), topic: held));
        _shard.Time.Advance(TimeSpan.FromMinutes(30));
        var survivor = Append("recent");

        var first = _shard.Send<RetentionSwept>(new SweepLogRetention(Callers.System, 0, MaxEntries: 3));
        var firstAudit = _shard.LastAudit();
        var second = _shard.Send<RetentionSwept>(new SweepLogRetention(Callers.System, 0, MaxEntries: 3));
        var third = _shard.Send<RetentionSwept>(new SweepLogRetention(Callers.System, 0, MaxEntries: 3));

        Assert.Equal((3, true, 1), (first.Deleted, first.More, first.TopicsHeld));
        Assert.Equal((2, false), (second.Deleted, second.More));
        Assert.Equal((0, false), (third.Deleted, third.More));
        Assert.Equal("logs.retention_sweep", firstAudit.Action);
        Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes("deleted=3 topics=1 held=1 more=True")), firstAudit.DetailHash);
        Assert.All(doomed, id => Assert.Equal(ErrorCodes.NotFound, _shard.Send<LogFailed>(new GetLog(Callers.Reader, id)).Error.Code));
        Assert.Equal(1, Count());
        Assert.Equal(3, _shard.Send<LogCount>(new CountLogs(Callers.Reader, held, _shard.Now.AddDays(-1), _shard.Now)).Count);
        Assert.Equal("recent", _shard.Send<LogFound>(new GetLog(Callers.Reader, survivor)).Entry.Message);
    }

    [Fact]
    public void Sweep_WithoutAnyPolicy_DeletesNothing()
    {
        Append("kept", age: TimeSpan.FromDays(300));
        _shard.Time.Advance(TimeSpan.FromDays(3650));

        var swept = _shard.Send<RetentionSwept>(new SweepLogRetention(Callers.System, 0));

        Assert.Equal(0, swept.Deleted);
        Assert.Equal(1, _shard.Send<LogCount>(new CountLogs(Callers.Reader, Topic, DateTimeOffset.UnixEpoch, _shard.Now)).Count);
    }

    [Fact]
    public void TopicPolicy_IsReadBack_AndNeedsSystemWrite()
    {
        _shard.Send<LogTopicPolicySet>(new SetLogTopicPolicy(Callers.Admin, Topic, TimeSpan.FromDays(30), LegalHold: true));

        var policy = _shard.Send<CurrentLogTopicPolicy>(new GetLogTopicPolicy(Callers.Reader, Topic)).Policy!;
        var refused = _shard.Send<LogFailed>(new SetLogTopicPolicy(Callers.Writer, Topic, null, LegalHold: false));

        Assert.Equal((TimeSpan.FromDays(30), true, (string?)null, "root"), (policy.Retention, policy.LegalHold, policy.Zone, policy.ChangedBy));
        Assert.Equal(ErrorCodes.Forbidden, refused.Error.Code);
        Assert.Null(_shard.Send<CurrentLogTopicPolicy>(new GetLogTopicPolicy(Callers.Reader, "app.none")).Policy);
    }

    [Fact]
    public void TopicPolicy_ForAnotherZone_IsRefusedByADefaultZoneShard()
    {
        var reply = _shard.Send<LogFailed>(new SetLogTopicPolicy(Callers.Admin, Topic, null, false, Zone: "eu"));

        Assert.Equal(ErrorCodes.ResidencyMismatch, reply.Error.Code);
    }

    [Fact]
    public void ZoneShard_StoresItsZonesPolicy_AndAcceptsWritesForIt()
    {
        using var eu = new HandlerHarness(new LogShardHandler(), ShardKind.Logs, zone: "eu");

        var policy = eu.Send<LogTopicPolicySet>(new SetLogTopicPolicy(Callers.Admin, "app.eu", TimeSpan.FromDays(1), false, Zone: "eu")).Policy;
        var refused = eu.Send<LogFailed>(new SetLogTopicPolicy(Callers.Admin, "app.us", null, false, Zone: "us"));
        var resident = eu.Send<LogAppended>(new AppendLog(Callers.Writer, "app.eu", new LogInput(eu.Now, Severity.Info, "m"), Zone: "eu"));

        Assert.Equal("eu", policy.Zone);
        Assert.Equal(ErrorCodes.ResidencyMismatch, refused.Error.Code);
        Assert.Equal("m", eu.Send<LogFound>(new GetLog(Callers.Reader, resident.Id, Zone: "eu")).Entry.Message);
    }

    private List<LogEntry> ReplayAll(ReplayLogs request, out int pages)
    {
        var entries = new List<LogEntry>();
        pages = 0;
        var next = request;
        while (true)
        {
            var page = _shard.Send<LogReplayPage>(next);
            pages++;
            entries.AddRange(page.Entries);
            if (page.ContinuationToken is null)
            {
                return entries;
            }

            next = request with { ContinuationToken = page.ContinuationToken };
        }
    }

    private long Count() => _shard.Send<LogCount>(new CountLogs(Callers.Reader, Topic, _shard.Now.AddDays(-30), _shard.Now.AddDays(1))).Count;

    public void Dispose() => _shard.Dispose();
}
