using System.Security.Cryptography;
using System.Text;
using ForgeOne.Cluster.Singletons;
using ForgeOne.Common;
using ForgeOne.Security;

namespace ForgeOne.Cluster.Tests.Tamper;

/// <summary>The sealer signs only continuations of what it sealed before.</summary>
public sealed class SealRoundTests : IDisposable
{
    private readonly AuditSigner _signer = AuditSigner.Generate();
    private readonly DateTimeOffset _t0 = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);

    public void Dispose() => _signer.Dispose();

    private static byte[] H(string chain, long seq) => SHA256.HashData(Encoding.UTF8.GetBytes($"{chain}:{seq}"));

    private static ChainHead Head(string chain, long seq) => new(chain, seq, H(chain, seq));

    private static HeadReport Report(string chain, long seq, long sealedSeq) => new(chain, Head(chain, seq), sealedSeq == 0 ? null : H(chain, sealedSeq), null);

    private SealLedger Ledger(params ChainHead[] heads)
    {
        var ledger = new SealLedger();
        ledger.Apply(_signer.CreateSeal(null, _t0, heads));
        return ledger;
    }

    [Fact]
    public void Plan_SealsHeadsThatExtendTheLastSeal()
    {
        var ledger = Ledger(Head("logs-0001", 10), Head("logs-0002", 5));

        var plan = SealRound.Plan(ledger, [Report("logs-0001", 12, 10), Report("logs-0002", 5, 5)]);

        Assert.Equal(["logs-0001@12", "logs-0002@5"], plan.Heads.Select(h => $"{h.ShardId}@{h.Seq}"));
        Assert.Empty(plan.Failed);
        Assert.True(plan.Moved);
    }

    [Fact]
    public void Plan_LeavesOutAndNamesAHeadBehindTheSealedOne_AndAFork()
    {
        var ledger = Ledger(Head("logs-0001", 10), Head("logs-0002", 5), Head("logs-0003", 7));

        var plan = SealRound.Plan(ledger,
        [
            Report("logs-0001", 9, 0),                                          // truncated below seal 1
            new HeadReport("logs-0002", Head("logs-0002", 6), H("other", 5), null), // record 5 rewritten
            Report("logs-0003", 8, 7),
        ]);

        Assert.Equal(["logs-0003"], plan.Heads.Select(h => h.ShardId));
        Assert.Equal(
            [
                new SealedShardFailure("logs-0001", ErrorCodes.AuditSealInvalid, "logs-0001: head 9 is behind the head 10 of seal 1: records 10..10 were cut off"),
                new SealedShardFailure("logs-0002", ErrorCodes.AuditSealInvalid, "logs-0002: record 5 no longer has the hash seal 1 signed: the chain was rewritten at or before it"),
            ],
            plan.Failed);
    }

    [Fact]
    public void Plan_NamesSilentAndBrokenShards_AndSealsARewindOnlyAsANewIncarnation()
    {
        var ledger = Ledger(Head("logs-0001", 10), Head("logs-0002", 5));
        var broken = new ForgeOneError(ErrorCodes.AuditChainBroken, "Deleted at seq 3");

        var plan = SealRound.Plan(ledger, [new HeadReport("logs-0001", Head("logs-0001", 4), H("logs-0001", 4), broken), new HeadReport("logs-0002", null, null, null)]);
        Assert.Equal(
            [
                new SealedShardFailure("logs-0001", ErrorCodes.AuditChainBroken, "logs-0001: Deleted at seq 3"),
                new SealedShardFailure("logs-0002", ErrorCodes.Unavailable, "logs-0002 did not report its audit head"),
            ],
            plan.Failed);

        var restore = SealRound.Plan(ledger, [new HeadReport("logs-0001", Head("logs-0001", 4), null, broken), Report("logs-0002", 5, 5)], new HashSet<string> { "logs-0001" });
        Assert.Equal(["logs-0001@4", "logs-0002@5"], restore.Heads.Select(h => $"{h.ShardId}@{h.Seq}"));
        Assert.Equal(["logs-0001"], restore.NewIncarnations);
        Assert.Empty(restore.Failed);
    }

    [Fact]
    public void Plan_HasNothingToSealWhenNoHeadMovedAndTheSameShardsFail()
    {
        var ledger = Ledger(Head("logs-0001", 10));
        Assert.False(SealRound.Plan(ledger, [Report("logs-0001", 10, 10)]).Moved);
        Assert.True(SealRound.Plan(ledger, [Report("logs-0001", 11, 10)]).Moved);

        var failing = SealRound.Plan(ledger, [Report("logs-0001", 10, 10), new HeadReport("logs-0002", null, null, null)]);
        Assert.True(failing.Moved);
        ledger.Apply(_signer.CreateSeal(ledger.Last, _t0, failing.Heads, failing.Failed));
        Assert.False(SealRound.Plan(ledger, [Report("logs-0001", 10, 10), new HeadReport("logs-0002", null, null, null)]).Moved);
    }
}
