using Akka.Actor;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;
using ForgeOne.Security;

namespace ForgeOne.Edge;

/// <summary>
/// The edge's way into the cluster. The HTTP server starts before the node has joined (so
/// <c>/healthz</c> answers and <c>/readyz</c> says why it is not ready yet); the node hands over
/// its <see cref="ForgeOneCluster"/> once started, and until then every API call is refused
/// with <see cref="ErrorCodes.Unavailable"/> (503).
/// </summary>
public sealed class EdgeCluster
{
    private volatile ForgeOneCluster? _cluster;

    /// <summary>A handle with no cluster yet (the node sets it when started).</summary>
    public EdgeCluster(TimeSpan requestTimeout)
    {
        RequestTimeout = requestTimeout;
    }

    /// <summary>A handle on a started cluster.</summary>
    public EdgeCluster(ForgeOneCluster cluster, TimeSpan requestTimeout)
        : this(requestTimeout)
    {
        _cluster = cluster;
    }

    /// <summary>How long one request waits for a reply.</summary>
    public TimeSpan RequestTimeout { get; }

    /// <summary>The cluster, or null while the node is still starting.</summary>
    public ForgeOneCluster? Current => _cluster;

    /// <summary>Hands over the started cluster.</summary>
    public void Attach(ForgeOneCluster cluster) => _cluster = cluster ?? throw new ArgumentNullException(nameof(cluster));

    /// <summary>
    /// A principal token for <paramref name="principal"/>, whose credential
    /// <paramref name="credentialId"/> the edge has just checked, signed with this node's
    /// cluster authentication key.
    /// </summary>
    public PrincipalToken Issue(Principal principal, string credentialId)
    {
        var security = Require().Security
            ?? throw new ForgeOneException(ErrorCodes.Unavailable, "This node holds no cluster authentication key and cannot vouch for principals.");
        return security.IssueFor(principal, credentialId).Token;
    }

    /// <summary>The cluster; <see cref="ErrorCodes.Unavailable"/> while the node is starting.</summary>
    public ForgeOneCluster Require() =>
        _cluster ?? throw new ForgeOneException(ErrorCodes.Unavailable, "The node is still joining the cluster; retry shortly.");

    /// <summary>
    /// Sends a shard message through the residency router and returns the reply, or throws the
    /// reply's typed error; no reply within <see cref="RequestTimeout"/> is <see cref="ErrorCodes.Timeout"/>.
    /// </summary>
    public async Task<T> AskAsync<T>(IShardMessage message, CancellationToken cancellationToken)
    {
        var cluster = Require();
        object reply;
        try
        {
            reply = await cluster.AskAsync(message, RequestTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            throw TimedOut(message.GetType().Name);
        }

        return Expect<T>(reply);
    }

    /// <summary>Asks an actor (a singleton proxy) and returns the reply, or throws its typed error.</summary>
    public async Task<T> AskActorAsync<T>(IActorRef actor, object message, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        object reply;
        try
        {
            reply = await actor.Ask<object>(message, timeout ?? RequestTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            throw TimedOut(message.GetType().Name);
        }

        return Expect<T>(reply);
    }

    /// <summary>The typed reply, or the failure it carries as an exception.</summary>
    public static T Expect<T>(object reply) =>
        reply switch
        {
            T ok => ok,
            IFailureReply failed => throw new ForgeOneException(failed.Error),
            Status.Failure { Cause: ForgeOneException fe } => throw fe,
            _ => throw new ForgeOneException(ErrorCodes.Unavailable, $"Unexpected reply {reply?.GetType().Name ?? "null"} from the cluster."),
        };

    private ForgeOneException TimedOut(string what) =>
        new(ErrorCodes.Timeout, $"The cluster did not answer {what} within {RequestTimeout.TotalSeconds:0.#} s; the operation may or may not have been applied.");
}
