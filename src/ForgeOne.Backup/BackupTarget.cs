using ForgeOne.Common;
using ForgeOne.Storage;

namespace ForgeOne.Backup;

/// <summary>Where one region's copies go.</summary>
/// <param name="Region">The region label (e.g. <c>eu-west</c>); unique among the targets.</param>
/// <param name="Path">Folder of the data backups and drill reports.</param>
/// <param name="Required">A backup is complete only when every required region holds every file; an optional region is best effort.</param>
/// <param name="KeysPath">Folder of the key backups (default: <c>{Path}/keys</c>), never inside a data backup's folder.</param>
public sealed record BackupTargetOptions(string Region, string Path, bool Required = true, string? KeysPath = null);

/// <summary>
/// A filesystem target of one region. Layout:
/// <code>
///   {Path}/backups/{backup id}/manifest.json, manifest.sig, data/{shard path}.{attempt}.fob
///   {Path}/drills/{drill id}/report.json, report.md, report.sig
///   {KeysPath}/{key backup id}.fokeys
/// </code>
/// Append-only: a file is written under <c>.partial</c>, fsynced and renamed without replacing
/// anything, so a name only ever holds a complete file; a complete backup is made read-only;
/// only retention deletes (<see cref="Delete"/>).
/// </summary>
public sealed class BackupTarget
{
    private const string PartialSuffix = ".partial";

    /// <summary>Creates the target (folders are created on first write).</summary>
    public BackupTarget(BackupTargetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Region = options.Region;
        Required = options.Required;
        Root = System.IO.Path.GetFullPath(options.Path);
        KeysRoot = System.IO.Path.GetFullPath(options.KeysPath ?? System.IO.Path.Combine(options.Path, "keys"));
    }

    /// <summary>The region label.</summary>
    public string Region { get; }

    /// <summary>Whether a backup needs this region to be complete.</summary>
    public bool Required { get; }

    /// <summary>Absolute data folder.</summary>
    public string Root { get; }

    /// <summary>Absolute key-backup folder.</summary>
    public string KeysRoot { get; }

    /// <summary>Relative path of a backup's folder.</summary>
    public static string BackupFolder(string backupId) => $"backups/{backupId}";

    /// <summary>Relative path of a backup's manifest.</summary>
    public static string ManifestPath(string backupId) => $"backups/{backupId}/manifest.json";

    /// <summary>Relative path of a manifest's signature.</summary>
    public static string SignaturePath(string backupId) => $"backups/{backupId}/manifest.sig";

    /// <summary>Relative path of a drill's folder.</summary>
    public static string DrillFolder(string drillId) => $"drills/{drillId}";

    /// <summary>Starts writing <paramref name="relative"/> (under <c>.partial</c>); <see cref="PendingFile.Commit"/> publishes it.</summary>
    public PendingFile Begin(string relative) => BeginAt(Resolve(relative));

    /// <summary>Starts writing a key backup file.</summary>
    public PendingFile BeginKeyBackup(string id) => BeginAt(KeyBackupFile(id));

    /// <summary>True when the complete file exists.</summary>
    public bool Exists(string relative) => File.Exists(Resolve(relative));

    /// <summary>Length of a complete file, or null when it is missing.</summary>
    public long? Length(string relative) => File.Exists(Resolve(relative)) is true ? new FileInfo(Resolve(relative)).Length : null;

    /// <summary>Opens a complete file for reading. Errors: <c>backup.file_missing</c>.</summary>
    public Stream OpenRead(string relative)
    {
        var path = Resolve(relative);
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 0, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ForgeOneException(ErrorCodes.BackupFileMissing, $"region {Region} has no {relative} ({path})");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ForgeOneException(ErrorCodes.BackupFileMissing, $"region {Region} cannot read {relative}: {e.Message}");
        }
    }

    /// <summary>Reads a whole (small) file.</summary>
    public byte[] ReadAll(string relative)
    {
        using var stream = OpenRead(relative);
        using var ms = new MemoryStream();
        stream.CopyTo(ms);
        return ms.ToArray();
    }

    /// <summary>Reads a key backup file. Errors: <c>backup.file_missing</c>.</summary>
    public byte[] ReadKeyBackup(string id)
    {
        var path = KeyBackupFile(id);
        return File.Exists(path)
            ? File.ReadAllBytes(path)
            : throw new ForgeOneException(ErrorCodes.BackupFileMissing, $"region {Region} has no key backup {id} ({path})");
    }

    /// <summary>Ids of the key backups this region holds.</summary>
    public IReadOnlyList<string> ListKeyBackups() =>
        Directory.Exists(KeysRoot)
            ? [.. Directory.EnumerateFiles(KeysRoot, "*" + ForgeOne.Security.KeyBackup.Extension).Select(p => System.IO.Path.GetFileNameWithoutExtension(p)!).Order(StringComparer.Ordinal)]
            : [];

    /// <summary>Ids of the folders under <paramref name="relativeFolder"/> (e.g. <c>backups</c>) that hold <paramref name="marker"/>.</summary>
    public IReadOnlyList<string> List(string relativeFolder, string marker)
    {
        var folder = Resolve(relativeFolder);
        return Directory.Exists(folder)
            ? [.. Directory.EnumerateDirectories(folder).Where(d => File.Exists(System.IO.Path.Combine(d, marker))).Select(d => System.IO.Path.GetFileName(d)!).Order(StringComparer.Ordinal)]
            : [];
    }

    /// <summary>Every complete file under a folder, relative to the target root.</summary>
    public IReadOnlyList<string> Files(string relativeFolder)
    {
        var folder = Resolve(relativeFolder);
        return Directory.Exists(folder)
            ? [.. Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
                .Where(p => !p.EndsWith(PartialSuffix, StringComparison.Ordinal))
                .Select(p => System.IO.Path.GetRelativePath(Root, p).Replace(System.IO.Path.DirectorySeparatorChar, '/'))
                .Order(StringComparer.Ordinal)]
            : [];
    }

    /// <summary>
    /// Makes a finished folder read-only (files 0444, folders 0555): complete backups and
    /// reports are evidence, not working files. Partial leftovers are removed first.
    /// </summary>
    public void Seal(string relativeFolder)
    {
        var folder = Resolve(relativeFolder);
        if (!Directory.Exists(folder) || OperatingSystem.IsWindows())
        {
            return;
        }

        foreach (var partial in Directory.EnumerateFiles(folder, "*" + PartialSuffix, SearchOption.AllDirectories).ToList())
        {
            File.Delete(partial);
        }

        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
        {
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }

        foreach (var dir in Directory.EnumerateDirectories(folder, "*", SearchOption.AllDirectories).Append(folder).OrderByDescending(d => d.Length))
        {
            Durability.SyncDirectory(dir);
            File.SetUnixFileMode(dir, ReadOnlyFolder);
        }
    }

    /// <summary>Deletes files of an unfinished folder that a retry superseded (only before <see cref="Seal"/>).</summary>
    public void DeleteFiles(IEnumerable<string> relativeFiles)
    {
        foreach (var relative in relativeFiles)
        {
            File.Delete(Resolve(relative));
        }
    }

    /// <summary>Removes a folder: retention of an expired backup, or cleanup of a failed one. The only delete there is.</summary>
    public void Delete(string relativeFolder)
    {
        var folder = Resolve(relativeFolder);
        if (!Directory.Exists(folder))
        {
            return;
        }

        if (!OperatingSystem.IsWindows())
        {
            foreach (var dir in Directory.EnumerateDirectories(folder, "*", SearchOption.AllDirectories).Append(folder))
            {
                File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }

        Directory.Delete(folder, recursive: true);
    }

    /// <inheritdoc />
    public override string ToString() => $"{Region} ({Root}{(Required ? "" : ", optional")})";

    private const UnixFileMode ReadOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private string KeyBackupFile(string id) => System.IO.Path.Combine(KeysRoot, id + ForgeOne.Security.KeyBackup.Extension);

    private string Resolve(string relative)
    {
        var path = System.IO.Path.GetFullPath(System.IO.Path.Combine(Root, relative));
        if (!path.StartsWith(Root + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ForgeOneException(ErrorCodes.InvalidArgument, $"'{relative}' is not inside region {Region}'s folder");
        }

        return path;
    }

    private PendingFile BeginAt(string path)
    {
        var directory = System.IO.Path.GetDirectoryName(path)!;
        try
        {
            Directory.CreateDirectory(directory);
            if (File.Exists(path))
            {
                throw new ForgeOneException(ErrorCodes.Conflict, $"region {Region} already holds {path}; backup files are never overwritten");
            }

            var partial = path + PartialSuffix;
            var stream = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 0, FileOptions.None);
            return new PendingFile(this, path, partial, stream);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && e is not ForgeOneException)
        {
            throw new ForgeOneException(ErrorCodes.StorageIo, $"region {Region} cannot write {path}: {e.Message}");
        }
    }

    /// <summary>A file being written to a target: published by <see cref="Commit"/>, or removed by <see cref="Dispose"/>.</summary>
    public sealed class PendingFile : IDisposable
    {
        private readonly BackupTarget _target;
        private readonly string _partial;
        private bool _committed;

        internal PendingFile(BackupTarget target, string path, string partial, FileStream stream)
        {
            _target = target;
            Path = path;
            _partial = partial;
            Stream = stream;
        }

        /// <summary>The final path.</summary>
        public string Path { get; }

        /// <summary>Where to write.</summary>
        public FileStream Stream { get; }

        /// <summary>Flushes to disk, renames into place (never over an existing file) and syncs the folder.</summary>
        public void Commit()
        {
            Stream.Flush(flushToDisk: true);
            Stream.Dispose();
            try
            {
                File.Move(_partial, Path, overwrite: false);
            }
            catch (IOException e)
            {
                throw new ForgeOneException(ErrorCodes.Conflict, $"region {_target.Region}: {Path} appeared while it was being written; the new copy was not published ({e.Message})");
            }

            Durability.SyncDirectory(System.IO.Path.GetDirectoryName(Path)!);
            _committed = true;
        }

        /// <inheritdoc />
        public void Dispose()
        {
            Stream.Dispose();
            if (!_committed)
            {
                File.Delete(_partial);
            }
        }
    }
}
