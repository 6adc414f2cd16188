using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using ForgeOne.Common;

namespace ForgeOne.Security;

/// <summary>What a member presents (its certificate with private key) and whom it trusts (the cluster's CAs).</summary>
/// <param name="Certificate">This member's certificate, with its private key.</param>
/// <param name="Authorities">The certificate authorities a peer's certificate must chain to.</param>
/// <param name="Source">Where it came from, for the start-up log (never key material).</param>
public sealed record ClusterTlsIdentity(X509Certificate2 Certificate, X509Certificate2Collection Authorities, string Source);

/// <summary>
/// The certificates members authenticate each other with. Two sources:
/// <list type="bullet">
/// <item><b>Configured</b> (production): a member certificate (PEM with its key, PEM + separate
/// key, or PKCS#12) and a PEM bundle of the CA certificates to trust.</item>
/// <item><b>Dev</b>: files in the keys directory. A storage node that finds no CA there creates
/// one (<c>cluster-ca.pem</c>: certificate and ECDSA P-256 key, 0600; <c>cluster-ca.crt</c>: the
/// certificate alone, to hand to members elsewhere). Every member then uses
/// <c>node.pem</c> (storage and edge roles) or <c>client.pem</c> (client role) from the same
/// directory, issued from that CA when missing, not issued by it, or within 30 days of expiry.</item>
/// </list>
/// Files holding a private key must be owner-only (0600), like the other key files.
/// </summary>
public static class ClusterCertificates
{
    /// <summary>Dev CA: certificate and private key.</summary>
    public const string CaKeyFile = "cluster-ca.pem";

    /// <summary>Dev CA: certificate only (what other machines' members need to trust the cluster).</summary>
    public const string CaCertificateFile = "cluster-ca.crt";

    /// <summary>Dev member certificate of storage and edge nodes.</summary>
    public const string NodeFile = "node.pem";

    /// <summary>Dev member certificate of actor clients.</summary>
    public const string ClientFile = "client.pem";

    private static readonly TimeSpan CaLifetime = TimeSpan.FromDays(3650);
    private static readonly TimeSpan MemberLifetime = TimeSpan.FromDays(365);
    private static readonly TimeSpan RenewBefore = TimeSpan.FromDays(30);

    /// <summary>
    /// Loads a configured identity: <paramref name="certificatePath"/> (PEM, with the key in the same
    /// file or in <paramref name="privateKeyPath"/>; or <c>.pfx</c>/<c>.p12</c> with
    /// <paramref name="password"/>) and the CA bundle <paramref name="caPath"/>.
    /// </summary>
    public static ClusterTlsIdentity LoadConfigured(string certificatePath, string? privateKeyPath, string? password, string caPath, TimeProvider time)
    {
        var certificate = LoadMember(certificatePath, privateKeyPath, password);
        var authorities = LoadAuthorities(caPath);
        RequireUsable(certificate, authorities, time, certificatePath);
        return new ClusterTlsIdentity(certificate, authorities, $"configured certificate {Path.GetFullPath(certificatePath)} (CA {Path.GetFullPath(caPath)})");
    }

    /// <summary>
    /// The dev identity from <paramref name="keysDirectory"/>: creates the CA when
    /// <paramref name="mayCreateCa"/> and there is none, and issues (or renews) the member
    /// certificate <paramref name="memberFile"/> when the CA's key is there.
    /// </summary>
    /// <param name="keysDirectory">The keys directory (created 0700 if missing).</param>
    /// <param name="dataRoot">Refused as a parent of the keys directory, like for the other keys.</param>
    /// <param name="clusterName">Named in the certificates' subjects.</param>
    /// <param name="memberFile"><see cref="NodeFile"/> or <see cref="ClientFile"/>.</param>
    /// <param name="hostnames">Host names and addresses put in a new certificate's subject alternative names.</param>
    /// <param name="mayCreateCa">True on storage nodes: only they found a cluster.</param>
    /// <param name="time">Clock for validity periods.</param>
    public static ClusterTlsIdentity LoadOrCreateDev(string keysDirectory, string? dataRoot, string clusterName, string memberFile, IEnumerable<string> hostnames, bool mayCreateCa, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        var directory = KeyFiles.PrepareDirectory(keysDirectory, dataRoot);
        var caKeyPath = Path.Combine(directory, CaKeyFile);
        var caCertPath = Path.Combine(directory, CaCertificateFile);
        if (!File.Exists(caKeyPath) && !File.Exists(caCertPath))
        {
            if (!mayCreateCa)
            {
                throw new ForgeOneException(ErrorCodes.TlsCertificateUnavailable,
                    $"No cluster CA in '{directory}' ({CaCertificateFile}): a member that is not a storage node does not create one. Point KeysDirectory at the cluster's dev keys directory, " +
                    $"issue a certificate with 'ForgeOne.Node certs issue', or configure ForgeOne:Tls:Certificate and ForgeOne:Tls:CaCertificate.");
            }

            // Losing the race to another node sharing the directory keeps that node's CA.
            KeyFiles.TryCreate(caKeyPath, Encoding.ASCII.GetBytes(CreateCa(clusterName, time)));
        }

        X509Certificate2? caWithKey = null;
        if (File.Exists(caKeyPath))
        {
            KeyFiles.CheckPermissions(caKeyPath);
            caWithKey = X509Certificate2.CreateFromPemFile(caKeyPath);
            KeyFiles.TryCreate(caCertPath, Encoding.ASCII.GetBytes(caWithKey.ExportCertificatePem() + "\n"));
        }

        var authorities = LoadAuthorities(caCertPath);
        var memberPath = Path.Combine(directory, memberFile);
        if (File.Exists(memberPath))
        {
            KeyFiles.CheckPermissions(memberPath);
            var existing = ToUsable(X509Certificate2.CreateFromPemFile(memberPath));
            var check = new PeerCertificateValidator(authorities, time).Check(existing);
            if (check.Accepted && existing.NotAfter.ToUniversalTime() - time.GetUtcNow().UtcDateTime > RenewBefore)
            {
                return new ClusterTlsIdentity(existing, authorities, $"dev certificate {memberPath} (dev CA {caCertPath})");
            }

            if (caWithKey is null)
            {
                throw new ForgeOneException(ErrorCodes.TlsCertificateInvalid,
                    $"Dev certificate '{memberPath}' is not usable ({(check.Accepted ? $"expires {existing.NotAfter:u}" : check.Detail)}) and the CA key is not in '{directory}' to issue another; issue one with 'ForgeOne.Node certs issue'.");
            }
        }
        else if (caWithKey is null)
        {
            throw new ForgeOneException(ErrorCodes.TlsCertificateUnavailable,
                $"No member certificate '{memberPath}' and no CA key in '{directory}' to issue one; issue one with 'ForgeOne.Node certs issue' or configure ForgeOne:Tls:Certificate.");
        }

        var role = memberFile == ClientFile ? "client" : "node";
        var pem = Issue(caWithKey!, clusterName, role, hostnames, time);
        WriteReplacing(memberPath, pem);
        return new ClusterTlsIdentity(ToUsable(X509Certificate2.CreateFromPem(pem, pem)), authorities, $"dev certificate {memberPath}, issued now (dev CA {caCertPath})");
    }

    /// <summary>
    /// Issues a member certificate from the dev CA in <paramref name="keysDirectory"/> into
    /// <paramref name="outputDirectory"/> (<paramref name="fileName"/>, 0600) with the CA's
    /// certificate beside it, for a member on another machine. Returns the written paths.
    /// </summary>
    public static (string Certificate, string Authority) IssueTo(string keysDirectory, string outputDirectory, string fileName, string clusterName, string role, IEnumerable<string> hostnames, TimeProvider time)
    {
        var caKeyPath = Path.Combine(Path.GetFullPath(keysDirectory), CaKeyFile);
        if (!File.Exists(caKeyPath))
        {
            throw new ForgeOneException(ErrorCodes.TlsCertificateUnavailable, $"No dev CA key '{caKeyPath}': start a storage node with this keys directory first (it creates the CA).");
        }

        KeyFiles.CheckPermissions(caKeyPath);
        var ca = X509Certificate2.CreateFromPemFile(caKeyPath);
        var output = KeyFiles.PrepareDirectory(outputDirectory, null);
        var certificate = Path.Combine(output, fileName);
        var authority = Path.Combine(output, CaCertificateFile);
        WriteReplacing(certificate, Issue(ca, clusterName, role, hostnames, time));
        WriteReplacing(authority, ca.ExportCertificatePem() + "\n");
        return (certificate, authority);
    }

    private static string CreateCa(string clusterName, TimeProvider time)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN=ForgeOne dev CA, O=ForgeOne cluster {clusterName}"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var now = time.GetUtcNow();
        using var ca = request.CreateSelfSigned(now.AddMinutes(-5), now.Add(CaLifetime));
        return ca.ExportCertificatePem() + "\n" + key.ExportPkcs8PrivateKeyPem() + "\n";
    }

    private static string Issue(X509Certificate2 ca, string clusterName, string role, IEnumerable<string> hostnames, TimeProvider time)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN=ForgeOne {role}, OU={role}, O=ForgeOne cluster {clusterName}"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));

        // Every member both accepts and dials connections.
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        var names = new SubjectAlternativeNameBuilder();
        foreach (var host in hostnames.Append("localhost").Append("127.0.0.1").Distinct(StringComparer.OrdinalIgnoreCase))
        {
            if (IPAddress.TryParse(host, out var address))
            {
                names.AddIpAddress(address);
            }
            else
            {
                names.AddDnsName(host);
            }
        }

        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var now = time.GetUtcNow();
        var notAfter = now.Add(MemberLifetime) < ca.NotAfter ? now.Add(MemberLifetime) : new DateTimeOffset(ca.NotAfter.ToUniversalTime());
        using var issued = request.Create(ca, now.AddMinutes(-5), notAfter, RandomNumberGenerator.GetBytes(16));
        return issued.ExportCertificatePem() + "\n" + key.ExportPkcs8PrivateKeyPem() + "\n";
    }

    private static X509Certificate2 LoadMember(string path, string? privateKeyPath, string? password)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new ForgeOneException(ErrorCodes.TlsCertificateUnavailable, $"Certificate file '{full}' (ForgeOne:Tls:Certificate) does not exist.");
        }

        try
        {
            if (full.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || full.EndsWith(".p12", StringComparison.OrdinalIgnoreCase))
            {
                KeyFiles.CheckPermissions(full);
                return X509CertificateLoader.LoadPkcs12FromFile(full, password);
            }

            var keyPath = privateKeyPath is null ? full : Path.GetFullPath(privateKeyPath);
            KeyFiles.CheckPermissions(keyPath);
            return ToUsable(X509Certificate2.CreateFromPemFile(full, privateKeyPath is null ? null : keyPath));
        }
        catch (CryptographicException e)
        {
            throw new ForgeOneException(ErrorCodes.TlsCertificateInvalid, $"Certificate '{full}' (ForgeOne:Tls:Certificate) could not be loaded with its private key: {e.Message}", e);
        }
    }

    private static X509Certificate2Collection LoadAuthorities(string path)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new ForgeOneException(ErrorCodes.TlsCertificateUnavailable, $"CA certificate file '{full}' does not exist.");
        }

        var authorities = new X509Certificate2Collection();
        try
        {
            authorities.ImportFromPemFile(full);
        }
        catch (CryptographicException e)
        {
            throw new ForgeOneException(ErrorCodes.TlsCertificateInvalid, $"CA certificate file '{full}' is not a PEM certificate bundle: {e.Message}", e);
        }

        return authorities.Count > 0
            ? authorities
            : throw new ForgeOneException(ErrorCodes.TlsCertificateInvalid, $"CA certificate file '{full}' holds no certificate.");
    }

    // A member that would be refused by its peers is refused here, at start, with the reason.
    private static void RequireUsable(X509Certificate2 certificate, X509Certificate2Collection authorities, TimeProvider time, string path)
    {
        if (!certificate.HasPrivateKey)
        {
            throw new ForgeOneException(ErrorCodes.TlsCertificateInvalid, $"Certificate '{path}' has no private key.");
        }

        var check = new PeerCertificateValidator(authorities, time).Check(certificate);
        if (!check.Accepted)
        {
            throw new ForgeOneException(ErrorCodes.TlsCertificateInvalid, $"Certificate '{path}' would be refused by the cluster's members ({check.Refusal}): {check.Detail}");
        }
    }

    // PEM-loaded keys are ephemeral; a PKCS#12 round trip gives SslStream a key it can use on every platform.
    private static X509Certificate2 ToUsable(X509Certificate2 certificate)
    {
        using (certificate)
        {
            return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
        }
    }

    // A renewed certificate replaces the old one atomically (temp file 0600, then rename).
    private static void WriteReplacing(string path, string pem)
    {
        var tmp = $"{path}.{Guid.NewGuid():N}.tmp";
        if (!KeyFiles.TryCreate(tmp, Encoding.ASCII.GetBytes(pem)))
        {
            throw new IOException($"Could not create '{tmp}'.");
        }

        File.Move(tmp, path, overwrite: true);
    }
}
