using ForgeOne.Common;

namespace ForgeOne.Security;

/// <summary>
/// Key files (KEKs, the audit signing key) are owner-only: created 0600 in a 0700 directory and
/// refused when broader. An attacker who can read the keys directory can read every record, so
/// a too-open file is a configuration error we stop on rather than a warning.
/// </summary>
internal static class KeyFiles
{
    public const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private const UnixFileMode OwnerOnlyDirectory = OwnerOnly | UnixFileMode.UserExecute;

    /// <summary>Creates the keys directory (0700) unless it exists; refuses one inside the data root.</summary>
    public static string PrepareDirectory(string keysDirectory, string? dataRoot)
    {
        var full = Path.GetFullPath(keysDirectory);
        if (dataRoot is not null)
        {
            // Compared as the file system resolves them: a keys directory reached through a
            // symlink (or a data root that is one) may still lie inside the data.
            var real = RealPath(full);
            var root = Path.TrimEndingDirectorySeparator(RealPath(Path.GetFullPath(dataRoot)));
            if (real == root || real.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                // Backups copy the data root; a key inside it would travel with the ciphertext.
                throw new ForgeOneException(ErrorCodes.InvalidConfiguration,
                    $"keys directory '{full}'{(real == full ? "" : $" (really '{real}')")} is inside the data root '{root}'; keys must live outside the data (and its backups)");
            }
        }

        if (!Directory.Exists(full))
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(full);
            }
            else
            {
                Directory.CreateDirectory(full, OwnerOnlyDirectory);
            }
        }

        return full;
    }

    /// <summary>Throws <see cref="ErrorCodes.CryptoKeyFileInsecure"/> if group or others have any access.</summary>
    public static void CheckPermissions(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var mode = File.GetUnixFileMode(path);
        if ((mode & ~OwnerOnly) != 0)
        {
            throw new ForgeOneException(ErrorCodes.CryptoKeyFileInsecure,
                $"key file '{path}' has mode {Octal(mode)}; key files must be 0600 or narrower (run: chmod 600 '{path}')");
        }
    }

    /// <summary>Reads a key file after checking its permissions.</summary>
    public static byte[] Read(string path)
    {
        CheckPermissions(path);
        return File.ReadAllBytes(path);
    }

    /// <summary>
    /// Writes a new key file atomically with mode 0600: a temp file created 0600, fsynced, then
    /// renamed without overwrite. A crash leaves either no key file or a complete one; losing a
    /// race against another process keeps the other process's key (returns false).
    /// </summary>
    public static bool TryCreate(string path, ReadOnlySpan<byte> content)
    {
        var tmp = $"{path}.{Guid.NewGuid():N}.tmp";
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnly;
        }

        try
        {
            using (var stream = new FileStream(tmp, options))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }

            if (!OperatingSystem.IsWindows())
            {
                // umask can only narrow the create mode, but set it explicitly so the file is exactly 0600.
                File.SetUnixFileMode(tmp, OwnerOnly);
            }

            try
            {
                File.Move(tmp, path, overwrite: false);

                // The file's bytes were fsynced above; the rename lives in the directory, which
                // a power loss could otherwise forget, leaving data encrypted under a key whose
                // file never made it to disk.
                SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
                return true;
            }
            catch (IOException) when (File.Exists(path))
            {
                return false;
            }
        }
        finally
        {
            if (File.Exists(tmp))
            {
                File.Delete(tmp);
            }
        }
    }

    /// <summary>
    /// <paramref name="path"/> (absolute) with every symlink among its existing components
    /// resolved; components that do not exist yet are kept as written.
    /// </summary>
    public static string RealPath(string path)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        var root = Path.GetPathRoot(full)!;
        var current = root;
        var parts = full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < parts.Length; i++)
        {
            var next = Path.Combine(current, parts[i]);
            FileSystemInfo info = new DirectoryInfo(next);
            if (!info.Exists)
            {
                info = new FileInfo(next);
            }

            if (!info.Exists && info.LinkTarget is null)
            {
                // The rest does not exist: nothing further to resolve.
                return Path.Combine([current, .. parts[i..]]);
            }

            current = info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is { } target
                ? RealPath(target.FullName)
                : next;
        }

        return current;
    }

    /// <summary>Makes a rename in <paramref name="directory"/> durable (fsync of the directory itself).</summary>
    public static void SyncDirectory(string directory)
    {
        if (!OperatingSystem.IsWindows())
        {
            PosixDirectory.Sync(directory);
        }
    }

    private static string Octal(UnixFileMode mode) => "0" + Convert.ToString((int)mode & 0xFFF, 8);
}
