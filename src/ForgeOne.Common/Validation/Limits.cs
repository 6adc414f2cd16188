namespace ForgeOne.Common.Validation;

/// <summary>
/// Size and shape limits enforced at every boundary. One immutable value so a node can be
/// configured with tighter limits; <see cref="Default"/> is what a user gets out of the box.
/// </summary>
public sealed record Limits
{
    public static readonly Limits Default = new();

    public int MaxTopicLength { get; init; } = 200;
    public int MaxMessageBytes { get; init; } = 64 * 1024;
    public int MaxPayloadBytes { get; init; } = 1024 * 1024;
    public int MaxMetadataEntries { get; init; } = 64;
    public int MaxMetadataKeyLength { get; init; } = 128;
    public int MaxMetadataValueBytes { get; init; } = 4 * 1024;
    public int MaxMetadataTotalBytes { get; init; } = 16 * 1024;
    public int MaxChunkBytes { get; init; } = 8 * 1024 * 1024;
    public int MaxBlobNameLength { get; init; } = 1024;
    public int MaxContentTypeLength { get; init; } = 255;
    public int MaxCheckpointMarkerLength { get; init; } = 200;
    public int MaxBatchEntries { get; init; } = 10_000;

    /// <summary>How far in the future a client timestamp may be (clock skew allowance).</summary>
    public TimeSpan MaxFutureSkew { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Timestamps before this are refused: they are almost always a unit mistake (seconds vs ms).</summary>
    public DateTimeOffset MinTimestamp { get; init; } = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);
}
