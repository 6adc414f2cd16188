using System.Text.Json.Serialization;

namespace ForgeOne.Cli.Infrastructure;

/// <summary>A failure as <c>--json</c> reports it on standard error.</summary>
public sealed record CliError(string Code, string Message, int ExitCode);

/// <summary>The leader as <c>cluster leader --json</c> prints it.</summary>
public sealed record LeaderView(string? Leader);

/// <summary>A blob transfer's outcome: the blob and the checksum computed locally over the bytes sent or received.</summary>
public sealed record BlobTransferView(ForgeOne.Common.Api.BlobView Blob, string LocalChecksum, string? Path);

/// <summary>Seal verification and audit heads, as <c>audit verify --json</c> prints them.</summary>
public sealed record AuditVerifyView(ForgeOne.Common.Api.SealVerificationView Seals, ForgeOne.Common.Api.AuditHeadsView Heads);

/// <summary>Source-generated JSON for the CLI's own shapes (the API's come from <c>ApiJsonContext</c>).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UseStringEnumConverter = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CliError))]
[JsonSerializable(typeof(LeaderView))]
[JsonSerializable(typeof(BlobTransferView))]
[JsonSerializable(typeof(AuditVerifyView))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
