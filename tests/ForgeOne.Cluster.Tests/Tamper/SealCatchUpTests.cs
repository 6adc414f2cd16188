using ForgeOne.Cluster.Singletons;
using ForgeOne.Common;
using ForgeOne.Security;

namespace ForgeOne.Cluster.Tests.Tamper;

/// <summary>The sealer's journal (inside the data root) and the seals file (outside it) bring each other up to date, and a fork stops the sealer.</summary>
public sealed class SealCatchUpTests : IDisposable
{
    private readonly TempRoot _root = new();
    private readonly AuditSigner _signer = AuditSigner.Generate();
    private readonly SealVerifier _verifier;

    public SealCatchUpTests() => _verifier = new SealVerifier(_signer.ExportPublicKeyPem());

    public void Dispose()
    {
        _verifier.Dispose();
        _signer.Dispose();
        _root.Dispose();
    }

    private List<Seal> Seals(int n, Seal? from = null, long seq = 1)
    {
        var seals = new List<Seal>();
        var previous = from;
        for (var i = 0; i < n; i++)
        {
            previous = _signer.CreateSeal(previous, DateTimeOffset.UnixEpoch.AddMinutes(i), [new ChainHead("logs-0000", seq + i, System.Security.Cryptography.SHA256.HashData([(byte)(seq + i)]))]);
            seals.Add(previous);
        }

        return seals;
    }

    private SealLogFile File(IEnumerable<Seal> seals)
    {
        var file = new SealLogFile(Path.Combine(_root.Root, "seals", Guid.NewGuid().ToString("N") + ".log"));
        foreach (var s in seals)
        {
            file.Append(s);
        }

        return file;
    }

    [Fact]
    public void AnEmptyOrShorterStore_GetsTheJournalsSeals()
    {
        var journal = Seals(4);
        Assert.Equal([1L, 2, 3, 4], SealCatchUp.Plan(journal, File([]), _verifier).AppendToStore.Select(s => s.Number));
        Assert.Equal([3L, 4], SealCatchUp.Plan(journal, File(journal.Take(2)), _verifier).AppendToStore.Select(s => s.Number));
        Assert.Same(CatchUpPlan.InAgreement, SealCatchUp.Plan(journal, File(journal), _verifier));
    }

    [Fact]
    public void AJournalBehindTheStore_AdoptsTheStoresLaterSeals_AfterVerifyingThem()
    {
        var all = Seals(5);
        var plan = SealCatchUp.Plan(all.Take(2).ToList(), File(all), _verifier);
        Assert.Equal([3L, 4, 5], plan.AdoptIntoJournal.Select(s => s.Number));
        Assert.Null(plan.Conflict);
        Assert.Equal([1L, 2, 3, 4, 5], SealCatchUp.Plan([], File(all), _verifier).AdoptIntoJournal.Select(s => s.Number));
    }

    [Fact]
    public void TwoDifferentSealsWithOneNumber_AreAForkThatStopsTheSealer()
    {
        var common = Seals(2);
        var mine = Seals(1, common[^1], seq: 10);
        var theirs = Seals(1, common[^1], seq: 20);
        var plan = SealCatchUp.Plan([.. common, .. mine], File([.. common, .. theirs]), _verifier);
        Assert.Equal(ErrorCodes.AuditSealInvalid, plan.Conflict!.Code);
        Assert.Contains("forked", plan.Conflict.Message, StringComparison.Ordinal);
        Assert.Empty(plan.AppendToStore);
    }

    [Fact]
    public void AStoreWhoseNewestSealIsForged_IsAConflict()
    {
        using var mallory = AuditSigner.Generate();
        var journal = Seals(1);
        var forged = mallory.CreateSeal(journal[0], DateTimeOffset.UnixEpoch, [new ChainHead("logs-0000", 99, new byte[32])]);
        var plan = SealCatchUp.Plan(journal, File([journal[0], forged]), _verifier);
        Assert.Equal(ErrorCodes.AuditSealInvalid, plan.Conflict!.Code);
        Assert.Empty(plan.AdoptIntoJournal);
    }
}
