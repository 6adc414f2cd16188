using System.Text.Json.Serialization;

namespace ForgeOne.Common.Api;

/// <summary>
/// System.Text.Json source-generated metadata for every HTTP API shape (no reflection on the hot
/// path, trimming-safe). camelCase names, enums as strings, nulls omitted.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    AllowTrailingCommas = false,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Disallow)]
[JsonSerializable(typeof(Problem))]
[JsonSerializable(typeof(LogEntryInput))]
[JsonSerializable(typeof(LogEntryInput[]))]
[JsonSerializable(typeof(BulkLogLine))]
[JsonSerializable(typeof(LogAppended))]
[JsonSerializable(typeof(LogBatchAppended))]
[JsonSerializable(typeof(BulkResult))]
[JsonSerializable(typeof(LogEntryView))]
[JsonSerializable(typeof(LogPage))]
[JsonSerializable(typeof(LogCount))]
[JsonSerializable(typeof(CheckpointInput))]
[JsonSerializable(typeof(CheckpointView))]
[JsonSerializable(typeof(CheckpointList))]
[JsonSerializable(typeof(LogTopicPolicyInput))]
[JsonSerializable(typeof(LogTopicPolicyView))]
[JsonSerializable(typeof(TopicInput))]
[JsonSerializable(typeof(TopicView))]
[JsonSerializable(typeof(TopicList))]
[JsonSerializable(typeof(LegalHoldInput))]
[JsonSerializable(typeof(EventInput))]
[JsonSerializable(typeof(EventInput[]))]
[JsonSerializable(typeof(EventPublished))]
[JsonSerializable(typeof(EventsPublished))]
[JsonSerializable(typeof(EventView))]
[JsonSerializable(typeof(EventPage))]
[JsonSerializable(typeof(OffsetInput))]
[JsonSerializable(typeof(OffsetView))]
[JsonSerializable(typeof(BlobView))]
[JsonSerializable(typeof(BlobList))]
[JsonSerializable(typeof(BlobDeleted))]
[JsonSerializable(typeof(SettingInput))]
[JsonSerializable(typeof(SettingView))]
[JsonSerializable(typeof(SettingHistory))]
[JsonSerializable(typeof(ResidencyInput))]
[JsonSerializable(typeof(ResidencyEntryView))]
[JsonSerializable(typeof(ResidencyDirectoryView))]
[JsonSerializable(typeof(RotateKeysInput))]
[JsonSerializable(typeof(KeyRotationView))]
[JsonSerializable(typeof(KeyEventsView))]
[JsonSerializable(typeof(AuditHeadsView))]
[JsonSerializable(typeof(SealList))]
[JsonSerializable(typeof(SealWritten))]
[JsonSerializable(typeof(SealVerificationView))]
[JsonSerializable(typeof(ClusterView))]
[JsonSerializable(typeof(ShardPlacementsView))]
[JsonSerializable(typeof(ShardStatsView[]))]
[JsonSerializable(typeof(Readiness))]
[JsonSerializable(typeof(ApiKeyInput))]
[JsonSerializable(typeof(ApiKeyCreated))]
[JsonSerializable(typeof(ApiKeyList))]
[JsonSerializable(typeof(ApiKeyView))]
[JsonSerializable(typeof(PolicyView))]
[JsonSerializable(typeof(ClusterEventView))]
[JsonSerializable(typeof(MembershipInput))]
[JsonSerializable(typeof(MembershipChange))]
[JsonSerializable(typeof(RegionStatsView))]
[JsonSerializable(typeof(AuditPublicKeyView))]
[JsonSerializable(typeof(ShardKeyRotationView))]
public sealed partial class ApiJsonContext : JsonSerializerContext;
