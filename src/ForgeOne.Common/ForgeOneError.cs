namespace ForgeOne.Common;

/// <summary>
/// A typed, user-facing error. <see cref="Code"/> is stable across releases (clients, the HTTP
/// edge and the CLI branch on it); <see cref="Message"/> is for people and may change.
/// Messages never carry secret material.
/// </summary>
/// <param name="Code">One of <see cref="ErrorCodes"/>.</param>
/// <param name="Message">What happened, for people.</param>
/// <param name="Details">
/// Machine-readable facts about the error (for <c>crypto.tampered</c> and
/// <c>storage.corrupt_record</c>: <c>store</c>, <c>table</c> and <c>key</c> in hex; for
/// <c>audit.chain_broken</c> also <c>seq</c>), or null. The HTTP edge sends them as the problem
/// document's extension members.
/// </param>
public sealed record ForgeOneError(string Code, string Message, IReadOnlyDictionary<string, string>? Details = null)
{
    /// <summary>Keys of <see cref="Details"/> that name where stored damage is.</summary>
    public const string StoreDetail = "store";

    /// <inheritdoc cref="StoreDetail"/>
    public const string TableDetail = "table";

    /// <inheritdoc cref="StoreDetail"/>
    public const string KeyDetail = "key";

    /// <summary>Key of <see cref="Details"/>: the audit sequence number where a chain is broken (decimal).</summary>
    public const string SeqDetail = "seq";

    /// <summary>This error with <c>store</c>, <c>table</c> and <c>key</c> details; a message that does not name them yet gains them.</summary>
    public ForgeOneError At(string store, string table, string keyHex)
    {
        var where = $"store {store}, table '{table}', key {keyHex}";
        return this with
        {
            Message = Message.Contains(keyHex, StringComparison.Ordinal) && Message.Contains(store, StringComparison.Ordinal) ? Message : $"{where}: {Message}",
            Details = new Dictionary<string, string>(Details ?? new Dictionary<string, string>(), StringComparer.Ordinal)
            {
                [StoreDetail] = store,
                [TableDetail] = table,
                [KeyDetail] = keyHex,
            },
        };
    }

    public override string ToString() => $"{Code}: {Message}";
}

/// <summary>Thrown where a typed error has to cross a call stack. Carries the stable code.</summary>
public class ForgeOneException : Exception
{
    public ForgeOneException(ForgeOneError error, Exception? inner = null)
        : base(error.ToString(), inner)
    {
        Error = error;
    }

    public ForgeOneException(string code, string message, Exception? inner = null)
        : this(new ForgeOneError(code, message), inner)
    {
    }

    public ForgeOneError Error { get; }

    public string Code => Error.Code;
}

/// <summary>
/// The stable error codes. Format: <c>area.reason</c>, lower snake case. Never renumber or
/// rename one that has shipped; add new ones instead.
/// </summary>
public static class ErrorCodes
{
    // validation.* : the request itself is wrong; retrying it unchanged will fail again.
    public const string InvalidTopic = "validation.invalid_topic";
    public const string InvalidId = "validation.invalid_id";
    public const string InvalidTimestamp = "validation.invalid_timestamp";
    public const string MessageTooLarge = "validation.message_too_large";
    public const string PayloadTooLarge = "validation.payload_too_large";
    public const string MetadataTooLarge = "validation.metadata_too_large";
    public const string InvalidMetadata = "validation.invalid_metadata";
    public const string ChunkTooLarge = "validation.chunk_too_large";
    public const string InvalidChunk = "validation.invalid_chunk";
    public const string InvalidName = "validation.invalid_name";
    public const string InvalidContentType = "validation.invalid_content_type";
    public const string InvalidArgument = "validation.invalid_argument";
    public const string BatchTooLarge = "validation.batch_too_large";
    public const string InvalidConfiguration = "validation.invalid_configuration";
    /// <summary>A paging token was forged, altered, truncated or issued for another query.</summary>
    public const string InvalidContinuationToken = "validation.invalid_continuation_token";

    /// <summary>A request body is not well-formed (JSON syntax, NDJSON line, wrong shape or type of a field).</summary>
    public const string MalformedBody = "validation.malformed_body";

    /// <summary>A request body's Content-Type is not one the route accepts.</summary>
    public const string UnsupportedMediaType = "validation.unsupported_media_type";

    /// <summary>A request body is larger than the route's limit.</summary>
    public const string BodyTooLarge = "validation.body_too_large";

    /// <summary>No route matches the request's path.</summary>
    public const string UnknownRoute = "validation.unknown_route";

    /// <summary>The route exists but not for the request's method.</summary>
    public const string MethodNotAllowed = "validation.method_not_allowed";

    /// <summary>The principal sent more requests than its rate limit allows; retry after the time the response names.</summary>
    public const string RateLimited = "limits.rate_limited";

    // storage.* : the shard file or its contents.
    public const string StorageCorruptRecord = "storage.corrupt_record";
    public const string StorageCorruptFile = "storage.corrupt_file";
    public const string StorageTruncatedFile = "storage.truncated_file";
    public const string StorageWrongShard = "storage.wrong_shard";
    public const string StorageNewerSchema = "storage.newer_schema";
    public const string StorageUnknownFormat = "storage.unknown_format";
    public const string StorageMigrationFailed = "storage.migration_failed";

    /// <summary>
    /// The shard's file is at an older schema and its migrations have not run: it serves no data
    /// until an operator runs <c>forgeone schema migrate</c> (after a rehearsal), or the node runs
    /// with <c>Shards:MigrateAtOpen</c>. Retrying does not help until then.
    /// </summary>
    public const string StorageMigrationPending = "storage.migration_pending";

    /// <summary>
    /// <c>schema migrate</c> was refused: no passing rehearsal of the same target version, or it is
    /// older than <c>Backup:RehearsalMaxAge</c>. Run <c>forgeone schema rehearse</c>, or override with
    /// <c>--without-rehearsal --reason</c> (audited).
    /// </summary>
    public const string SchemaRehearsalRequired = "storage.rehearsal_required";
    public const string StorageIo = "storage.io";
    public const string StorageStaleOwner = "storage.stale_owner";

    /// <summary>
    /// The data root's file system is full (or over quota): the write was not committed and
    /// nothing of it is stored. The shard keeps serving reads; writes succeed again once space
    /// is freed. Not retried by clients: an operator has to act.
    /// </summary>
    public const string StorageDiskFull = "storage.disk_full";
    public const string NotFound = "storage.not_found";
    public const string Conflict = "storage.conflict";
    /// <summary>Stored data (a blob chunk or a whole blob) does not match its SHA-256 checksum.</summary>
    public const string ChecksumMismatch = "storage.checksum_mismatch";
    /// <summary>A consumer group's offset may only move forward; the commit was older than the stored one.</summary>
    public const string OffsetRegression = "events.offset_regression";

    // crypto.* : keys and ciphertexts.
    public const string CryptoWrongKey = "crypto.wrong_key";
    public const string CryptoTampered = "crypto.tampered";
    public const string CryptoRetiredVersion = "crypto.retired_version";
    public const string CryptoDestroyedVersion = "crypto.destroyed_version";
    public const string CryptoUnknownVersion = "crypto.unknown_key_version";
    public const string CryptoUnknownFormat = "crypto.unknown_format";
    public const string CryptoKeyUnavailable = "crypto.key_unavailable";
    /// <summary>A key file is readable or writable by others than its owner (must be 0600).</summary>
    public const string CryptoKeyFileInsecure = "crypto.key_file_insecure";
    /// <summary>A data key reached its hard encryption limit; rotate before encrypting more.</summary>
    public const string CryptoKeyExhausted = "crypto.key_exhausted";
    /// <summary>A keyring operation is not allowed in the key version's current state.</summary>
    public const string CryptoInvalidKeyState = "crypto.invalid_key_state";

    // audit.*
    /// <summary>A shard's audit chain does not verify (a record deleted, reordered, altered, or cut off below its sealed head): the shard refuses writes.</summary>
    public const string AuditChainBroken = "audit.chain_broken";
    /// <summary>A seal, or a shard head offered for sealing, is not a valid continuation of the seals before it.</summary>
    public const string AuditSealInvalid = "audit.seal_invalid";
    /// <summary>The cluster has seals but the audit signing key that made them is missing.</summary>
    public const string AuditSigningKeyMissing = "audit.signing_key_missing";
    /// <summary>The audit signing key is not the key the cluster's seals were signed with.</summary>
    public const string AuditSigningKeyMismatch = "audit.signing_key_mismatch";
    /// <summary>An encoded audit record or seal has an unknown version byte or is malformed.</summary>
    public const string AuditUnknownFormat = "audit.unknown_format";

    // auth.* : who may do what.
    public const string Unauthenticated = "auth.unauthenticated";
    public const string Forbidden = "auth.forbidden";
    /// <summary>A policy document failed validation (unknown permission, bad field class, ...).</summary>
    public const string AuthInvalidPolicy = "auth.invalid_policy";

    // cluster.*
    public const string ShardCountMismatch = "cluster.shard_count_mismatch";
    public const string ResidencyUnavailable = "cluster.residency_unavailable";
    public const string Unavailable = "cluster.unavailable";
    public const string Timeout = "cluster.timeout";

    /// <summary>A shard (or the node's query pool) holds as much waiting work as its limits allow; retry later.</summary>
    public const string Overloaded = "cluster.overloaded";

    /// <summary>No seed node answered within the connect timeout; the message names the addresses tried.</summary>
    public const string Unreachable = "cluster.unreachable";

    /// <summary>A topic's data was sent to shards of another residency zone than its policy names.</summary>
    public const string ResidencyMismatch = "cluster.residency_mismatch";

    /// <summary>
    /// The data root is in use by a running node of another cluster (or was made by a cluster of
    /// another name): opening its shards would fence that cluster's owners.
    /// </summary>
    public const string DataRootInUse = "cluster.data_root_in_use";

    // request.* : client request ids (idempotent writes).
    /// <summary>
    /// The request id was already used, within the shard's idempotency window, for a different
    /// request (another fingerprint); nothing was written. Not retryable: use a new id.
    /// </summary>
    public const string RequestKeyReused = "request.key_reused";

    /// <summary>
    /// A request with this id is still being processed (admitted, not yet committed); nothing
    /// new was written. Retry after a short back-off to receive its outcome.
    /// </summary>
    public const string RequestInFlight = "request.in_flight";

    // backup.* : backups, restores, key backups and DR drills.
    /// <summary>No backup target (region) is configured, or a named region is not one of them.</summary>
    public const string BackupNoTargets = "backup.no_targets";
    /// <summary>No such backup, drill, key backup or data-root version.</summary>
    public const string BackupNotFound = "backup.not_found";
    /// <summary>Another backup, restore or drill holds the coordinator; retry when it finishes.</summary>
    public const string BackupBusy = "backup.busy";
    /// <summary>A backup is not complete (still running, failed or expired) and cannot be restored or verified.</summary>
    public const string BackupIncomplete = "backup.incomplete";
    /// <summary>A manifest does not parse or does not verify under the cluster's audit public key.</summary>
    public const string BackupManifestInvalid = "backup.manifest_invalid";
    /// <summary>A backup file's bytes do not match its manifest (size, SHA-256 or authentication of a chunk).</summary>
    public const string BackupFileCorrupt = "backup.file_corrupt";
    /// <summary>A region is missing a file (or a whole backup) the manifest lists.</summary>
    public const string BackupFileMissing = "backup.file_missing";
    /// <summary>An incremental's parent chain does not lead back to a complete full backup.</summary>
    public const string BackupChainBroken = "backup.chain_broken";
    /// <summary>A restored shard failed verification (it does not open, its integrity check or its audit chain up to the manifest's head fails).</summary>
    public const string BackupVerificationFailed = "backup.verification_failed";
    /// <summary>The recovery secret does not open the key backup (wrong secret, or the file was modified).</summary>
    public const string BackupRecoverySecretInvalid = "backup.recovery_secret_invalid";
    /// <summary>A data-root version cannot be discarded (it is the active one) or activated.</summary>
    public const string BackupVersionActive = "backup.version_active";

    /// <summary>An unexpected failure inside the serving node (a bug); the detail names no internals.</summary>
    public const string Internal = "internal.error";

    // evidence.* : evidence packages for auditors.
    /// <summary>A file is not an evidence package (not tar.gz, a link entry, an unsafe or repeated path, no manifest, too large).</summary>
    public const string EvidenceMalformed = "evidence.malformed";
    /// <summary>An evidence package failed offline verification (signature, a file's hash, an added or removed file, a chain or a seal); the detail names each.</summary>
    public const string EvidenceInvalid = "evidence.invalid";

    // wire.* : messages between cluster members.
    /// <summary>Bytes from another member could not be decoded: truncated, altered, or not what the schema allows.</summary>
    public const string WireMalformed = "wire.malformed_message";
    /// <summary>A manifest that is not on this node's allow-list of wire messages.</summary>
    public const string WireUnknownType = "wire.unknown_type";
    /// <summary>The sender's schema of a message differs from this node's (another version, or altered bytes).</summary>
    public const string WireSchemaMismatch = "wire.schema_mismatch";
    /// <summary>A remote actor failed with an exception that is not a ForgeOne error (only its type name and message travel).</summary>
    public const string RemoteFailure = "cluster.remote_failure";

    // tls.* : member certificates.
    /// <summary>No member certificate or cluster CA where configuration says (or no dev CA to issue one).</summary>
    public const string TlsCertificateUnavailable = "tls.certificate_unavailable";
    /// <summary>A member certificate or CA file cannot be used: unreadable, no private key, or not accepted by the cluster's CA.</summary>
    public const string TlsCertificateInvalid = "tls.certificate_invalid";

    // retention.*
    public const string RetentionExpired = "retention.expired";
    public const string LegalHold = "retention.legal_hold";
}
