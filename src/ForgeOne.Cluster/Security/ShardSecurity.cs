using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage;

namespace ForgeOne.Cluster.Security;

/// <summary>
/// <see cref="IShardSecurityFactory"/> over the security library: the keyring is kept wrapped
/// by the KEK in the shard's <c>keys</c> table, the audit chain in its <c>audit</c> table
/// (key = seq as u64 big-endian, value = <see cref="AuditRecordCodec"/>).
/// </summary>
public sealed class ShardSecurityFactory : IShardSecurityFactory
{
    private readonly IKekProvider _kek;
    private readonly PolicyAccess _policy;
    private readonly NodeSecurity _authentication;
    private readonly TimeProvider _time;
    private readonly RotationPolicy _rotation;

    /// <summary>Creates the factory.</summary>
    public ShardSecurityFactory(IKekProvider kek, NodeSecurity node, TimeProvider time, RotationPolicy? rotation = null)
    {
        _kek = kek;
        _policy = node.Policy;
        _authentication = node;
        _time = time;
        _rotation = rotation ?? RotationPolicy.Default;
    }

    /// <summary>The node's security state the shards share.</summary>
    public NodeSecurity Node => _authentication;

    /// <summary>The store id of shard <paramref name="n"/> of <paramref name="kind"/>, e.g. <c>logs-0003</c>.</summary>
    public static string StoreIdOf(ShardKind kind, int n) => $"{kind.FolderName()}-{n:D4}";

    /// <summary>The audit chain id (as seals name it) of a shard: its store id, with <c>@{zone}</c> for a residency zone's shard.</summary>
    public static string ChainIdOf(ShardKind kind, int n, string? zone) => zone is null ? StoreIdOf(kind, n) : $"{StoreIdOf(kind, n)}@{zone}";

    /// <inheritdoc />
    public IShardSecurity Open(IShardStore store, ShardKind kind, int shardNumber, string? zone = null, bool create = true) =>
        ShardSecurity.Open(store, StoreIdOf(kind, shardNumber), ChainIdOf(kind, shardNumber, zone), _kek, _policy, _authentication, _time, _rotation, create);
}

/// <summary>The security state of one open shard (see <see cref="IShardSecurity"/>).</summary>
internal sealed class ShardSecurity : IShardSecurity, IAuditSubjectSealer
{
    private static readonly byte[] KeyringKey = "keyring"u8.ToArray();

    private readonly IKekProvider _kek;
    private readonly PolicyAccess _policy;
    private readonly NodeSecurity _authentication;
    private readonly TimeProvider _time;
    private readonly RotationPolicy _rotation;
    private readonly MacAdapter _mac;

    // Ciphers of replaced keyrings stay alive until close: a read task may still be using one.
    private readonly List<State> _retired = [];
    private volatile State _state;
    private ChainHead _head;

    private ShardSecurity(string storeId, string chainId, IKekProvider kek, PolicyAccess policy, NodeSecurity authentication, TimeProvider time, RotationPolicy rotation, Keyring keyring, ChainHead head)
    {
        StoreId = storeId;
        ChainId = chainId;
        _kek = kek;
        _policy = policy;
        _authentication = authentication;
        _time = time;
        _rotation = rotation;
        _state = new State(keyring);
        _mac = new MacAdapter(new RecordMac(keyring));
        _head = head;
        Genesis = AuditChain.Genesis(storeId) with { ShardId = chainId };
    }

    /// <summary>Audit principal of the key events a shard records when it creates its own keyring at first open.</summary>
    public const string KeyringCreator = "shard:keyring-init";

    /// <summary>Audit principal of a schema migration the shard runs on itself when it opens.</summary>
    public const string MigrationPrincipal = "shard:schema-migrate";

    public string StoreId { get; }

    public string ChainId { get; }

    public ChainHead Genesis { get; }

    public IRecordAuthenticator Mac => _mac;

    public static ShardSecurity Open(IShardStore store, string storeId, string chainId, IKekProvider kek, PolicyAccess policy, NodeSecurity authentication, TimeProvider time, RotationPolicy rotation, bool create = true)
    {
        var (wrapped, last) = store.Read(txn => (txn.Get(Tables.Keys, KeyringKey), txn.Last(Tables.Audit) is { } k ? txn.Get(Tables.Audit, k) : null));
        var genesis = AuditChain.Genesis(storeId) with { ShardId = chainId };
        var head = last is null ? genesis : AuditRecordCodec.Decode(last).HeadFor(chainId);
        if (wrapped is not null)
        {
            // Throws crypto.* (wrong or missing KEK): the shard must refuse to open.
            return new ShardSecurity(storeId, chainId, kek, policy, authentication, time, rotation, Keyring.Load(wrapped, kek), head);
        }

        if (!create)
        {
            throw new ForgeOneException(ErrorCodes.CryptoKeyUnavailable, $"{store.FilePath} has no keyring");
        }

        var created = Keyring.Create(storeId, kek, time);
        var security = new ShardSecurity(storeId, chainId, kek, policy, authentication, time, rotation, created.Keyring, head);
        var chain = new AuditChain(head, security);
        store.Write(txn =>
        {
            chain.Reset(head);
            txn.Put(Tables.Keys, KeyringKey, created.Keyring.Serialize(kek));
            foreach (var e in created.Events)
            {
                var record = chain.Append(e, KeyringCreator);
                txn.Put(Tables.Audit, KeyCodec.UInt64((ulong)record.Seq), AuditRecordCodec.Encode(record));
            }

            return 0;
        });
        security._head = chain.Head;
        return security;
    }

    public AuditPosition AuditHead => new(_head.Seq, _head.Hash);

    public AuthenticationResult Authenticate(PrincipalToken? token) => _authentication.Verifier.Verify(token);

    public AuthorizationDecision Authorize(Principal principal, string permission, ResourceDescriptor resource) => _policy.Authorize(principal, permission, resource);

    /// <inheritdoc />
    public AuthorizationDecision CanGrant(Principal granter, string role, string? tenant) => _policy.CanGrant(granter, role, tenant);

    public PrincipalToken NodeToken => _authentication.Identity.Current;

    public byte[] Encrypt(string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> plaintext) =>
        _state.Cipher.Encrypt(plaintext, new RecordContext(StoreId, table, key));

    public int Encrypt(string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> plaintext, Span<byte> destination) =>
        _state.Cipher.Encrypt(plaintext, destination, new RecordContext(StoreId, table, key));

    public byte[] Decrypt(string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> ciphertext)
    {
        try
        {
            return _state.Cipher.Decrypt(ciphertext, new RecordContext(StoreId, table, key));
        }
        catch (ForgeOneException e)
        {
            throw Located(e, table, key);
        }
    }

    public int Decrypt(string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> ciphertext, Span<byte> destination)
    {
        try
        {
            return _state.Cipher.Decrypt(ciphertext, destination, new RecordContext(StoreId, table, key));
        }
        catch (ForgeOneException e)
        {
            throw Located(e, table, key);
        }
    }

    public byte[] EncryptField(FieldClass cls, string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> plaintext) =>
        _state.Fields.Encrypt(cls, plaintext, new RecordContext(StoreId, table, key));

    public byte[]? RevealField(FieldClass cls, string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> ciphertext, IReadOnlySet<FieldClass> readable)
    {
        ArgumentNullException.ThrowIfNull(readable);
        try
        {
            var named = FieldCipher.ReadClass(ciphertext);
            if (named != cls)
            {
                // A field of another class in this slot means a confused or forged record: refusing
                // keeps a reader allowed class A from reading class B through A's slot.
                throw new ForgeOneException(ErrorCodes.CryptoTampered, $"field ciphertext in a {cls.Name()} slot of {table} names class {named.Name()}");
            }

            var state = _state;
            return readable.Contains(cls) ? state.Fields.Decrypt(ciphertext, new RecordContext(StoreId, table, key)) : null;
        }
        catch (ForgeOneException e)
        {
            throw Located(e, table, key);
        }
    }

    public byte[] BlindIndex(string topic) => _state.Index.Token(topic);

    public IAuditAppender BeginAudit() => new Appender(new AuditChain(_head, this), ChainId);

    public void CommitAudit(IAuditAppender appender) => _head = ((Appender)appender).Chain.Head;

    /// <summary>Seals an audit subject: its blind token (purpose <c>audit-subject</c>) and its ciphertext bound to (store, <c>audit</c>, seq).</summary>
    public SealedAuditSubject Seal(long seq, string subject)
    {
        var state = _state;
        var plain = System.Text.Encoding.UTF8.GetBytes(subject);
        return new SealedAuditSubject(state.AuditIndex.Token(subject), state.Cipher.Encrypt(plain, new RecordContext(StoreId, Tables.Audit, KeyCodec.UInt64((ulong)seq))));
    }

    public string RevealAuditResource(AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return record.Subject is { } subject
            ? record.Resource + System.Text.Encoding.UTF8.GetString(Decrypt(Tables.Audit, KeyCodec.UInt64((ulong)record.Seq), subject.Ciphertext))
            : record.Resource;
    }

    public (bool Rotated, int ActiveVersion, IReadOnlyList<string> Events) RotateKey(IShardStore store, Principal principal, string reason, bool onlyIfDue)
    {
        var current = _state;
        if (onlyIfDue && !_rotation.ShouldRotate(current.Keyring, _time.GetUtcNow(), current.Cipher.Usage))
        {
            return (false, current.Keyring.ActiveVersion, []);
        }

        var change = current.Keyring.WithUsage(current.Cipher.Usage).Rotate(_time, reason);
        var appender = store.Write(txn =>
        {
            // A fresh appender per attempt: Write re-runs this after growing the map.
            var attempt = new Appender(new AuditChain(_head, this), ChainId);
            txn.Put(Tables.Keys, KeyringKey, change.Keyring.Serialize(_kek));
            foreach (var e in change.Events)
            {
                attempt.Append(txn, e.Time, principal.Id, e.AuditAction, e.AuditResource, AuditOutcome.Success, e.Detail);
            }

            return attempt;
        });
        _head = appender.Chain.Head;
        _retired.Add(current);
        _state = new State(change.Keyring);
        return (true, change.Keyring.ActiveVersion, [.. change.Events.Select(e => $"{e.AuditAction} {e.AuditResource}")]);
    }

    public void Dispose()
    {
        _state.Dispose();
        foreach (var state in _retired)
        {
            state.Dispose();
        }
    }

    // A crypto failure names where the ciphertext is (store, table, key): the operator looks
    // there, and the node reports the finding once per record.
    private ForgeOneException Located(ForgeOneException e, string table, ReadOnlySpan<byte> key) =>
        e.Error.Details is not null ? e : new ForgeOneException(e.Error.At(ChainId, table, KeyCodec.ToHex(key)), e);

    // Keyring, ciphers and blind index swap together as one immutable value. The field cipher
    // shares the record cipher's usage counters: field encryptions count against the data key.
    private sealed class State : IDisposable
    {
        public State(Keyring keyring)
        {
            Keyring = keyring;
            Cipher = new RecordCipher(keyring);
            Fields = new FieldCipher(keyring, Cipher.Usage);
            Index = new BlindIndex(keyring);
            AuditIndex = new BlindIndex(keyring, "audit-subject");
        }

        public Keyring Keyring { get; }

        public RecordCipher Cipher { get; }

        public FieldCipher Fields { get; }

        public BlindIndex Index { get; }

        public BlindIndex AuditIndex { get; }

        public void Dispose()
        {
            Cipher.Dispose();
            Fields.Dispose();
        }
    }

    private sealed class MacAdapter(RecordMac mac) : IRecordAuthenticator
    {
        public int TagLength => RecordMac.TagLength;

        public void Compute(string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, Span<byte> tag) => mac.Compute(table, key, value, tag);

        public bool Verify(string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ReadOnlySpan<byte> tag) => mac.Verify(table, key, value, tag);
    }

    /// <summary>
    /// Chains from the head the file holds, not only the one this instance last committed: a
    /// stale owner that was fenced commits the audit records it still held on top of the new
    /// owner's chain (it must not drop them), so at its first append each transaction checks
    /// the file's last record. A file that is ahead must extend this head record by record (a
    /// fenced owner's records); one that is behind lost records, which no owner may paper over.
    /// </summary>
    private sealed class Appender(AuditChain chain, string storeId) : IAuditAppender
    {
        private bool _synced;

        public AuditChain Chain { get; } = chain;

        public AuditPosition Head => new(Chain.Head.Seq, Chain.Head.Hash);

        public void Append(IWriteTransaction txn, DateTimeOffset time, string principal, string action, string resource, AuditOutcome outcome, string detail)
        {
            if (!_synced)
            {
                SyncWithFile(txn);
                _synced = true;
            }

            var record = Chain.Append(time, principal, action, resource, outcome, detail);
            txn.Put(Tables.Audit, KeyCodec.UInt64((ulong)record.Seq), AuditRecordCodec.Encode(record));
        }

        private void SyncWithFile(IReadTransaction txn)
        {
            var head = Chain.Head;
            var last = txn.Last(Tables.Audit) is { } key ? (long)KeyCodec.ReadUInt64(key) : 0;
            if (last == head.Seq)
            {
                return;
            }

            if (last < head.Seq)
            {
                throw new ForgeOneException(ErrorCodes.AuditChainBroken,
                    $"The audit chain of {storeId} ends at record {last} in the file but this shard committed up to {head.Seq}: records were removed.");
            }

            var records = txn.Scan(Tables.Audit, KeyCodec.UInt64((ulong)head.Seq + 1), [])
                .Select(kv => AuditRecordCodec.Decode(kv.Value))
                .ToList();
            var verification = AuditVerifier.Verify(records, head);
            if (!verification.IsValid)
            {
                throw new ForgeOneException(ErrorCodes.AuditChainBroken,
                    $"The audit records {head.Seq + 1}..{last} of {storeId} written by another owner do not extend this shard's chain: {verification.Message}");
            }

            Chain.Reset(verification.Head);
        }
    }
}
