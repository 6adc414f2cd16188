using System.Security.Claims;
using System.Security.Cryptography;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Common;
using ForgeOne.Security;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ForgeOne.Edge.Auth;

/// <summary>
/// Validates JWT bearer tokens (HS256 with a shared secret or RS256 with the issuer's public
/// key, by configuration): the signature with exactly the configured algorithm (so an
/// <c>alg: none</c> or an HS256 token signed with an RSA public key is refused), issuer,
/// audience, expiry and not-before within the clock skew. Claims become the principal through the
/// configured claim names.
/// </summary>
public sealed class JwtAuthenticator : IDisposable
{
    private readonly EdgeJwtOptions _options;
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly TokenValidationParameters _parameters;
    private readonly RSA? _rsa;

    /// <summary>An authenticator for <paramref name="options"/> (validated: <see cref="EdgeJwtOptions.Enabled"/>).</summary>
    public JwtAuthenticator(EdgeJwtOptions options)
    {
        _options = options;
        SecurityKey key;
        if (options.Algorithm == SecurityAlgorithms.RsaSha256)
        {
            _rsa = RSA.Create();
            _rsa.ImportFromPem(File.ReadAllText(options.PublicKeyFile!));
            key = new RsaSecurityKey(_rsa);
        }
        else
        {
            var secret = options.SecretFile is not null ? File.ReadAllBytes(options.SecretFile) : Convert.FromBase64String(options.Secret!);
            if (secret.Length < 32)
            {
                throw new ForgeOneException(ErrorCodes.InvalidConfiguration, "ForgeOne:Edge:Jwt: the HS256 secret must be at least 32 bytes.");
            }

            key = new SymmetricSecurityKey(secret);
        }

        _parameters = new TokenValidationParameters
        {
            ValidIssuer = options.Issuer,
            ValidAudience = options.Audience,
            IssuerSigningKey = key,
            ValidAlgorithms = [options.Algorithm!],
            ValidateIssuer = true,
            ValidateAudience = true,
            ValidateLifetime = true,
            ValidateIssuerSigningKey = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ClockSkew = options.ClockSkew,
            NameClaimType = options.SubjectClaim,
        };
    }

    /// <summary>The principal of <paramref name="token"/>; throws <c>auth.unauthenticated</c> naming what failed.</summary>
    public async ValueTask<EdgePrincipal> AuthenticateAsync(string token)
    {
        var result = await _handler.ValidateTokenAsync(token, _parameters).ConfigureAwait(false);
        if (!result.IsValid)
        {
            throw new ForgeOneException(ErrorCodes.Unauthenticated, "The bearer token was refused: " + Reason(result.Exception));
        }

        var identity = result.ClaimsIdentity;
        var subject = identity.FindFirst(_options.SubjectClaim)?.Value;
        if (string.IsNullOrWhiteSpace(subject))
        {
            throw new ForgeOneException(ErrorCodes.Unauthenticated, $"The bearer token has no '{_options.SubjectClaim}' claim.");
        }

        var roles = Values(identity, _options.RolesClaim)
            .Select(r => _options.RoleMap.TryGetValue(r, out var mapped) ? mapped : r)
            .Distinct(StringComparer.Ordinal)
            .ToArray();
        var tenant = identity.FindFirst(_options.TenantClaim)?.Value;
        var regions = Values(identity, _options.RegionsClaim).Distinct(StringComparer.Ordinal).ToArray();
        var clearanceText = identity.FindFirst(_options.ClearanceClaim)?.Value;
        var clearance = 0;
        if (clearanceText is not null && (!int.TryParse(clearanceText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out clearance) || clearance > 1000))
        {
            throw new ForgeOneException(ErrorCodes.Unauthenticated, $"The bearer token's '{_options.ClearanceClaim}' claim is not an integer 0..1000.");
        }

        var principal = Principal.Of(subject, roles, string.IsNullOrWhiteSpace(tenant) ? null : tenant, regions, clearance);
        return new EdgePrincipal(principal, EdgePrincipal.JwtMethod, $"jwt:{subject}");
    }

    /// <inheritdoc />
    public void Dispose() => _rsa?.Dispose();

    // A claim given as a JSON array arrives as one claim per element; a string may hold several
    // space-separated values (the OAuth "scope" convention).
    private static IEnumerable<string> Values(ClaimsIdentity identity, string type) =>
        identity.FindAll(type).SelectMany(c => c.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static string Reason(Exception? e) => e switch
    {
        SecurityTokenExpiredException => "it has expired.",
        SecurityTokenNotYetValidException => "it is not valid yet.",
        SecurityTokenInvalidAudienceException => "wrong audience.",
        SecurityTokenInvalidIssuerException => "wrong issuer.",
        SecurityTokenNoExpirationException => "it has no expiry.",
        SecurityTokenInvalidAlgorithmException => "signed with an algorithm this edge does not accept.",
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "the signature does not verify.",
        SecurityTokenMalformedException => "it is not a well-formed JWT.",
        _ => "it is not valid.",
    };
}
