using System.Text.Json;
using System.Text.Json.Serialization;
using ForgeOne.Common;

namespace ForgeOne.Cluster.Hosting;

/// <summary>A running node's entry in its data root: who it is and which cluster it belongs to.</summary>
/// <param name="Cluster">The node's <c>ForgeOne:ClusterName</c>.</param>
/// <param name="Address">Its Akka address (<c>akka.tcp://name@host:port</c>).</param>
/// <param name="Uid">Its incarnation (Akka's unique address uid): a restarted node is a new holder.</param>
/// <param name="Seeds">Its seed nodes (empty: it formed its own cluster).</param>
/// <param name="Pid">Its process id, for the operator reading the refusal.</param>
public sealed record DataRootHolder(string Cluster, string Address, long Uid, string[] Seeds, int Pid);

/// <summary>
/// A data root belongs to one cluster. Every storage node of a cluster may share it (shards move
/// between nodes, fenced by the owner recorded in each file), but a node of another cluster that
/// opened it would fence the first cluster's owners under its feet. The claim makes that
/// impossible:
/// <list type="bullet">
/// <item><c>{root}/CLUSTER.json</c> records the cluster name the root was made by; a node of
/// another name refuses the root at once.</item>
/// <item>Every running node describes itself in <c>{root}/members/{node}.json</c> and holds an
/// exclusive lock on <c>{node}.lock</c> beside it (released by the kernel when the process dies,
/// however it dies; the description is a separate file because a locked file cannot be read
/// through .NET's advisory locks). Before opening any shard, a
/// node checks every locked file: each must be a member of the cluster this node has joined.
/// A live holder that is not a member, and whose seeds share nothing with this node's (so it
/// can never join), means another cluster runs on this root: refuse. One that shares seeds may
/// be a node of this cluster still joining: wait for it (bounded by the caller).</item>
/// </list>
/// A whole cluster stopped or killed holds nothing, so restarting it (with any seeds) just works.
/// Pure file logic: the cluster membership is given by the caller.
/// </summary>
public sealed class DataRootClaim : IDisposable
{
    /// <summary>Folder of the holders' files under the data root.</summary>
    public const string MembersFolder = "members";

    /// <summary>File recording the cluster a data root belongs to.</summary>
    public const string ClusterFile = "CLUSTER.json";

    // A description is written and then its lock taken; one that old and unlocked is a dead
    // node's, never one being created, so it is safe to delete.
    private static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(1);

    private readonly FileStream _lock;

    private DataRootClaim(string root, DataRootHolder self, FileStream held)
    {
        Root = root;
        Self = self;
        _lock = held;
    }

    /// <summary>The data root.</summary>
    public string Root { get; }

    /// <summary>This node's entry.</summary>
    public DataRootHolder Self { get; }

    /// <summary>
    /// Records this node in <paramref name="root"/> (creating <c>CLUSTER.json</c> on a new root) and
    /// holds its lock until disposed. Throws <see cref="ForgeOneException"/>
    /// (<see cref="ErrorCodes.DataRootInUse"/>) when the root was made by a cluster of another name.
    /// </summary>
    public static DataRootClaim Register(string root, DataRootHolder self)
    {
        var recorded = RecordedCluster(root) ?? RecordCluster(root, self.Cluster);
        if (recorded != self.Cluster)
        {
            throw new ForgeOneException(ErrorCodes.DataRootInUse,
                $"The data root {root} belongs to cluster '{Printable.Text(recorded, 100)}' (its {ClusterFile}), not to '{self.Cluster}': check ForgeOne:DataRoot and ForgeOne:ClusterName.");
        }

        var folder = Path.Combine(root, MembersFolder);
        Directory.CreateDirectory(folder);
        var description = Path.Combine(folder, FileName(self));
        File.WriteAllBytes(description, JsonSerializer.SerializeToUtf8Bytes(self, ClaimJson.Default.DataRootHolder));
        return new DataRootClaim(root, self, new FileStream(LockOf(description), FileMode.Create, FileAccess.ReadWrite, FileShare.None));
    }

    /// <summary>The live holders other than this node (their process still holds its lock).</summary>
    public IReadOnlyList<DataRootHolder> OtherLiveHolders()
    {
        var live = new List<DataRootHolder>();
        var own = Path.Combine(Root, MembersFolder, FileName(Self));
        foreach (var file in Directory.EnumerateFiles(Path.Combine(Root, MembersFolder), "*.json"))
        {
            if (file == own)
            {
                continue;
            }

            if (IsLocked(LockOf(file)))
            {
                live.Add(Read(file));
            }
            else if (File.GetLastWriteTimeUtc(file) < DateTime.UtcNow - StaleAfter)
            {
                TryDelete(file);
                TryDelete(LockOf(file));
            }
        }

        return live;
    }

    /// <summary>
    /// What to do about the live holders given this node's cluster <paramref name="members"/>
    /// (address and uid of every member this node sees): null when every holder is a member;
    /// otherwise the refusal, and whether it is final (no holder can ever join this node's
    /// cluster) or may clear once the holders finish joining.
    /// </summary>
    public (ForgeOneError Error, bool Final)? Check(IReadOnlyCollection<(string Address, long Uid)> members)
    {
        var strangers = OtherLiveHolders().Where(h => !members.Contains((h.Address, h.Uid))).ToList();
        if (strangers.Count == 0)
        {
            return null;
        }

        var final = strangers.Any(h => h.Cluster != Self.Cluster || !SharesASeed(h, Self));
        var names = string.Join(", ", strangers.Select(h => $"{Printable.Text(h.Address, 120)} (cluster '{Printable.Text(h.Cluster, 60)}', pid {h.Pid})"));
        return (new ForgeOneError(ErrorCodes.DataRootInUse,
            $"The data root {Root} is in use by {names}, which {(strangers.Count == 1 ? "is" : "are")} not a member of this node's cluster: "
            + "opening its shards would fence that cluster's nodes. Join that cluster (ForgeOne:SeedNodes) or use another ForgeOne:DataRoot."), final);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        var description = Path.Combine(Root, MembersFolder, FileName(Self));
        TryDelete(description);
        _lock.Dispose();
        TryDelete(LockOf(description));
    }

    // Two nodes can be in one cluster only if their seed lists (a node without seeds: itself) meet.
    private static bool SharesASeed(DataRootHolder a, DataRootHolder b)
    {
        static HashSet<string> SeedsOf(DataRootHolder h) => h.Seeds.Length == 0 ? [h.Address] : [.. h.Seeds.Select(s => s.TrimEnd('/'))];
        var sa = SeedsOf(a);
        var sb = SeedsOf(b);
        return sa.Overlaps(sb) || sa.Contains(b.Address) || sb.Contains(a.Address);
    }

    private static bool IsLocked(string lockFile)
    {
        try
        {
            using var probe = new FileStream(lockFile, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            return false;
        }
        catch (FileNotFoundException)
        {
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    // A live holder whose description cannot be read is still a live holder, of no known cluster.
    private static DataRootHolder Read(string description)
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(description), ClaimJson.Default.DataRootHolder)
                ?? throw new JsonException("null");
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            return new DataRootHolder("?", Path.GetFileNameWithoutExtension(description), 0, [], 0);
        }
    }

    private static string LockOf(string description) => Path.ChangeExtension(description, ".lock");

    private static string? RecordedCluster(string root)
    {
        var path = Path.Combine(root, ClusterFile);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), ClaimJson.Default.ClusterRecord)?.Cluster ?? "?";
        }
        catch (JsonException)
        {
            throw new ForgeOneException(ErrorCodes.DataRootInUse, $"{path} is not a cluster record; it was edited or belongs to something else.");
        }
    }

    // Written beside the shards, renamed into place, so a crash leaves the old record or the new one.
    private static string RecordCluster(string root, string cluster)
    {
        var path = Path.Combine(root, ClusterFile);
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(stream, new ClusterRecord(cluster, DateTimeOffset.UtcNow), ClaimJson.Default.ClusterRecord);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
        return cluster;
    }

    private static string FileName(DataRootHolder holder)
    {
        var address = new string([.. holder.Address.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' ? c : '_')]);
        return $"{address}-{holder.Uid}.json";
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Another node removed it first.
        }
    }
}

/// <summary>The content of <c>CLUSTER.json</c>.</summary>
/// <param name="Cluster">The cluster name the data root belongs to.</param>
/// <param name="CreatedAt">When the first node of that cluster recorded it.</param>
public sealed record ClusterRecord(string Cluster, DateTimeOffset CreatedAt);

[JsonSerializable(typeof(DataRootHolder))]
[JsonSerializable(typeof(ClusterRecord))]
[JsonSourceGenerationOptions(WriteIndented = true)]
internal sealed partial class ClaimJson : JsonSerializerContext;
