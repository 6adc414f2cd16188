using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using ForgeOne.Common;

namespace ForgeOne.Storage;

/// <summary>Facts about one version of the data root.</summary>
/// <param name="Incarnation">1 for the data root as first created; each restore starts the next one.</param>
/// <param name="CreatedAt">When the version was made.</param>
/// <param name="CreatedBy">The principal that made it (a restore's caller), or <c>system</c>.</param>
/// <param name="RestoredFrom">The backup it was restored from, if any.</param>
/// <param name="Note">Free text (the restore's chain, heads).</param>
public sealed record DataVersionInfo(int Incarnation, DateTimeOffset CreatedAt, string CreatedBy, string? RestoredFrom, string? Note);

/// <summary>One version of the data root: <c>v0</c> is the root itself, <c>vN</c> lives in <c>versions/vN</c>.</summary>
public sealed record DataVersion(string Name, int Number, string Path, DataVersionInfo Info, bool Active);

/// <summary>
/// The one resolver of where shard files live. A data root holds versions: restores never
/// write over live data, they build a new version beside it and switch to it, keeping the
/// previous one until an operator discards it.
/// <code>
///   {root}/CURRENT                  "v2": the active version (absent: v0, the root itself)
///   {root}/{kind}/shard-NNNN.mdb    v0, the layout every data root starts with (and zones/{zone}/...)
///   {root}/versions/v2/...          a restored version (same layout), with VERSION.json
///   {root}/versions/v3.partial/     a restore in progress: never active, removed by the next one
/// </code>
/// A root made before versions existed is simply v0 with no CURRENT: nothing moves. Files that
/// belong to the cluster rather than to a version (the singletons' journal, the cluster id)
/// stay at the root. Every shard open calls <see cref="ActivePath"/>, so a switch takes effect
/// for each shard the next time it opens.
/// </summary>
public sealed class DataRootLayout
{
    /// <summary>Name of the base version (the root itself).</summary>
    public const string BaseVersion = "v0";

    private const string CurrentFile = "CURRENT";
    private const string VersionsFolder = "versions";
    private const string InfoFile = "VERSION.json";
    private const string PartialSuffix = ".partial";
    private static readonly string[] BaseFolders = ["system", "logs", "events", "blobs", "zones"];

    /// <summary>The layout of <paramref name="root"/> (which need not exist yet).</summary>
    public DataRootLayout(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        Root = System.IO.Path.GetFullPath(root);
    }

    /// <summary>The data root (absolute).</summary>
    public string Root { get; }

    /// <summary>The active version.</summary>
    public DataVersion Active => Describe(ActiveName(), active: true);

    /// <summary>Folder the active version's shard files live in.</summary>
    public string ActivePath => PathOf(ActiveName());

    /// <summary>Every version present, oldest first.</summary>
    public IReadOnlyList<DataVersion> Versions()
    {
        var active = ActiveName();
        var names = new List<string>();
        if (active == BaseVersion || BaseFolders.Any(f => Directory.Exists(System.IO.Path.Combine(Root, f))))
        {
            names.Add(BaseVersion);
        }

        var folder = System.IO.Path.Combine(Root, VersionsFolder);
        if (Directory.Exists(folder))
        {
            names.AddRange(Directory.EnumerateDirectories(folder).Select(d => System.IO.Path.GetFileName(d)!).Where(n => TryNumber(n, out _)));
        }

        return [.. names.Distinct(StringComparer.Ordinal).OrderBy(n => Number(n)).Select(n => Describe(n, n == active))];
    }

    /// <summary>
    /// Starts a new version: an empty <c>versions/vN.partial</c> folder (N above every existing
    /// version), where a restore writes and verifies everything before anything is switched.
    /// Leftovers of an interrupted restore are removed first.
    /// </summary>
    public string Prepare()
    {
        var folder = System.IO.Path.Combine(Root, VersionsFolder);
        Directory.CreateDirectory(folder);
        foreach (var stale in Directory.EnumerateDirectories(folder, "*" + PartialSuffix))
        {
            Directory.Delete(stale, recursive: true);
        }

        var next = Versions().Select(v => v.Number).DefaultIfEmpty(0).Max() + 1;
        var path = System.IO.Path.Combine(folder, $"v{next.ToString(CultureInfo.InvariantCulture)}{PartialSuffix}");
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Abandons a prepared version (a restore that failed verification): nothing else changes.</summary>
    public static void Abandon(string preparedPath)
    {
        if (preparedPath.EndsWith(PartialSuffix, StringComparison.Ordinal) && Directory.Exists(preparedPath))
        {
            Directory.Delete(preparedPath, recursive: true);
        }
    }

    /// <summary>Publishes a prepared version under its final name (still not active) with its facts.</summary>
    public DataVersion Publish(string preparedPath, DataVersionInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        var name = System.IO.Path.GetFileName(preparedPath);
        if (!name.EndsWith(PartialSuffix, StringComparison.Ordinal) || !TryNumber(name[..^PartialSuffix.Length], out _) || !Directory.Exists(preparedPath))
        {
            throw new ForgeOneException(ErrorCodes.InvalidArgument, $"{preparedPath} is not a prepared data-root version");
        }

        var infoPath = System.IO.Path.Combine(preparedPath, InfoFile);
        WriteDurably(infoPath, JsonSerializer.SerializeToUtf8Bytes(info, LayoutJson.Default.DataVersionInfo));
        var final = preparedPath[..^PartialSuffix.Length];
        Directory.Move(preparedPath, final);
        Durability.SyncDirectory(System.IO.Path.GetDirectoryName(final)!);
        return Describe(System.IO.Path.GetFileName(final), active: false);
    }

    /// <summary>Makes <paramref name="name"/> the active version (atomically: a crash leaves the old or the new one active).</summary>
    public void Activate(string name)
    {
        var path = PathOf(name);
        if (!Directory.Exists(path))
        {
            throw new ForgeOneException(ErrorCodes.BackupNotFound, $"data-root version {name} does not exist under {Root}");
        }

        Directory.CreateDirectory(Root);
        var current = System.IO.Path.Combine(Root, CurrentFile);
        var temporary = current + ".tmp";
        WriteDurably(temporary, System.Text.Encoding.ASCII.GetBytes(name + "\n"));
        File.Move(temporary, current, overwrite: true);
        Durability.SyncDirectory(Root);
    }

    /// <summary>
    /// Deletes a version that is not active (a previous version kept after a restore, or an
    /// abandoned one). Errors: <c>backup.version_active</c>, <c>backup.not_found</c>.
    /// </summary>
    public void Discard(string name)
    {
        if (!TryNumber(name, out _))
        {
            throw new ForgeOneException(ErrorCodes.InvalidArgument, $"'{name}' is not a data-root version name (v0, v1, ...)");
        }

        if (string.Equals(name, ActiveName(), StringComparison.Ordinal))
        {
            throw new ForgeOneException(ErrorCodes.BackupVersionActive, $"data-root version {name} is the active one; activate another before discarding it");
        }

        if (!Versions().Any(v => v.Name == name))
        {
            throw new ForgeOneException(ErrorCodes.BackupNotFound, $"data-root version {name} does not exist under {Root}");
        }

        if (name == BaseVersion)
        {
            foreach (var folder in BaseFolders.Select(f => System.IO.Path.Combine(Root, f)).Where(Directory.Exists))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        else
        {
            Directory.Delete(PathOf(name), recursive: true);
        }

        Durability.SyncDirectory(Root);
    }

    /// <summary>Folder of version <paramref name="name"/>.</summary>
    public string PathOf(string name) =>
        name == BaseVersion ? Root : System.IO.Path.Combine(Root, VersionsFolder, TryNumber(name, out _) ? name : throw new ForgeOneException(ErrorCodes.InvalidArgument, $"'{name}' is not a data-root version name"));

    private string ActiveName()
    {
        var current = System.IO.Path.Combine(Root, CurrentFile);
        if (!File.Exists(current))
        {
            return BaseVersion;
        }

        var name = File.ReadAllText(current).Trim();
        if (!TryNumber(name, out _) || (name != BaseVersion && !Directory.Exists(System.IO.Path.Combine(Root, VersionsFolder, name))))
        {
            // Never fall back silently: serving another version than the one recorded would
            // resurrect or hide data.
            throw new ForgeOneException(ErrorCodes.StorageCorruptFile, $"{current} names data-root version '{name}', which does not exist; fix or remove the file");
        }

        return name;
    }

    private DataVersion Describe(string name, bool active)
    {
        var path = PathOf(name);
        var infoPath = System.IO.Path.Combine(path, InfoFile);
        DataVersionInfo info;
        if (name != BaseVersion && File.Exists(infoPath))
        {
            try
            {
                info = JsonSerializer.Deserialize(File.ReadAllBytes(infoPath), LayoutJson.Default.DataVersionInfo)
                    ?? throw new JsonException("empty");
            }
            catch (JsonException e)
            {
                throw new ForgeOneException(ErrorCodes.StorageCorruptFile, $"{infoPath} is unreadable: {e.Message}");
            }
        }
        else
        {
            info = new DataVersionInfo(1, Directory.Exists(path) ? Directory.GetCreationTimeUtc(path) : DateTime.UnixEpoch, "system", null, null);
        }

        return new DataVersion(name, Number(name), path, info, active);
    }

    private static int Number(string name) => TryNumber(name, out var n) ? n : -1;

    private static bool TryNumber(string name, out int number)
    {
        number = -1;
        return name.Length > 1 && name[0] == 'v' && name.Length <= 10 && name[1..].All(char.IsAsciiDigit)
            && int.TryParse(name.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out number);
    }

    private static void WriteDurably(string path, byte[] bytes)
    {
        using (var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(DataVersionInfo))]
internal sealed partial class LayoutJson : JsonSerializerContext;
