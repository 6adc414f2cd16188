using System.Security.Cryptography;
using System.Text;
using ForgeOne.Common;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ForgeOne.Security;

/// <summary>
/// Signs seals with the ECDSA P-256 audit key. The key lives in the keys directory
/// (<c>audit-signing.key</c>, PKCS#8 PEM, 0600, created on first use), outside the data root
/// and its backups; verifiers get only <see cref="ExportPublicKeyPem"/>. Thread-safe.
/// </summary>
public sealed class AuditSigner : IDisposable
{
    /// <summary>File name of the signing key in the keys directory.</summary>
    public const string KeyFileName = "audit-signing.key";

    private readonly ECDsa _key;
    private readonly Lock _lock = new();

    private AuditSigner(ECDsa key)
    {
        if (key.KeySize != 256 || key.ExportParameters(false).Curve.Oid.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
        {
            throw new ForgeOneException(ErrorCodes.CryptoKeyUnavailable, "the audit signing key must be ECDSA P-256");
        }

        _key = key;
        KeyId = SealCodec.KeyIdOf(key.ExportSubjectPublicKeyInfo());
        PublicKeyFingerprint = Convert.ToHexStringLower(KeyId);
    }

    /// <summary>First 16 bytes of SHA-256(SubjectPublicKeyInfo), hex: identifies the key in logs and evidence.</summary>
    public string PublicKeyFingerprint { get; }

    /// <summary>The key id every seal it signs carries (<see cref="PublicKeyFingerprint"/> as bytes).</summary>
    public byte[] KeyId { get; }

    /// <summary>True when <paramref name="keysDirectory"/> holds a signing key file.</summary>
    public static bool Exists(string keysDirectory) => File.Exists(Path.Combine(Path.GetFullPath(keysDirectory), KeyFileName));

    /// <summary>
    /// Loads <c>audit-signing.key</c>, which must exist: a cluster that has seals never gets a new
    /// key silently (seals made under it would not verify with the key auditors hold). Missing:
    /// <c>audit.signing_key_missing</c>.
    /// </summary>
    public static AuditSigner Load(string keysDirectory, string? dataRoot = null, ILogger? logger = null)
    {
        var directory = KeyFiles.PrepareDirectory(keysDirectory, dataRoot);
        var path = Path.Combine(directory, KeyFileName);
        if (!File.Exists(path))
        {
            throw new ForgeOneException(ErrorCodes.AuditSigningKeyMissing, $"the audit signing key '{path}' is missing; restore it from its backup (a new key would not verify the seals already written)");
        }

        return LoadOrCreate(keysDirectory, dataRoot, logger);
    }

    /// <summary>Loads <c>audit-signing.key</c> from <paramref name="keysDirectory"/>, creating it (0600) on first use.</summary>
    public static AuditSigner LoadOrCreate(string keysDirectory, string? dataRoot = null, ILogger? logger = null)
    {
        logger ??= NullLogger.Instance;
        var directory = KeyFiles.PrepareDirectory(keysDirectory, dataRoot);
        var path = Path.Combine(directory, KeyFileName);
        if (!File.Exists(path))
        {
            using var fresh = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var pem = Encoding.ASCII.GetBytes(fresh.ExportPkcs8PrivateKeyPem());
            try
            {
                if (KeyFiles.TryCreate(path, pem))
                {
                    Log.SigningKeyCreated(logger, path, SealCodec.Fingerprint(fresh.ExportSubjectPublicKeyInfo()));
                }
            }
            finally
            {
                CryptographicOperations.ZeroMemory(pem);
            }
        }

        var bytes = KeyFiles.Read(path);
        try
        {
            var signer = FromPem(Encoding.ASCII.GetString(bytes));
            Log.SigningKeyLoaded(logger, path, signer.PublicKeyFingerprint);
            return signer;
        }
        catch (ForgeOneException e)
        {
            throw new ForgeOneException(e.Code, $"audit signing key '{path}': {e.Error.Message}");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>
    /// The signing key for a cluster whose seals are (also) in <paramref name="seals"/>: when the
    /// store holds seals the key must exist (<c>audit.signing_key_missing</c>) and be the one that
    /// signed the newest of them (<c>audit.signing_key_mismatch</c>); a key is created only for a
    /// cluster that has never sealed.
    /// </summary>
    public static AuditSigner LoadFor(ISealStore? seals, string keysDirectory, string? dataRoot = null, ILogger? logger = null)
    {
        var latest = seals?.Latest();
        if (latest is null)
        {
            return LoadOrCreate(keysDirectory, dataRoot, logger);
        }

        var signer = Load(keysDirectory, dataRoot, logger);
        if (latest.KeyId is { } keyId && !keyId.AsSpan().SequenceEqual(signer.KeyId))
        {
            signer.Dispose();
            throw new ForgeOneException(ErrorCodes.AuditSigningKeyMismatch,
                $"the audit signing key in '{keysDirectory}' ({signer.PublicKeyFingerprint}) did not sign the cluster's seals (seal {latest.Number} in {seals!.Name} names key {latest.KeyIdHex}); restore the key that did");
        }

        return signer;
    }

    /// <summary>A signer from a PKCS#8 (or SEC1) private key PEM.</summary>
    public static AuditSigner FromPem(string privateKeyPem)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(privateKeyPem);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            key.Dispose();
            // The exception text of the importer is not echoed: it may quote the input.
            throw new ForgeOneException(ErrorCodes.CryptoKeyUnavailable, "the audit signing key is not a valid EC private key PEM");
        }

        return new AuditSigner(key);
    }

    /// <summary>A signer with a fresh in-memory key (tests, ephemeral clusters).</summary>
    public static AuditSigner Generate() => new(ECDsa.Create(ECCurve.NamedCurves.nistP256));

    /// <summary>The public key (SubjectPublicKeyInfo PEM) for verifiers.</summary>
    public string ExportPublicKeyPem()
    {
        lock (_lock)
        {
            return _key.ExportSubjectPublicKeyInfoPem();
        }
    }

    /// <summary>
    /// Makes the seal that follows <paramref name="previous"/> (null for seal 1): heads,
    /// incarnations and failures are sorted by shard id, the Merkle root and previous-seal hash
    /// computed, the key id set and the result signed. Format 3 when <paramref name="treeRoots"/>
    /// is given (one RFC 6962 root of its audit records per head), format 2 otherwise.
    /// </summary>
    /// <param name="previous">The last seal written, or null.</param>
    /// <param name="time">Sealing time.</param>
    /// <param name="heads">The heads sealed (one per shard).</param>
    /// <param name="failed">Shards left out, with the reason.</param>
    /// <param name="newIncarnations">Shards among <paramref name="heads"/> that start a new incarnation (authorized rewind).</param>
    /// <param name="treeRoots">Per shard id of a head: the root of its audit records 1..seq.</param>
    public Seal CreateSeal(Seal? previous, DateTimeOffset time, IEnumerable<ChainHead> heads, IEnumerable<SealedShardFailure>? failed = null, IEnumerable<string>? newIncarnations = null,
        IReadOnlyDictionary<string, byte[]>? treeRoots = null)
    {
        ArgumentNullException.ThrowIfNull(heads);
        var sorted = heads.OrderBy(h => h.ShardId, StringComparer.Ordinal).ToArray();
        var failures = (failed ?? []).OrderBy(f => f.ShardId, StringComparer.Ordinal).ToArray();
        var incarnations = (newIncarnations ?? []).Order(StringComparer.Ordinal).ToArray();
        string[] ids = [.. sorted.Select(h => h.ShardId), .. failures.Select(f => f.ShardId)];
        if (ids.Distinct(StringComparer.Ordinal).Count() != ids.Length)
        {
            throw new ForgeOneException(ErrorCodes.InvalidArgument, "a shard appears twice in one seal (as two heads, or as a head and a failure)");
        }

        if (incarnations.Distinct(StringComparer.Ordinal).Count() != incarnations.Length || incarnations.Any(id => !sorted.Any(h => h.ShardId == id)))
        {
            throw new ForgeOneException(ErrorCodes.InvalidArgument, "every new incarnation names one sealed head, once");
        }

        var number = previous is null ? 1 : previous.Number + 1;
        var prevHash = previous is null ? SealCodec.NoPreviousSeal : SealCodec.Hash(previous);
        var utc = new DateTimeOffset(time.UtcTicks, TimeSpan.Zero);
        var unsigned = new Seal(number, utc, sorted, SealCodec.MerkleRoot(sorted), prevHash, [])
        {
            Format = SealCodec.FormatV2,
            KeyId = KeyId,
            NewIncarnations = incarnations,
            Failed = failures,
        };
        if (treeRoots is not null)
        {
            var roots = sorted.Select(h => treeRoots.TryGetValue(h.ShardId, out var root) && root is { Length: 32 }
                ? root
                : throw new ForgeOneException(ErrorCodes.InvalidArgument, $"shard {h.ShardId} has no 32-byte tree root for its head")).ToArray();
            unsigned = unsigned with { Format = SealCodec.FormatV3, TreeRoots = roots };
            unsigned = unsigned with { MerkleRoot = SealCodec.HeadsRoot(unsigned) };
        }

        return unsigned with { Signature = Sign(SealCodec.SignatureInput(unsigned)) };
    }

    /// <summary>
    /// Prefix of what an evidence manifest signature covers: a signature made for a manifest can
    /// never pass for a seal's (whose signed bytes start with the seal format byte 1..3), nor the reverse.
    /// </summary>
    public static ReadOnlySpan<byte> EvidenceManifestDomain => "forgeone.evidence.manifest.v1\n"u8;

    /// <summary>Signs an evidence package manifest (its exact bytes) under the manifest domain.</summary>
    public byte[] SignEvidenceManifest(ReadOnlySpan<byte> manifest)
    {
        var input = new byte[EvidenceManifestDomain.Length + manifest.Length];
        EvidenceManifestDomain.CopyTo(input);
        manifest.CopyTo(input.AsSpan(EvidenceManifestDomain.Length));
        return Sign(input);
    }

    /// <summary>Signs arbitrary bytes (P1363 format); exposed for evidence bundles.</summary>
    public byte[] Sign(ReadOnlySpan<byte> data)
    {
        lock (_lock)
        {
            return _key.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _key.Dispose();
}
