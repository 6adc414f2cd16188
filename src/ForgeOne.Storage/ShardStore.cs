using System.Collections.Frozen;
using ForgeOne.Common;
using LightningDB;

namespace ForgeOne.Storage;

/// <summary>
/// The LMDB implementation of <see cref="IShardStore"/>: one LMDB 1.0 environment in one file
/// (<c>NoSubDir</c>), one named database per table, all handles opened once at open.
/// </summary>
/// <remarks>
/// Lifecycle:
/// <code>
///   Open ──► header check ──► LMDB open ──► shard_meta check ──► migrations (1 txn) ──► Ready
///                │                 │                 │                   │
///                └── truncated / corrupt / wrong shard / newer schema / failed ──► throws, file untouched
///   Ready ──► Dispose ──► Closed
/// </code>
/// Split by concern: this file (open, lifecycle), <c>ShardStore.Transactions.cs</c> (read and
/// write transactions, map growth), <c>ShardStore.Schema.cs</c> (identity, migrations,
/// ownership), <c>ShardStore.Maintenance.cs</c> (hot copy, integrity walk).
/// </remarks>
public sealed partial class ShardStore : IShardStore
{
    // LMDB forbids opening the same environment twice in one process (its locks are
    // per-process; a second handle corrupts reader tracking), so we refuse it up front.
    private static readonly HashSet<string> OpenPaths = new(StringComparer.Ordinal);

    private readonly LightningEnvironment _env;
    private readonly ShardStoreOptions _options;

    // Set once by Initialize (inside the open transaction) and never changed afterwards.
    private FrozenDictionary<string, LightningDatabase> _tables = FrozenDictionary<string, LightningDatabase>.Empty;
    private ShardMeta _meta = null!;
    private long _commitCount;
    private int _disposed;
    private IRecordAuthenticator? _mac;

    static ShardStore()
    {
        NativeLmdb.EnsureInstalled();
    }

    private ShardStore(ShardStoreOptions options, string path, LightningEnvironment env)
    {
        _options = options;
        FilePath = path;
        _env = env;
    }

    /// <inheritdoc />
    public ShardMeta Meta => Volatile.Read(ref _meta);

    /// <inheritdoc />
    public string FilePath { get; }

    /// <summary>The store's name in errors (<see cref="ShardStoreOptions.StoreName"/>).</summary>
    public string Name => _options.StoreName ?? $"{_options.Kind.FolderName()}-{_options.ShardNumber:D4}";

    /// <inheritdoc />
    public long CommitCount => Interlocked.Read(ref _commitCount);

    /// <summary>
    /// Migrations this open applied (empty when the file was already current or new). The
    /// cluster layer records them in the audit chain, which this library cannot reach.
    /// </summary>
    public IReadOnlyList<AppliedMigration> AppliedMigrations { get; private set; } = [];

    /// <inheritdoc />
    public bool CreatedByThisOpen { get; private set; }

    /// <summary>The current LMDB map size in bytes; grows on demand.</summary>
    public long MapSize
    {
        get
        {
            ThrowIfDisposed();
            return _env.Info.MapSize;
        }
    }

    /// <summary>The file of shard <paramref name="n"/> of <paramref name="kind"/>: <c>{dataRoot}/{kind}/shard-{n:D4}.mdb</c>.</summary>
    public static string PathFor(string dataRoot, ShardKind kind, int n) =>
        Path.Combine(dataRoot, kind.FolderName(), $"shard-{n:D4}.mdb");

    /// <summary>
    /// Opens the shard file, creating it if missing. An existing file is checked (header and
    /// length, LMDB meta pages, <c>shard_meta</c> identity and schema version) and migrated if
    /// behind; it is never overwritten or repaired.
    /// </summary>
    /// <exception cref="ForgeOneException">
    /// <see cref="ErrorCodes.StorageTruncatedFile"/>, <see cref="ErrorCodes.StorageCorruptFile"/>,
    /// <see cref="ErrorCodes.StorageUnknownFormat"/>, <see cref="ErrorCodes.StorageWrongShard"/>,
    /// <see cref="ErrorCodes.StorageNewerSchema"/>, <see cref="ErrorCodes.StorageMigrationFailed"/>,
    /// <see cref="ErrorCodes.InvalidConfiguration"/>, <see cref="ErrorCodes.Conflict"/> (already open in this process),
    /// <see cref="ErrorCodes.StorageIo"/>.
    /// </exception>
    public static ShardStore Open(ShardStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var targetVersion = ValidateOptions(options);
        var path = Path.GetFullPath(PathFor(options.DataRoot, options.Kind, options.ShardNumber));

        lock (OpenPaths)
        {
            if (!OpenPaths.Add(path))
            {
                throw new ForgeOneException(ErrorCodes.Conflict, $"{path} is already open in this process");
            }
        }

        try
        {
            return OpenCore(options, path, targetVersion);
        }
        catch
        {
            lock (OpenPaths)
            {
                OpenPaths.Remove(path);
            }

            throw;
        }
    }

    private static ShardStore OpenCore(ShardStoreOptions options, string path, int targetVersion)
    {
        var exists = File.Exists(path);
        long fileLength = 0;
        if (exists)
        {
            LmdbFileHeader.Validate(path);
            fileLength = new FileInfo(path).Length;
        }
        else
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        }

        var env = new LightningEnvironment(path, new EnvironmentConfiguration
        {
            MapSize = RoundUpToMiB(Math.Max(options.InitialMapSize, fileLength)),
            MaxDatabases = 32,
        });
        try
        {
            // NoThreadLocalStorage: read transactions are not tied to a thread, so a Read may
            // run on any pool thread while the actor's thread writes.
            var flags = EnvironmentOpenFlags.NoSubDir | EnvironmentOpenFlags.NoThreadLocalStorage;
            if (options.NoSync)
            {
                flags |= EnvironmentOpenFlags.NoSync;
            }

            try
            {
                env.Open(flags, UnixAccessMode.OwnerRead | UnixAccessMode.OwnerWrite);
            }
            catch (LightningException e)
            {
                throw LmdbErrors.ToForgeOne(LmdbErrors.StatusOf(e), $"opening {path}", e);
            }

            // A file whose meta pages record no committed transaction is what a crash between
            // LMDB creating the file and our first commit leaves behind: it holds nothing, so
            // it is initialized like a new file rather than refused as foreign.
            var isNew = !exists || env.Info.LastTransactionId == 0;
            var store = new ShardStore(options, path, env);
            store.Initialize(isNew, targetVersion);
            return store;
        }
        catch
        {
            env.Dispose();
            throw;
        }
    }

    private static int ValidateOptions(ShardStoreOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.DataRoot))
        {
            throw new ForgeOneException(ErrorCodes.InvalidConfiguration, "the data root is empty");
        }

        if (options.ShardCount < 1 || options.ShardNumber < 0 || options.ShardNumber >= options.ShardCount)
        {
            throw new ForgeOneException(ErrorCodes.InvalidConfiguration, $"shard {options.ShardNumber} of {options.ShardCount} is out of range");
        }

        if (options.InitialMapSize < 1024 * 1024)
        {
            throw new ForgeOneException(ErrorCodes.InvalidConfiguration, "the initial map size must be at least 1 MiB");
        }

        try
        {
            return ShardSchema.TargetVersion(options.Migrations);
        }
        catch (ArgumentException e)
        {
            throw new ForgeOneException(ErrorCodes.InvalidConfiguration, e.Message, e);
        }
    }

    private static long RoundUpToMiB(long bytes) => (bytes + (1L << 20) - 1) & ~((1L << 20) - 1);

    /// <summary>Closes the environment. Call only when no Read or Write is running on the store.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        // Taking the gate exclusively waits for any straggling reader on another thread:
        // closing the map under a live read would crash the process.
        _gate.EnterWriteLock();
        try
        {
            foreach (var db in _tables.Values)
            {
                db.Dispose();
            }

            _env.Dispose();
        }
        finally
        {
            _gate.ExitWriteLock();
            lock (OpenPaths)
            {
                OpenPaths.Remove(FilePath);
            }
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) == 1, this);
}
