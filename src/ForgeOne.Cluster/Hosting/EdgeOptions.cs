using System.Net;

namespace ForgeOne.Cluster.Hosting;

/// <summary>
/// The HTTP edge (<c>ForgeOne:Edge</c>), served by nodes with the <c>edge</c> role. Plain HTTP is
/// allowed on a loopback address only, unless a certificate is configured (TLS) or
/// <see cref="AllowPlainHttp"/> says the network in front of the node terminates TLS.
/// </summary>
public sealed class EdgeOptions
{
    /// <summary>Address the edge listens on.</summary>
    public string Hostname { get; set; } = "127.0.0.1";

    /// <summary>Port the edge listens on (0: a free one, tests).</summary>
    public int Port { get; set; } = 8080;

    /// <summary>PEM certificate (or PKCS#12 <c>.pfx</c>) for HTTPS; null: plain HTTP.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>PEM private key of <see cref="CertificatePath"/> (null when the key is inside it).</summary>
    public string? CertificateKeyPath { get; set; }

    /// <summary>Password of a <c>.pfx</c> certificate or of an encrypted PEM key.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>Serve plain HTTP on a non-loopback address (only behind a TLS-terminating proxy or on a private container network).</summary>
    public bool AllowPlainHttp { get; set; }

    /// <summary>Largest JSON request body (a batch append, a setting).</summary>
    public long MaxJsonBodyBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>Largest NDJSON bulk append body.</summary>
    public long MaxBulkBodyBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Largest blob upload.</summary>
    public long MaxBlobBytes { get; set; } = 64L * 1024 * 1024 * 1024;

    /// <summary>How long one request waits for the cluster's reply.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Events in flight per SSE subscription (back-pressure: a slow reader holds at most this many).</summary>
    public int SubscriptionWindow { get; set; } = 256;

    /// <summary>Interval of SSE keep-alive comments on an idle subscription.</summary>
    public TimeSpan SubscriptionHeartbeat { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Per-principal rate limits.</summary>
    public EdgeRateLimitOptions RateLimit { get; set; } = new();

    /// <summary>JWT bearer authentication (off unless an algorithm is set).</summary>
    public EdgeJwtOptions Jwt { get; set; } = new();

    /// <summary>True when <see cref="Hostname"/> is a loopback address (or <c>localhost</c>).</summary>
    public bool IsLoopback =>
        string.Equals(Hostname, "localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(Hostname, out var ip) && IPAddress.IsLoopback(ip));

    /// <summary>Every problem with these options (as the node validator reports them), for a server built outside the node.</summary>
    public IReadOnlyList<string> ValidateForServer() => [.. Validate()];

    internal IEnumerable<string> Validate()
    {
        if (Port is < 0 or > 65535)
        {
            yield return $"ForgeOne:Edge:Port {Port} must be 0..65535.";
        }

        if (string.IsNullOrWhiteSpace(Hostname) || (!IPAddress.TryParse(Hostname, out _) && !string.Equals(Hostname, "localhost", StringComparison.OrdinalIgnoreCase)))
        {
            yield return $"ForgeOne:Edge:Hostname '{Hostname}' must be an IP address (0.0.0.0 for every interface) or localhost.";
        }
        else if (CertificatePath is null && !IsLoopback && !AllowPlainHttp)
        {
            yield return $"ForgeOne:Edge:Hostname '{Hostname}' is not a loopback address: set ForgeOne:Edge:CertificatePath (HTTPS), or ForgeOne:Edge:AllowPlainHttp=true when a proxy in front terminates TLS.";
        }

        if (CertificatePath is not null && !File.Exists(CertificatePath))
        {
            yield return $"ForgeOne:Edge:CertificatePath '{CertificatePath}' does not exist.";
        }

        if (CertificateKeyPath is not null && !File.Exists(CertificateKeyPath))
        {
            yield return $"ForgeOne:Edge:CertificateKeyPath '{CertificateKeyPath}' does not exist.";
        }

        foreach (var (name, value) in new[] { ("MaxJsonBodyBytes", MaxJsonBodyBytes), ("MaxBulkBodyBytes", MaxBulkBodyBytes), ("MaxBlobBytes", MaxBlobBytes) })
        {
            if (value < 1024)
            {
                yield return $"ForgeOne:Edge:{name} {value} must be at least 1024.";
            }
        }

        if (RequestTimeout < TimeSpan.FromMilliseconds(100) || RequestTimeout > TimeSpan.FromMinutes(10))
        {
            yield return $"ForgeOne:Edge:RequestTimeout {RequestTimeout} must be 100ms..10min.";
        }

        if (SubscriptionWindow is < 1 or > 10_000)
        {
            yield return $"ForgeOne:Edge:SubscriptionWindow {SubscriptionWindow} must be 1..10000.";
        }

        if (SubscriptionHeartbeat < TimeSpan.FromMilliseconds(100))
        {
            yield return $"ForgeOne:Edge:SubscriptionHeartbeat {SubscriptionHeartbeat} must be at least 100ms.";
        }

        foreach (var e in RateLimit.Validate())
        {
            yield return e;
        }

        foreach (var e in Jwt.Validate())
        {
            yield return e;
        }
    }
}

/// <summary>
/// Per-principal token buckets: each authenticated principal (and each client address before
/// it authenticates) may make <see cref="RequestsPerSecond"/> requests per second on average and
/// <see cref="Burst"/> at once.
/// </summary>
public sealed class EdgeRateLimitOptions
{
    /// <summary>False: no rate limit (benchmarks).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Sustained requests per second per principal.</summary>
    public int RequestsPerSecond { get; set; } = 1000;

    /// <summary>Bucket size: requests a principal may make at once after being idle.</summary>
    public int Burst { get; set; } = 2000;

    internal IEnumerable<string> Validate()
    {
        if (RequestsPerSecond < 1)
        {
            yield return $"ForgeOne:Edge:RateLimit:RequestsPerSecond {RequestsPerSecond} must be at least 1.";
        }

        if (Burst < 1)
        {
            yield return $"ForgeOne:Edge:RateLimit:Burst {Burst} must be at least 1.";
        }
    }
}

/// <summary>
/// JWT bearer tokens: the signature (HS256 with a shared secret, or RS256 with the issuer's
/// public key), issuer, audience and expiry are validated; claims map to a principal by the
/// claim names configured here.
/// </summary>
public sealed class EdgeJwtOptions
{
    /// <summary><c>HS256</c> or <c>RS256</c>; null: JWTs are not accepted.</summary>
    public string? Algorithm { get; set; }

    /// <summary>The required <c>iss</c>.</summary>
    public string? Issuer { get; set; }

    /// <summary>The required <c>aud</c>.</summary>
    public string? Audience { get; set; }

    /// <summary>HS256: file holding the shared secret (raw bytes, at least 32).</summary>
    public string? SecretFile { get; set; }

    /// <summary>HS256: the shared secret, base64 (at least 32 bytes); prefer <see cref="SecretFile"/> or the environment.</summary>
    public string? Secret { get; set; }

    /// <summary>RS256: the issuer's public key (PEM).</summary>
    public string? PublicKeyFile { get; set; }

    /// <summary>Allowed clock difference for <c>exp</c> and <c>nbf</c>.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Claim holding the principal id.</summary>
    public string SubjectClaim { get; set; } = "sub";

    /// <summary>Claim holding the roles (a JSON array or a space-separated string).</summary>
    public string RolesClaim { get; set; } = "roles";

    /// <summary>Claim holding the tenant.</summary>
    public string TenantClaim { get; set; } = "tenant";

    /// <summary>Claim holding the residency regions (array or space-separated).</summary>
    public string RegionsClaim { get; set; } = "regions";

    /// <summary>Claim holding the clearance (an integer).</summary>
    public string ClearanceClaim { get; set; } = "clearance";

    /// <summary>Maps role names of the identity provider to ForgeOne roles (unmapped names pass through unchanged).</summary>
    public Dictionary<string, string> RoleMap { get; set; } = [];

    /// <summary>True when JWTs are accepted.</summary>
    public bool Enabled => Algorithm is not null;

    internal IEnumerable<string> Validate()
    {
        if (Algorithm is null)
        {
            yield break;
        }

        if (Algorithm is not ("HS256" or "RS256"))
        {
            yield return $"ForgeOne:Edge:Jwt:Algorithm '{Algorithm}' must be HS256 or RS256.";
            yield break;
        }

        if (string.IsNullOrWhiteSpace(Issuer) || string.IsNullOrWhiteSpace(Audience))
        {
            yield return "ForgeOne:Edge:Jwt:Issuer and ForgeOne:Edge:Jwt:Audience must be set when JWTs are accepted.";
        }

        if (Algorithm == "HS256")
        {
            if ((Secret is null) == (SecretFile is null))
            {
                yield return "ForgeOne:Edge:Jwt: HS256 needs exactly one of Secret (base64) or SecretFile.";
            }
            else if (SecretFile is not null && !File.Exists(SecretFile))
            {
                yield return $"ForgeOne:Edge:Jwt:SecretFile '{SecretFile}' does not exist.";
            }
            else if (Secret is not null && !IsLongBase64(Secret))
            {
                yield return "ForgeOne:Edge:Jwt:Secret must be base64 of at least 32 bytes.";
            }
        }
        else if (PublicKeyFile is null || !File.Exists(PublicKeyFile))
        {
            yield return $"ForgeOne:Edge:Jwt:PublicKeyFile '{PublicKeyFile}' must name the issuer's RSA public key (PEM).";
        }

        if (ClockSkew < TimeSpan.Zero || ClockSkew > TimeSpan.FromMinutes(10))
        {
            yield return $"ForgeOne:Edge:Jwt:ClockSkew {ClockSkew} must be 0..10 minutes.";
        }
    }

    private static bool IsLongBase64(string value)
    {
        var buffer = new byte[value.Length];
        return Convert.TryFromBase64String(value, buffer, out var n) && n >= 32;
    }
}
