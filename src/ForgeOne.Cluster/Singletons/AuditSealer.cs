using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;
using ForgeOne.Security;
using static ForgeOne.Cluster.Protocol.SealerProtocol;

namespace ForgeOne.Cluster.Singletons;

/// <summary>
/// Cluster singleton that seals the audit chains (DESIGN.md §6): every interval it collects
/// every shard's committed chain head, builds a Seal (Merkle root over the heads, previous
/// seal hash, time), signs it with the audit key and persists it. The seal history is the
/// journal, so a new incarnation on another node recovers the last seal and continues at
/// number + 1: fail-over leaves no gap. A round where a shard does not answer writes nothing
/// (a seal covers every shard or none) and is retried at the next tick.
/// </summary>
public sealed class AuditSealer : ReceivePersistentActor, IWithTimers
{
    /// <summary>Persistence id of the single sealer.</summary>
    public const string Id = "forgeone-audit-sealer";

    private const int KeepInMemory = 10_000;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly ShardRegions _regions;
    private readonly AuditSigner _signer;
    private readonly TimeProvider _time;
    private readonly TimeSpan _interval;
    private readonly List<(long Number, byte[] Encoded)> _history = [];
    private Seal? _last;
    private bool _sealing;
    private readonly List<IActorRef> _waiting = [];

    /// <summary>Creates the sealer.</summary>
    public AuditSealer(ShardRegions regions, AuditSigner signer, TimeProvider time, TimeSpan interval)
    {
        _regions = regions;
        _signer = signer;
        _time = time;
        _interval = interval;

        Recover<RecoveryCompleted>(_ => OnRecovered());
        Recover<SealWritten>(e => Apply(e));
        Recover<SnapshotOffer>(_ => { });

        Command<Tick>(_ => StartRound(null));
        Command<SealNow>(_ => StartRound(Sender));
        Command<HeadsCollected>(OnHeads);
        Command<GetSealHistory>(_ => Sender.Tell(new SealHistory([.. _history.Select(h => h.Number)], [.. _history.Select(h => h.Encoded)])));
        Command<GetAuditPublicKey>(_ => Sender.Tell(new AuditPublicKey(_signer.ExportPublicKeyPem(), _signer.PublicKeyFingerprint)));
    }

    /// <inheritdoc />
    public override string PersistenceId => Id;

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Props of the sealer.</summary>
    public static Props Props(ShardRegions regions, AuditSigner signer, TimeProvider time, TimeSpan interval) =>
        Akka.Actor.Props.Create(() => new AuditSealer(regions, signer, time, interval));

    private void OnRecovered()
    {
        _log.Info("Audit sealer recovered on {0}: last seal {1}", Akka.Cluster.Cluster.Get(Context.System).SelfAddress, _last?.Number ?? 0);
        Timers.StartPeriodicTimer("seal", Tick.Instance, _interval);
    }

    private void Apply(SealWritten e)
    {
        var seal = SealCodec.Decode(e.Encoded);
        _last = seal;
        _history.Add((seal.Number, e.Encoded));
        if (_history.Count > KeepInMemory)
        {
            _history.RemoveAt(0);
        }
    }

    private void StartRound(IActorRef? requester)
    {
        if (requester is not null)
        {
            _waiting.Add(requester);
        }

        if (_sealing)
        {
            return;
        }

        _sealing = true;
        _regions.AskAll((kind, n) => new ShardProtocol.GetAuditHead(kind, n), TimeSpan.FromSeconds(10))
            .PipeTo(Self, success: replies => new HeadsCollected(replies));
    }

    private void OnHeads(HeadsCollected collected)
    {
        _sealing = false;
        var missing = collected.Replies.Where(r => r.Reply is not ShardProtocol.AuditHead).Select(r => $"{r.Kind.FolderName()}-{r.Shard}").ToArray();
        if (missing.Length > 0)
        {
            var error = new ForgeOneError(ErrorCodes.Unavailable, $"Seal skipped: no audit head from {string.Join(", ", missing.Take(10))}{(missing.Length > 10 ? ", ..." : "")}.");
            _log.Warning(error.Message);
            Reply(new SealFailed(error));
            return;
        }

        var heads = collected.Replies
            .Select(r => (ShardProtocol.AuditHead)r.Reply!)
            .Select(h => new ChainHead($"{h.Kind.FolderName()}-{h.Shard:D4}", h.Sequence, h.Hash))
            .ToList();
        var seal = _signer.CreateSeal(_last, _time.GetUtcNow(), heads);
        Persist(new SealWritten(SealCodec.Encode(seal)), e =>
        {
            Apply(e);
            _log.Info("Audit seal {0} written over {1} shard heads", seal.Number, heads.Count);
            Reply(new SealDone(seal.Number, seal.Time, heads.Count, Akka.Cluster.Cluster.Get(Context.System).SelfAddress.ToString()));
        });
    }

    private void Reply(object message)
    {
        foreach (var waiting in _waiting)
        {
            waiting.Tell(message);
        }

        _waiting.Clear();
    }

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }

    private sealed record HeadsCollected(IReadOnlyList<(ShardKind Kind, int Shard, object? Reply)> Replies);
}
