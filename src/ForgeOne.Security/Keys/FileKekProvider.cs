using System.Globalization;
using ForgeOne.Common;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ForgeOne.Security;

/// <summary>
/// Dev-default KEK source: one raw 32-byte file per version, <c>kek-v{n}.key</c>, in a keys
/// directory outside the data root. The first use creates <c>kek-v1.key</c> (0600); a file with
/// broader permissions is refused with <c>crypto.key_file_insecure</c>. Thread-safe.
/// </summary>
public sealed class FileKekProvider : IKekProvider
{
    private readonly string _directory;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();

    // Loaded versions; immutable once read (a key file never changes after creation).
    private readonly Dictionary<int, KeyEncryptionKey> _keys = [];
    private int _current;

    /// <param name="keysDirectory">Created 0700 if missing.</param>
    /// <param name="dataRoot">When given, a keys directory inside it is refused (keys must not travel with backups).</param>
    /// <param name="logger">Receives key lifecycle lines (versions and paths only).</param>
    public FileKekProvider(string keysDirectory, string? dataRoot = null, ILogger? logger = null)
    {
        _logger = logger ?? NullLogger.Instance;
        _directory = KeyFiles.PrepareDirectory(keysDirectory, dataRoot);
        var files = Directory.EnumerateFiles(_directory, "kek-v*.key").ToList();
        foreach (var file in files)
        {
            // Every version, not just the current one: an old KEK still unwraps old keyrings.
            KeyFiles.CheckPermissions(file);
        }

        _current = files.Select(p => ParseVersion(Path.GetFileName(p))).DefaultIfEmpty(0).Max();
        if (_current == 0)
        {
            CreateVersion(1);
            _current = 1;
        }

        // Load (and permission-check) the current key now so a bad file fails at startup, not on first write.
        Get(_current);
    }

    /// <summary>The keys directory (absolute).</summary>
    public string KeysDirectory => _directory;

    /// <inheritdoc />
    public int CurrentVersion
    {
        get
        {
            lock (_lock)
            {
                return _current;
            }
        }
    }

    /// <summary>Path of the file holding KEK <paramref name="version"/>.</summary>
    public string PathOf(int version) => Path.Combine(_directory, $"kek-v{version}.key");

    /// <inheritdoc />
    public KeyEncryptionKey GetCurrent() => Get(CurrentVersion);

    /// <inheritdoc />
    public KeyEncryptionKey Get(int version)
    {
        lock (_lock)
        {
            if (_keys.TryGetValue(version, out var cached))
            {
                return cached;
            }

            var path = PathOf(version);
            if (version < 1 || !File.Exists(path))
            {
                throw new ForgeOneException(ErrorCodes.CryptoKeyUnavailable, $"KEK v{version} is not in the keys directory '{_directory}'");
            }

            var bytes = KeyFiles.Read(path);
            try
            {
                var kek = new KeyEncryptionKey(version, bytes);
                _keys[version] = kek;
                Log.KekLoaded(_logger, version, path);
                return kek;
            }
            finally
            {
                Array.Clear(bytes);
            }
        }
    }

    /// <inheritdoc />
    public KeyEncryptionKey Rotate()
    {
        lock (_lock)
        {
            var next = _current + 1;
            while (!CreateVersion(next))
            {
                // Another process rotated concurrently; move past its version instead of overwriting it.
                next++;
            }

            _current = next;
            Log.KekRotated(_logger, next);
        }

        return Get(_current);
    }

    private bool CreateVersion(int version)
    {
        var kek = KeyEncryptionKey.Generate(version);
        var path = PathOf(version);
        if (!KeyFiles.TryCreate(path, kek.Key))
        {
            return false;
        }

        Log.KekCreated(_logger, version, path);
        return true;
    }

    private static int ParseVersion(string fileName)
    {
        // kek-v{n}.key
        var digits = fileName["kek-v".Length..^".key".Length];
        return int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0;
    }
}
