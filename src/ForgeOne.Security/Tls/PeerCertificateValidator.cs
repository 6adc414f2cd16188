using System.Security.Cryptography.X509Certificates;

namespace ForgeOne.Security;

/// <summary>Why a peer's certificate was refused (<see cref="None"/>: accepted).</summary>
public enum PeerRefusal
{
    /// <summary>Accepted.</summary>
    None = 0,

    /// <summary>The peer presented no certificate.</summary>
    NoCertificate,

    /// <summary>The certificate does not chain to one of the cluster's certificate authorities (self-signed, another CA, a bad signature).</summary>
    UntrustedChain,

    /// <summary>The certificate (or a certificate of its chain) is expired or not yet valid.</summary>
    OutsideValidity,

    /// <summary>The certificate's extended key usage does not allow both TLS client and server authentication.</summary>
    WrongKeyUsage,

    /// <summary>The certificate is itself a certificate authority: members present leaf certificates.</summary>
    CertificateAuthority,
}

/// <summary>The outcome of checking one peer certificate.</summary>
/// <param name="Refusal">Why it was refused, or <see cref="PeerRefusal.None"/>.</param>
/// <param name="Detail">Subject and reason, for the log line.</param>
public sealed record PeerCertificateCheck(PeerRefusal Refusal, string Detail)
{
    /// <summary>True when the peer may connect.</summary>
    public bool Accepted => Refusal == PeerRefusal.None;
}

/// <summary>
/// Decides whether a peer's TLS certificate makes it a member: it must chain to one of the
/// cluster's certificate authorities (and only to those: the machine's trust store plays no
/// part), be within its validity period, not be a CA itself, and allow both TLS client and
/// server authentication, because every member both dials and accepts connections. Host names
/// are not checked: members are addressed by IP and port, and one certificate may serve several
/// nodes sharing a keys directory. Revocation is not checked (the dev CA publishes no CRL).
/// </summary>
public sealed class PeerCertificateValidator
{
    private const string ServerAuth = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuth = "1.3.6.1.5.5.7.3.2";

    private readonly X509Certificate2Collection _authorities;
    private readonly TimeProvider _time;

    /// <summary>Creates a validator trusting exactly <paramref name="authorities"/>.</summary>
    public PeerCertificateValidator(X509Certificate2Collection authorities, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(authorities);
        if (authorities.Count == 0)
        {
            throw new ArgumentException("At least one certificate authority is needed.", nameof(authorities));
        }

        _authorities = authorities;
        _time = time;
    }

    /// <summary>Checks <paramref name="certificate"/>; <paramref name="presented"/> (the peer's chain, if any) supplies intermediates.</summary>
    public PeerCertificateCheck Check(X509Certificate2? certificate, X509Chain? presented = null)
    {
        if (certificate is null)
        {
            return new PeerCertificateCheck(PeerRefusal.NoCertificate, "no certificate presented");
        }

        var subject = certificate.Subject;
        if (certificate.Extensions.OfType<X509BasicConstraintsExtension>().Any(b => b.CertificateAuthority))
        {
            return new PeerCertificateCheck(PeerRefusal.CertificateAuthority, $"'{subject}' is a certificate authority, not a member certificate");
        }

        var usage = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault();
        if (usage is not null)
        {
            var oids = usage.EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>().Select(o => o.Value).ToHashSet(StringComparer.Ordinal);
            if (!oids.Contains(ServerAuth) || !oids.Contains(ClientAuth))
            {
                return new PeerCertificateCheck(PeerRefusal.WrongKeyUsage, $"'{subject}' does not allow both TLS client and server authentication");
            }
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.VerificationTime = _time.GetUtcNow().UtcDateTime;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements.Skip(1))
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        if (chain.Build(certificate))
        {
            return new PeerCertificateCheck(PeerRefusal.None, $"'{subject}' (issued by '{certificate.Issuer}')");
        }

        var statuses = chain.ChainStatus.Select(s => s.Status).ToArray();
        var refusal = statuses.Any(s => s is X509ChainStatusFlags.NotTimeValid or X509ChainStatusFlags.NotTimeNested) && !statuses.Any(s => s is X509ChainStatusFlags.UntrustedRoot or X509ChainStatusFlags.PartialChain or X509ChainStatusFlags.NotSignatureValid)
            ? PeerRefusal.OutsideValidity
            : PeerRefusal.UntrustedChain;
        return new PeerCertificateCheck(refusal, $"'{subject}' (issued by '{certificate.Issuer}'): {string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).DefaultIfEmpty(string.Join(",", statuses)))}");
    }
}
