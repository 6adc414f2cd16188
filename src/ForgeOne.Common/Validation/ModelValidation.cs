using ForgeOne.Common.Model;

namespace ForgeOne.Common.Validation;

/// <summary>Whole-model checks: every field of a record against <see cref="Limits"/>.</summary>
public static class ModelValidation
{
    public static ForgeOneError? Log(string topic, DateTimeOffset timestamp, string message,
        IReadOnlyDictionary<string, string>? metadata, string? checkpointMarker, DateTimeOffset now, Limits? limits = null) =>
        Validate.First(
            Validate.Topic(topic, limits),
            Validate.Timestamp(timestamp, now, limits),
            Validate.Message(message, limits),
            Validate.Metadata(metadata, limits),
            Validate.CheckpointMarker(checkpointMarker, limits));

    public static ForgeOneError? Event(string topic, DateTimeOffset timestamp, Priority priority, ReadOnlySpan<byte> payload,
        IReadOnlyDictionary<string, string>? metadata, string? checkpointMarker, DateTimeOffset now, Limits? limits = null) =>
        Validate.First(
            Validate.Topic(topic, limits),
            Validate.Timestamp(timestamp, now, limits),
            Enum.IsDefined(priority) ? null : new(ErrorCodes.InvalidArgument, $"Priority {(int)priority} is not one of {string.Join(", ", Enum.GetNames<Priority>())}."),
            Validate.Payload(payload, limits),
            Validate.Metadata(metadata, limits),
            Validate.CheckpointMarker(checkpointMarker, limits));

    public static ForgeOneError? BlobStart(string name, string contentType, IReadOnlyDictionary<string, string>? metadata, Limits? limits = null) =>
        Validate.First(
            Validate.BlobName(name, limits),
            Validate.ContentType(contentType, limits),
            Validate.Metadata(metadata, limits));
}
