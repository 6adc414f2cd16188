using ForgeOne.Cluster.Protocol;
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
    private readonly IAccessPolicy _policy;
    private readonly TimeProvider _time;
    private readonly RotationPolicy _rotation;

    /// <summary>Creates the factory.</summary>
    public ShardSecurityFactory(IKekProvider kek, IAccessPolicy policy, TimeProvider time, RotationPolicy? rotation = null)
    {
        _kek = kek;
        _policy = policy;
        _time = time;
        _rotation = rotation ?? RotationPolicy.Default;
    }

    /// <inheritdoc />
    public IShardSecurity Open(IShardStore store, ShardKind kind, int shardNumber) =>
        ShardSecurity.Open(store, $"{kind.FolderName()}-{shardNumber:D4}", _kek, _policy, _time, _rotation);
}

/// <summary>The security state of one open shard (see <see cref="IShardSecurity"/>).</summary>
internal sealed class ShardSecurity : IShardSecurity
{
    private static readonly byte[] KeyringKey = "keyring"u8.ToArray();

    private readonly string _storeId;
    private readonly IKekProvider _kek;
    private readonly IAccessPolicy _policy;
    private readonly TimeProvider _time;
    private readonly RotationPolicy _rotation;

    // Ciphers of replaced keyrings stay alive until close: a read task may still be using one.
    private readonly List<State> _retired = [];
    private volatile State _state;
    private ChainHead _head;

    private ShardSecurity(string storeId, IKekProvider kek, IAccessPolicy policy, TimeProvider time, RotationPolicy rotation, Keyring keyring, ChainHead head)
    {
        _storeId = storeId;
        _kek = kek;
        _policy = policy;
        _time = time;
        _rotation = rotation;
        _state = new State(keyring);
        _head = head;
    }

    public static ShardSecurity Open(IShardStore store, string storeId, IKekProvider kek, IAccessPolicy policy, TimeProvider time, RotationPolicy rotation)
    {
        var (wrapped, last) = store.Read(txn => (txn.Get(Tables.Keys, KeyringKey), txn.Last(Tables.Audit) is { } k ? txn.Get(Tables.Audit, k) : null));
        var head = last is null ? AuditChain.Genesis(storeId) : AuditRecordCodec.Decode(last).HeadFor(storeId);
        if (wrapped is not null)
        {
            // Throws crypto.* (wrong or missing KEK): the shard must refuse to open.
            return new ShardSecurity(storeId, kek, policy, time, rotation, Keyring.Load(wrapped, kek), head);
        }

        var created = Keyring.Create(storeId, kek, time);
        var chain = new AuditChain(head);
        store.Write(txn =>
        {
            chain.Reset(head);
            txn.Put(Tables.Keys, KeyringKey, created.Keyring.Serialize(kek));
            foreach (var e in created.Events)
            {
                var record = chain.Append(e, Caller.System.Id);
                txn.Put(Tables.Audit, KeyCodec.UInt64((ulong)record.Seq), AuditRecordCodec.Encode(record));
            }

            return 0;
        });
        return new ShardSecurity(storeId, kek, policy, time, rotation, created.Keyring, chain.Head);
    }

    public AuditPosition AuditHead => new(_head.Seq, _head.Hash);

    public AccessDecision Authorize(Caller caller, string permission, ShardResource resource) => _policy.Authorize(caller, permission, resource);

    public byte[] Encrypt(string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> plaintext) =>
        _state.Cipher.Encrypt(plaintext, new RecordContext(_storeId, table, key));

    public int Encrypt(string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> plaintext, Span<byte> destination) =>
        _state.Cipher.Encrypt(plaintext, destination, new RecordContext(_storeId, table, key));

    public byte[] Decrypt(string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> ciphertext) =>
        _state.Cipher.Decrypt(ciphertext, new RecordContext(_storeId, table, key));

    public int Decrypt(string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> ciphertext, Span<byte> destination) =>
        _state.Cipher.Decrypt(ciphertext, destination, new RecordContext(_storeId, table, key));

    public byte[] EncryptField(FieldClass cls, string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> plaintext) =>
        _state.Fields.Encrypt(cls, plaintext, new RecordContext(_storeId, table, key));

    public byte[]? RevealField(FieldClass cls, string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> ciphertext, IReadOnlySet<FieldClass> readable)
    {
        ArgumentNullException.ThrowIfNull(readable);
        var named = FieldCipher.ReadClass(ciphertext);
        if (named != cls)
        {
            // A field of another class in this slot means a confused or forged record: refusing
            // keeps a reader allowed class A from reading class B through A's slot.
            throw new ForgeOneException(ErrorCodes.CryptoTampered, $"field ciphertext in a {cls.Name()} slot of {table} names class {named.Name()}");
        }

        var state = _state;
        return readable.Contains(cls) ? state.Fields.Decrypt(ciphertext, new RecordContext(_storeId, table, key)) : null;
    }

    public byte[] BlindIndex(string topic) => _state.Index.Token(topic);

    public IAuditAppender BeginAudit() => new Appender(new AuditChain(_head), _storeId);

    public void CommitAudit(IAuditAppender appender) => _head = ((Appender)appender).Chain.Head;

    public (bool Rotated, int ActiveVersion, IReadOnlyList<string> Events) RotateKey(IShardStore store, Caller caller, string reason, bool onlyIfDue)
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
            var attempt = new Appender(new AuditChain(_head), _storeId);
            txn.Put(Tables.Keys, KeyringKey, change.Keyring.Serialize(_kek));
            foreach (var e in change.Events)
            {
                attempt.Append(txn, e.Time, caller.Id, e.AuditAction, e.AuditResource, AuditOutcome.Success, e.Detail);
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
        }

        public Keyring Keyring { get; }

        public RecordCipher Cipher { get; }

        public FieldCipher Fields { get; }

        public BlindIndex Index { get; }

        public void Dispose()
        {
            Cipher.Dispose();
            Fields.Dispose();
        }
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
