using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using ForgeOne.Cluster.Integrity;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Security;
using ForgeOne.Common;
using ForgeOne.Evidence;
using ForgeOne.Security;
using static ForgeOne.Cluster.Protocol.SealerProtocol;

namespace ForgeOne.Cluster.Singletons;

/// <summary>
/// Cluster singleton that seals the audit chains: every interval it asks every shard (residency
/// zones included) for its committed chain head and whether that head extends the one it
/// sealed last (<see cref="SealRound"/>), and when some head moved signs a seal over the heads
/// that do, naming the shards it leaves out and why. The seal is persisted in the journal and
/// appended to every seal store outside the data root.
/// </summary>
/// <remarks>
/// <code>
///   recovery: journal replay -> catch up with the seal stores (SealCatchUp) -> key check
///       | ok                                             | fork / foreign key
///       v                                                v
///   Sealing: Tick / SealNow / StartIncarnation      Refusing: every request answered SealFailed,
///     -> GetAuditHead (Since = last sealed seq)       the reason logged once
///     -> SealRound.Plan -> sign -> journal -> stores
///     -> AcceptIncarnation to rewound shards
/// </code>
/// A new incarnation on another node recovers the journal and continues at number + 1.
/// </remarks>
public sealed class AuditSealer : ReceivePersistentActor, IWithTimers
{
    /// <summary>Persistence id of the single sealer.</summary>
    public const string Id = "forgeone-audit-sealer";

    private const int KeepInMemory = 10_000;
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(10);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly ShardRegions _regions;
    private readonly AuditSigner _signer;
    private readonly SealVerifier _verifier;
    private readonly IReadOnlyList<ISealStore> _stores;
    private readonly SingletonGate _gate;
    private readonly TimeProvider _time;
    private readonly TimeSpan _interval;
    private readonly SealLedger _ledger = new();
    private readonly List<(long Number, byte[] Encoded)> _history = [];
    private readonly List<Seal> _tail = []; // the same seals decoded, for catching up seal stores
    private readonly List<Request> _waiting = [];
    private readonly List<Request> _next = [];
    private bool _sealing;
    private bool _ready; // caught up with the seal stores
    private ForgeOneError? _refusal;

    /// <summary>Creates the sealer.</summary>
    /// <param name="regions">Every shard region (zones included).</param>
    /// <param name="signer">The audit signing key.</param>
    /// <param name="stores">Seal stores outside the data root (each seal is appended to all).</param>
    /// <param name="gate">Verifies, authorizes and audits the requests from outside (seal now, rewinds, history, public key).</param>
    /// <param name="time">Clock.</param>
    /// <param name="interval">How often to seal.</param>
    public AuditSealer(ShardRegions regions, SingletonGate gate, AuditSigner signer, IReadOnlyList<ISealStore> stores, TimeProvider time, TimeSpan interval)
    {
        _regions = regions;
        _signer = signer;
        _verifier = new SealVerifier(signer.ExportPublicKeyPem());
        _stores = stores;
        _gate = gate;
        _time = time;
        _interval = interval;

        Recover<RecoveryCompleted>(_ => OnRecovered());
        Recover<SealWritten>(e => Apply(e));
        Recover<SnapshotOffer>(_ => { });

        Command<CatchUpNow>(_ => OnCatchUp());
        Command<Tick>(_ => StartRound(new Request(null, null)));
        // Requests from outside: verified, authorized and audited by the gate before they act.
        Command<SealNow>(m => _gate.Decide(m, "audit.seal_now", "", Self, Sender, recordAllowed: false));
        Command<StartIncarnation>(m => _gate.Decide(m, "audit.incarnation", $"chains={m.Chains?.Length ?? 0} reason={m.Reason}", Self, Sender));
        Command<GetSealHistory>(m => _gate.Decide(m, "audit.seal_history", "", Self, Sender));
        Command<GetAuditPublicKey>(m => _gate.Decide(m, "audit.public_key", "", Self, Sender));
        Command<SignEvidenceManifest>(m => _gate.Decide(m, "audit.evidence_sign", $"sha256={Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(m.Manifest ?? []))}", Self, Sender));
        Command<SingletonGate.Decided>(OnDecided);
        Command<HeadsCollected>(OnHeads);
        Command<IncarnationsAccepted>(OnIncarnationsAccepted);
    }

    /// <inheritdoc />
    public override string PersistenceId => Id;

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Props of the sealer.</summary>
    public static Props Props(ShardRegions regions, SingletonGate gate, AuditSigner signer, IReadOnlyList<ISealStore> stores, TimeProvider time, TimeSpan interval) =>
        Akka.Actor.Props.Create(() => new AuditSealer(regions, gate, signer, stores, time, interval));

    /// <inheritdoc />
    protected override void PostStop()
    {
        _verifier.Dispose();
        base.PostStop();
    }

    private void OnRecovered()
    {
        _log.Info("Audit sealer recovered on {0}: last seal {1}", SelfAddress, _ledger.Last?.Number ?? 0);

        // Catching up may persist seals, which recovery handlers cannot: it is the first command.
        Self.Tell(CatchUpNow.Instance);
        Timers.StartPeriodicTimer("seal", Tick.Instance, _interval);
    }

    // The journal and every store end up holding the same history (see SealCatchUp): first the
    // journal takes what a store has beyond it, then every store what it lacks.
    private void OnCatchUp()
    {
        var adopt = new List<Seal>();
        foreach (var store in _stores)
        {
            var plan = SealCatchUp.Plan([.. _tail, .. adopt], store, _verifier);
            if (plan.Conflict is { } conflict)
            {
                Refuse(conflict);
                return;
            }

            if (plan.AdoptIntoJournal.Count > 0)
            {
                _log.Warning("The seal journal is behind the seal store {0} by {1} seals (a restored or rolled-back data root): adopting them", store.Name, plan.AdoptIntoJournal.Count);
                adopt.AddRange(plan.AdoptIntoJournal);
            }
        }

        PersistAll(adopt.Select(s => new SealWritten(SealCodec.Encode(s))), Apply);
        DeferAsync(adopt.Count, _ =>
        {
            foreach (var store in _stores)
            {
                var plan = SealCatchUp.Plan(_tail, store, _verifier);
                if (plan.AppendToStore.Count > 0)
                {
                    _log.Warning("The seal store {0} lacks {1} seals: appending them", store.Name, plan.AppendToStore.Count);
                    AppendToStore(store, plan.AppendToStore);
                }
            }

            if (_ledger.Last is { } last && _verifier.Verify(last) is { IsValid: false } bad)
            {
                // Never sign on with another key than the one the history was signed with.
                Refuse(new ForgeOneError(ErrorCodes.AuditSigningKeyMismatch,
                    $"The last seal ({last.Number}) was not signed by this node's audit signing key {_signer.PublicKeyFingerprint}: {bad.Message}. Restore the signing key that made the seals."));
                return;
            }

            _ready = true;
            FinishRound();
        });
    }

    private void Refuse(ForgeOneError refusal)
    {
        _refusal = refusal;
        _log.Error("AUDIT SEALER REFUSES TO SEAL on {0}: {1}", SelfAddress, refusal);
        Context.System.EventStream.Publish(new IntegrityFindingReported(new IntegrityFinding("seals", "seals", null, _ledger.Last?.Number, refusal.Code, "seal history", refusal.Message), "sealer"));
        _ready = true;
        FinishRound();
    }

    private void Apply(SealWritten e)
    {
        var seal = SealCodec.Decode(e.Encoded);
        if (_ledger.Last is { } last && seal.Number <= last.Number)
        {
            return; // already adopted
        }

        _ledger.Apply(seal);
        _history.Add((seal.Number, e.Encoded));
        _tail.Add(seal);
        if (_history.Count > KeepInMemory)
        {
            _history.RemoveAt(0);
            _tail.RemoveAt(0);
        }
    }

    private void OnDecided(SingletonGate.Decided decided)
    {
        if (!decided.Verdict.Allowed)
        {
            decided.Sender.Tell(new SealFailed(decided.Verdict.Refusal!));
            return;
        }

        switch (decided.Request)
        {
            case SealNow:
                StartRound(new Request(decided.Sender, null));
                break;
            case StartIncarnation start:
                OnStartIncarnation(start, decided.Verdict.Principal!, decided.Sender);
                break;
            case SignEvidenceManifest sign:
                OnSignEvidenceManifest(sign, decided.Sender);
                break;
            case GetSealHistory:
                decided.Sender.Tell(new SealHistory([.. _history.Select(h => h.Number)], [.. _history.Select(h => h.Encoded)]));
                break;
            case GetAuditPublicKey:
                decided.Sender.Tell(new AuditPublicKey(_signer.ExportPublicKeyPem(), _signer.PublicKeyFingerprint));
                break;
        }
    }

    private void OnSignEvidenceManifest(SignEvidenceManifest sign, IActorRef replyTo)
    {
        // Only what parses as an evidence manifest is signed: the key is no general-purpose oracle.
        if (!EvidenceManifestShape.IsManifest(sign.Manifest))
        {
            replyTo.Tell(new SealFailed(new ForgeOneError(ErrorCodes.InvalidArgument, "not an evidence manifest (format 1 JSON with key id and files)")));
            return;
        }

        replyTo.Tell(new EvidenceManifestSigned(_signer.SignEvidenceManifest(sign.Manifest), _signer.PublicKeyFingerprint));
    }

    private void OnStartIncarnation(StartIncarnation start, Principal principal, IActorRef replyTo)
    {
        var known = _regions.All().Select(s => ShardSecurityFactory.ChainIdOf(s.Kind, s.Shard, s.Zone)).ToHashSet(StringComparer.Ordinal);
        var chains = (start.Chains is { Length: > 0 } named ? named : [.. known]).Distinct(StringComparer.Ordinal).ToArray();
        if (chains.FirstOrDefault(c => !known.Contains(c)) is { } unknown)
        {
            replyTo.Tell(new SealFailed(new ForgeOneError(ErrorCodes.InvalidArgument, $"No shard has the audit chain '{unknown}'.")));
            return;
        }

        if (start.Heads is { } given
            && (given.Length != chains.Length || given.Select(h => h.ShardId).Order(StringComparer.Ordinal).SequenceEqual(chains.Order(StringComparer.Ordinal), StringComparer.Ordinal) is false
                || given.Any(h => h.Seq < 0 || h.Hash is not { Length: 32 })))
        {
            replyTo.Tell(new SealFailed(new ForgeOneError(ErrorCodes.InvalidArgument, "The given heads must name each chain of the rewind once, each with a seq and a 32-byte hash.")));
            return;
        }

        StartRound(new Request(replyTo, new Rewind(chains, principal.Id, start.Reason ?? "", start.Heads)));
    }

    private void StartRound(Request request)
    {
        if (_refusal is { } refusal)
        {
            request.ReplyTo?.Tell(new SealFailed(refusal));
            return;
        }

        if (_sealing || !_ready)
        {
            // Seen after the running round asked for heads (or before catching up): the next round.
            _next.Add(request);
            return;
        }

        _sealing = true;
        _waiting.Add(request);
        var ledger = _ledger;
        var token = _gate.NodeToken;
        _regions.AskEvery(
                (kind, n, zone) => new ShardProtocol.GetAuditHead(token, kind, n) { Since = ledger.SealedHead(ShardSecurityFactory.ChainIdOf(kind, n, zone))?.Head.Seq },
                AskTimeout)
            .PipeTo(Self, success: replies => new HeadsCollected(replies));
    }

    private void OnHeads(HeadsCollected collected)
    {
        var requests = _waiting.ToList();
        _waiting.Clear();
        var rewinds = requests.Select(r => r.Rewind).OfType<Rewind>().ToList();
        var rewound = rewinds.SelectMany(r => r.Chains).ToHashSet(StringComparer.Ordinal);
        // A rewind that names its heads (a restore) seals those, not what the (suspended) shards report.
        var given = rewinds.SelectMany(r => r.Heads ?? []).ToDictionary(h => h.ShardId, StringComparer.Ordinal);
        var reports = collected.Replies.Select(r => given.TryGetValue(r.ChainId, out var named)
            ? new HeadReport(r.ChainId, named, null, null)
            : r.Reply is ShardProtocol.AuditHead h
            ? new HeadReport(h.Chain, new ChainHead(h.Chain, h.Sequence, h.Hash), h.HashAtSince, h.Broken, h.TreeRoot)
            : new HeadReport(r.ChainId, null, null, null));
        var plan = SealRound.Plan(_ledger, reports, rewound);

        if (!plan.Moved)
        {
            var last = _ledger.Last!;
            Reply(requests, new SealDone(last.Number, last.Time, last.Heads.Count, SelfAddress, [.. last.Failed], Written: false));
            FinishRound();
            return;
        }

        var seal = _signer.CreateSeal(_ledger.Last, _time.GetUtcNow(), plan.Heads, plan.Failed, plan.NewIncarnations, plan.TreeRoots);
        Persist(new SealWritten(SealCodec.Encode(seal)), e =>
        {
            Apply(e);
            foreach (var store in _stores)
            {
                AppendToStore(store, [seal]);
            }

            Report(seal);
            var done = new SealDone(seal.Number, seal.Time, seal.Heads.Count, SelfAddress, [.. seal.Failed]);
            Reply(requests.Where(r => r.Rewind is null), done);
            var named = requests.Where(r => r.Rewind is { Heads: not null }).ToList();
            if (named.Count > 0)
            {
                // The shards take these up when they open the restored files (their open check finds this seal).
                Recorded(seal, named, []);
            }

            var current = requests.Where(r => r.Rewind is { Heads: null }).ToList();
            if (current.Count > 0)
            {
                AcceptIncarnations(seal, current);
            }

            FinishRound();
        });
    }

    private void FinishRound()
    {
        _sealing = false;
        if (_next.Count > 0)
        {
            var next = _next.ToList();
            _next.Clear();
            foreach (var request in next)
            {
                StartRound(request);
            }
        }
    }

    // Each failure is a finding the node reports once (log, metric, system audit); a seal whose
    // heads all extended their sealed ones says so at info level.
    private void Report(Seal seal)
    {
        foreach (var f in seal.Failed)
        {
            if (f.Code != ErrorCodes.Unavailable)
            {
                var finding = new IntegrityFinding(f.ShardId, Storage.Tables.Audit, null, _ledger.SealedHead(f.ShardId)?.Head.Seq, f.Code, "not a continuation", $"seal {seal.Number} leaves out {f.Reason}");
                Context.System.EventStream.Publish(new IntegrityFindingReported(finding, "sealer"));
            }
        }

        if (seal.Failed.Count > 0)
        {
            _log.Warning("Audit seal {0} written over {1} shard heads; left out: {2}", seal.Number, seal.Heads.Count, string.Join("; ", seal.Failed.Select(f => $"{f.ShardId} ({f.Code}): {f.Reason}")));
        }
        else
        {
            _log.Info("Audit seal {0} written over {1} shard heads", seal.Number, seal.Heads.Count);
        }
    }

    private void AcceptIncarnations(Seal seal, List<Request> requests)
    {
        var encoded = SealCodec.Encode(seal);
        var token = _gate.NodeToken;
        var self = Self;
        var asks = requests.SelectMany(r => r.Rewind!.Chains).Distinct(StringComparer.Ordinal).Select(async chain =>
        {
            var target = _regions.Find(chain);
            var rewind = requests.Select(r => r.Rewind!).First(r => r.Chains.Contains(chain, StringComparer.Ordinal));
            try
            {
                var reply = await target!.Value.Region.Ask<object>(new ShardProtocol.AcceptIncarnation(token, target.Value.Kind, target.Value.Shard, encoded, rewind.Principal, rewind.Reason), AskTimeout).ConfigureAwait(false);
                return (chain, reply as ShardProtocol.IncarnationAccepted);
            }
            catch (Exception)
            {
                return (chain, (ShardProtocol.IncarnationAccepted?)null);
            }
        });
        Task.WhenAll(asks).PipeTo(self, success: accepted => new IncarnationsAccepted(seal, [.. requests], accepted));
    }

    private void OnIncarnationsAccepted(IncarnationsAccepted done)
    {
        var accepted = done.Accepted.Where(a => a.Reply is not null).Select(a => a.Chain).ToArray();
        var pending = done.Accepted.Where(a => a.Reply is null).Select(a => a.Chain).ToArray();
        if (pending.Length > 0)
        {
            // The seal stands; each of these shards takes it up when it next opens.
            _log.Warning("Seal {0} started new incarnations; not yet taken up by {1} (they will at their next open)", done.Seal.Number, string.Join(", ", pending));
        }

        Recorded(done.Seal, done.Requests, accepted);
    }

    // Each rewind is audited in the system store's chain (audit.incarnation), then answered.
    private void Recorded(Seal seal, IReadOnlyList<Request> requests, string[] accepted)
    {
        foreach (var rewind in requests.Select(r => r.Rewind!).Distinct())
        {
            Context.System.EventStream.Publish(new IntegrityEventReported(
                "audit.incarnation",
                $"integrity/seal/{seal.Number}",
                $"by={rewind.Principal} reason={rewind.Reason} chains={string.Join(',', rewind.Chains)} accepted={string.Join(',', accepted.Intersect(rewind.Chains))}"
                + (rewind.Heads is { } heads ? $" heads={string.Join(',', heads.Select(h => $"{h.ShardId}@{h.Seq}"))}" : "")));
        }

        foreach (var request in requests)
        {
            request.ReplyTo?.Tell(new IncarnationStarted(seal.Number, request.Rewind!.Chains, [.. accepted.Intersect(request.Rewind.Chains)]));
        }
    }

    private void AppendToStore(ISealStore store, IEnumerable<Seal> seals)
    {
        try
        {
            foreach (var seal in seals)
            {
                store.Append(seal);
            }
        }
        catch (Exception e)
        {
            // The journal holds the seal; the store is caught up at the sealer's next start.
            _log.Error(e, "Could not append to the seal store {0}: {1}", store.Name, e.Message);
        }
    }

    private static void Reply(IEnumerable<Request> requests, object message)
    {
        foreach (var request in requests)
        {
            request.ReplyTo?.Tell(message);
        }
    }

    private string SelfAddress => Akka.Cluster.Cluster.Get(Context.System).SelfAddress.ToString();

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }

    private sealed class CatchUpNow
    {
        public static readonly CatchUpNow Instance = new();
    }

    private sealed record Rewind(string[] Chains, string Principal, string Reason, ChainHead[]? Heads);

    private sealed record Request(IActorRef? ReplyTo, Rewind? Rewind);

    private sealed record HeadsCollected(IReadOnlyList<ShardReply> Replies);

    private sealed record IncarnationsAccepted(Seal Seal, Request[] Requests, (string Chain, ShardProtocol.IncarnationAccepted? Reply)[] Accepted);
}
