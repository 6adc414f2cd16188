using ForgeOne.Common;
using ForgeOne.Security;

namespace ForgeOne.Cluster.Singletons;

/// <summary>What the sealer does at start to bring its journal and one seal store into agreement.</summary>
/// <param name="AppendToStore">Seals the store lacks (the journal is ahead: the store was new, deleted or cut back).</param>
/// <param name="AdoptIntoJournal">Seals the journal lacks (the store is ahead: the data root, and its journal, were restored or rolled back).</param>
/// <param name="Conflict">The two disagree (a fork, or a seal that does not verify): the sealer signs nothing until an operator looks.</param>
public sealed record CatchUpPlan(IReadOnlyList<Seal> AppendToStore, IReadOnlyList<Seal> AdoptIntoJournal, ForgeOneError? Conflict)
{
    /// <summary>Nothing to do.</summary>
    public static CatchUpPlan InAgreement { get; } = new([], [], null);
}

/// <summary>
/// Reconciles the sealer's journal (inside the data root) with a seal store outside it. The
/// seal history is one signed chain, so either side may simply be behind the other: the one
/// ahead fills in the one behind, after every seal it hands over verified (signature, key id,
/// links). Two different seals under one number are a fork and stop the sealer. Pure.
/// </summary>
public static class SealCatchUp
{
    /// <summary>The plan for <paramref name="store"/> given the journal's seals (<paramref name="journal"/>, oldest first; its tail at least).</summary>
    public static CatchUpPlan Plan(IReadOnlyList<Seal> journal, ISealStore store, SealVerifier verifier)
    {
        ArgumentNullException.ThrowIfNull(journal);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(verifier);
        var last = journal.Count == 0 ? null : journal[^1];
        Seal? stored;
        try
        {
            stored = store.Latest();
        }
        catch (ForgeOneException e)
        {
            return Conflicting($"the seal store {store.Name} cannot be read: {e.Error.Message}");
        }

        if (stored is null)
        {
            return new CatchUpPlan(journal, [], null);
        }

        if (verifier.Verify(stored) is { IsValid: false } bad)
        {
            return Conflicting($"the newest seal in {store.Name} does not verify: {bad.Message}");
        }

        if (last is null || stored.Number > last.Number)
        {
            // The store is ahead: take its seals after ours, linked to ours.
            var ahead = store.ReadAll().Where(s => s.Number > (last?.Number ?? 0)).ToList();
            if (last is not null && store.ReadAll().FirstOrDefault(s => s.Number == last.Number) is { } same && !SealCodec.Hash(same).AsSpan().SequenceEqual(SealCodec.Hash(last)))
            {
                return Fork(store, last.Number);
            }

            var history = verifier.VerifyHistory(ahead, last);
            return history.IsValid
                ? new CatchUpPlan([], ahead, null)
                : Conflicting($"the seals {store.Name} holds after seal {last?.Number ?? 0} do not extend the journal: {history.Message}");
        }

        var mine = journal.FirstOrDefault(s => s.Number == stored.Number);
        if (mine is not null && !SealCodec.Hash(mine).AsSpan().SequenceEqual(SealCodec.Hash(stored)))
        {
            return Fork(store, stored.Number);
        }

        return stored.Number == last.Number ? CatchUpPlan.InAgreement : new CatchUpPlan([.. journal.Where(s => s.Number > stored.Number)], [], null);
    }

    private static CatchUpPlan Fork(ISealStore store, long number) =>
        Conflicting($"the journal and {store.Name} hold two different seals numbered {number}: the seal history forked");

    private static CatchUpPlan Conflicting(string message) => new([], [], new ForgeOneError(ErrorCodes.AuditSealInvalid, message));
}
