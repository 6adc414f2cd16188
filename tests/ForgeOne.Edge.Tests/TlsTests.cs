using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ForgeOne.Cluster.Hosting;

namespace ForgeOne.Edge.Tests;

/// <summary>
/// HTTPS by configuration: the edge serves the API over TLS with a PEM certificate and key, a
/// client that pins another certificate is refused at the handshake, plain HTTP on the TLS port
/// gets no answer from the API, and plain HTTP off loopback is a configuration error.
/// </summary>
[Collection(EdgeCollection.Name)]
public sealed class TlsTests(EdgeFixture fx) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("forgeone-edge-tls-").FullName;

    [Fact]
    public async Task Https_ServesTheApiWithThePemCertificate_AndOnlyThatCertificate()
    {
        using var certificate = SelfSigned("127.0.0.1");
        var (certPath, keyPath) = WritePem(certificate, "edge");
        await using var server = await fx.StartServerAsync(o =>
        {
            o.CertificatePath = certPath;
            o.CertificateKeyPath = keyPath;
        });
        Assert.Equal("https", server.BaseAddress.Scheme);

        using var pinned = Pinned(server.BaseAddress, certificate);
        pinned.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", fx.AdminKey);
        Assert.Equal(HttpStatusCode.OK, (await pinned.GetAsync("/healthz")).StatusCode);
        var topic = Http.Unique("tls.topic");
        Assert.Equal(HttpStatusCode.Created, (await pinned.PostJsonAsync($"/v1/logs/{topic}", """{"severity":"info","message":"over tls"}""")).StatusCode);
        Assert.Equal(1, (await (await pinned.GetAsync($"/v1/logs/{topic}/count")).ReadAsync<Common.Api.LogCount>()).Count);

        // A client expecting another server's certificate does not complete the handshake.
        using var other = SelfSigned("127.0.0.1");
        using var wrong = Pinned(server.BaseAddress, other);
        await Assert.ThrowsAsync<HttpRequestException>(() => wrong.GetAsync("/healthz"));

        // Plain HTTP to the TLS port reaches no endpoint.
        using var plain = new HttpClient { BaseAddress = new UriBuilder(server.BaseAddress) { Scheme = "http" }.Uri };
        HttpResponseMessage? answer = null;
        try
        {
            answer = await plain.GetAsync("/healthz");
        }
        catch (HttpRequestException)
        {
            // Kestrel closed the connection: the expected outcome.
        }

        Assert.True(answer is null || !answer.IsSuccessStatusCode, $"plain HTTP got {(int?)answer?.StatusCode}");
    }

    [Fact]
    public void PlainHttpOffLoopback_IsAConfigurationError_UnlessCertificateOrOptOut()
    {
        var error = Assert.Single(new EdgeOptions { Hostname = "0.0.0.0" }.ValidateForServer());
        Assert.Contains("ForgeOne:Edge:CertificatePath", error, StringComparison.Ordinal);
        Assert.Empty(new EdgeOptions { Hostname = "0.0.0.0", AllowPlainHttp = true }.ValidateForServer());
        Assert.Empty(new EdgeOptions { Hostname = "127.0.0.1" }.ValidateForServer());

        using var certificate = SelfSigned("127.0.0.1");
        var (certPath, keyPath) = WritePem(certificate, "any");
        Assert.Empty(new EdgeOptions { Hostname = "0.0.0.0", CertificatePath = certPath, CertificateKeyPath = keyPath }.ValidateForServer());
        Assert.Contains(new EdgeOptions { Hostname = "127.0.0.1", CertificatePath = Path.Combine(_dir, "missing.pem") }.ValidateForServer(),
            e => e.Contains("does not exist", StringComparison.Ordinal));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static X509Certificate2 SelfSigned(string ip)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=forgeone-edge-test", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Parse(ip));
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }

    private (string Certificate, string Key) WritePem(X509Certificate2 certificate, string name)
    {
        var certPath = Path.Combine(_dir, name + ".crt");
        var keyPath = Path.Combine(_dir, name + ".key");
        File.WriteAllText(certPath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        return (certPath, keyPath);
    }

    // Trusts exactly one certificate (by its raw bytes), as a client pinning the edge's would.
    private static HttpClient Pinned(Uri baseAddress, X509Certificate2 expected) =>
        new(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, presented, _, _) => presented is not null && presented.RawData.AsSpan().SequenceEqual(expected.RawData) })
        {
            BaseAddress = baseAddress,
        };
}
