using ForgeOne.Backup;
using ForgeOne.Cluster.Integrity;
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

    [Fact]
    public void OfflineRestore_AppendsASealNamingTheRestoredHeadsAsNewIncarnations_WhichTheJournalAdopts()
    {
        var journal = Seals(3, seq: 10); // logs-0000 sealed up to 12
        var file = File(journal);
        var hash = System.Security.Cryptography.SHA256.HashData("restored"u8);
        ShardRestored[] restored = [new(new ShardRef(null, ShardKind.Logs, 0), 7, Convert.ToHexStringLower(hash), 7, 100), new(new ShardRef("eu", ShardKind.Logs, 0), 2, Convert.ToHexStringLower(hash), 2, 10)];

        var seal = OfflineIncarnation.Record(file, _signer, restored, DateTimeOffset.UnixEpoch.AddHours(1));

        Assert.NotNull(seal);
        Assert.Equal(4, seal.Number);
        Assert.Equal(["logs-0000", "logs-0000@eu"], seal.NewIncarnations);
        Assert.Equal(["logs-0000@7", "logs-0000@eu@2"], seal.Heads.Select(h => $"{h.ShardId}@{h.Seq}"));
        var all = file.ReadAll();
        Assert.Equal([1L, 2, 3, 4], all.Select(s => s.Number));
        Assert.True(_verifier.VerifyHistory(all).IsValid, _verifier.VerifyHistory(all).Message);
        Assert.Equal([4L], SealCatchUp.Plan(journal, file, _verifier).AdoptIntoJournal.Select(s => s.Number));

        // Another key never continues the history; an empty seals file needs nothing accepted.
        using var other = AuditSigner.Generate();
        Assert.Equal(ErrorCodes.AuditSigningKeyMismatch, Assert.Throws<ForgeOneException>(() => OfflineIncarnation.Record(file, other, restored, DateTimeOffset.UnixEpoch.AddHours(2))).Code);
        Assert.Equal(4, file.Latest()!.Number);
        Assert.Null(OfflineIncarnation.Record(File([]), _signer, restored, DateTimeOffset.UnixEpoch));
    }
}
