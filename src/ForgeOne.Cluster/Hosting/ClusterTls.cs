using Akka.Event;
using Akka.Remote.Transport.DotNetty;
using ForgeOne.Security;

namespace ForgeOne.Cluster.Hosting;

/// <summary>
/// Mutual TLS for Akka remoting: which certificate this member presents and which peers it
/// accepts. Both sides of every connection present a certificate (DotNetty's mutual
/// authentication) and check the other's with <see cref="PeerCertificateValidator"/> against the
/// cluster's CA only, so a process without a certificate from that CA completes no handshake:
/// it cannot join, send to any actor (by selection or otherwise), or receive anything.
/// </summary>
public static class ClusterTls
{
    /// <summary>
    /// This member's identity from <paramref name="options"/>: the configured certificate and CA,
    /// or the dev ones in the keys directory (see <see cref="ClusterCertificates"/>). Null when
    /// TLS is off. Throws <see cref="Common.ForgeOneException"/> (<c>tls.*</c>) when the
    /// certificate cannot be used.
    /// </summary>
    public static ClusterTlsIdentity? Load(ForgeOneNodeOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        var tls = options.Tls;
        if (!tls.Enabled)
        {
            return null;
        }

        if (tls.Certificate is not null)
        {
            return ClusterCertificates.LoadConfigured(tls.Certificate, tls.PrivateKey, tls.CertificatePassword, tls.CaCertificate!, time);
        }

        var node = options.IsStorage || options.Roles.Contains(ForgeOneNodeOptions.EdgeRole, StringComparer.Ordinal);
        return ClusterCertificates.LoadOrCreateDev(
            options.KeysDirectoryFull,
            options.IsStorage ? options.DataRootFull : null,
            options.ClusterName,
            node ? ClusterCertificates.NodeFile : ClusterCertificates.ClientFile,
            new[] { options.Hostname, options.PublicHostname }.OfType<string>(),
            mayCreateCa: options.IsStorage,
            time);
    }

    /// <summary>The DotNetty setup presenting <paramref name="identity"/> and accepting only peers of its CA.</summary>
    public static DotNettySslSetup Setup(ClusterTlsIdentity identity, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(identity);
        var validator = new PeerCertificateValidator(identity.Authorities, time);
        return new DotNettySslSetup(
            identity.Certificate,
            suppressValidation: false,
            requireMutualAuthentication: true,
            validateCertificateHostname: false,
            customValidator: (certificate, chain, peer, _, log) =>
            {
                // The machine's trust store (and its SslPolicyErrors) plays no part: only the cluster's CA counts.
                var check = validator.Check(certificate, chain);
                if (!check.Accepted)
                {
                    log.Warning("Refused TLS peer {0}: {1} ({2})", peer, check.Refusal, check.Detail);
                }

                return check.Accepted;
            });
    }
}
