using System.Text.Json.Serialization;

namespace ForgeOne.Common.Api;

/// <summary>An evidence export with attachments (<c>POST /v1/evidence/export</c>).</summary>
/// <param name="Framework">soc2, iso27001, gdpr or all.</param>
/// <param name="From">Start of the period.</param>
/// <param name="To">End of the period.</param>
/// <param name="Tenant">Limit the records of processing to this tenant.</param>
/// <param name="Attachments">Test reports to include under <c>attachments/</c> (covered by the signed manifest).</param>
public sealed record EvidenceExportInput(string Framework, DateTimeOffset From, DateTimeOffset To, string? Tenant = null, EvidenceAttachmentInput[]? Attachments = null);

/// <summary>One attached file.</summary>
/// <param name="Name">A plain file name (no directories).</param>
/// <param name="Content">Its bytes (base64 in JSON).</param>
public sealed record EvidenceAttachmentInput(string Name, byte[] Content);

/// <summary>Source-generated JSON for the evidence API.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(EvidenceExportInput))]
public sealed partial class EvidenceApiJsonContext : JsonSerializerContext;
