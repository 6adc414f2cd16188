using System.Runtime.CompilerServices;
using System.Text.Json;
using ForgeOne.Common.Api;

namespace ForgeOne.Client.Http;

/// <summary>Operator endpoints: membership changes, member events, region statistics, audit key, one shard's key.</summary>
public sealed partial class ForgeOneHttpClient
{
    /// <summary>Asks <paramref name="address"/> (null: the edge node itself) to leave the cluster.</summary>
    public Task<MembershipChange> LeaveClusterAsync(string? address = null, CancellationToken cancellationToken = default) =>
        PostJsonAsync<MembershipInput, MembershipChange>("/v1/cluster/leave", new MembershipInput(address), idempotent: false, cancellationToken);

    /// <summary>Downs every member the edge node sees as unreachable.</summary>
    public Task<MembershipChange> DownUnreachableAsync(CancellationToken cancellationToken = default) =>
        SendAsync<MembershipChange>(HttpMethod.Post, "/v1/cluster/down-unreachable", null, retryable: false, null, cancellationToken);

    /// <summary>Makes the edge node join the cluster through <paramref name="address"/>.</summary>
    public Task<MembershipChange> JoinClusterAsync(string address, CancellationToken cancellationToken = default) =>
        PostJsonAsync<MembershipInput, MembershipChange>("/v1/cluster/join", new MembershipInput(address), idempotent: false, cancellationToken);

    /// <summary>One shard region's shards and entities per node, with the nodes that did not answer.</summary>
    public Task<RegionStatsView> GetRegionStatsAsync(string region, CancellationToken cancellationToken = default) =>
        GetAsync<RegionStatsView>($"/v1/cluster/sharding/{Escape(region)}/stats", cancellationToken);

    /// <summary>The audit public key (PEM) and its fingerprint.</summary>
    public Task<AuditPublicKeyView> GetAuditPublicKeyAsync(CancellationToken cancellationToken = default) =>
        GetAsync<AuditPublicKeyView>("/v1/audit/public-key", cancellationToken);

    /// <summary>A page of one shard's committed audit chain after <paramref name="afterSeq"/> (audit:export).</summary>
    public Task<AuditChainPage> GetAuditChainAsync(string shard, long afterSeq = 0, int limit = 256, CancellationToken cancellationToken = default) =>
        GetAsync<AuditChainPage>($"/v1/audit/chains/{Escape(shard)}?after={afterSeq.ToString(System.Globalization.CultureInfo.InvariantCulture)}&limit={limit.ToString(System.Globalization.CultureInfo.InvariantCulture)}", cancellationToken);

    /// <summary>The newest seals (at most <paramref name="limit"/>) in their signed encoding (audit:export).</summary>
    public Task<EncodedSealList> GetEncodedSealsAsync(int limit = 10_000, CancellationToken cancellationToken = default) =>
        GetAsync<EncodedSealList>($"/v1/audit/seals/encoded?limit={limit.ToString(System.Globalization.CultureInfo.InvariantCulture)}", cancellationToken);

    /// <summary>Rotates one shard's data key (<paramref name="shard"/> is <c>kind-n</c>, e.g. <c>logs-3</c>).</summary>
    public Task<ShardKeyRotationView> RotateShardKeyAsync(string shard, string? reason = null, CancellationToken cancellationToken = default) =>
        PostJsonAsync<RotateKeysInput, ShardKeyRotationView>($"/v1/system/keys/{Escape(shard)}/rotate", new RotateKeysInput(reason), idempotent: false, cancellationToken);

    /// <summary>
    /// Membership, reachability and leader changes as the edge node observes them, from the moment
    /// the stream opens; ends when the connection does (a tail has no position to resume from).
    /// <paramref name="opened"/> runs once the edge answered: every change from then on is in the stream.
    /// </summary>
    public async IAsyncEnumerable<ClusterEventView> StreamClusterEventsAsync(Action? opened = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var response = await SendRawAsync(HttpMethod.Get, "/v1/cluster/events", null, retryable: true, null, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        opened?.Invoke();
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var reader = new SseStreamReader(stream);
        while (await reader.NextAsync(cancellationToken).ConfigureAwait(false) is { } message)
        {
            if (message.Data is { } data)
            {
                yield return JsonSerializer.Deserialize(data, ApiJsonContext.Default.ClusterEventView)!;
            }
        }
    }
}
