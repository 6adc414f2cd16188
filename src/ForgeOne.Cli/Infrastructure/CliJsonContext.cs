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

/// <summary>A data-root version deleted, as <c>backup discard-version --json</c> prints it.</summary>
public sealed record DataVersionDiscarded(string Discarded);

/// <summary>An offline key restore or verification: the key backup, the keys directory, the files written (or matching) and those it lacks.</summary>
public sealed record KeyRestoreView(string Id, string KeysDirectory, bool Restored, string[] Files, string[] Missing, string Summary);

/// <summary>A file the CLI wrote (evidence package, proof).</summary>
public sealed record EvidenceFileView(string Path, long Bytes);

/// <summary>One finding of <c>evidence verify</c>.</summary>
public sealed record EvidenceFindingView(string Kind, string Path, string Message);

/// <summary>One control's verdict in <c>evidence verify</c>.</summary>
public sealed record ControlView(string Framework, string Id, string? Iso2013, string Title, string Status, string[] Files, string Detail);

/// <summary><c>evidence verify --json</c>.</summary>
public sealed record EvidenceVerifyView(bool Valid, EvidenceFindingView[] Findings, ControlView[] Controls, string[] Checks);

/// <summary><c>audit verify-proof --json</c> and <c>audit verify-consistency --json</c>.</summary>
public sealed record ProofVerifyView(bool Valid, string Failure, string Message);

/// <summary>One audit record as <c>audit tail --json</c> prints it (JSON Lines).</summary>
public sealed record AuditTailLine(string Chain, long Seq, DateTimeOffset Time, string Principal, string Action, string Resource, string Outcome, string Hash);

/// <summary>Source-generated JSON for the CLI's own shapes (the API's come from <c>ApiJsonContext</c>).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UseStringEnumConverter = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CliError))]
[JsonSerializable(typeof(LeaderView))]
[JsonSerializable(typeof(BlobTransferView))]
[JsonSerializable(typeof(AuditVerifyView))]
[JsonSerializable(typeof(DataVersionDiscarded))]
[JsonSerializable(typeof(KeyRestoreView))]
[JsonSerializable(typeof(EvidenceFileView))]
[JsonSerializable(typeof(EvidenceVerifyView))]
[JsonSerializable(typeof(ProofVerifyView))]
[JsonSerializable(typeof(AuditTailLine))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
