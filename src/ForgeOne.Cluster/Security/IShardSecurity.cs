using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage;

namespace ForgeOne.Cluster.Security;

/// <summary>Committed position of a shard's audit chain.</summary>
public sealed record AuditPosition(long Sequence, byte[] Hash);

/// <summary>
/// Audit records staged inside one write transaction, chained from the committed head. The
/// shard actor makes a new appender for every attempt of a transaction (LMDB may re-run the
/// work after growing the map) and publishes its head only after the commit succeeded, so an
/// aborted transaction never advances the in-memory chain.
/// </summary>
public interface IAuditAppender
{
    /// <summary>Appends one record to the <c>audit</c> table inside <paramref name="txn"/>.</summary>
    void Append(IWriteTransaction txn, DateTimeOffset time, string principal, string action, string resource, AuditOutcome outcome, string detail);

    /// <summary>The head after the records appended so far.</summary>
    AuditPosition Head { get; }
}

/// <summary>
/// The security state one shard actor owns: its keyring and ciphers, its audit chain head and
/// the policy engine. Created when the shard opens (keys unavailable = the shard refuses to
/// open), used only by the owning actor except <see cref="Decrypt(string, ReadOnlySpan{byte}, ReadOnlySpan{byte})"/>, <see cref="RevealField"/>,
/// <see cref="EncryptField"/> and <see cref="BlindIndex"/>, which read-side tasks (and handlers'
/// <c>Admit</c>, outside the actor thread) call concurrently and must be thread-safe.
/// </summary>
public interface IShardSecurity : IDisposable
{
    /// <summary>
    /// Verifies a request's principal token (signature, expiry, revocation) before any policy
    /// runs. Thread-safe.
    /// </summary>
    AuthenticationResult Authenticate(PrincipalToken? token);

    /// <summary>Deny-by-default authorization of <paramref name="principal"/> for <paramref name="permission"/> on <paramref name="resource"/>. Thread-safe.</summary>
    AuthorizationDecision Authorize(Principal principal, string permission, ResourceDescriptor resource);

    /// <summary>May <paramref name="granter"/> give <paramref name="role"/> to a new principal of <paramref name="tenant"/> (an API key, say)? The policy's grant rules.</summary>
    AuthorizationDecision CanGrant(Principal granter, string role, string? tenant);

    /// <summary>The token of this node's own principal, for the shard's maintenance commands (always valid: renewed before it expires).</summary>
    PrincipalToken NodeToken { get; }

    /// <summary>AES-256-GCM under the active data key; associated data binds store, table and key.</summary>
    byte[] Encrypt(string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> plaintext);

    /// <summary>
    /// Encrypts into <paramref name="destination"/> (at least
    /// <see cref="ForgeOne.Security.RecordCipher.GetCiphertextLength"/> bytes); returns the bytes
    /// written. For large values (blob chunks) sealed into pooled buffers. Thread-safe.
    /// </summary>
    int Encrypt(string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> plaintext, Span<byte> destination)
    {
        var sealedValue = Encrypt(table, key, plaintext);
        sealedValue.CopyTo(destination);
        return sealedValue.Length;
    }

    /// <summary>Decrypts a value written by <see cref="Encrypt(string, ReadOnlySpan{byte}, ReadOnlySpan{byte})"/> under the same table and key. Thread-safe.</summary>
    byte[] Decrypt(string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> ciphertext);

    /// <summary>
    /// Decrypts into <paramref name="destination"/> (at least the plaintext length, which is the
    /// ciphertext length minus <see cref="ForgeOne.Security.RecordCipher.Overhead"/>); returns the
    /// bytes written. For large values (blob chunks) read into pooled buffers. Thread-safe.
    /// </summary>
    int Decrypt(string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> ciphertext, Span<byte> destination)
    {
        var plain = Decrypt(table, key, ciphertext);
        plain.CopyTo(destination);
        return plain.Length;
    }

    /// <summary>
    /// Encrypts one sensitive field under its field-class key (HKDF of the active data key);
    /// associated data binds store, table and key, so a field cannot be moved to another record.
    /// Thread-safe.
    /// </summary>
    byte[] EncryptField(FieldClass cls, string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> plaintext);

    /// <summary>
    /// The plaintext of a field written by <see cref="EncryptField"/> under the same table and key
    /// when <paramref name="readable"/> holds the class named in the ciphertext (which must be
    /// <paramref name="cls"/>), or null (= redacted; nothing is decrypted). Thread-safe.
    /// </summary>
    byte[]? RevealField(FieldClass cls, string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> ciphertext, IReadOnlySet<FieldClass> readable);

    /// <summary>Keyed HMAC of a topic for index keys, so index keys never hold plaintext topics. Thread-safe.</summary>
    byte[] BlindIndex(string topic);

    /// <summary>
    /// The shard's record MAC: index entries and other stored values that are not encrypted
    /// carry its tag (<see cref="ForgeOne.Storage.TaggedValue"/>). Derived from the keyring's index
    /// key, which never rotates. Thread-safe.
    /// </summary>
    IRecordAuthenticator Mac { get; }

    /// <summary>The shard's store id, bound into every ciphertext (e.g. <c>logs-0003</c>; zone shards share their number's id).</summary>
    string StoreId { get; }

    /// <summary>
    /// The shard's audit chain id as seals name it: the store id, or <c>{store id}@{zone}</c> for a
    /// residency zone's shard (so the two shard 3s of logs are two chains in one seal).
    /// </summary>
    string ChainId { get; }

    /// <summary>The head of an empty chain (seq 0, the genesis hash of <see cref="StoreId"/>) under <see cref="ChainId"/>.</summary>
    ChainHead Genesis { get; }

    /// <summary>The plaintext resource of an audit record (format 2: scope + decrypted subject; format 1: as stored). For evidence and operators.</summary>
    string RevealAuditResource(AuditRecord record);

    /// <summary>The committed audit chain head.</summary>
    AuditPosition AuditHead { get; }

    /// <summary>Starts staging audit records from the committed head.</summary>
    IAuditAppender BeginAudit();

    /// <summary>Publishes an appender's head after its transaction committed.</summary>
    void CommitAudit(IAuditAppender appender);

    /// <summary>
    /// Rotates the data key in its own write transaction (new keyring + key events audited) when
    /// due or when <paramref name="onlyIfDue"/> is false. Returns the active version and the events.
    /// </summary>
    (bool Rotated, int ActiveVersion, IReadOnlyList<string> Events) RotateKey(IShardStore store, Principal principal, string reason, bool onlyIfDue);
}

/// <summary>Opens the security state of a shard from its store (keyring in <c>keys</c>, audit head from <c>audit</c>).</summary>
public interface IShardSecurityFactory
{
    /// <summary>Loads or creates the shard's keyring and reads its audit head; throws crypto.key_unavailable when the KEK is missing or wrong.</summary>
    /// <param name="store">The shard's open store.</param>
    /// <param name="kind">Its kind.</param>
    /// <param name="shardNumber">Its number.</param>
    /// <param name="zone">Its residency zone, or null (default region).</param>
    /// <param name="create">False for offline checks: a missing keyring is an error, nothing is written.</param>
    IShardSecurity Open(IShardStore store, ShardKind kind, int shardNumber, string? zone = null, bool create = true);
}
