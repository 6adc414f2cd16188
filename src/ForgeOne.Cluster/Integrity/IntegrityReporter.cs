using System.Diagnostics.Metrics;
using Akka.Actor;
using Akka.Event;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Security;

namespace ForgeOne.Cluster.Integrity;

/// <summary>Published on the node's event stream by whatever notices damage (open check, scrubber, read, sealer).</summary>
/// <param name="Finding">What and where.</param>
/// <param name="Detector">Who saw it: <c>open</c>, <c>scrubber</c>, <c>read</c>, <c>sealer</c>, <c>migration</c>.</param>
public sealed record IntegrityFindingReported(IntegrityFinding Finding, string Detector);

/// <summary>Published on the node's event stream for an integrity event that is not damage: an authorized rewind (<c>audit.incarnation</c>).</summary>
public sealed record IntegrityEventReported(string Action, string Resource, string Detail);

/// <summary>
/// Counters of integrity findings, on the <c>ForgeOne.Integrity</c> meter (exported with the
/// node's other metrics): <c>forgeone.integrity.findings</c>, tagged with store, table, code and
/// detector; one increment per distinct finding.
/// </summary>
public static class IntegrityMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "ForgeOne.Integrity";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Distinct findings.</summary>
    public static readonly Counter<long> Findings = Meter.CreateCounter<long>("forgeone.integrity.findings", unit: "{finding}", description: "Distinct integrity findings (tampering or corruption) this node noticed");
}

/// <summary>
/// One per storage node: the single place where damage becomes visible to an operator. Each
/// distinct finding (store, table, key, code) is logged once at error level, counted in
/// <see cref="IntegrityMetrics"/>, and recorded in the system store's audit chain
/// (<see cref="SystemProtocol.RecordIntegrityEvent"/>, retried while the system shard is busy or
/// moving). Later sightings (the scrubber's next pass, a read of the same record) are counted
/// per detector but not logged or audited again.
/// </summary>
public sealed class IntegrityReporter : ReceiveActor
{
    // Bounded: a file damaged everywhere must not grow the set without end; past it, findings
    // are still logged (once per finding in the window) and audited.
    private const int MaxRemembered = 100_000;
    private const int MaxAttempts = 10;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _systemRegion;
    private readonly string _node;
    private readonly IPrincipalTokenSource _identity;
    private readonly Dictionary<(string, string, string?, string), IntegrityFinding> _seen = [];
    private readonly Queue<(string, string, string?, string)> _order = new();

    /// <summary>Creates the reporter.</summary>
    public IntegrityReporter(IActorRef systemRegion, string node, IPrincipalTokenSource identity)
    {
        _systemRegion = systemRegion;
        _node = node;
        _identity = identity;
        Receive<IntegrityFindingReported>(OnFinding);
        Receive<IntegrityEventReported>(e => Record(new SystemProtocol.RecordIntegrityEvent(_identity.Current, e.Action, e.Resource, e.Detail), 1));
        Receive<Retry>(r => Record(r.Event, r.Attempt));
        Receive<GetFindings>(_ => Sender.Tell(new CurrentFindings([.. _seen.Values])));
        Receive<Status.Failure>(_ => { });
        Receive<SystemProtocol.IntegrityEventRecorded>(_ => { });
    }

    /// <summary>Props of the reporter.</summary>
    public static Props Props(IActorRef systemRegion, string node, IPrincipalTokenSource identity) => Akka.Actor.Props.Create(() => new IntegrityReporter(systemRegion, node, identity));

    /// <inheritdoc />
    protected override void PreStart()
    {
        Context.System.EventStream.Subscribe(Self, typeof(IntegrityFindingReported));
        Context.System.EventStream.Subscribe(Self, typeof(IntegrityEventReported));
    }

    /// <inheritdoc />
    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);

    private void OnFinding(IntegrityFindingReported reported)
    {
        var f = reported.Finding;
        var key = (f.Store, f.Table, f.KeyHex, f.Code);
        if (_seen.ContainsKey(key))
        {
            return;
        }

        if (_seen.Count >= MaxRemembered)
        {
            _seen.Remove(_order.Dequeue());
        }

        _seen[key] = f;
        _order.Enqueue(key);
        _log.Error("INTEGRITY FINDING ({0}) on {1}: {2}", reported.Detector, _node, f);
        IntegrityMetrics.Findings.Add(1, new KeyValuePair<string, object?>("store", f.Store), new KeyValuePair<string, object?>("table", f.Table),
            new KeyValuePair<string, object?>("code", f.Code), new KeyValuePair<string, object?>("detector", reported.Detector));
        var resource = $"integrity/{f.Store}/{f.Table}/{f.KeyHex ?? "-"}{(f.Sequence is { } s ? $"/seq/{s}" : "")}/{Slug(f.Kind)}";
        Record(new SystemProtocol.RecordIntegrityEvent(_identity.Current, f.Code, resource, $"detector={reported.Detector} node={_node} {f.Message}"), 1);
    }

    private void Record(SystemProtocol.RecordIntegrityEvent e, int attempt)
    {
        var self = Self;
        var log = _log;
        var scheduler = Context.System.Scheduler; // Context is not available in the continuation
        _systemRegion.Ask<object>(e, TimeSpan.FromSeconds(10)).ContinueWith(t =>
        {
            if (t.IsCompletedSuccessfully && t.Result is SystemProtocol.IntegrityEventRecorded)
            {
                return;
            }

            var why = t.IsCompletedSuccessfully ? (t.Result as IFailureReply)?.Error.ToString() ?? t.Result?.ToString() : t.Exception?.GetBaseException().Message;
            if (attempt >= MaxAttempts)
            {
                log.Error("Integrity event {0} {1} could not be recorded in the system store after {2} attempts: {3}", e.Action, e.Resource, attempt, why);
                return;
            }

            log.Warning("Integrity event {0} {1} not recorded yet ({2}); retrying", e.Action, e.Resource, why);
            scheduler.ScheduleTellOnce(TimeSpan.FromSeconds(Math.Min(30, 1 << attempt)), self, new Retry(e, attempt + 1), ActorRefs.NoSender);
        }, TaskScheduler.Default);
    }

    private static string Slug(string kind) => new([.. kind.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-')]);

    /// <summary>Asks for the distinct findings seen so far. Reply: <see cref="CurrentFindings"/>.</summary>
    public sealed class GetFindings
    {
        /// <summary>The instance.</summary>
        public static readonly GetFindings Instance = new();

        private GetFindings()
        {
        }
    }

    /// <summary>The distinct findings this node reported.</summary>
    public sealed record CurrentFindings(IReadOnlyList<IntegrityFinding> Findings);

    private sealed record Retry(SystemProtocol.RecordIntegrityEvent Event, int Attempt);
}
