using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage;
using ForgeOne.Storage.Records;

namespace ForgeOne.Cluster.Integrity;

/// <summary>What one scrub slice did.</summary>
/// <param name="Findings">Damage found in the slice.</param>
/// <param name="Records">Records verified.</param>
/// <param name="Bytes">Bytes read (keys and values).</param>
/// <param name="PassDone">The slice finished a whole pass over the shard.</param>
public sealed record ScrubSlice(IReadOnlyList<IntegrityFinding> Findings, long Records, long Bytes, bool PassDone);

/// <summary>
/// Walks one shard in slices, every table in order and each table in key order, handing each
/// record to the <see cref="ShardRecordVerifier"/> (AES-GCM with its associated data, record
/// MACs, index entries against their records) and walking the audit chain from the current
/// incarnation's start to the head against the last sealed head. A slice reads about a byte
/// budget, in its own read transaction: writers never wait for it, and the caller throttles
/// between slices. Resumes where the last slice stopped; a pass that reaches the end starts
/// over. Pure and not thread-safe (one slice at a time).
/// </summary>
public sealed class ShardScrubber
{
    private const int Page = 256;
    private const int AuditPage = 1024;

    // An audit record's stored size, roughly: the chain walk does not see the bytes.
    private const int AuditRecordBytes = 220;

    private readonly IReadOnlyList<string> _tables;
    private readonly Func<ShardRecordVerifier> _verifier;
    private int _table;
    private byte[]? _after;
    private ChainHead? _chainHead;
    private bool _chainDone;

    /// <summary>A scrubber over <paramref name="tables"/> (the shard's kind's tables).</summary>
    /// <param name="tables">Tables in walk order.</param>
    /// <param name="verifier">The verifier for the next slice: made fresh per slice, so a newer sealed head is used as soon as there is one.</param>
    public ShardScrubber(IReadOnlyList<string> tables, Func<ShardRecordVerifier> verifier)
    {
        _tables = tables;
        _verifier = verifier;
    }

    /// <summary>Passes completed.</summary>
    public long Passes { get; private set; }

    /// <summary>Reads about <paramref name="budget"/> bytes from where the last slice stopped.</summary>
    public ScrubSlice Step(IReadTransaction txn, long budget)
    {
        ArgumentNullException.ThrowIfNull(txn);
        var verifier = _verifier();
        var findings = new List<IntegrityFinding>();
        long records = 0, bytes = 0;
        while (bytes < budget)
        {
            if (_table == _tables.Count)
            {
                _table = 0;
                _after = null;
                _chainHead = null;
                _chainDone = false;
                Passes++;
                return new ScrubSlice(findings, records, bytes, PassDone: true);
            }

            var table = _tables[_table];
            var (n, b, finished) = table == Tables.Audit ? StepChain(txn, verifier, findings) : StepTable(txn, table, verifier, budget - bytes, findings);
            records += n;
            bytes += b;
            if (finished)
            {
                _table++;
                _after = null;
            }
        }

        return new ScrubSlice(findings, records, bytes, PassDone: false);
    }

    /// <summary>Runs a whole pass from the start (no budget); for a scrub on demand.</summary>
    public ScrubSlice FullPass(IReadTransaction txn)
    {
        var findings = new List<IntegrityFinding>();
        long records = 0, bytes = 0;
        while (true)
        {
            var slice = Step(txn, long.MaxValue);
            findings.AddRange(slice.Findings);
            records += slice.Records;
            bytes += slice.Bytes;
            if (slice.PassDone)
            {
                return new ScrubSlice(findings, records, bytes, PassDone: true);
            }
        }
    }

    private (long Records, long Bytes, bool Finished) StepTable(IReadTransaction txn, string table, ShardRecordVerifier verifier, long budget, List<IntegrityFinding> findings)
    {
        long records = 0, bytes = 0;
        while (bytes < budget)
        {
            var from = _after is null ? [] : RecordKeys.After(_after);
            var seen = 0;
            try
            {
                // Streamed from the cursor, and left as soon as the budget is spent: a page of
                // 1 MiB blob chunks is never held at once.
                foreach (var (key, value) in txn.Scan(table, from, [], limit: Page))
                {
                    seen++;
                    records++;
                    bytes += key.Length + value.Length;
                    if (verifier.CheckRecord(txn, table, key, value) is { } finding)
                    {
                        findings.Add(finding);
                    }

                    _after = key;
                    if (bytes >= budget)
                    {
                        return (records, bytes, false);
                    }
                }
            }
            catch (ForgeOneException e) when (e.Error.Details?.GetValueOrDefault(ForgeOneError.KeyDetail) is { } hex && e.Error.Details.GetValueOrDefault(ForgeOneError.TableDetail) == table)
            {
                // The records before the damaged one were checked as they came; the damaged one is a finding.
                findings.Add(IntegrityFinding.FromError(verifier.Store, table, hex, e.Error));
                records++;
                _after = Convert.FromHexString(hex);
                continue;
            }

            if (seen < Page)
            {
                return (records, bytes, true);
            }
        }

        return (records, bytes, false);
    }

    // The chain is verified in slices from the incarnation's start; damage ends the walk for this
    // pass (nothing after a bad link can be tied to the chain).
    private (long Records, long Bytes, bool Finished) StepChain(IReadTransaction txn, ShardRecordVerifier verifier, List<IntegrityFinding> findings)
    {
        if (_chainDone)
        {
            return (0, 0, true);
        }

        var from = _chainHead?.Seq ?? verifier.StartSeq;
        var result = AuditChainCheck.Verify(txn, verifier.Genesis, from, verifier.SealedHeads, AuditPage, out var reachedEnd);
        var verified = result.Records + (from > 0 && _chainHead is null ? 1 : 0);
        if (!result.IsValid)
        {
            findings.Add(IntegrityFinding.Chain(verifier.Store, result));
            _chainDone = true;
            return (verified, verified * AuditRecordBytes, true);
        }

        _chainHead = result.Head;
        _chainDone = reachedEnd;
        return (verified, verified * AuditRecordBytes, reachedEnd);
    }
}
