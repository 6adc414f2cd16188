using System.Text;

namespace ForgeOne.Storage.Records;

/// <summary>
/// One API key as the system store's <c>api_keys</c> table holds it (key: the key id, UTF-8).
/// Never the secret: only a per-key salt and the salted hash of the whole presented key, so
/// a copy of the store (a backup, a stolen disk) authenticates nobody. A revocation is kept in
/// the record (who, when, why), never a deletion: the record is the key's history.
/// </summary>
/// <param name="Id">The key id (the part of <c>fo_live_&lt;id&gt;_&lt;secret&gt;</c> before the secret).</param>
/// <param name="Name">What the key is for, chosen by its creator.</param>
/// <param name="Roles">Roles of the principal it authenticates.</param>
/// <param name="Tenant">Its tenant; null for a cluster-level principal.</param>
/// <param name="Regions">Residency regions it may touch (<c>*</c>: all).</param>
/// <param name="Clearance">Highest classification it may touch.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="CreatedBy">The principal that created it.</param>
/// <param name="ExpiresAt">Refused from this instant on; null: until revoked.</param>
/// <param name="RevokedAt">When it was revoked; null while valid.</param>
/// <param name="RevokedBy">Who revoked it.</param>
/// <param name="RevokeReason">Why.</param>
/// <param name="Salt">Per-key random salt.</param>
/// <param name="Hash">HMAC-SHA256 of the presented key under <paramref name="Salt"/>.</param>
public sealed record ApiKeyRecord(
    string Id,
    string Name,
    IReadOnlyList<string> Roles,
    string? Tenant,
    IReadOnlyList<string> Regions,
    int Clearance,
    DateTimeOffset CreatedAt,
    string CreatedBy,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? RevokedAt,
    string? RevokedBy,
    string? RevokeReason,
    byte[] Salt,
    byte[] Hash)
{
    /// <summary>The table key of <paramref name="id"/>.</summary>
    public static byte[] KeyOf(string id) => Encoding.UTF8.GetBytes(id);

    /// <summary>The stored bytes (see <see cref="RecordFormat"/>).</summary>
    public byte[] Encode()
    {
        var w = RecordWriter.ForRecord(RecordType.ApiKey);
        w.WriteString(Id);
        w.WriteString(Name);
        WriteList(w, Roles);
        w.WriteOptionalString(Tenant);
        WriteList(w, Regions);
        w.WriteInt32(Clearance);
        w.WriteTimestamp(CreatedAt);
        w.WriteString(CreatedBy);
        w.WriteOptionalTimestamp(ExpiresAt);
        w.WriteOptionalTimestamp(RevokedAt);
        w.WriteOptionalString(RevokedBy);
        w.WriteOptionalString(RevokeReason);
        w.WriteBytes(Salt);
        w.WriteBytes(Hash);
        return w.ToArray();
    }

    /// <summary>Reads bytes written by <see cref="Encode"/>; throws <see cref="Common.ForgeOneException"/> on anything else.</summary>
    public static ApiKeyRecord Decode(ReadOnlySpan<byte> data)
    {
        var r = RecordReader.ForRecord(data, RecordType.ApiKey);
        var record = new ApiKeyRecord(
            r.ReadString(), r.ReadString(), ReadList(ref r), r.ReadOptionalString(), ReadList(ref r), r.ReadInt32(),
            r.ReadTimestamp(), r.ReadString(), r.ReadOptionalTimestamp(), r.ReadOptionalTimestamp(), r.ReadOptionalString(), r.ReadOptionalString(),
            r.ReadBytes(), r.ReadBytes());
        r.End();
        return record;
    }

    private static void WriteList(RecordWriter w, IReadOnlyList<string> values)
    {
        w.WriteInt32(values.Count);
        foreach (var value in values)
        {
            w.WriteString(value);
        }
    }

    private static string[] ReadList(ref RecordReader r)
    {
        var values = new string[r.ReadCount(minElementBytes: 4)];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = r.ReadString();
        }

        return values;
    }
}
