using System.Globalization;
using Akka.Actor;
using Akka.Event;
using ForgeOne.Cluster.Integrity;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Security;
using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage;

namespace ForgeOne.Cluster.Shards;

/// <content>
/// Tamper evidence at run time: what the shard checks when it opens (its store records under
/// the record MAC, the authenticating migration, its audit chain against the last seal), the
/// broken-chain state, the sealer's questions, authorized rewinds, and the background scrubber.
/// Everything found goes to the node's <see cref="IntegrityReporter"/> (logged once, counted,
/// audited in the system store) as an <see cref="IntegrityFindingReported"/>.
/// </content>
public sealed partial class ShardActor
{
    // Why the audit chain failed its check (open check or scrubber), or null. While set the
    // shard refuses writes with audit.chain_broken and appends nothing to its chain; reads only
    // with the operator override (Shards:AllowReadsOnBrokenChain). Cleared by an authorized rewind.
    private ForgeOneError? _chainBroken;
    private ChainAnchor? _anchor;
    private Incarnation? _incarnation;
    private AuditTree _auditTree = new();
    private ShardScrubber? _scrubber;
    private DateTimeOffset _passStarted;

    /// <summary>Scrub the next slice. Internal: a timer to self.</summary>
    internal sealed class ScrubTick
    {
        public static readonly ScrubTick Instance = new();

        private ScrubTick()
        {
        }
    }

    private sealed record ScrubSliceDone(ScrubSlice Slice, Exception? Error);

    private sealed record ScrubPassDone(IActorRef ReplyTo, ScrubSlice? Slice, Exception? Error);

    private string ChainId => ShardSecurityFactory.ChainIdOf(_kind, _shard, _host.Zone);

    /// <summary>
    /// The checks of an open, after the keys are loaded and before the shard claims the file:
    /// <c>shard_meta</c> and <c>schema_history</c> under the record MAC, the authenticating
    /// migration for older files, the id high-water mark. A failure here fails the open.
    /// </summary>
    private RecordId AuthenticateStore(IShardStore store, IShardSecurity security)
    {
        try
        {
            store.UseAuthenticator(security.Mac);
        }
        catch (ForgeOneException e) when (e.Code == ErrorCodes.CryptoTampered)
        {
            Publish(IntegrityFinding.FromError(ChainId, Tables.ShardMeta, null, e.Error), "open");
            throw;
        }

        var provisional = new ShardContext(_kind, _shard, _host.Counts.Of(_kind), security, new RecordIdGenerator(_shard, _clock), _clock, _host.Limits) { Zone = _host.Zone };
        var steps = ShardMigrations.Pending(_host.Migrations(store, provisional), store.Meta.SchemaVersion);
        if (steps.Count > 0 && !store.CreatedByThisOpen && !_host.Options.MigrateAtOpen)
        {
            // An existing file's migrations wait for `schema migrate` (after a rehearsal): the
            // shard serves no data meanwhile, since this code reads only the current schema's
            // authenticated entries.
            _schemaPending = ShardMigrations.Describe(steps);
            _log.Warning("Shard {0} is at schema {1} with {2} pending migration(s) ({3}): it serves no data until `forgeone schema migrate` (or Shards:MigrateAtOpen)",
                ChainId, store.Meta.SchemaVersion, steps.Count, string.Join("; ", _schemaPending.Select(p => $"{p.FromVersion} -> {p.ToVersion}")));
            return PendingHighWaterMark(store, provisional);
        }

        if (steps.Count > 0)
        {
            RunMigrations(store, security, provisional.ResourcePrefix, steps, ShardSecurity.MigrationPrincipal, store.CreatedByThisOpen ? "at creation" : "at open (Shards:MigrateAtOpen)");
        }

        return ReadHighWaterMark(store, security, provisional);
    }

    /// <summary>Applies <paramref name="steps"/> (see <see cref="ShardMigrations.Apply"/>); a failure is reported as a finding and rethrown.</summary>
    private IReadOnlyList<AppliedMigration> RunMigrations(IShardStore store, IShardSecurity security, string resourcePrefix, IReadOnlyList<IMigration> steps, string principal, string detail)
    {
        try
        {
            var applied = ShardMigrations.Apply(store, security, resourcePrefix, steps, principal, detail, _host.Time);
            if (applied.Count > 0)
            {
                _log.Info("Shard {0}: migrated to schema {1} ({2}; {3})", ChainId, store.Meta.SchemaVersion, string.Join(", ", applied.Select(a => $"{a.FromVersion} -> {a.ToVersion}")), detail);
            }

            return applied;
        }
        catch (ForgeOneException e)
        {
            Publish(IntegrityFinding.FromError(ChainId, e.Error.Details?.GetValueOrDefault(ForgeOneError.TableDetail) ?? Tables.SchemaHistory, null, e.Error), "migration");
            throw;
        }
    }

    // Before its migration the high-water mark is stored untagged: the migration will keep the
    // larger of it and the newest stored id, and so does this (no id is handed out meanwhile).
    private static RecordId PendingHighWaterMark(IShardStore store, ShardContext context)
    {
        var key = ShardRecordVerifier.HighWaterMarkKey.ToArray();
        var (stored, newest) = store.Read(txn => (txn.Get(Tables.Keys, key), new ShardRecordVerifier(context, null, null).NewestId(txn)));
        var hwm = stored is { Length: >= 8 } ? new RecordId(KeyCodec.ReadUInt64(stored.AsSpan(0, 8))) : default;
        return newest is { } n && n.Value > hwm.Value ? n : hwm;
    }

    // A tag that does not verify, or a value below the newest stored id (an old value put back),
    // must never make the shard hand out ids that exist: the newest stored id wins.
    private RecordId ReadHighWaterMark(IShardStore store, IShardSecurity security, ShardContext context)
    {
        var key = ShardRecordVerifier.HighWaterMarkKey.ToArray();
        var (stored, newest) = store.Read(txn => (txn.Get(Tables.Keys, key), new ShardRecordVerifier(context, null, null).NewestId(txn)));
        RecordId hwm = default;
        if (stored is not null)
        {
            if (TaggedValue.TryOpen(security.Mac, Tables.Keys, key, stored, out var value) && value.Length == 8)
            {
                hwm = new RecordId(KeyCodec.ReadUInt64(value));
            }
            else
            {
                Publish(IntegrityFinding.FromError(ChainId, Tables.Keys, KeyCodec.ToHex(key), IndexEntries.Tampered(security, Tables.Keys, key).Error), "open");
            }
        }

        return newest is { } n && n.Value > hwm.Value ? n : hwm;
    }

    /// <summary>
    /// Checks the audit chain against the newest seal that covers it (from the seal store outside
    /// the data root) and takes up a rewind that seal signed. Sets <see cref="_chainBroken"/>.
    /// </summary>
    private void CheckChainAtOpen(IShardStore store, IShardSecurity security)
    {
        _anchor = SealAnchors.Find(_host.Seals, _host.SealKey, security.ChainId, out var sealProblem);
        if (sealProblem is not null)
        {
            Publish(new IntegrityFinding("seals", "seals", null, null, sealProblem.Code, "seal store", $"{security.ChainId} at open: {sealProblem.Message}"), "open");
        }

        try
        {
            _incarnation = store.Read(txn => Incarnation.Read(txn, security));
        }
        catch (ForgeOneException e)
        {
            // A forged incarnation record must not move the check's start: ignore it and report.
            Publish(IntegrityFinding.FromError(security.ChainId, Tables.Keys, KeyCodec.ToHex(ShardRecordVerifier.IncarnationKey), e.Error), "open");
            _incarnation = null;
        }

        var result = store.Read(txn => AuditChainCheck.AtOpen(txn, security.Genesis, _anchor, _incarnation?.Head));
        if (!result.IsValid)
        {
            BreakChain(IntegrityFinding.Chain(security.ChainId, result), "open");
            return;
        }

        if (_anchor is { NewIncarnation: true } a && (_incarnation?.SealNumber ?? 0) < a.SealNumber && a.Head.Seq == security.AuditHead.Sequence && a.Head.Hash.AsSpan().SequenceEqual(security.AuditHead.Hash))
        {
            // The sealer signed a rewind while this shard was closed: record it in the chain now.
            RecordIncarnation(store, security, a.SealNumber, a.Head, "system", $"taken up at open from seal {a.SealNumber}");
        }
    }

    private void BreakChain(IntegrityFinding finding, string detector)
    {
        _chainBroken ??= new ForgeOneError(ErrorCodes.AuditChainBroken,
            $"Shard {ChainId} refuses writes: its audit chain is broken ({finding.Kind} at seq {finding.Sequence}): {finding.Message}") { Details = Where(finding) };
        Publish(finding, detector);
    }

    private static Dictionary<string, string> Where(IntegrityFinding f)
    {
        var where = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [ForgeOneError.StoreDetail] = f.Store,
            [ForgeOneError.TableDetail] = f.Table,
            [ForgeOneError.KeyDetail] = f.KeyHex ?? "",
        };
        if (f.Sequence is { } seq)
        {
            where[ForgeOneError.SeqDetail] = seq.ToString(CultureInfo.InvariantCulture);
        }

        return where;
    }

    private void Publish(IntegrityFinding finding, string detector) =>
        Context.System.EventStream.Publish(new IntegrityFindingReported(finding, detector));

    private void RecordIncarnation(IShardStore store, IShardSecurity security, long sealNumber, ChainHead head, string principal, string reason)
    {
        IAuditAppender? appender = null;
        var previous = _chainBroken?.Message ?? "none";
        store.Write(txn =>
        {
            appender = security.BeginAudit();
            appender.Append(txn, _host.Time.GetUtcNow(), principal, "audit.incarnation_started", $"audit/{security.ChainId}/seal/{sealNumber}", AuditOutcome.Success,
                $"head={head.Seq}:{Convert.ToHexStringLower(head.Hash)} seal={sealNumber} reason={reason} previous_finding={previous}");
            new Incarnation(head, sealNumber).Write(txn, security);
            return 0;
        });
        security.CommitAudit(appender!);
        _incarnation = new Incarnation(head, sealNumber);
        _chainBroken = null;
        _log.Warning("Shard {0} starts a new incarnation at {1} (seal {2}, by {3}: {4})", security.ChainId, head.Seq, sealNumber, principal, reason);
    }

    /// <summary>The sealer's question: the head, the stored hash at the seq it sealed last, and whether the chain is broken.</summary>
    private void OnGetAuditHead(ShardProtocol.GetAuditHead get)
    {
        // The sealer wants a head that includes everything acknowledged so far.
        CommitBuffered();
        if (_security is null || _store is null)
        {
            Sender.Tell(new ShardProtocol.ShardFailed(_kind, _shard, Unavailable()));
            return;
        }

        var head = _security.AuditHead;
        byte[]? hashAtSince = null;
        if (get.Since is { } since and > 0)
        {
            // The hash recomputed from the stored record: an edited record shows even if its
            // hash field was rewritten to match.
            hashAtSince = _store.Read(txn => AuditChainCheck.Records(txn, since).FirstOrDefault() is { } r && r.Seq == since ? AuditRecordCodec.ComputeHash(r) : null);
        }

        // The tree root the seal signs beside the head (record proofs point to it); a broken chain gets none.
        byte[]? treeRoot = null;
        try
        {
            treeRoot = _chainBroken is null ? _store.Read(txn => _auditTree.RootAt(txn, head.Sequence)) : null;
        }
        catch (ForgeOneException e)
        {
            // An unreadable record: the head still goes to the sealer (format 2); the chain checks name the damage.
            _log.Warning("Shard {0}: no audit tree root ({1})", ChainId, e.Error.Message);
            _auditTree = new AuditTree();
        }

        Sender.Tell(new ShardProtocol.AuditHead(_kind, _shard, head.Sequence, head.Hash, ChainId, hashAtSince, _chainBroken, treeRoot));
    }

    private void OnAcceptIncarnation(ShardProtocol.AcceptIncarnation accept)
    {
        CommitBuffered();
        var security = _security!;
        try
        {
            var seal = SealCodec.Decode(accept.Seal);
            var verification = _host.SealKey?.Verify(seal) ?? new SealVerification(SealFailure.BadSignature, seal.Number, "this node has no audit public key to check the seal with");
            var head = seal.HeadOf(ChainId);
            var current = security.AuditHead;
            var refusal = !verification.IsValid ? verification.Message
                : head is null || !seal.NewIncarnations.Contains(ChainId, StringComparer.Ordinal) ? $"seal {seal.Number} does not name {ChainId} as a new incarnation"
                : head.Seq != current.Sequence || !head.Hash.AsSpan().SequenceEqual(current.Hash) ? $"seal {seal.Number} names head {head.Seq} but the shard is at {current.Sequence}"
                : null;
            if (refusal is not null)
            {
                Sender.Tell(new ShardProtocol.ShardFailed(_kind, _shard, new ForgeOneError(ErrorCodes.AuditSealInvalid, $"Shard {ChainId} refuses the rewind: {refusal}.")));
                return;
            }

            RecordIncarnation(_store!, security, seal.Number, head!, accept.Principal, accept.Reason);
            _anchor = ChainAnchor.From(seal, ChainId);
            Sender.Tell(new ShardProtocol.IncarnationAccepted(_kind, _shard, ChainId, seal.Number, security.AuditHead.Sequence));
        }
        catch (ForgeOneException e)
        {
            Sender.Tell(new ShardProtocol.ShardFailed(_kind, _shard, e.Error));
        }
    }

    private ShardScrubber NewScrubber()
    {
        var context = _context!;
        return new ShardScrubber(Tables.For(_kind), () => new ShardRecordVerifier(context, _anchor, _incarnation?.Head));
    }

    private void StartScrubber()
    {
        if (!_host.Scrubber.Enabled)
        {
            return;
        }

        _scrubber = NewScrubber();
        _passStarted = _host.Time.GetUtcNow() + FirstScrubDelay;
        Timers.StartSingleTimer(nameof(ScrubTick), ScrubTick.Instance, FirstScrubDelay);
    }

    // Shards that open together (a node start) do not all scrub at once from the first second.
    private TimeSpan FirstScrubDelay => _host.Scrubber.PassInterval < TimeSpan.FromSeconds(30) ? _host.Scrubber.PassInterval : TimeSpan.FromSeconds(30);

    private void OnScrubTick()
    {
        if (_scrubber is not { } scrubber || _store is not { } store)
        {
            return;
        }

        // About 100 ms of the node's budget per slice: short read transactions, fair among shards.
        var budget = (long)Math.Max(64 * 1024, _host.ScrubThrottle.BytesPerSecond / 10);
        Interlocked.Increment(ref _tasksInFlight);
        Task.Run(() =>
        {
            try
            {
                return new ScrubSliceDone(store.Read(txn => scrubber.Step(txn, budget)), null);
            }
            catch (Exception e)
            {
                return new ScrubSliceDone(new ScrubSlice([], 0, 0, PassDone: false), e);
            }
            finally
            {
                Interlocked.Decrement(ref _tasksInFlight);
            }
        }).PipeTo(Self);
    }

    private void OnScrubSliceDone(ScrubSliceDone done)
    {
        if (done.Error is { } error)
        {
            _log.Error(error, "Shard {0}: scrub slice failed", ChainId);
        }

        ReportScrubFindings(done.Slice.Findings);
        TimeSpan delay;
        if (done.Slice.PassDone)
        {
            var next = _passStarted + _host.Scrubber.PassInterval;
            var now = _host.Time.GetUtcNow();
            _log.Info("Shard {0}: scrub pass {1} done", ChainId, _scrubber?.Passes ?? 0);
            delay = next > now ? next - now : TimeSpan.Zero;
            _passStarted = next > now ? next : now;
        }
        else
        {
            delay = _host.ScrubThrottle.Reserve(done.Slice.Bytes);
        }

        Timers.StartSingleTimer(nameof(ScrubTick), ScrubTick.Instance, delay);
    }

    private void ReportScrubFindings(IEnumerable<IntegrityFinding> findings)
    {
        foreach (var finding in findings)
        {
            if (finding.Table == Tables.Audit)
            {
                // Found while running (the file was edited under the shard): stop writing too.
                BreakChain(finding, "scrubber");
            }
            else
            {
                Publish(finding, "scrubber");
            }
        }
    }

    private void OnScrubNow()
    {
        var store = _store!;
        var scrubber = NewScrubber();
        var replyTo = Sender;
        Interlocked.Increment(ref _tasksInFlight);
        Task.Run(() =>
        {
            try
            {
                return new ScrubPassDone(replyTo, store.Read(txn => scrubber.FullPass(txn)), null);
            }
            catch (Exception e)
            {
                return new ScrubPassDone(replyTo, null, e);
            }
            finally
            {
                Interlocked.Decrement(ref _tasksInFlight);
            }
        }).PipeTo(Self);
    }

    private void OnScrubPassDone(ScrubPassDone done)
    {
        if (done.Slice is not { } slice)
        {
            done.ReplyTo.Tell(new ShardProtocol.ShardFailed(_kind, _shard, new ForgeOneError(ErrorCodes.StorageIo, $"Scrub of {ChainId} failed: {done.Error?.Message}")));
            return;
        }

        ReportScrubFindings(slice.Findings);
        done.ReplyTo.Tell(new ShardProtocol.ScrubReport(ChainId, slice.Records, slice.Bytes, [.. slice.Findings]));
    }

    /// <summary>A read that met damage reports it (store, table, key from the error's details).</summary>
    private static void ReportReadDamage(Akka.Event.EventStream events, string chain, ForgeOneError error)
    {
        if (error.Code is ErrorCodes.CryptoTampered or ErrorCodes.StorageCorruptRecord or ErrorCodes.CryptoWrongKey or ErrorCodes.StorageUnknownFormat or ErrorCodes.CryptoUnknownFormat
            && error.Details is not null)
        {
            events.Publish(new IntegrityFindingReported(IntegrityFinding.FromError(chain, error.Details.GetValueOrDefault(ForgeOneError.TableDetail) ?? "?", error.Details.GetValueOrDefault(ForgeOneError.KeyDetail), error), "read"));
        }
    }
}
