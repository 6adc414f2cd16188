using Akka.Actor;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Security;
using ForgeOne.Common;
using ForgeOne.Security;

namespace ForgeOne.Cluster.Singletons;

/// <summary>The verdict on a request a singleton received.</summary>
/// <param name="Principal">The verified principal (null when the token did not verify).</param>
/// <param name="Refusal">Why it is refused; null when it may proceed.</param>
public sealed record GateVerdict(Principal? Principal, ForgeOneError? Refusal)
{
    /// <summary>True when the singleton may act.</summary>
    public bool Allowed => Refusal is null;
}

/// <summary>
/// What every singleton does with a request from another node before acting on it: verify its
/// token, authorize the permission <see cref="MessagePermissions"/> names, and record the
/// decision (refusals too) in the system shard's audit chain through
/// <see cref="SystemProtocol.RecordAudit"/>. The singleton acts only once the record is committed,
/// so an operation nobody could audit is refused rather than done unrecorded. Thread-safe.
/// </summary>
public sealed class SingletonGate
{
    private static readonly TimeSpan AuditTimeout = TimeSpan.FromSeconds(10);

    private readonly NodeSecurity _node;
    private readonly IActorRef _systemRegion;
    private readonly string _resource;

    /// <summary>The gate of the singleton <paramref name="singleton"/> (audit resource <c>singleton/{name}</c>).</summary>
    public SingletonGate(NodeSecurity node, IActorRef systemRegion, string singleton)
    {
        _node = node ?? throw new ArgumentNullException(nameof(node));
        _systemRegion = systemRegion ?? throw new ArgumentNullException(nameof(systemRegion));
        _resource = $"singleton/{singleton}";
    }

    /// <summary>The token of this node's own principal (for the singleton's requests to shards).</summary>
    public PrincipalToken NodeToken => _node.Identity.Current;

    /// <summary>
    /// Decides <paramref name="request"/> (from <paramref name="sender"/>) off the actor thread and
    /// tells <paramref name="self"/> the <see cref="Decided"/> outcome once it is audited.
    /// </summary>
    /// <param name="request">The request.</param>
    /// <param name="action">The audit action.</param>
    /// <param name="detail">The audit detail.</param>
    /// <param name="self">The singleton.</param>
    /// <param name="sender">Who asked.</param>
    /// <param name="recordAllowed">
    /// False when an allowed request's own effect is its record (a seal: signed, journaled and in
    /// the seals file); a refusal is always audited.
    /// </param>
    public void Decide(IAuthenticated request, string action, string detail, IActorRef self, IActorRef sender, bool recordAllowed = true) =>
        CheckAsync(request, action, detail, recordAllowed).PipeTo(self, success: verdict => new Decided(request, verdict, sender));

    /// <summary>Decides <paramref name="request"/> and audits the decision as <paramref name="action"/>.</summary>
    public async Task<GateVerdict> CheckAsync(IAuthenticated request, string action, string detail = "", bool recordAllowed = true)
    {
        ArgumentNullException.ThrowIfNull(request);
        var authentication = _node.Verifier.Verify(request.Token);
        Principal? principal = null;
        ForgeOneError? refusal;
        if (!authentication.IsAuthenticated)
        {
            refusal = authentication.Error;
        }
        else
        {
            principal = authentication.Principal;
            var decision = MessagePermissions.Of(request) switch
            {
                MessageAccess.Permission p => _node.Policy.Authorize(principal, p.Name, new ResourceDescriptor(p.Name[..p.Name.IndexOf(':')])),
                MessageAccess.AnyPrincipal => new AuthorizationDecision(true, $"{request.GetType().Name} is open to every authenticated principal", FieldClasses.None),
                var other => new AuthorizationDecision(false, $"denied: {request.GetType().Name} is not accepted by singletons ({other.GetType().Name})", FieldClasses.None),
            };
            refusal = decision.Allowed ? null : new ForgeOneError(ErrorCodes.Forbidden, decision.Reason);
        }

        if (refusal is null && (!recordAllowed || principal!.Roles.Contains(NodeSecurity.NodeRole)))
        {
            // The node's own housekeeping (scheduled seals, a restore's rewind while the system
            // shard is suspended): what it leads to is audited where it happens, as shards do. An
            // allowed seal request likewise: its seal is the record, and auditing it here would move
            // the system shard's head, so "seal now" could never find that nothing moved.
            return new GateVerdict(principal, null);
        }

        var record = new SystemProtocol.RecordAudit(
            _node.Identity.Current,
            principal?.Id ?? Shards.Admission.UnauthenticatedPrincipal,
            action,
            _resource,
            refusal is null ? AuditOutcome.Success : AuditOutcome.Denied,
            refusal is null ? detail : $"{request.GetType().Name}: {refusal}");
        object reply;
        try
        {
            reply = await _systemRegion.Ask<object>(record, AuditTimeout).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            reply = new SystemProtocol.SystemFailed(new ForgeOneError(ErrorCodes.Unavailable, e.Message));
        }

        if (reply is not SystemProtocol.AuditRecorded)
        {
            var why = reply is IFailureReply failed ? failed.Error.ToString() : reply.GetType().Name;
            return new GateVerdict(principal, refusal ?? new ForgeOneError(ErrorCodes.Unavailable, $"The decision on {request.GetType().Name} could not be audited ({why}); nothing was done."));
        }

        return new GateVerdict(principal, refusal);
    }

    /// <summary>A request's audited verdict, told to the singleton by <see cref="Decide"/>. Local only.</summary>
    /// <param name="Request">The request.</param>
    /// <param name="Verdict">The verdict.</param>
    /// <param name="Sender">Who asked (the reply goes there).</param>
    public sealed record Decided(IAuthenticated Request, GateVerdict Verdict, IActorRef Sender);
}
