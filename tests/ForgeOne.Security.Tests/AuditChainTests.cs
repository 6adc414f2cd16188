using ForgeOne.Common;

namespace ForgeOne.Security.Tests;

public sealed class AuditChainTests
{
    private const string Shard = "logs-0001";

    internal static List<AuditRecord> BuildChain(int count, string shard = Shard)
    {
        var chain = new AuditChain(shard);
        var t = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        return Enumerable.Range(1, count)
            .Select(i => chain.Append(t.AddSeconds(i), $"user-{i % 3}", "logs.append", $"logs/topic-{i}", AuditOutcome.Success, $"detail {i}"))
            .ToList();
    }

    private static AuditRecord Rehash(AuditRecord r) => r with { Hash = AuditRecordCodec.ComputeHash(r) };

    [Fact]
    public void Append_LinksRecordsFromTheShardsGenesis()
    {
        var records = BuildChain(3);

        Assert.Equal([1L, 2L, 3L], records.Select(r => r.Seq));
        Assert.Equal(AuditChain.Genesis(Shard).Hash, records[0].PrevHash);
        Assert.Equal(records[0].Hash, records[1].PrevHash);
        Assert.NotEqual(AuditChain.Genesis(Shard).Hash, AuditChain.Genesis("logs-0002").Hash);
        var result = AuditVerifier.Verify(records, Shard);
        Assert.True(result.IsValid, result.Message);
        Assert.Equal(3, result.Records);
        Assert.True(result.Head.Matches(records[2].HeadFor(Shard)));
    }

    [Fact]
    public void Next_DoesNotAdvanceAndResetRollsBack()
    {
        var chain = new AuditChain(Shard);
        var first = chain.Append(DateTimeOffset.UnixEpoch, "p", "a", "r", AuditOutcome.Denied, "d");
        var committed = chain.Head;

        var peek = chain.Next(DateTimeOffset.UnixEpoch, "p", "a", "r", AuditOutcome.Success, "x"u8);
        Assert.Equal(1, chain.Head.Seq);
        chain.Append(DateTimeOffset.UnixEpoch, "p", "a", "r", AuditOutcome.Success, "x"u8);
        chain.Reset(committed);

        Assert.Equal(2, peek.Seq);
        Assert.Equal(first.Hash, chain.Head.Hash);
        Assert.Throws<ForgeOneException>(() => chain.Reset(AuditChain.Genesis("other")));
    }

    [Fact]
    public void Append_KeyEventBecomesAnAuditRecord()
    {
        var change = Keyring.Create(Shard, new TestKekProvider(), new ManualTimeProvider());
        var record = new AuditChain(Shard).Append(change.Events[0], "system:key-rotation");

        Assert.Equal("keys.created", record.Action);
        Assert.Equal("keys/logs-0001/v1", record.Resource);
        Assert.Equal(AuditOutcome.Success, record.Outcome);
    }

    [Fact]
    public void Verify_DetectsModifiedRecordAtItsPosition()
    {
        var records = BuildChain(10);
        records[4] = records[4] with { Principal = "mallory" };

        var result = AuditVerifier.Verify(records, Shard);

        Assert.Equal(AuditFailure.Modified, result.Failure);
        Assert.Equal(5, result.FirstBadSeq);
        Assert.Equal(4, result.Records);
    }

    [Fact]
    public void Verify_DetectsModifiedAndRehashedRecordAtItsPosition()
    {
        var records = BuildChain(10);
        records[4] = Rehash(records[4] with { Outcome = AuditOutcome.Denied });

        var result = AuditVerifier.Verify(records, Shard);

        Assert.Equal(AuditFailure.Modified, result.Failure);
        Assert.Equal(5, result.FirstBadSeq);
    }

    [Fact]
    public void Verify_DetectsDeletedRecord()
    {
        var records = BuildChain(10);
        records.RemoveAt(6);

        var result = AuditVerifier.Verify(records, Shard);

        Assert.Equal(AuditFailure.Deleted, result.Failure);
        Assert.Equal(7, result.FirstBadSeq);
    }

    [Fact]
    public void Verify_DetectsReorderedRecords()
    {
        var records = BuildChain(10);
        (records[3], records[4]) = (records[4], records[3]);

        var result = AuditVerifier.Verify(records, Shard);

        Assert.Equal(AuditFailure.Reordered, result.Failure);
        Assert.Equal(4, result.FirstBadSeq);
    }

    [Fact]
    public void Verify_DetectsDuplicatedRecord()
    {
        var records = BuildChain(5);
        records.Insert(3, records[2]);

        var result = AuditVerifier.Verify(records, Shard);

        Assert.Equal(AuditFailure.Reordered, result.Failure);
        Assert.Equal(3, result.FirstBadSeq);
    }

    [Fact]
    public void Verify_DetectsTruncationBelowTheSealedHead()
    {
        var records = BuildChain(10);
        var sealedHead = records[9].HeadFor(Shard);

        var result = AuditVerifier.Verify(records.Take(7), Shard, [sealedHead]);

        Assert.Equal(AuditFailure.Truncated, result.Failure);
        Assert.Equal(8, result.FirstBadSeq);
        Assert.True(AuditVerifier.Verify(records, Shard, [sealedHead]).IsValid);
    }

    [Fact]
    public void Verify_DetectsAChainRewrittenBeforeTheSealedHead()
    {
        var records = BuildChain(10);
        var sealedHead = records[9].HeadFor(Shard);
        // Rewrite record 3 and re-chain everything after it: only the seal can tell.
        var forged = new AuditChain(Shard);
        var rewritten = records.Select((r, i) => forged.Append(r.Time, i == 2 ? "mallory" : r.Principal, r.Action, r.Resource, r.Outcome, $"detail {i + 1}")).ToList();

        Assert.True(AuditVerifier.Verify(rewritten, Shard).IsValid);
        var result = AuditVerifier.Verify(rewritten, Shard, [sealedHead]);
        Assert.Equal(AuditFailure.Modified, result.Failure);
        Assert.Equal(10, result.FirstBadSeq);
    }

    [Fact]
    public void Verify_RejectsAChainFromAnotherShard()
    {
        var result = AuditVerifier.Verify(BuildChain(3, "logs-0002"), Shard);

        Assert.Equal(AuditFailure.Modified, result.Failure);
        Assert.Equal(1, result.FirstBadSeq);
    }

    [Fact]
    public void Verify_ContinuesFromAVerifiedHead()
    {
        var records = BuildChain(10);

        var result = AuditVerifier.Verify(records.Skip(5), records[4].HeadFor(Shard));

        Assert.True(result.IsValid, result.Message);
        Assert.Equal(5, result.Records);
    }

    [Fact]
    public void Codec_RoundTripsAndRejectsUnknownFormats()
    {
        var record = BuildChain(2)[1];

        var bytes = AuditRecordCodec.Encode(record);
        var decoded = AuditRecordCodec.Decode(bytes);

        Assert.Equal(1, bytes[0]);
        Assert.Equal(record.Seq, decoded.Seq);
        Assert.Equal(record.Time, decoded.Time);
        Assert.Equal(record.Principal, decoded.Principal);
        Assert.Equal(record.Hash, decoded.Hash);
        Assert.Equal(record.Hash, AuditRecordCodec.ComputeHash(decoded));
        Assert.Equal(bytes, AuditRecordCodec.Encode(decoded));
        bytes[0] = 2;
        Fixtures.Throws(ErrorCodes.AuditUnknownFormat, () => AuditRecordCodec.Decode(bytes));
        Fixtures.Throws(ErrorCodes.AuditUnknownFormat, () => AuditRecordCodec.Decode(AuditRecordCodec.Encode(record).AsSpan(0, 40)));
    }

    [Fact]
    public void Append_NormalizesTimeToUtc()
    {
        var local = new DateTimeOffset(2026, 5, 1, 12, 0, 0, TimeSpan.FromHours(2));
        var record = new AuditChain(Shard).Append(local, "p", "a", "r", AuditOutcome.Success, "d");

        Assert.Equal(TimeSpan.Zero, record.Time.Offset);
        Assert.Equal(local, record.Time);
    }
}
