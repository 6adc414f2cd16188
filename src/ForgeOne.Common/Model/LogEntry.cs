namespace ForgeOne.Common.Model;

/// <summary>
/// An immutable log entry as stored. <see cref="Id"/> and <see cref="ContentHash"/> are assigned
/// by the owning shard; <see cref="ContentHash"/> is <see cref="ContentHashes.ForLog(LogEntry)"/> over the
/// other fields and lets a replay prove the entry was not altered.
/// </summary>
public sealed record LogEntry(
    RecordId Id,
    string Topic,
    DateTimeOffset Timestamp,
    Severity Severity,
    string Message,
    IReadOnlyDictionary<string, string> Metadata,
    string? CheckpointMarker,
    byte[] ContentHash);
