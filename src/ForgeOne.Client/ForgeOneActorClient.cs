using Akka.Actor;
using Akka.Configuration;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Client;

/// <summary>
/// A .NET actor client: joins the cluster as a <c>client</c>-role node (it hosts no shards and does
/// not count in the split brain resolver's majority) and talks to the shard regions through
/// sharding proxies, so each request goes straight to the node that owns its shard.
/// </summary>
public sealed class ForgeOneActorClient : IAsyncDisposable
{
    private readonly ForgeOneCluster _cluster;

    private ForgeOneActorClient(ForgeOneCluster cluster, TimeSpan timeout)
    {
        _cluster = cluster;
        Timeout = timeout;
    }

    /// <summary>Per-request timeout.</summary>
    public TimeSpan Timeout { get; }

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
    /// <param name="hostname">Address this client binds to.</param>
    /// <param name="port">Port this client binds to (0: any free port).</param>
    /// <param name="timeout">Per-request timeout (default 10 s).</param>
    /// <param name="extraHocon">Extra Akka settings, layered over the node configuration.</param>
    /// <param name="configure">Adjusts the client's node options (failure detection, downing) to match the cluster's.</param>
    public static async Task<ForgeOneActorClient> ConnectAsync(IEnumerable<string> seedNodes, ShardCountOptions shardCounts, string hostname = "127.0.0.1", int port = 0, TimeSpan? timeout = null, string extraHocon = "", Action<ForgeOneNodeOptions>? configure = null)
    {
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
        var config = ConfigurationFactory.ParseString("akka.loglevel = WARNING\n" + extraHocon).WithFallback(ClusterConfig.Build(options));
        var system = ActorSystem.Create(options.ClusterName, config);
        try
        {
            var cluster = await ForgeOneCluster.StartAsync(system, options, host: null, signer: null, TimeSpan.FromSeconds(60)).ConfigureAwait(false);
            return new ForgeOneActorClient(cluster, timeout ?? TimeSpan.FromSeconds(10));
        }
        catch
        {
            await system.Terminate().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Appends one entry; returns its id once committed.</summary>
    public async Task<RecordId> AppendLogAsync(Caller caller, string topic, LogInput entry, CancellationToken cancellationToken = default) =>
        Expect<LogAppended>(await Ask(new AppendLog(caller, topic, entry), cancellationToken).ConfigureAwait(false)).Id;

    /// <summary>Appends a batch (one operation, one transaction); returns the ids in order once committed.</summary>
    public async Task<RecordId[]> AppendLogBatchAsync(Caller caller, string topic, LogInput[] entries, CancellationToken cancellationToken = default) =>
        Expect<LogBatchAppended>(await Ask(new AppendLogBatch(caller, topic, entries), cancellationToken).ConfigureAwait(false)).Ids;

    /// <summary>Gets an entry by id.</summary>
    public async Task<Common.Model.LogEntry> GetLogAsync(Caller caller, RecordId id, CancellationToken cancellationToken = default) =>
        Expect<LogFound>(await Ask(new GetLog(caller, id), cancellationToken).ConfigureAwait(false)).Entry;

    /// <summary>Entries of a topic in a time range, oldest first.</summary>
    public async Task<Common.Model.LogEntry[]> ReadLogRangeAsync(Caller caller, string topic, DateTimeOffset from, DateTimeOffset to, int limit = 1000, CancellationToken cancellationToken = default) =>
        Expect<LogRange>(await Ask(new ReadLogRange(caller, topic, from, to, limit), cancellationToken).ConfigureAwait(false)).Entries;

    /// <summary>
    /// Records (or, with <paramref name="zone"/> null, clears) the residency zone of a topic or
    /// tenant in the cluster's residency directory (admins only; audited). Every node's router,
    /// this client's included, then sends that topic's or tenant's logs and events to the zone's
    /// shards without the request naming it.
    /// </summary>
    public async Task<SystemProtocol.ResidencyEntry> SetResidencyAsync(Caller caller, SystemProtocol.ResidencyScope scope, string name, string? zone, CancellationToken cancellationToken = default) =>
        Expect<SystemProtocol.ResidencySet>(await Ask(new SystemProtocol.SetResidency(caller, scope, name, zone), cancellationToken).ConfigureAwait(false)).Entry;

    /// <summary>
    /// Sends any shard message through the cluster's residency router (zones resolved from the
    /// residency directory; refusals come back as the kind's failure reply) and returns the raw reply.
    /// </summary>
    public Task<object> Ask(IShardMessage message, CancellationToken cancellationToken = default) =>
        _cluster.AskAsync(message, Timeout, cancellationToken);

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
