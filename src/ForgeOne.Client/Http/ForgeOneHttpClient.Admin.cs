using System.Text;
using ForgeOne.Common.Api;
using S = ForgeOne.Cluster.Protocol.SystemProtocol;

namespace ForgeOne.Client.Http;

/// <summary>System, audit and cluster administration (what the <c>forgeone</c> CLI uses).</summary>
public sealed partial class ForgeOneHttpClient
{
    /// <summary>The current version of a setting (or, <paramref name="metadata"/>, a metadata key).</summary>
    public Task<SettingView> GetSettingAsync(string key, bool metadata = false, CancellationToken cancellationToken = default) =>
        GetAsync<SettingView>($"/v1/system/{Table(metadata)}/{Escape(key)}", cancellationToken);

    /// <summary>Every version of a setting, oldest first.</summary>
    public Task<SettingHistory> GetSettingHistoryAsync(string key, bool metadata = false, CancellationToken cancellationToken = default) =>
        GetAsync<SettingHistory>($"/v1/system/{Table(metadata)}/{Escape(key)}/history", cancellationToken);

    /// <summary>Stores a new version of a setting; with <paramref name="expectedVersion"/> a compare-and-set (0: must not exist).</summary>
    public Task<SettingView> PutSettingAsync(string key, string value, long? expectedVersion = null, bool metadata = false, CancellationToken cancellationToken = default) =>
        PostJsonAsync<SettingInput, SettingView>($"/v1/system/{Table(metadata)}/{Escape(key)}", new SettingInput(value, null, expectedVersion), idempotent: false, cancellationToken, HttpMethod.Put);

    /// <summary>The residency directory.</summary>
    public Task<ResidencyDirectoryView> GetResidencyAsync(CancellationToken cancellationToken = default) =>
        GetAsync<ResidencyDirectoryView>("/v1/system/residency", cancellationToken);

    /// <summary>Sets (or, <paramref name="zone"/> null, clears) the residency zone of a tenant or topic.</summary>
    public Task<ResidencyEntryView> SetResidencyAsync(S.ResidencyScope scope, string name, string? zone, string? reason = null, CancellationToken cancellationToken = default)
    {
        var segment = scope switch
        {
            S.ResidencyScope.Tenant => "tenant",
            S.ResidencyScope.LogTopic => "log-topic",
            _ => "event-topic",
        };
        return PostJsonAsync<ResidencyInput, ResidencyEntryView>($"/v1/system/residency/{segment}/{Escape(name)}", new ResidencyInput(zone, reason), idempotent: false, cancellationToken, HttpMethod.Put);
    }

    /// <summary>Rotates every shard's data key now.</summary>
    public Task<KeyRotationView> RotateKeysAsync(string? reason = null, CancellationToken cancellationToken = default) =>
        PostJsonAsync<RotateKeysInput, KeyRotationView>("/v1/system/keys/rotate", new RotateKeysInput(reason), idempotent: false, cancellationToken);

    /// <summary>The cluster-wide key event history.</summary>
    public Task<KeyEventsView> GetKeyEventsAsync(CancellationToken cancellationToken = default) =>
        GetAsync<KeyEventsView>("/v1/system/keys/events", cancellationToken);

    /// <summary>Every shard's audit chain head.</summary>
    public Task<AuditHeadsView> GetAuditHeadsAsync(CancellationToken cancellationToken = default) =>
        GetAsync<AuditHeadsView>("/v1/audit/heads", cancellationToken);

    /// <summary>The newest <paramref name="limit"/> seals, oldest first.</summary>
    public Task<SealList> ListSealsAsync(int limit = 20, CancellationToken cancellationToken = default) =>
        GetAsync<SealList>($"/v1/audit/seals?limit={limit}", cancellationToken);

    /// <summary>Seals every shard's head now.</summary>
    public Task<SealWritten> SealNowAsync(CancellationToken cancellationToken = default) =>
        SendAsync<SealWritten>(HttpMethod.Post, "/v1/audit/seals", null, retryable: false, null, cancellationToken);

    /// <summary>Verifies the seal history under the audit public key.</summary>
    public Task<SealVerificationView> VerifySealsAsync(CancellationToken cancellationToken = default) =>
        GetAsync<SealVerificationView>("/v1/audit/seals/verify", cancellationToken);

    /// <summary>Cluster members as the edge sees them.</summary>
    public Task<ClusterView> GetClusterAsync(CancellationToken cancellationToken = default) =>
        GetAsync<ClusterView>("/v1/cluster", cancellationToken);

    /// <summary>Which node hosts which shards.</summary>
    public Task<ShardPlacementsView> GetShardPlacementAsync(CancellationToken cancellationToken = default) =>
        GetAsync<ShardPlacementsView>("/v1/cluster/shards", cancellationToken);

    /// <summary>Every shard's counters.</summary>
    public Task<ShardStatsView[]> GetShardStatsAsync(CancellationToken cancellationToken = default) =>
        GetAsync<ShardStatsView[]>("/v1/cluster/shards/stats", cancellationToken);

    /// <summary>The edge's readiness (never throws for a 503: the checks say why).</summary>
    public async Task<Readiness> GetReadinessAsync(CancellationToken cancellationToken = default)
    {
        using var response = await _http.GetAsync("/readyz", cancellationToken).ConfigureAwait(false);
        return await ReadAsync<Readiness>(response, cancellationToken).ConfigureAwait(false);
    }

    private static string Table(bool metadata) => metadata ? "metadata" : "settings";

    internal static string Utf8(byte[] value) => Encoding.UTF8.GetString(value);
}
