using ForgeOne.Common.Api;

namespace ForgeOne.Client.Http;

/// <summary>API keys: create (the secret is in the answer only), list, revoke.</summary>
public sealed partial class ForgeOneHttpClient
{
    /// <summary>Creates an API key; <see cref="ApiKeyCreatedView.Key"/> is the secret key, shown nowhere else.</summary>
    public Task<ApiKeyCreatedView> CreateApiKeyAsync(ApiKeyInput key, CancellationToken cancellationToken = default) =>
        PostJsonAsync<ApiKeyInput, ApiKeyCreatedView>("/v1/api-keys", key, idempotent: false, cancellationToken);

    /// <summary>Every API key the caller administers (never a secret).</summary>
    public Task<ApiKeyListView> ListApiKeysAsync(CancellationToken cancellationToken = default) =>
        GetAsync<ApiKeyListView>("/v1/api-keys", cancellationToken);

    /// <summary>Revokes an API key (again: no change, same answer).</summary>
    public Task<ApiKeyRevokedView> RevokeApiKeyAsync(string id, string? reason = null, CancellationToken cancellationToken = default) =>
        SendAsync<ApiKeyRevokedView>(HttpMethod.Delete, $"/v1/api-keys/{Escape(id)}{(reason is null ? "" : "?reason=" + Uri.EscapeDataString(reason))}", null, retryable: true, null, cancellationToken);
}
