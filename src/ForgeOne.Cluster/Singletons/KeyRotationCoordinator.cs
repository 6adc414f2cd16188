using System.Globalization;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;
using ForgeOne.Security;
using static ForgeOne.Cluster.Protocol.KeyRotationProtocol;

namespace ForgeOne.Cluster.Singletons;

/// <summary>
/// Cluster singleton driving data-key rotation on every shard: periodically asks each shard to
/// rotate if its rotation policy says so (age, usage), and on demand rotates all. Every key
/// event a shard reports is persisted here (the cluster-wide key-event history); each shard
/// also audits its own key events in its chain.
/// </summary>
public sealed class KeyRotationCoordinator : ReceivePersistentActor, IWithTimers
{
    /// <summary>Persistence id of the single coordinator.</summary>
    public const string Id = "forgeone-key-rotation";

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly ShardRegions _regions;
    private readonly SingletonGate _gate;
    private readonly TimeProvider _time;
    private readonly TimeSpan _interval;
    private readonly List<string> _history = [];

    /// <summary>Creates the coordinator.</summary>
    public KeyRotationCoordinator(ShardRegions regions, SingletonGate gate, TimeProvider time, TimeSpan interval)
    {
        _regions = regions;
        _gate = gate;
        _time = time;
        _interval = interval;

        Recover<RecoveryCompleted>(_ => OnRecovered());
        Recover<KeyEventsRecorded>(Apply);

        // The schedule runs as this node's own principal; a request from outside is decided
        // (and audited) first, and its own token then goes to every shard, which checks
        // keys:admin again and records the rotation under the requester.
        Command<Tick>(_ => Rotate(_gate.NodeToken, "scheduled", onlyIfDue: true, replyTo: null));
        Command<RotateAll>(r => _gate.Decide(r, "keys.rotate_all", $"reason={r.Reason}", Self, Sender));
        Command<GetKeyEventHistory>(g => _gate.Decide(g, "keys.event_history", "", Self, Sender));
        Command<SingletonGate.Decided>(OnDecided);
        Command<Collected>(OnCollected);
    }

    /// <inheritdoc />
    public override string PersistenceId => Id;

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Props of the coordinator.</summary>
    public static Props Props(ShardRegions regions, SingletonGate gate, TimeProvider time, TimeSpan interval) =>
        Akka.Actor.Props.Create(() => new KeyRotationCoordinator(regions, gate, time, interval));

    private void OnRecovered() => Timers.StartPeriodicTimer("rotate", Tick.Instance, _interval);

    private void Apply(KeyEventsRecorded e)
    {
        foreach (var ev in e.Events)
        {
            _history.Add($"{e.Time.ToString("O", CultureInfo.InvariantCulture)} {e.Shard} {ev}");
        }
    }

    private void OnDecided(SingletonGate.Decided decided)
    {
        if (!decided.Verdict.Allowed)
        {
            decided.Sender.Tell(new RotationFailed(decided.Verdict.Refusal!));
            return;
        }

        switch (decided.Request)
        {
            case RotateAll rotate:
                Rotate(rotate.Token, string.IsNullOrWhiteSpace(rotate.Reason) ? "on demand" : rotate.Reason, onlyIfDue: false, replyTo: decided.Sender);
                break;
            case GetKeyEventHistory:
                decided.Sender.Tell(new KeyEventHistory([.. _history]));
                break;
        }
    }

    private void Rotate(PrincipalToken token, string reason, bool onlyIfDue, IActorRef? replyTo)
    {
        _regions.AskAll((kind, n) => new ShardProtocol.RotateKey(token, kind, n, reason, onlyIfDue), TimeSpan.FromSeconds(30))
            .PipeTo(Self, success: replies => new Collected(replies, replyTo));
    }

    private void OnCollected(Collected collected)
    {
        var rotated = collected.Replies.Select(r => r.Reply).OfType<ShardProtocol.KeyRotated>().Where(k => k.Rotated).ToList();
        var failures = collected.Replies.Where(r => r.Reply is not ShardProtocol.KeyRotated)
            .Select(r => $"{r.Kind.FolderName()}-{r.Shard}: {(r.Reply as ShardProtocol.ShardFailed)?.Error.ToString() ?? "no reply"}")
            .ToArray();
        foreach (var failure in failures)
        {
            _log.Warning("Key rotation: {0}", failure);
        }

        var events = rotated.Select(k => new KeyEventsRecorded(_time.GetUtcNow(), $"{k.Kind.FolderName()}-{k.Shard}", k.Events)).ToList();
        var done = new RotationDone(rotated.Count, collected.Replies.Count, failures);
        if (events.Count == 0)
        {
            collected.ReplyTo?.Tell(done);
            return;
        }

        PersistAll(events, Apply);
        DeferAsync(done, d =>
        {
            _log.Info("Key rotation: {0} of {1} shards rotated", d.Rotated, d.Checked);
            collected.ReplyTo?.Tell(d);
        });
    }

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }

    private sealed record Collected(IReadOnlyList<(ShardKind Kind, int Shard, object? Reply)> Replies, IActorRef? ReplyTo);
}
