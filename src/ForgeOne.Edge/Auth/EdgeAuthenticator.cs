using ForgeOne.Common;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace ForgeOne.Edge.Auth;

/// <summary>
/// Reads a request's credential and authenticates it: <c>Authorization: Bearer &lt;credential&gt;</c>
/// or <c>X-Api-Key: &lt;key&gt;</c>. A credential starting with <c>fo_</c> is an API key; anything
/// else after <c>Bearer</c> must be a JWT (when JWTs are configured). Every refusal is
/// <c>auth.unauthenticated</c> (401) with a reason that never echoes the credential.
/// </summary>
public sealed class EdgeAuthenticator
{
    /// <summary>The API-key header.</summary>
    public const string ApiKeyHeader = "X-Api-Key";

    /// <summary>Prefix of every ForgeOne API key (<c>fo_live_...</c>, and the bootstrap admin key's <c>fo_admin_...</c>).</summary>
    public const string ApiKeyPrefix = "fo_";

    private const int MaxCredentialLength = 8 * 1024;

    private readonly IApiKeyVerifier _apiKeys;
    private readonly JwtAuthenticator? _jwt;

    /// <summary>Authenticates API keys through <paramref name="apiKeys"/> and, when given, JWTs through <paramref name="jwt"/>.</summary>
    public EdgeAuthenticator(IApiKeyVerifier apiKeys, JwtAuthenticator? jwt)
    {
        _apiKeys = apiKeys;
        _jwt = jwt;
    }

    /// <summary>The principal of <paramref name="request"/>'s credential; throws <c>auth.unauthenticated</c>.</summary>
    public async ValueTask<EdgePrincipal> AuthenticateAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var credential = Credential(request);
        if (credential.StartsWith(ApiKeyPrefix, StringComparison.Ordinal))
        {
            return await _apiKeys.VerifyAsync(credential, cancellationToken).ConfigureAwait(false);
        }

        if (_jwt is null)
        {
            throw Refused("The credential is not an API key (fo_...) and this edge accepts no JWTs.");
        }

        return await _jwt.AuthenticateAsync(credential).ConfigureAwait(false);
    }

    private static string Credential(HttpRequest request)
    {
        var authorization = request.Headers[HeaderNames.Authorization];
        var apiKey = request.Headers[ApiKeyHeader];
        if (authorization.Count + apiKey.Count == 0)
        {
            throw Refused("No credentials: send Authorization: Bearer <API key or JWT>, or X-Api-Key: <API key>.");
        }

        if (authorization.Count + apiKey.Count > 1)
        {
            throw Refused("More than one credential was sent; send exactly one.");
        }

        string value;
        if (apiKey.Count == 1)
        {
            value = apiKey[0]!.Trim();
            if (!value.StartsWith(ApiKeyPrefix, StringComparison.Ordinal))
            {
                throw Refused("The X-Api-Key header does not hold a ForgeOne API key (fo_...).");
            }
        }
        else
        {
            var header = authorization[0]!;
            var space = header.IndexOf(' ', StringComparison.Ordinal);
            if (space <= 0 || !header.AsSpan(0, space).Equals("Bearer", StringComparison.OrdinalIgnoreCase))
            {
                throw Refused("The Authorization header must be 'Bearer <credential>'.");
            }

            value = header[(space + 1)..].Trim();
        }

        if (value.Length == 0 || value.Length > MaxCredentialLength || value.Any(c => c <= ' ' || c > '~'))
        {
            throw Refused("The credential is empty, too long or contains characters no credential has.");
        }

        return value;
    }

    private static ForgeOneException Refused(string reason) => new(ErrorCodes.Unauthenticated, reason);
}
