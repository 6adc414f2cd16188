using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Shards.Requests;
using ForgeOne.Common;
using ForgeOne.Common.Model;
using static ForgeOne.Cluster.Protocol.EventProtocol;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Cluster.Tests.Requests;

public sealed class IdempotentWritesTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    private static LogInput Log(string message = "m", Dictionary<string, string>? metadata = null, DateTimeOffset? at = null) =>
        new(at ?? At, Severity.Info, message, metadata);

    private static byte[] Fp(IIdempotentCommand command) => IdempotentWrites.Fingerprint(command);

    [Fact]
    public void Fingerprint_IsTheSameForTheSameContent_WhateverTheMetadataOrderOrCaller()
    {
        var a = new AppendLog(Callers.Writer, "t", Log(metadata: new() { ["a"] = "1", ["b"] = "2" }));
        var b = new AppendLog(Callers.Reader, "t", Log(metadata: new() { ["b"] = "2", ["a"] = "1" }), RequestId: new RequestId("p", 1));

        Assert.Equal(Fp(a), Fp(b));
        Assert.Equal(IdempotentWrites.FingerprintLength, Fp(a).Length);
    }

    [Fact]
    public void Fingerprint_ChangesWithEveryFieldThatIsWritten()
    {
        var baseline = Fp(new AppendLog(Callers.Writer, "t", Log()));
        IIdempotentCommand[] variants =
        [
            new AppendLog(Callers.Writer, "u", Log()),
            new AppendLog(Callers.Writer, "t", Log("n")),
            new AppendLog(Callers.Writer, "t", Log(at: At.AddTicks(1))),
            new AppendLog(Callers.Writer, "t", Log() with { Severity = Severity.Error }),
            new AppendLog(Callers.Writer, "t", Log(metadata: [])),
            new AppendLog(Callers.Writer, "t", Log() with { CheckpointMarker = "x" }),
            new AppendLogBatch(Callers.Writer, "t", [Log()]),
            new PublishEvent(Callers.Writer, "t", new EventInput(At, Priority.Normal, [])),
        ];

        Assert.All(variants, v => Assert.NotEqual(baseline, Fp(v)));
        Assert.Equal(variants.Length, variants.Select(v => Convert.ToHexString(Fp(v))).Distinct().Count());
    }

    [Fact]
    public void Fingerprint_OfEvents_CoversPayloadBytes()
    {
        var one = Fp(new PublishEvents(Callers.Writer, "t", [new EventInput(At, Priority.High, [1, 2])]));
        var two = Fp(new PublishEvents(Callers.Writer, "t", [new EventInput(At, Priority.High, [1, 3])]));

        Assert.NotEqual(one, two);
    }

    [Fact]
    public void Replay_AnswersWithTheOriginalIds_MarkedReplayed()
    {
        RecordId[] ids = [new(5), new(6)];

        var single = Assert.IsType<LogAppended>(IdempotentWrites.Replay(new AppendLog(Callers.Writer, "t", Log()), [ids[0]]));
        var batch = Assert.IsType<EventsPublished>(IdempotentWrites.Replay(new PublishEvents(Callers.Writer, "t", [new EventInput(At, Priority.Low, []), new EventInput(At, Priority.Low, [])]), ids));

        Assert.Equal(new LogAppended("t", ids[0], Replayed: true), single);
        Assert.Equal(ids, batch.Ids);
        Assert.True(batch.Replayed);
    }

    [Fact]
    public void Replay_RefusesAnOutcomeThatDoesNotFitTheCommand()
    {
        var e = Assert.Throws<ForgeOneException>(() => IdempotentWrites.Replay(new AppendLogBatch(Callers.Writer, "t", [Log(), Log()]), [new RecordId(1)]));

        Assert.Equal(ErrorCodes.StorageCorruptRecord, e.Code);
    }
}
