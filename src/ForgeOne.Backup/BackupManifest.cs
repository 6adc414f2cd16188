using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using ForgeOne.Common;
using ForgeOne.Security;

namespace ForgeOne.Backup;

/// <summary>Full or incremental.</summary>
public enum BackupType
{
    /// <summary>Every page of every shard.</summary>
    Full = 0,

    /// <summary>The pages written since the parent backup's snapshot of each shard.</summary>
    Incremental = 1,
}

/// <summary>
/// What one backup holds, signed with the cluster's audit key (<c>manifest.sig</c> beside it in
/// every region). Restore, verify and drills trust a backup only through a manifest that
/// verifies; everything else (files, hashes, heads, key versions) is checked against it.
/// </summary>
/// <param name="Format">Always <see cref="FormatName"/>.</param>
/// <param name="Id">Backup id (time-ordered).</param>
/// <param name="Type">Full or incremental.</param>
/// <param name="Parent">The backup this incremental follows (null for a full).</param>
/// <param name="Base">The full backup the chain starts at (itself for a full).</param>
/// <param name="StartedAt">When the backup started: every shard's snapshot is at or after it.</param>
/// <param name="CompletedAt">When every file was in every required region.</param>
/// <param name="ClusterId">The cluster the data belongs to.</param>
/// <param name="Incarnation">The data root's incarnation at backup time (a restore starts a new one).</param>
/// <param name="DataVersion">The data-root version the shards were read from.</param>
/// <param name="ShardCounts">Shard counts of the cluster (logs, events, blobs), fixed for its life.</param>
/// <param name="FileFormat">Backup file format (<see cref="BackupFile.Format"/>).</param>
/// <param name="Compression">Chunk compression (<c>lz4</c>).</param>
/// <param name="Cipher">Chunk cipher (<c>aes-256-gcm</c>).</param>
/// <param name="WrappedKey">The backup's data key, wrapped by the KEK (base64).</param>
/// <param name="KekVersions">Every KEK version a restore needs: the one wrapping <paramref name="WrappedKey"/> and every shard keyring's.</param>
/// <param name="Regions">Regions that held every file when the backup completed.</param>
/// <param name="Shards">One entry per shard file, sorted.</param>
public sealed record BackupManifest(
    string Format,
    string Id,
    BackupType Type,
    string? Parent,
    string Base,
    DateTimeOffset StartedAt,
    DateTimeOffset CompletedAt,
    string ClusterId,
    int Incarnation,
    string DataVersion,
    int[] ShardCounts,
    int FileFormat,
    string Compression,
    string Cipher,
    string WrappedKey,
    int[] KekVersions,
    string[] Regions,
    ShardManifest[] Shards)
{
    /// <summary>The format name of this manifest version.</summary>
    public const string FormatName = "forgeone.backup/v1";

    /// <summary>Total stored bytes of the backup's files (one region's copy).</summary>
    [JsonIgnore]
    public long Size => Shards.Sum(s => s.Size);

    /// <summary>The manifest's bytes as stored (UTF-8 JSON).</summary>
    public byte[] Encode() => JsonSerializer.SerializeToUtf8Bytes(this, ManifestJson.Default.BackupManifest);

    /// <summary>Parses manifest bytes. Errors: <c>backup.manifest_invalid</c> naming <paramref name="label"/>.</summary>
    public static BackupManifest Decode(ReadOnlySpan<byte> bytes, string label)
    {
        BackupManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize(bytes, ManifestJson.Default.BackupManifest);
        }
        catch (JsonException e)
        {
            throw new ForgeOneException(ErrorCodes.BackupManifestInvalid, $"{label} is not a backup manifest: {e.Message}");
        }

        if (manifest is null || manifest.Format != FormatName || manifest.Shards is null || manifest.KekVersions is null || manifest.Regions is null || manifest.ShardCounts is not { Length: 3 })
        {
            throw new ForgeOneException(ErrorCodes.BackupManifestInvalid, $"{label} is not a {FormatName} manifest");
        }

        return manifest;
    }

    /// <summary>The entry of <paramref name="shard"/>, or null.</summary>
    public ShardManifest? Find(ShardRef shard) => Shards.FirstOrDefault(s => s.Ref == shard);
}

/// <summary>One shard's file in a backup and the facts of the snapshot it copies.</summary>
/// <param name="Zone">Residency zone (null: default).</param>
/// <param name="Kind">Shard kind folder name (<c>logs</c>).</param>
/// <param name="Shard">Shard number.</param>
/// <param name="File">Path of the file in each region.</param>
/// <param name="Size">Stored bytes.</param>
/// <param name="Sha256">SHA-256 of the stored bytes (hex).</param>
/// <param name="PlainBytes">Bytes of page stream it decrypts to.</param>
/// <param name="PageSize">LMDB page size.</param>
/// <param name="TxnId">The snapshot's transaction id.</param>
/// <param name="SinceTxnId">Pages after this transaction (0: full); the parent's <paramref name="TxnId"/> for an incremental.</param>
/// <param name="NextPage">The snapshot spans this many pages.</param>
/// <param name="Pages">Data pages in the file.</param>
/// <param name="SnapshotAt">When the snapshot was taken.</param>
/// <param name="SchemaVersion">Schema version of the shard.</param>
/// <param name="RecordFormat">Record envelope format of the shard.</param>
/// <param name="KekVersion">KEK version the shard's keyring is wrapped under.</param>
/// <param name="DataKeyVersions">Data-key versions in the shard's keyring.</param>
/// <param name="Records">Record count per table at the snapshot.</param>
/// <param name="AuditSeq">Audit chain head sequence at the snapshot.</param>
/// <param name="AuditHash">Audit chain head hash (hex).</param>
/// <param name="Seal">The last seal covering this shard's chain at or below the head (encoded, base64), if any.</param>
public sealed record ShardManifest(
    string? Zone,
    string Kind,
    int Shard,
    string File,
    long Size,
    string Sha256,
    long PlainBytes,
    int PageSize,
    ulong TxnId,
    ulong SinceTxnId,
    ulong NextPage,
    ulong Pages,
    DateTimeOffset SnapshotAt,
    int SchemaVersion,
    int RecordFormat,
    int KekVersion,
    int[] DataKeyVersions,
    Dictionary<string, long> Records,
    long AuditSeq,
    string AuditHash,
    string? Seal)
{
    /// <summary>The shard this entry is about.</summary>
    [JsonIgnore]
    public ShardRef Ref => new(Zone, ParseKind(Kind), Shard);

    /// <summary>The entry as JSON (how a shard's owner hands it to the coordinator).</summary>
    public byte[] Encode() => JsonSerializer.SerializeToUtf8Bytes(this, ManifestJson.Default.ShardManifest);

    /// <summary>An entry from <see cref="Encode"/>'s bytes. Errors: <c>backup.manifest_invalid</c>.</summary>
    public static ShardManifest Decode(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return JsonSerializer.Deserialize(bytes, ManifestJson.Default.ShardManifest) ?? throw new JsonException("null");
        }
        catch (JsonException e)
        {
            throw new ForgeOneException(ErrorCodes.BackupManifestInvalid, $"unreadable shard manifest entry: {e.Message}");
        }
    }

    private static ShardKind ParseKind(string kind) =>
        Enum.GetValues<ShardKind>().FirstOrDefault(k => k.FolderName() == kind) is var k && k.FolderName() == kind
            ? k
            : throw new ForgeOneException(ErrorCodes.BackupManifestInvalid, $"manifest names unknown shard kind '{kind}'");
}

/// <summary>
/// The detached signature of a manifest (<c>manifest.sig</c>): ECDSA P-256 / SHA-256 (IEEE P1363)
/// by the cluster's audit key over the exact manifest bytes, with the key's fingerprint.
/// </summary>
/// <param name="Format">Always <see cref="FormatName"/>.</param>
/// <param name="Algorithm">Always <c>ECDSA-P256-SHA256</c>.</param>
/// <param name="Key">Fingerprint of the signing key (<see cref="AuditSigner.PublicKeyFingerprint"/>).</param>
/// <param name="Signature">The signature (base64).</param>
public sealed record DetachedSignature(string Format, string Algorithm, string Key, string Signature)
{
    /// <summary>The format name.</summary>
    public const string FormatName = "forgeone.signature/v1";

    private const string EcdsaP256 = "ECDSA-P256-SHA256";

    /// <summary>Signs <paramref name="content"/> with <paramref name="signer"/>.</summary>
    public static byte[] Create(AuditSigner signer, ReadOnlySpan<byte> content)
    {
        ArgumentNullException.ThrowIfNull(signer);
        var signature = new DetachedSignature(FormatName, EcdsaP256, signer.PublicKeyFingerprint, Convert.ToBase64String(signer.Sign(content)));
        return JsonSerializer.SerializeToUtf8Bytes(signature, ManifestJson.Default.DetachedSignature);
    }

    /// <summary>
    /// Checks that <paramref name="signatureFile"/> is a signature of <paramref name="content"/> by
    /// the key of <paramref name="publicKeyPem"/>. Errors: <c>backup.manifest_invalid</c> naming
    /// <paramref name="label"/>, and the signing key when it is another one.
    /// </summary>
    public static void Verify(ReadOnlySpan<byte> content, ReadOnlySpan<byte> signatureFile, string publicKeyPem, string label)
    {
        DetachedSignature? signature;
        try
        {
            signature = JsonSerializer.Deserialize(signatureFile, ManifestJson.Default.DetachedSignature);
        }
        catch (JsonException)
        {
            signature = null;
        }

        if (signature is not { Format: FormatName, Algorithm: EcdsaP256 })
        {
            throw new ForgeOneException(ErrorCodes.BackupManifestInvalid, $"{label}: the signature file is not a {FormatName} ECDSA signature");
        }

        using var key = ECDsa.Create();
        key.ImportFromPem(publicKeyPem);
        var fingerprint = Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()).AsSpan(0, 16));
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(signature.Signature);
        }
        catch (FormatException)
        {
            bytes = [];
        }

        if (!key.VerifyData(content, bytes, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
        {
            throw new ForgeOneException(ErrorCodes.BackupManifestInvalid, signature.Key == fingerprint
                ? $"{label} does not verify under the cluster's audit key {fingerprint}: it was modified after signing"
                : $"{label} is signed by key {Safe(signature.Key)}, not by this cluster's audit key {fingerprint}");
        }
    }

    private static string Safe(string text) => text.Length <= 64 && text.All(char.IsAsciiLetterOrDigit) ? text : "(unreadable)";
}

/// <summary>Source-generated JSON for the backup formats: camelCase, enums as names, indented (manifests are read by people too).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true, UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never, RespectNullableAnnotations = true)]
[JsonSerializable(typeof(BackupManifest))]
[JsonSerializable(typeof(ShardManifest))]
[JsonSerializable(typeof(DetachedSignature))]
[JsonSerializable(typeof(DrillReport))]
internal sealed partial class ManifestJson : JsonSerializerContext;

internal static class Hex
{
    public static string Of(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    public static byte[] Parse(string hex, string what) =>
        hex is { Length: > 0 } && hex.Length % 2 == 0 && hex.All(char.IsAsciiHexDigit)
            ? Convert.FromHexString(hex)
            : throw new ForgeOneException(ErrorCodes.BackupManifestInvalid, $"{what} is not hex");

    public static string Utf8(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);
}
