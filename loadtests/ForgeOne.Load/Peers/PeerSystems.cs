using System.Buffers.Binary;
using ForgeOne.Client;
using ForgeOne.Client.Http;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;
using ForgeOne.Common.Model;
using ForgeOne.Security;
using ForgeOne.Storage;
using LightningDB;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Load.Peers;

/// <summary>One system under comparison: fresh storage per run, writers that commit batches, and range queries.</summary>
public interface IPeerSystem : IAsyncDisposable
{
    /// <summary>Short name in the results.</summary>
    string Name { get; }

    /// <summary>What exactly it does per entry, for the results.</summary>
    string Description { get; }

    /// <summary>Batches committed concurrently.</summary>
    int Writers { get; }

    /// <summary>Opens writer <paramref name="index"/> (its own connection, and for the peers its own audit chain).</summary>
    Task<IPeerWriter> OpenWriterAsync(int index);

    /// <summary>Runs one query and returns how many entries it read (decrypted where stored encrypted).</summary>
    Task<int> QueryAsync(PeerQuery query);
}

/// <summary>Commits batches, one at a time.</summary>
public interface IPeerWriter : IAsyncDisposable
{
    /// <summary>Durably commits every entry of <paramref name="batch"/>.</summary>
    Task WriteAsync(PeerBatch batch);
}

/// <summary>
/// What the SQL peers do per entry, the same work ForgeOne does: AES-256-GCM with ForgeOne's own
/// <see cref="RecordCipher"/> (libsodium AES-NI; associated data = store, table, entry id), and a
/// SHA-256 hash-chained audit row (hash = SHA-256(previous hash | id | timestamp | ciphertext)).
/// One chain per writer, as ForgeOne has one per shard.
/// </summary>
public sealed class PeerRecordCodec : IDisposable
{
    private readonly RecordCipher _cipher;
    private readonly string _storeId;

    /// <summary>A codec with a fresh keyring under <paramref name="keysDirectory"/>.</summary>
    public PeerRecordCodec(string keysDirectory, string storeId)
    {
        _storeId = storeId;
        var kek = new FileKekProvider(keysDirectory);
        _cipher = new RecordCipher(Keyring.Create(storeId, kek, TimeProvider.System).Keyring);
    }

    /// <summary>Encrypts one message bound to its entry id.</summary>
    public byte[] Encrypt(long id, byte[] message)
    {
        Span<byte> key = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(key, id);
        return _cipher.Encrypt(message, new RecordContext(_storeId, "logs", key));
    }

    /// <summary>Decrypts one stored message.</summary>
    public byte[] Decrypt(long id, byte[] ciphertext)
    {
        Span<byte> key = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(key, id);
        return _cipher.Decrypt(ciphertext, new RecordContext(_storeId, "logs", key));
    }

    /// <summary>The next link of an audit chain.</summary>
    public static byte[] Chain(byte[] previous, long id, long ts, byte[] ciphertext)
    {
        var input = new byte[32 + 16 + ciphertext.Length];
        previous.CopyTo(input, 0);
        BinaryPrimitives.WriteInt64BigEndian(input.AsSpan(32), id);
        BinaryPrimitives.WriteInt64BigEndian(input.AsSpan(40), ts);
        ciphertext.CopyTo(input, 48);
        return Sha256.HashData(input);
    }

    /// <inheritdoc />
    public void Dispose() => _cipher.Dispose();
}

/// <summary>Entry ids and audit chain numbers shared by a system's writers.</summary>
internal sealed class IdSource
{
    private long _next;
    private int _chains;

    public long Next() => Interlocked.Increment(ref _next);

    public int NextChain() => Interlocked.Increment(ref _chains);
}

/// <summary>
/// ForgeOne through the actor client from this process (the node is a separate process):
/// every entry validated, authorized, content-hashed (SHA-256), field- and record-encrypted
/// (AES-256-GCM), indexed by blind topic token + time, and the batch audited in the shard's
/// SHA-256 chain, in one fsynced LMDB transaction per group commit.
/// </summary>
public sealed class ForgeOneActorSystem(ForgeOneActorClient client, LoadIdentity identity, int inFlight) : IPeerSystem
{
    /// <inheritdoc />
    public string Name => "ForgeOne (actor client)";

    /// <inheritdoc />
    public string Description => $"single node in its own process, actor client in the benchmark's process, {inFlight} batches in flight";

    /// <inheritdoc />
    public int Writers => inFlight;

    /// <inheritdoc />
    public Task<IPeerWriter> OpenWriterAsync(int index) => Task.FromResult<IPeerWriter>(new Writer(client));

    /// <inheritdoc />
    public async Task<int> QueryAsync(PeerQuery query)
    {
        var reply = await client.Ask(new QueryLogs(identity.Writer, PeerWorkload.TopicName(query.Topic), new DateTimeOffset(query.FromTicks, TimeSpan.Zero), new DateTimeOffset(query.ToTicks, TimeSpan.Zero), Limit: PeerWorkload.QueryLimit)).ConfigureAwait(false);
        return reply switch
        {
            LogPage page => page.Entries.Length,
            IFailureReply failed => throw new ForgeOneException(failed.Error),
            _ => throw new InvalidOperationException($"unexpected reply {reply.GetType().Name}"),
        };
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    // Writes as the client's own principal (the load's writer).
    private sealed class Writer(ForgeOneActorClient client) : IPeerWriter
    {
        public async Task WriteAsync(PeerBatch batch)
        {
            var entries = new LogInput[batch.Messages.Length];
            for (var i = 0; i < entries.Length; i++)
            {
                entries[i] = new LogInput(new DateTimeOffset(batch.Timestamps[i], TimeSpan.Zero), Severity.Info, System.Text.Encoding.ASCII.GetString(batch.Messages[i]));
            }

            await client.AppendLogBatchAsync(PeerWorkload.TopicName(batch.Topic), entries).ConfigureAwait(false);
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

/// <summary>
/// ForgeOne through its HTTP edge (JSON batches, API-key authentication, problem+json errors),
/// the same node and the same work per entry as <see cref="ForgeOneActorSystem"/>.
/// </summary>
public sealed class ForgeOneHttpSystem(ForgeOneHttpClient http, int inFlight) : IPeerSystem
{
    /// <inheritdoc />
    public string Name => "ForgeOne (HTTP)";

    /// <inheritdoc />
    public string Description => $"the same single node's HTTP edge, POST /v1/logs/{{topic}}/batch from the benchmark's process, {inFlight} batches in flight";

    /// <inheritdoc />
    public int Writers => inFlight;

    /// <inheritdoc />
    public Task<IPeerWriter> OpenWriterAsync(int index) => Task.FromResult<IPeerWriter>(new Writer(http));

    /// <inheritdoc />
    public async Task<int> QueryAsync(PeerQuery query) =>
        (await http.QueryLogsAsync(PeerWorkload.TopicName(query.Topic), new DateTimeOffset(query.FromTicks, TimeSpan.Zero), new DateTimeOffset(query.ToTicks, TimeSpan.Zero), limit: PeerWorkload.QueryLimit).ConfigureAwait(false)).Entries.Length;

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private sealed class Writer(ForgeOneHttpClient http) : IPeerWriter
    {
        public Task WriteAsync(PeerBatch batch) =>
            http.AppendLogBatchAsync(PeerWorkload.TopicName(batch.Topic), batch.Messages.Select((m, i) => new LogInput(new DateTimeOffset(batch.Timestamps[i], TimeSpan.Zero), Severity.Info, System.Text.Encoding.ASCII.GetString(m))).ToArray());

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

/// <summary>
/// PostgreSQL: binary COPY of the encrypted entries and their audit rows, one transaction per
/// batch (fsync and synchronous_commit on, as the server is started), two connections in parallel.
/// </summary>
public sealed class PostgresSystem : IPeerSystem
{
    private readonly string _connectionString;
    private readonly PeerRecordCodec _codec;
    private readonly IdSource _ids = new();
    private NpgsqlConnection? _reader;

    private PostgresSystem(string connectionString, PeerRecordCodec codec)
    {
        _connectionString = connectionString;
        _codec = codec;
    }

    /// <inheritdoc />
    public string Name => "PostgreSQL 15";

    /// <inheritdoc />
    public string Description => "binary COPY into logs (id, topic, ts, body) + btree (topic, ts) and audit (chain, seq, entry, prev, hash), one transaction per batch, 2 connections";

    /// <inheritdoc />
    public int Writers => 2;

    /// <summary>Drops and recreates the tables (a fresh store per run).</summary>
    public static async Task<PostgresSystem> CreateAsync(string connectionString, string keysDirectory)
    {
        await using (var conn = new NpgsqlConnection(connectionString))
        {
            await conn.OpenAsync().ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand(
                """
                DROP TABLE IF EXISTS logs, audit;
                CREATE TABLE logs (id bigint PRIMARY KEY, topic text NOT NULL, ts bigint NOT NULL, body bytea NOT NULL);
                CREATE INDEX logs_topic_ts ON logs (topic, ts);
                CREATE TABLE audit (chain int NOT NULL, seq bigint NOT NULL, entry_id bigint NOT NULL, prev_hash bytea NOT NULL, hash bytea NOT NULL, PRIMARY KEY (chain, seq));
                """, conn);
            await cmd.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        return new PostgresSystem(connectionString, new PeerRecordCodec(keysDirectory, "peer-postgres"));
    }

    /// <inheritdoc />
    public async Task<IPeerWriter> OpenWriterAsync(int index)
    {
        var conn = new NpgsqlConnection(_connectionString);
        await conn.OpenAsync().ConfigureAwait(false);
        // Every writer starts its own chain (a warm-up's writers are not continued by the timed run's).
        return new Writer(conn, _codec, _ids, _ids.NextChain());
    }

    /// <inheritdoc />
    public async Task<int> QueryAsync(PeerQuery query)
    {
        if (_reader is null)
        {
            _reader = new NpgsqlConnection(_connectionString);
            await _reader.OpenAsync().ConfigureAwait(false);
        }

        await using var cmd = new NpgsqlCommand("SELECT id, body FROM logs WHERE topic = $1 AND ts >= $2 AND ts < $3 ORDER BY ts LIMIT $4", _reader);
        cmd.Parameters.Add(new NpgsqlParameter { Value = PeerWorkload.TopicName(query.Topic) });
        cmd.Parameters.Add(new NpgsqlParameter { Value = query.FromTicks });
        cmd.Parameters.Add(new NpgsqlParameter { Value = query.ToTicks });
        cmd.Parameters.Add(new NpgsqlParameter { Value = PeerWorkload.QueryLimit });
        await using var reader = await cmd.ExecuteReaderAsync().ConfigureAwait(false);
        var n = 0;
        while (await reader.ReadAsync().ConfigureAwait(false))
        {
            _codec.Decrypt(reader.GetInt64(0), (byte[])reader[1]);
            n++;
        }

        return n;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_reader is not null)
        {
            await _reader.DisposeAsync().ConfigureAwait(false);
        }

        _codec.Dispose();
    }

    private sealed class Writer(NpgsqlConnection conn, PeerRecordCodec codec, IdSource ids, int chain) : IPeerWriter
    {
        private byte[] _head = new byte[32];
        private long _seq;

        public async Task WriteAsync(PeerBatch batch)
        {
            var topic = PeerWorkload.TopicName(batch.Topic);
            var n = batch.Messages.Length;
            var rowIds = new long[n];
            var bodies = new byte[n][];
            var prev = new byte[n][];
            var hashes = new byte[n][];
            var head = _head;
            for (var i = 0; i < n; i++)
            {
                rowIds[i] = ids.Next();
                bodies[i] = codec.Encrypt(rowIds[i], batch.Messages[i]);
                prev[i] = head;
                head = hashes[i] = PeerRecordCodec.Chain(head, rowIds[i], batch.Timestamps[i], bodies[i]);
            }

            await using var tx = await conn.BeginTransactionAsync().ConfigureAwait(false);
            await using (var copy = await conn.BeginBinaryImportAsync("COPY logs (id, topic, ts, body) FROM STDIN (FORMAT BINARY)").ConfigureAwait(false))
            {
                for (var i = 0; i < n; i++)
                {
                    await copy.StartRowAsync().ConfigureAwait(false);
                    await copy.WriteAsync(rowIds[i], NpgsqlDbType.Bigint).ConfigureAwait(false);
                    await copy.WriteAsync(topic, NpgsqlDbType.Text).ConfigureAwait(false);
                    await copy.WriteAsync(batch.Timestamps[i], NpgsqlDbType.Bigint).ConfigureAwait(false);
                    await copy.WriteAsync(bodies[i], NpgsqlDbType.Bytea).ConfigureAwait(false);
                }

                await copy.CompleteAsync().ConfigureAwait(false);
            }

            await using (var copy = await conn.BeginBinaryImportAsync("COPY audit (chain, seq, entry_id, prev_hash, hash) FROM STDIN (FORMAT BINARY)").ConfigureAwait(false))
            {
                for (var i = 0; i < n; i++)
                {
                    await copy.StartRowAsync().ConfigureAwait(false);
                    await copy.WriteAsync(chain, NpgsqlDbType.Integer).ConfigureAwait(false);
                    await copy.WriteAsync(_seq + i, NpgsqlDbType.Bigint).ConfigureAwait(false);
                    await copy.WriteAsync(rowIds[i], NpgsqlDbType.Bigint).ConfigureAwait(false);
                    await copy.WriteAsync(prev[i], NpgsqlDbType.Bytea).ConfigureAwait(false);
                    await copy.WriteAsync(hashes[i], NpgsqlDbType.Bytea).ConfigureAwait(false);
                }

                await copy.CompleteAsync().ConfigureAwait(false);
            }

            await tx.CommitAsync().ConfigureAwait(false);

            // The chain moves on only once its rows are committed.
            (_head, _seq) = (head, _seq + n);
        }

        public ValueTask DisposeAsync() => conn.DisposeAsync();
    }
}

/// <summary>SQLite in WAL mode with synchronous=FULL (its most durable setting), prepared inserts, one transaction per batch.</summary>
public sealed class SqliteSystem : IPeerSystem
{
    private readonly string _path;
    private readonly PeerRecordCodec _codec;
    private readonly IdSource _ids = new();
    private SqliteConnection? _reader;

    private SqliteSystem(string path, PeerRecordCodec codec)
    {
        _path = path;
        _codec = codec;
    }

    /// <inheritdoc />
    public string Name => "SQLite (WAL, synchronous=FULL)";

    /// <inheritdoc />
    public string Description => "prepared INSERTs into logs + index (topic, ts) and audit, one transaction per batch, one writer (SQLite has one)";

    /// <inheritdoc />
    public int Writers => 1;

    /// <summary>Creates the database file and its tables.</summary>
    public static async Task<SqliteSystem> CreateAsync(string directory, string keysDirectory)
    {
        var path = Path.Combine(directory, "peer.db");
        await using (var conn = Open(path))
        {
            await using var cmd = conn.CreateCommand();
            cmd.CommandText = """
                PRAGMA journal_mode=WAL;
                CREATE TABLE logs (id INTEGER PRIMARY KEY, topic TEXT NOT NULL, ts INTEGER NOT NULL, body BLOB NOT NULL);
                CREATE INDEX logs_topic_ts ON logs (topic, ts);
                CREATE TABLE audit (chain INTEGER NOT NULL, seq INTEGER NOT NULL, entry_id INTEGER NOT NULL, prev_hash BLOB NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (chain, seq));
                """;
            await cmd.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        return new SqliteSystem(path, new PeerRecordCodec(keysDirectory, "peer-sqlite"));
    }

    /// <inheritdoc />
    public Task<IPeerWriter> OpenWriterAsync(int index) => Task.FromResult<IPeerWriter>(new Writer(Open(_path), _codec, _ids, _ids.NextChain()));

    /// <inheritdoc />
    public async Task<int> QueryAsync(PeerQuery query)
    {
        _reader ??= Open(_path);
        await using var cmd = _reader.CreateCommand();
        cmd.CommandText = "SELECT id, body FROM logs WHERE topic = $topic AND ts >= $from AND ts < $to ORDER BY ts LIMIT $limit";
        cmd.Parameters.AddWithValue("$topic", PeerWorkload.TopicName(query.Topic));
        cmd.Parameters.AddWithValue("$from", query.FromTicks);
        cmd.Parameters.AddWithValue("$to", query.ToTicks);
        cmd.Parameters.AddWithValue("$limit", PeerWorkload.QueryLimit);
        await using var reader = await cmd.ExecuteReaderAsync().ConfigureAwait(false);
        var n = 0;
        while (await reader.ReadAsync().ConfigureAwait(false))
        {
            _codec.Decrypt(reader.GetInt64(0), (byte[])reader[1]);
            n++;
        }

        return n;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_reader is not null)
        {
            await _reader.DisposeAsync().ConfigureAwait(false);
        }

        SqliteConnection.ClearAllPools();
        _codec.Dispose();
    }

    private static SqliteConnection Open(string path)
    {
        var conn = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        conn.Open();
        using var pragma = conn.CreateCommand();
        pragma.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;";
        pragma.ExecuteNonQuery();
        return conn;
    }

    private sealed class Writer : IPeerWriter
    {
        private readonly SqliteConnection _conn;
        private readonly PeerRecordCodec _codec;
        private readonly IdSource _ids;
        private readonly int _chain;
        private readonly SqliteCommand _log;
        private readonly SqliteCommand _audit;
        private byte[] _head = new byte[32];
        private long _seq;

        public Writer(SqliteConnection conn, PeerRecordCodec codec, IdSource ids, int chain)
        {
            (_conn, _codec, _ids, _chain) = (conn, codec, ids, chain);
            _log = conn.CreateCommand();
            _log.CommandText = "INSERT INTO logs (id, topic, ts, body) VALUES ($id, $topic, $ts, $body)";
            foreach (var p in new[] { "$id", "$topic", "$ts", "$body" })
            {
                _log.Parameters.Add(new SqliteParameter { ParameterName = p });
            }

            _audit = conn.CreateCommand();
            _audit.CommandText = "INSERT INTO audit (chain, seq, entry_id, prev_hash, hash) VALUES ($chain, $seq, $entry, $prev, $hash)";
            foreach (var p in new[] { "$chain", "$seq", "$entry", "$prev", "$hash" })
            {
                _audit.Parameters.Add(new SqliteParameter { ParameterName = p });
            }

            _log.Prepare();
            _audit.Prepare();
        }

        public Task WriteAsync(PeerBatch batch)
        {
            var topic = PeerWorkload.TopicName(batch.Topic);
            var head = _head;
            using (var tx = _conn.BeginTransaction())
            {
                (_log.Transaction, _audit.Transaction) = (tx, tx);
                for (var i = 0; i < batch.Messages.Length; i++)
                {
                    var id = _ids.Next();
                    var body = _codec.Encrypt(id, batch.Messages[i]);
                    var hash = PeerRecordCodec.Chain(head, id, batch.Timestamps[i], body);
                    (_log.Parameters[0].Value, _log.Parameters[1].Value, _log.Parameters[2].Value, _log.Parameters[3].Value) = (id, topic, batch.Timestamps[i], body);
                    _log.ExecuteNonQuery();
                    (_audit.Parameters[0].Value, _audit.Parameters[1].Value, _audit.Parameters[2].Value, _audit.Parameters[3].Value, _audit.Parameters[4].Value) = (_chain, _seq + i, id, head, hash);
                    _audit.ExecuteNonQuery();
                    head = hash;
                }

                tx.Commit();
            }

            (_head, _seq) = (head, _seq + batch.Messages.Length);
            return Task.CompletedTask;
        }

        public async ValueTask DisposeAsync()
        {
            await _log.DisposeAsync().ConfigureAwait(false);
            await _audit.DisposeAsync().ConfigureAwait(false);
            await _conn.DisposeAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>
/// The physical reference: raw LMDB puts of the plaintext messages under (topic, time, id)
/// keys, one fsynced transaction per batch; no encryption, no secondary index, no audit.
/// The key order makes the topic + time query a plain cursor range scan.
/// </summary>
public sealed class RawLmdbSystem : IPeerSystem
{
    private readonly LightningEnvironment _env;
    private readonly LightningDatabase _db;
    private readonly object _writeGate = new();
    private long _next;

    private RawLmdbSystem(LightningEnvironment env, LightningDatabase db)
    {
        _env = env;
        _db = db;
    }

    /// <inheritdoc />
    public string Name => "raw LMDB";

    /// <inheritdoc />
    public string Description => "LightningDB puts of plaintext under (topic, ts, id) keys, one fsynced transaction per batch, no crypto, index or audit";

    /// <inheritdoc />
    public int Writers => 1;

    /// <summary>Creates the environment file in <paramref name="directory"/>.</summary>
    public static RawLmdbSystem Create(string directory)
    {
        NativeLmdb.EnsureInstalled();
        var env = new LightningEnvironment(Path.Combine(directory, "raw.mdb"), new EnvironmentConfiguration { MapSize = 16L << 30, MaxDatabases = 4 });
        env.Open(EnvironmentOpenFlags.NoSubDir | EnvironmentOpenFlags.NoThreadLocalStorage, UnixAccessMode.OwnerRead | UnixAccessMode.OwnerWrite);
        using var setup = env.BeginTransaction();
        var db = setup.OpenDatabase("logs", new DatabaseConfiguration { Flags = DatabaseOpenFlags.Create }, closeOnDispose: false);
        setup.Commit().ThrowOnError();
        return new RawLmdbSystem(env, db);
    }

    /// <inheritdoc />
    public Task<IPeerWriter> OpenWriterAsync(int index) => Task.FromResult<IPeerWriter>(new Writer(this));

    /// <inheritdoc />
    public Task<int> QueryAsync(PeerQuery query)
    {
        using var txn = _env.BeginTransaction(TransactionBeginFlags.ReadOnly);
        using var cursor = txn.CreateCursor(_db);
        var from = Key(query.Topic, query.FromTicks, 0);
        var to = Key(query.Topic, query.ToTicks, 0);
        var n = 0;
        var result = cursor.SetRange(from);
        while (result == MDBResultCode.Success && n < PeerWorkload.QueryLimit)
        {
            var (resultCode, key, value) = cursor.GetCurrent();
            if (resultCode != MDBResultCode.Success || key.AsSpan().SequenceCompareTo(to) >= 0)
            {
                break;
            }

            _ = value.AsSpan().Length;
            n++;
            result = cursor.Next().resultCode;
        }

        return Task.FromResult(n);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        _db.Dispose();
        _env.Dispose();
        return ValueTask.CompletedTask;
    }

    private static byte[] Key(int topic, long ts, long id)
    {
        var key = new byte[20];
        BinaryPrimitives.WriteInt32BigEndian(key, topic);
        BinaryPrimitives.WriteInt64BigEndian(key.AsSpan(4), ts);
        BinaryPrimitives.WriteInt64BigEndian(key.AsSpan(12), id);
        return key;
    }

    private sealed class Writer(RawLmdbSystem system) : IPeerWriter
    {
        public Task WriteAsync(PeerBatch batch)
        {
            // LMDB write transactions are thread-affine: begin, put and commit on this thread.
            lock (system._writeGate)
            {
                using var txn = system._env.BeginTransaction();
                for (var i = 0; i < batch.Messages.Length; i++)
                {
                    txn.Put(system._db, Key(batch.Topic, batch.Timestamps[i], ++system._next), batch.Messages[i], PutOptions.None).ThrowOnError();
                }

                txn.Commit().ThrowOnError();
            }

            return Task.CompletedTask;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
