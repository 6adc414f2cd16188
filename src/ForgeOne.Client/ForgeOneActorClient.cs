using Akka.Actor;
using Akka.Configuration;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Security;
using ForgeOne.Common;
using ForgeOne.Security;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Client;

/// <summary>
/// A .NET actor client: joins the cluster as a <c>client</c>-role node (it hosts no shards and does
/// not count in the split brain resolver's majority) and talks to the shard regions through
/// sharding proxies, so each request goes straight to the node that owns its shard. It acts as
/// one principal, the one its <see cref="ClientCredential"/> proves: every request carries that
/// principal's current token (<see cref="Tokens"/>). To act for someone else, build the message
/// with their token and send it with <see cref="Ask"/>.
/// </summary>
/// <remarks>
/// Every append and publish carries a request id (this client's random producer id and a
/// sequence number), so the client retries them transparently under its
/// <see cref="RetryPolicy"/> (timeouts, <c>cluster.unavailable</c>, a shard that moved) and the
/// owning shard writes each exactly once. Reads are retried too; other commands are sent once.
/// Concurrent single appends and publishes bound for the same shard are coalesced
/// (<see cref="CoalescingOptions"/>). <see cref="Counters"/> says what the client did.
/// </remarks>
public sealed class ForgeOneActorClient : IAsyncDisposable
{
    private readonly ForgeOneCluster _cluster;
    private readonly ClientStats _stats = new();
    private readonly RetryingSender _retrying;
    private readonly WriteCoalescer? _coalescer;
    private long _sequence;

    private ForgeOneActorClient(ForgeOneCluster cluster, IPrincipalTokenSource tokens, TimeSpan timeout, RetryPolicy retry, CoalescingOptions coalescing)
    {
        _cluster = cluster;
        Tokens = tokens;
        Timeout = timeout;
        Retry = retry;
        Coalescing = coalescing;
        _retrying = new RetryingSender(retry, _stats);
        _coalescer = coalescing.Enabled ? new WriteCoalescer(coalescing, retry, _stats) : null;
    }

    /// <summary>The tokens this client's requests carry.</summary>
    public IPrincipalTokenSource Tokens { get; }

    /// <summary>
    /// Who this client acts as, as its current token says (read without verifying: the client
    /// does not hold the key; the shards verify).
    /// </summary>
    public Principal? Principal =>
        PrincipalTokenCodec.TryDecode(Tokens.Current.Value, out var claims, out _) ? claims!.Principal : null;

    /// <summary>Timeout of a request that is not retried (a command without a request id).</summary>
    public TimeSpan Timeout { get; }

    /// <summary>How reads and request-id writes are retried.</summary>
    public RetryPolicy Retry { get; }

    /// <summary>How single writes are coalesced.</summary>
    public CoalescingOptions Coalescing { get; }

    /// <summary>This client's producer id: the first half of the request id of every write it makes.</summary>
    public string ProducerId { get; } = RequestId.NewProducer();

    /// <summary>What the client did so far: requests, attempts, retries, replays, coalesced writes.</summary>
    public ClientCounters Counters => _stats.Snapshot();

    /// <summary>A fresh request id of this client (producer id + the next sequence number).</summary>
    public RequestId NextRequestId() => new(ProducerId, Interlocked.Increment(ref _sequence));

    /// <summary>The client's actor system (for advanced use: custom asks, subscriptions).</summary>
    public ActorSystem System => _cluster.System;

    /// <summary>Regions (proxies) by kind.</summary>
    public ForgeOneCluster Cluster => _cluster;

    /// <summary>
    /// Joins the cluster at <paramref name="seedNodes"/>. <paramref name="shardCounts"/> must be the
    /// cluster's (they are checked against the system store, like any node's).
    /// </summary>
    /// <param name="seedNodes">Seed node addresses of the cluster.</param>
    /// <param name="shardCounts">The cluster's shard counts.</param>
    /// <param name="credential">What proves who this client is.</param>
    /// <param name="hostname">Address this client binds to.</param>
    /// <param name="port">Port this client binds to (0: any free port).</param>
    /// <param name="timeout">Timeout of a request that is not retried (default 10 s).</param>
    /// <param name="extraHocon">Extra Akka settings, layered over the node configuration.</param>
    /// <param name="configure">Adjusts the client's node options (failure detection, downing) to match the cluster's.</param>
    /// <param name="retry">How reads and writes with request ids are retried (default <see cref="RetryPolicy.Default"/>; <see cref="RetryPolicy.None"/> sends once).</param>
    /// <param name="coalescing">How concurrent single writes are coalesced (default <see cref="CoalescingOptions.Default"/>).</param>
    /// <param name="connectTimeout">How long to wait for a seed node to let the client join (default <see cref="DefaultConnectTimeout"/>); past it, <c>cluster.unreachable</c> naming the seeds tried.</param>
    /// <param name="cancellationToken">Stops connecting (the client's actor system is shut down).</param>
    /// <exception cref="ForgeOneException"><c>cluster.unreachable</c> when no seed answered in time.</exception>
    public static async Task<ForgeOneActorClient> ConnectAsync(IEnumerable<string> seedNodes, ShardCountOptions shardCounts, ClientCredential credential, string hostname = "127.0.0.1", int port = 0, TimeSpan? timeout = null, string extraHocon = "", Action<ForgeOneNodeOptions>? configure = null, RetryPolicy? retry = null, CoalescingOptions? coalescing = null, TimeSpan? connectTimeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(credential);
        var connect = connectTimeout ?? DefaultConnectTimeout;
        if (connect <= TimeSpan.Zero)
        {
            throw new ForgeOneException(ErrorCodes.InvalidConfiguration, $"The connect timeout must be positive; got {connect}.");
        }

        retry ??= RetryPolicy.Default;
        coalescing ??= CoalescingOptions.Default;
        var problems = retry.Validate().Concat(coalescing.Validate()).ToList();
        if (problems.Count > 0)
        {
            throw new ForgeOneException(ErrorCodes.InvalidConfiguration, string.Join(" ", problems));
        }

        var options = new ForgeOneNodeOptions
        {
            Hostname = hostname,
            Port = port,
            SeedNodes = [.. seedNodes],
            Roles = [ForgeOneNodeOptions.ClientRole],
            ShardCounts = shardCounts,
        };
        configure?.Invoke(options);
        options.ThrowIfInvalid();
        cancellationToken.ThrowIfCancellationRequested();
        var system = ClusterConfig.CreateSystem(options, ConfigurationFactory.ParseString("akka.loglevel = WARNING\n" + extraHocon));
        try
        {
            // Up means a seed answered and the leader let this client in; until then nothing
            // else can succeed, so a dead or wrong address is reported as such, not as a timeout
            // of the first request.
            var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Akka.Cluster.Cluster.Get(system).RegisterOnMemberUp(() => up.TrySetResult());
            using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                deadline.CancelAfter(connect);
                try
                {
                    await up.Task.WaitAsync(deadline.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new ForgeOneException(ErrorCodes.Unreachable,
                        $"No seed node let this client join cluster '{options.ClusterName}' within {connect.TotalSeconds:0.###} s; tried {string.Join(", ", options.SeedNodes)}. Check that a node runs there, that the address and port are right, and that its ClusterName is '{options.ClusterName}'.");
                }
            }

            var tokens = credential.Tokens;
            var cluster = await ForgeOneCluster.StartAsync(system, options, host: null, signer: null, connect, tokens: tokens).WaitAsync(cancellationToken).ConfigureAwait(false);
            return new ForgeOneActorClient(cluster, tokens, timeout ?? TimeSpan.FromSeconds(10), retry, coalescing);
        }
        catch
        {
            await system.Terminate().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>How long <see cref="ConnectAsync"/> waits for a seed node by default.</summary>
    public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Appends one entry; returns its id once committed. Retried and coalesced with other single
    /// writes to the same shard; written exactly once. Pass <paramref name="requestId"/> to make
    /// it idempotent across client restarts too (the default is a fresh id of this client).
    /// </summary>
    public async Task<RecordId> AppendLogAsync(string topic, LogInput entry, CancellationToken cancellationToken = default, RequestId? requestId = null) =>
        Expect<LogAppended>(await SendSingleWriteAsync(new AppendLog(Tokens.Current, topic, entry, RequestId: requestId ?? NextRequestId()), cancellationToken).ConfigureAwait(false)).Id;

    /// <summary>Appends a batch (one operation, one transaction); returns the ids in order once committed. Retried; written exactly once.</summary>
    public async Task<RecordId[]> AppendLogBatchAsync(string topic, LogInput[] entries, CancellationToken cancellationToken = default, RequestId? requestId = null) =>
        Expect<LogBatchAppended>(await Ask(new AppendLogBatch(Tokens.Current, topic, entries, RequestId: requestId ?? NextRequestId()), cancellationToken).ConfigureAwait(false)).Ids;

    /// <summary>Gets an entry by id.</summary>
    public async Task<Common.Model.LogEntry> GetLogAsync(RecordId id, CancellationToken cancellationToken = default) =>
        Expect<LogFound>(await Ask(new GetLog(Tokens.Current, id), cancellationToken).ConfigureAwait(false)).Entry;

    /// <summary>Entries of a topic in a time range, oldest first.</summary>
    public async Task<Common.Model.LogEntry[]> ReadLogRangeAsync(string topic, DateTimeOffset from, DateTimeOffset to, int limit = 1000, CancellationToken cancellationToken = default) =>
        Expect<LogRange>(await Ask(new ReadLogRange(Tokens.Current, topic, from, to, limit), cancellationToken).ConfigureAwait(false)).Entries;

    /// <summary>
    /// Records (or, with <paramref name="zone"/> null, clears) the residency zone of a topic or
    /// tenant in the cluster's residency directory (admins only; audited). Every node's router,
    /// this client's included, then sends that topic's or tenant's logs and events to the zone's
    /// shards without the request naming it.
    /// </summary>
    public async Task<SystemProtocol.ResidencyEntry> SetResidencyAsync(SystemProtocol.ResidencyScope scope, string name, string? zone, CancellationToken cancellationToken = default) =>
        Expect<SystemProtocol.ResidencySet>(await Ask(new SystemProtocol.SetResidency(Tokens.Current, scope, name, zone), cancellationToken).ConfigureAwait(false)).Entry;

    /// <summary>
    /// Sends any shard message through the cluster's residency router (zones resolved from the
    /// residency directory; refusals come back as the kind's failure reply) and returns the raw
    /// reply. Queries and writes that carry a request id are retried under <see cref="Retry"/>;
    /// anything else is sent once with <see cref="Timeout"/>.
    /// </summary>
    public Task<object> Ask(IShardMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message is not (IShardQuery or IIdempotentCommand { RequestId: not null }))
        {
            return _cluster.AskAsync(message, Timeout, cancellationToken);
        }

        return _retrying.SendAsync(message.GetType().Name, left => _cluster.AskAsync(message, left, cancellationToken), e => ForgeOneCluster.FailureOf(message, e), cancellationToken);
    }

    /// <summary>
    /// A single write with a request id: coalesced with other single writes bound for the same
    /// shard (when coalescing is on), retried on its own either way.
    /// </summary>
    internal Task<object> SendSingleWriteAsync(IIdempotentCommand command, CancellationToken cancellationToken)
    {
        if (_coalescer is null || command.RoutingKey is null)
        {
            return Ask(command, cancellationToken);
        }

        var (region, error) = _cluster.Route(command);
        if (error is not null)
        {
            return Task.FromResult(ForgeOneCluster.FailureOf(command, error));
        }

        var shard = ShardRouter.ShardFor(command.RoutingKey, _cluster.Regions.Counts.Of(command.Kind));
        return _coalescer.SendAsync(region!, shard, command, e => ForgeOneCluster.FailureOf(command, e), cancellationToken);
    }

    /// <summary>This client acting as the principal of <paramref name="tokens"/>, as the operations it shares with the HTTP client.</summary>
    public IForgeOneClient As(IPrincipalTokenSource tokens) => new ActorClientSession(this, tokens ?? throw new ArgumentNullException(nameof(tokens)));

    /// <summary>This client acting as the principal <paramref name="token"/> proves.</summary>
    public IForgeOneClient As(PrincipalToken token) => As(new FixedTokenSource(token ?? throw new ArgumentNullException(nameof(token))));

    /// <summary>Leaves the cluster gracefully.</summary>
    public async ValueTask DisposeAsync() =>
        await CoordinatedShutdown.Get(_cluster.System).Run(CoordinatedShutdown.ClusterLeavingReason.Instance).ConfigureAwait(false);

    private static T Expect<T>(object reply) =>
        reply switch
        {
            T ok => ok,
            IFailureReply failed => throw new ForgeOneException(failed.Error),
            _ => throw new ForgeOneException(ErrorCodes.Unavailable, $"Unexpected reply {reply.GetType().Name}."),
        };
}
