namespace ForgeOne.Common.Model;

/// <summary>An event as stored; <see cref="Id"/> is assigned by the owning shard.</summary>
public sealed record EventMessage(
    RecordId Id,
    string Topic,
    DateTimeOffset Timestamp,
    Priority Priority,
    byte[] Payload,
    IReadOnlyDictionary<string, string> Metadata,
    string? CheckpointMarker);
