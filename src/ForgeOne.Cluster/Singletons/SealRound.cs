using ForgeOne.Common;
using ForgeOne.Security;

namespace ForgeOne.Cluster.Singletons;

/// <summary>
/// What the sealer has signed so far: the last seal and, for every chain, the newest head any
/// seal gave it (a chain left out of later seals keeps the head it last had). Pure; the sealer
/// rebuilds it from its journal.
/// </summary>
public sealed class SealLedger
{
    private readonly Dictionary<string, (long Seal, ChainHead Head)> _heads = new(StringComparer.Ordinal);

    /// <summary>The last seal applied, or null.</summary>
    public Seal? Last { get; private set; }

    /// <summary>The newest sealed head of <paramref name="chainId"/>, with the seal that holds it.</summary>
    public (long Seal, ChainHead Head)? SealedHead(string chainId) => _heads.TryGetValue(chainId, out var h) ? h : null;

    /// <summary>Every chain's newest sealed head.</summary>
    public IReadOnlyDictionary<string, (long Seal, ChainHead Head)> Heads => _heads;

    /// <summary>Takes a seal (the next one, in order).</summary>
    public void Apply(Seal seal)
    {
        ArgumentNullException.ThrowIfNull(seal);
        if (Last is not null && seal.Number != Last.Number + 1)
        {
            throw new ForgeOneException(ErrorCodes.AuditSealInvalid, $"seal {seal.Number} does not follow seal {Last.Number}");
        }

        foreach (var head in seal.Heads)
        {
            _heads[head.ShardId] = (seal.Number, head);
        }

        Last = seal;
    }
}

/// <summary>One shard's answer to the sealer's question "what is your head, and what is the hash of your record at the seq I sealed last?".</summary>
/// <param name="ChainId">The chain (e.g. <c>logs-0003</c>, <c>logs-0003@eu</c>).</param>
/// <param name="Head">Its committed head, or null when it did not answer.</param>
/// <param name="HashAtSealed">The stored hash of its record at the previously sealed seq (null: no such record, or nothing sealed before).</param>
/// <param name="Broken">Why its chain is broken (the open check or the scrubber found damage), or null.</param>
/// <param name="TreeRoot">RFC 6962 root of its audit records up to the head, or null (an older node, or unavailable).</param>
public sealed record HeadReport(string ChainId, ChainHead? Head, byte[]? HashAtSealed, ForgeOneError? Broken, byte[]? TreeRoot = null);

/// <summary>What one sealing round signs: the heads, the chains left out and why, the rewinds; and whether anything moved.</summary>
/// <param name="Heads">Heads to seal.</param>
/// <param name="Failed">Chains left out, each with its reason.</param>
/// <param name="NewIncarnations">Chains among <paramref name="Heads"/> that start a new incarnation.</param>
/// <param name="Moved">False when every head and every failure is what the last seal says: no seal is written.</param>
/// <param name="TreeRoots">Each sealed head's tree root, when every one of them reported one (the seal is then format 3); else null (format 2).</param>
public sealed record SealPlan(IReadOnlyList<ChainHead> Heads, IReadOnlyList<SealedShardFailure> Failed, IReadOnlyList<string> NewIncarnations, bool Moved,
    IReadOnlyDictionary<string, byte[]>? TreeRoots = null);

/// <summary>
/// The sealer's rule: sign only continuations. A head is sealed when it extends the chain's
/// last sealed head (seq not lower, and the record at the sealed seq still has the sealed
/// hash); otherwise the chain is left out of the seal and named in it with the reason
/// (<c>audit.seal_invalid</c>), as is a chain that did not answer (<c>cluster.unavailable</c>)
/// or reports itself broken (<c>audit.chain_broken</c>). An authorized rewind (a restore) names
/// the chain as a new incarnation: its head is sealed as it is.
/// </summary>
public static class SealRound
{
    /// <summary>Plans the seal that follows <paramref name="ledger"/> from the shards' reports.</summary>
    public static SealPlan Plan(SealLedger ledger, IEnumerable<HeadReport> reports, IReadOnlySet<string>? newIncarnations = null)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(reports);
        newIncarnations ??= new HashSet<string>(StringComparer.Ordinal);
        var heads = new List<ChainHead>();
        var failed = new List<SealedShardFailure>();
        var rewound = new List<string>();
        var roots = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var report in reports)
        {
            if (report.TreeRoot is { Length: 32 } root)
            {
                roots[report.ChainId] = root;
            }

            var chain = report.ChainId;
            var previous = ledger.SealedHead(chain);
            if (report.Head is not { } head)
            {
                failed.Add(new SealedShardFailure(chain, ErrorCodes.Unavailable, $"{chain} did not report its audit head"));
            }
            else if (newIncarnations.Contains(chain))
            {
                heads.Add(head);
                rewound.Add(chain);
            }
            else if (report.Broken is { } broken)
            {
                failed.Add(new SealedShardFailure(chain, ErrorCodes.AuditChainBroken, $"{chain}: {broken.Message}"));
            }
            else if (previous is not { } p)
            {
                heads.Add(head);
            }
            else if (head.Seq < p.Head.Seq)
            {
                failed.Add(new SealedShardFailure(chain, ErrorCodes.AuditSealInvalid,
                    $"{chain}: head {head.Seq} is behind the head {p.Head.Seq} of seal {p.Seal}: records {head.Seq + 1}..{p.Head.Seq} were cut off"));
            }
            else if (report.HashAtSealed is not { } hash || !hash.AsSpan().SequenceEqual(p.Head.Hash))
            {
                failed.Add(new SealedShardFailure(chain, ErrorCodes.AuditSealInvalid, report.HashAtSealed is null
                    ? $"{chain}: record {p.Head.Seq}, sealed by seal {p.Seal}, is missing"
                    : $"{chain}: record {p.Head.Seq} no longer has the hash seal {p.Seal} signed: the chain was rewritten at or before it"));
            }
            else
            {
                heads.Add(head);
            }
        }

        var last = ledger.Last;
        var moved = last is null
            || rewound.Count > 0
            || heads.Any(h => ledger.SealedHead(h.ShardId) is not { } p || p.Seal != last.Number || !p.Head.Matches(h))
            || failed.Count != last.Failed.Count
            || failed.Any(f => !last.Failed.Any(g => g.ShardId == f.ShardId && g.Code == f.Code));
        // One head without a root (an older node mid-upgrade) keeps the whole seal at format 2.
        var complete = heads.All(h => roots.ContainsKey(h.ShardId));
        return new SealPlan(heads, failed, rewound, moved, complete ? roots : null);
    }
}
