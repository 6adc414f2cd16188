using System.Text;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;
using ForgeOne.Common.Api;
using ForgeOne.Common.Model;
using Api = ForgeOne.Common.Api;

namespace ForgeOne.Edge;

/// <summary>Between the HTTP API's shapes and the cluster protocol's (pure).</summary>
public static class Mapping
{
    /// <summary>A log entry as the protocol takes it; a missing timestamp is <paramref name="now"/>.</summary>
    public static LogProtocol.LogInput ToProtocol(this LogEntryInput e, DateTimeOffset now) =>
        new(e.Timestamp ?? now, e.Severity, e.Message, e.Metadata, e.CheckpointMarker);

    /// <summary>A bulk line's entry as the protocol takes it.</summary>
    public static LogProtocol.LogInput ToProtocol(this BulkLogLine e, DateTimeOffset now) =>
        new(e.Timestamp ?? now, e.Severity, e.Message, e.Metadata, e.CheckpointMarker);

    /// <summary>A stored entry for the API.</summary>
    public static LogEntryView ToView(this LogEntry e) =>
        new(e.Id.ToString(), e.Topic, e.Timestamp, e.Severity, e.Message, e.Metadata, e.CheckpointMarker, Convert.ToHexStringLower(e.ContentHash));

    /// <summary>A checkpoint for the API.</summary>
    public static CheckpointView ToView(this LogProtocol.LogCheckpoint c) =>
        new(c.Topic, c.Name, c.Version, c.Position.ToString(), c.CreatedAt, c.CreatedBy);

    /// <summary>An event to publish as the protocol takes it.</summary>
    public static EventProtocol.EventInput ToProtocol(this Api.EventInput e, DateTimeOffset now) =>
        new(e.Timestamp ?? now, e.Priority, e.Payload ?? [], e.Metadata, e.CheckpointMarker);

    /// <summary>An event for the API.</summary>
    public static EventView ToView(this EventProtocol.EventRecord e) =>
        new(e.Id.ToString(), e.Topic, e.Timestamp, e.Priority, e.Payload, e.Metadata, e.CheckpointMarker, e.Redacted);

    /// <summary>Topic settings as the protocol takes them.</summary>
    public static EventProtocol.TopicSettings ToProtocol(this TopicInput t) =>
        new(t.RetentionSeconds is { } s ? TimeSpan.FromSeconds(s) : null, t.ResidencyZone, t.Classification, t.LegalHold, t.Metadata);

    /// <summary>A topic for the API.</summary>
    public static TopicView ToView(this EventProtocol.TopicDescription t) =>
        new(t.Name, t.CreatedAt, Seconds(t.Retention), t.ResidencyZone, t.Classification, t.LegalHold, t.Metadata);

    /// <summary>A consumer offset for the API.</summary>
    public static OffsetView ToView(this EventProtocol.CurrentConsumerOffset o) =>
        new(o.Group, o.Topic, o.Position?.ToString(), o.Version, o.CommittedAt);

    /// <summary>A blob's metadata for the API.</summary>
    public static BlobView ToView(this BlobMetadata b) =>
        new(b.Id.ToString(), b.Name, b.ContentType, b.Size, b.CreatedAt, b.CreatedBy, Convert.ToHexStringLower(b.Checksum), b.ChecksumAlgorithm, b.Encrypted, b.Compressed, b.ChunkCount, b.Metadata);

    /// <summary>A setting version for the API: the text form when the bytes are UTF-8.</summary>
    public static SettingView ToView(this SystemProtocol.SettingVersion s) =>
        new(s.Key, s.Version, Utf8OrNull(s.Value), s.Value, s.ChangedAt, s.ChangedBy);

    /// <summary>A residency entry for the API.</summary>
    public static ResidencyEntryView ToView(this SystemProtocol.ResidencyEntry e) =>
        new(ScopeName(e.Scope), e.Name, e.Zone, e.Version, e.ChangedAt, e.ChangedBy);

    /// <summary>The API name of a residency scope.</summary>
    public static string ScopeName(SystemProtocol.ResidencyScope scope) => scope switch
    {
        SystemProtocol.ResidencyScope.Tenant => "tenant",
        SystemProtocol.ResidencyScope.LogTopic => "log-topic",
        SystemProtocol.ResidencyScope.EventTopic => "event-topic",
        _ => "unknown",
    };

    /// <summary>The residency scope an API name stands for.</summary>
    public static SystemProtocol.ResidencyScope ParseScope(string name) => name switch
    {
        "tenant" => SystemProtocol.ResidencyScope.Tenant,
        "log-topic" => SystemProtocol.ResidencyScope.LogTopic,
        "event-topic" => SystemProtocol.ResidencyScope.EventTopic,
        _ => throw new ForgeOneException(ErrorCodes.InvalidArgument, $"Residency scope '{name}' is not one of tenant, log-topic, event-topic."),
    };

    /// <summary>A record id from a path or query value; anything else is <see cref="ErrorCodes.InvalidId"/>.</summary>
    public static RecordId ParseId(string? text, string what = "id") =>
        RecordId.TryParse(text, out var id)
            ? id
            : throw new ForgeOneException(ErrorCodes.InvalidId, $"The {what} '{Truncate(text)}' is not a record id (16 lower-case hex digits).");

    /// <summary>Whole seconds of a duration, or null.</summary>
    public static long? Seconds(TimeSpan? span) => span is { } s ? (long)s.TotalSeconds : null;

    private static string? Utf8OrNull(byte[] value)
    {
        try
        {
            return new UTF8Encoding(false, true).GetString(value);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    private static string Truncate(string? text) => text is null ? string.Empty : text.Length > 40 ? text[..40] + "..." : text;
}
