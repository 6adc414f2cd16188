using System.Text.Json.Serialization;
using ForgeOne.Common;
using ForgeOne.Storage;

namespace ForgeOne.Backup;

/// <summary>
/// One shard file of a cluster: its residency zone (null for the default zone), kind and
/// number. Zone shards live under <c>zones/{zone}</c> of the data root, so <c>logs</c> shard 3
/// of zone eu and of the default zone are different files and different backup files.
/// </summary>
public sealed record ShardRef(string? Zone, ShardKind Kind, int Shard) : IComparable<ShardRef>
{
    /// <summary>The store id the shard's keyring, ciphertexts and audit chain are bound to (<c>logs-0003</c>).</summary>
    [JsonIgnore]
    public string StoreId => $"{Kind.FolderName()}-{Shard:D4}";

    /// <summary>Path of the shard file under a data root, e.g. <c>zones/eu/logs/shard-0003.mdb</c>.</summary>
    [JsonIgnore]
    public string RelativePath => Path.Combine(Zone is null ? "" : Path.Combine("zones", Zone), Kind.FolderName(), $"shard-{Shard:D4}.mdb");

    /// <summary>A short name for messages and file names: <c>logs-0003</c> or <c>eu/logs-0003</c>.</summary>
    [JsonIgnore]
    public string Name => Zone is null ? StoreId : $"{Zone}/{StoreId}";

    /// <summary>The data root a <see cref="ShardStore"/> of this shard opens under <paramref name="root"/>.</summary>
    public string DataRootUnder(string root) => Zone is null ? root : Path.Combine(root, "zones", Zone);

    /// <inheritdoc />
    public int CompareTo(ShardRef? other) =>
        other is null ? 1 : string.CompareOrdinal(Zone ?? "", other.Zone ?? "") is var z and not 0 ? z : Kind != other.Kind ? Kind.CompareTo(other.Kind) : Shard.CompareTo(other.Shard);

    /// <inheritdoc />
    public override string ToString() => Name;
}
