using ForgeOne.Cluster.Compliance;
using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage;
using static ForgeOne.Cluster.Protocol.SystemProtocol;

namespace ForgeOne.Cluster.Shards.System;

/// <summary>
/// The residency directory (<see cref="ResidencyDocument"/>): one versioned document in
/// <c>metadata</c>, changed by <see cref="SetResidency"/> (a <c>residency:admin</c> decision),
/// read whole by <see cref="GetResidencyDirectory"/> when a node starts.
/// </summary>
public sealed partial class SystemShardHandler
{
    /// <summary>Longest topic or tenant name an entry may carry.</summary>
    public const int MaxResidencyName = 256;

    private static (string Action, ForgeOneError? Error)? AdmitResidency(Protocol.IShardOperation operation) => operation switch
    {
        SetResidency s => ("system.residency_set",
            !Enum.IsDefined(s.Scope) ? Invalid($"Residency scope {(int)s.Scope} is unknown.")
            : string.IsNullOrWhiteSpace(s.Name) || s.Name.Length > MaxResidencyName || s.Name.Any(char.IsControl)
                ? new ForgeOneError(ErrorCodes.InvalidName, $"A topic or tenant name is 1..{MaxResidencyName} characters without control characters.")
            : s.Zone is not null && (s.Zone.Length is 0 or > 64 || s.Zone == "default" || !s.Zone.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
                ? Invalid($"Residency zone '{s.Zone}' must be 1..64 lower-case letters, digits or '-' (and not 'default').")
            : s.Reason is { Length: > 512 } ? Invalid("A reason is at most 512 characters.")
            : null),
        GetResidencyDirectory => ("system.residency_directory", null),
        _ => null,
    };

    private static string ResidencyDetail(Protocol.IShardOperation operation) => operation is SetResidency s
        ? $"{s.Scope} '{s.Name}' -> {s.Zone ?? "(cleared)"}{(s.Reason is null ? "" : $"; {s.Reason}")}"
        : "";

    private static ResidencySet ApplyResidency(IWriteTransaction txn, SetResidency set, Principal principal, ShardContext context)
    {
        var table = Tables.Metadata;
        var token = KeyToken(context, ResidencyDocument.StoreKey);
        var current = History(txn, table, token, context, newestOnly: true).LastOrDefault();
        var document = current is null ? ResidencyDocument.Empty : ResidencyDocument.Decode(current.Value);
        var now = context.Time.GetUtcNow();
        var (next, entry) = document.With(set.Scope, set.Name, set.Zone, now, principal.Id);

        // The document's version and the setting history's version move together: the history
        // is the directory's change log.
        var setting = new Storage.Records.VersionedSetting(ResidencyDocument.StoreKey, next.Version, next.Encode(), now, principal.Id);
        var key = Storage.Records.RecordKeys.SettingHistory(token, setting.Version);
        txn.Put(table, key, context.Security.Encrypt(table, key, setting.Encode()));
        return new ResidencySet(entry);
    }

    private static CurrentResidencyDirectory ReadResidency(IReadTransaction txn, ShardContext context)
    {
        var current = History(txn, Tables.Metadata, KeyToken(context, ResidencyDocument.StoreKey), context, newestOnly: true).LastOrDefault();
        var document = current is null ? ResidencyDocument.Empty : ResidencyDocument.Decode(current.Value);
        return new CurrentResidencyDirectory(document.Version, [.. document.Entries.Values]);
    }
}
