using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ForgeOne.Common;

namespace ForgeOne.Security.Tests;

/// <summary>Member certificates: the dev CA and its certificates, configured ones, and who a member accepts.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // owner-only key files are Unix modes
public sealed class ClusterCertificatesTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("forgeone-tls-").FullName;
    private readonly ManualTimeProvider _time = new(DateTimeOffset.UtcNow);

    private string Keys => Path.Combine(_root, "keys");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Dev_FirstStartCreatesTheCaAndANodeCertificate_OwnerOnly_OutsideTheDataRoot()
    {
        var identity = Dev(ClusterCertificates.NodeFile, mayCreateCa: true);

        foreach (var file in new[] { ClusterCertificates.CaKeyFile, ClusterCertificates.CaCertificateFile, ClusterCertificates.NodeFile })
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(Keys, file)));
        }

        Assert.True(identity.Certificate.HasPrivateKey);
        Assert.Contains("OU=node", identity.Certificate.Subject, StringComparison.Ordinal);
        var ca = Assert.Single(identity.Authorities);
        Assert.False(ca.HasPrivateKey); // the .crt a member elsewhere gets carries no key
        Assert.Equal(ca.Subject, identity.Certificate.Issuer);
        Assert.True(Validator(identity).Check(identity.Certificate).Accepted);

        var inside = Assert.Throws<ForgeOneException>(() => ClusterCertificates.LoadOrCreateDev(Path.Combine(_root, "data", "keys"), Path.Combine(_root, "data"), "forgeone", ClusterCertificates.NodeFile, [], true, _time));
        Assert.Equal(ErrorCodes.InvalidConfiguration, inside.Code);
    }

    [Fact]
    public void Dev_NextStart_ReusesTheSameCaAndCertificate()
    {
        var first = Dev(ClusterCertificates.NodeFile, mayCreateCa: true);
        var second = Dev(ClusterCertificates.NodeFile, mayCreateCa: true);
        Assert.Equal(first.Certificate.Thumbprint, second.Certificate.Thumbprint);
        Assert.Equal(first.Authorities[0].Thumbprint, second.Authorities[0].Thumbprint);
    }

    [Fact]
    public void Dev_AClientNeverCreatesACa_ButIssuesItselfACertificateFromTheClustersOne()
    {
        var refused = Assert.Throws<ForgeOneException>(() => Dev(ClusterCertificates.ClientFile, mayCreateCa: false));
        Assert.Equal(ErrorCodes.TlsCertificateUnavailable, refused.Code);
        Assert.False(File.Exists(Path.Combine(Keys, ClusterCertificates.CaKeyFile)));

        var node = Dev(ClusterCertificates.NodeFile, mayCreateCa: true);
        var client = Dev(ClusterCertificates.ClientFile, mayCreateCa: false);
        Assert.Contains("OU=client", client.Certificate.Subject, StringComparison.Ordinal);
        Assert.True(Validator(node).Check(client.Certificate).Accepted);
    }

    [Fact]
    public void Dev_RenewsACertificateWithinThirtyDaysOfExpiry()
    {
        var first = Dev(ClusterCertificates.NodeFile, mayCreateCa: true);
        _time.Advance(TimeSpan.FromDays(300));
        Assert.Equal(first.Certificate.Thumbprint, Dev(ClusterCertificates.NodeFile, mayCreateCa: true).Certificate.Thumbprint);
        _time.Advance(TimeSpan.FromDays(40));
        var renewed = Dev(ClusterCertificates.NodeFile, mayCreateCa: true);
        Assert.NotEqual(first.Certificate.Thumbprint, renewed.Certificate.Thumbprint);
        Assert.True(renewed.Certificate.NotAfter > _time.GetUtcNow().UtcDateTime.AddDays(300));
    }

    [Fact]
    public void Dev_RefusesAPrivateKeyFileOthersCanRead()
    {
        Dev(ClusterCertificates.NodeFile, mayCreateCa: true);
        File.SetUnixFileMode(Path.Combine(Keys, ClusterCertificates.NodeFile), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        Assert.Equal(ErrorCodes.CryptoKeyFileInsecure, Assert.Throws<ForgeOneException>(() => Dev(ClusterCertificates.NodeFile, mayCreateCa: true)).Code);
    }

    [Fact]
    public void Dev_ACertificateOfAnotherCa_IsReissuedFromThisOne()
    {
        var theirs = Path.Combine(_root, "other");
        var foreign = ClusterCertificates.LoadOrCreateDev(theirs, null, "forgeone", ClusterCertificates.NodeFile, [], true, _time);
        Dev(ClusterCertificates.NodeFile, mayCreateCa: true);
        File.Copy(Path.Combine(theirs, ClusterCertificates.NodeFile), Path.Combine(Keys, ClusterCertificates.NodeFile), overwrite: true);
        var mine = Dev(ClusterCertificates.NodeFile, mayCreateCa: true);
        Assert.NotEqual(foreign.Certificate.Thumbprint, mine.Certificate.Thumbprint);
        Assert.True(Validator(mine).Check(mine.Certificate).Accepted);
    }

    [Fact]
    public void Validator_RefusesEveryCertificateThatIsNotAMemberOfThisCluster()
    {
        var identity = Dev(ClusterCertificates.NodeFile, mayCreateCa: true);
        var validator = Validator(identity);

        Assert.Equal(PeerRefusal.NoCertificate, validator.Check(null).Refusal);

        // Self-signed, with the cluster CA's very subject: the signature does not verify.
        using var impostorKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var impostorRequest = MemberRequest(identity.Authorities[0].Subject, impostorKey);
        using var selfSigned = impostorRequest.CreateSelfSigned(_time.GetUtcNow().AddDays(-1), _time.GetUtcNow().AddDays(30));
        Assert.Equal(PeerRefusal.UntrustedChain, validator.Check(selfSigned).Refusal);

        // A genuine dev CA, but another cluster's.
        var other = ClusterCertificates.LoadOrCreateDev(Path.Combine(_root, "other"), null, "forgeone", ClusterCertificates.NodeFile, [], true, _time);
        Assert.Equal(PeerRefusal.UntrustedChain, validator.Check(other.Certificate).Refusal);

        // The cluster's CA certificate is not a member certificate.
        Assert.Equal(PeerRefusal.CertificateAuthority, validator.Check(identity.Authorities[0]).Refusal);

        // Issued by the cluster's CA, but only for TLS servers.
        using var caWithKey = X509Certificate2.CreateFromPemFile(Path.Combine(Keys, ClusterCertificates.CaKeyFile));
        using var serverOnlyKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var serverOnly = new CertificateRequest("CN=server only", serverOnlyKey, HashAlgorithmName.SHA256);
        serverOnly.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var serverCert = serverOnly.Create(caWithKey, _time.GetUtcNow(), _time.GetUtcNow().AddDays(30), [1, 2, 3]);
        Assert.Equal(PeerRefusal.WrongKeyUsage, validator.Check(serverCert).Refusal);

        // Expired: the same member certificate two years later.
        var later = new PeerCertificateValidator(identity.Authorities, new ManualTimeProvider(_time.GetUtcNow().AddDays(730)));
        Assert.Equal(PeerRefusal.OutsideValidity, later.Check(identity.Certificate).Refusal);
        Assert.True(validator.Check(identity.Certificate).Accepted);
    }

    [Fact]
    public void Configured_PemWithSeparateKey_AndPkcs12_AreLoaded_AndAForeignCertificateIsRefusedAtStart()
    {
        var dev = Dev(ClusterCertificates.NodeFile, mayCreateCa: true);
        var pem = File.ReadAllText(Path.Combine(Keys, ClusterCertificates.NodeFile));
        var certPath = Path.Combine(_root, "member.crt");
        var keyPath = Path.Combine(_root, "member.key");
        File.WriteAllText(certPath, pem[..(pem.IndexOf("-----END CERTIFICATE-----", StringComparison.Ordinal) + 25)]);
        File.WriteAllText(keyPath, pem[pem.IndexOf("-----BEGIN PRIVATE KEY-----", StringComparison.Ordinal)..]);
        File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var caPath = Path.Combine(Keys, ClusterCertificates.CaCertificateFile);

        var configured = ClusterCertificates.LoadConfigured(certPath, keyPath, null, caPath, _time);
        Assert.Equal(dev.Certificate.Thumbprint, configured.Certificate.Thumbprint);
        Assert.True(configured.Certificate.HasPrivateKey);

        var pfx = Path.Combine(_root, "member.pfx");
        File.WriteAllBytes(pfx, dev.Certificate.Export(X509ContentType.Pkcs12, "s3cret"));
        File.SetUnixFileMode(pfx, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.Equal(dev.Certificate.Thumbprint, ClusterCertificates.LoadConfigured(pfx, null, "s3cret", caPath, _time).Certificate.Thumbprint);

        var other = Path.Combine(_root, "other");
        ClusterCertificates.LoadOrCreateDev(other, null, "forgeone", ClusterCertificates.NodeFile, [], true, _time);
        var foreign = Assert.Throws<ForgeOneException>(() => ClusterCertificates.LoadConfigured(Path.Combine(other, ClusterCertificates.NodeFile), null, null, caPath, _time));
        Assert.Equal(ErrorCodes.TlsCertificateInvalid, foreign.Code);
        Assert.Equal(ErrorCodes.TlsCertificateUnavailable, Assert.Throws<ForgeOneException>(() => ClusterCertificates.LoadConfigured(Path.Combine(_root, "missing.pem"), null, null, caPath, _time)).Code);
    }

    [Fact]
    public void IssueTo_WritesAClientCertificateAndTheCaForAMemberElsewhere()
    {
        var node = Dev(ClusterCertificates.NodeFile, mayCreateCa: true);
        var output = Path.Combine(_root, "client-certs");
        var (certificate, authority) = ClusterCertificates.IssueTo(Keys, output, ClusterCertificates.ClientFile, "forgeone", "client", ["app-host"], _time);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(certificate));

        // That directory alone is a client's keys directory: no CA key in it, none needed.
        var client = ClusterCertificates.LoadOrCreateDev(output, null, "forgeone", ClusterCertificates.ClientFile, [], mayCreateCa: false, _time);
        Assert.Equal(Path.Combine(output, ClusterCertificates.CaCertificateFile), authority);
        Assert.False(File.Exists(Path.Combine(output, ClusterCertificates.CaKeyFile)));
        Assert.True(Validator(node).Check(client.Certificate).Accepted);
    }

    private ClusterTlsIdentity Dev(string file, bool mayCreateCa) =>
        ClusterCertificates.LoadOrCreateDev(Keys, Path.Combine(_root, "data"), "forgeone", file, ["127.0.0.1"], mayCreateCa, _time);

    private PeerCertificateValidator Validator(ClusterTlsIdentity identity) => new(identity.Authorities, _time);

    private static CertificateRequest MemberRequest(string subject, ECDsa key)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        return request;
    }
}
