using ForgeOne.Common;
using Microsoft.AspNetCore.Http;

namespace ForgeOne.Edge.Problems;

/// <summary>
/// The one mapping from ForgeOne's stable error codes to HTTP statuses. Exact codes first, then
/// the code's area (<c>validation.*</c> is the request's fault, <c>cluster.*</c> a condition
/// worth retrying), so a code added later by another part of the system still gets a sensible
/// status without this table knowing it.
/// </summary>
public static class ProblemMapping
{
    private static readonly Dictionary<string, int> Exact = new(StringComparer.Ordinal)
    {
        [ErrorCodes.Unauthenticated] = StatusCodes.Status401Unauthorized,
        [ErrorCodes.Forbidden] = StatusCodes.Status403Forbidden,
        [ErrorCodes.NotFound] = StatusCodes.Status404NotFound,
        [ErrorCodes.UnknownRoute] = StatusCodes.Status404NotFound,
        [ErrorCodes.MethodNotAllowed] = StatusCodes.Status405MethodNotAllowed,
        [ErrorCodes.Conflict] = StatusCodes.Status409Conflict,
        [ErrorCodes.OffsetRegression] = StatusCodes.Status409Conflict,
        [ErrorCodes.LegalHold] = StatusCodes.Status409Conflict,
        [ErrorCodes.ResidencyMismatch] = StatusCodes.Status409Conflict,
        [ErrorCodes.RequestInFlight] = StatusCodes.Status409Conflict,
        [ErrorCodes.RequestKeyReused] = StatusCodes.Status422UnprocessableEntity,
        [ErrorCodes.BodyTooLarge] = StatusCodes.Status413PayloadTooLarge,
        [ErrorCodes.BatchTooLarge] = StatusCodes.Status413PayloadTooLarge,
        [ErrorCodes.UnsupportedMediaType] = StatusCodes.Status415UnsupportedMediaType,
        [ErrorCodes.RetentionExpired] = StatusCodes.Status422UnprocessableEntity,
        [ErrorCodes.AuthInvalidPolicy] = StatusCodes.Status422UnprocessableEntity,
        [ErrorCodes.ChecksumMismatch] = StatusCodes.Status422UnprocessableEntity,
        [ErrorCodes.RateLimited] = StatusCodes.Status429TooManyRequests,
        [ErrorCodes.BackupNotFound] = StatusCodes.Status404NotFound,
        [ErrorCodes.BackupBusy] = StatusCodes.Status409Conflict,
        [ErrorCodes.BackupIncomplete] = StatusCodes.Status409Conflict,
        [ErrorCodes.BackupVersionActive] = StatusCodes.Status409Conflict,
        [ErrorCodes.BackupNoTargets] = StatusCodes.Status400BadRequest,
        [ErrorCodes.BackupRecoverySecretInvalid] = StatusCodes.Status403Forbidden,
        [ErrorCodes.Unavailable] = StatusCodes.Status503ServiceUnavailable,
        [ErrorCodes.Timeout] = StatusCodes.Status503ServiceUnavailable,
        [ErrorCodes.ResidencyUnavailable] = StatusCodes.Status503ServiceUnavailable,
        [ErrorCodes.StorageStaleOwner] = StatusCodes.Status503ServiceUnavailable,
        [ErrorCodes.StorageIo] = StatusCodes.Status503ServiceUnavailable,
        [ErrorCodes.StorageMigrationPending] = StatusCodes.Status503ServiceUnavailable,
        [ErrorCodes.SchemaRehearsalRequired] = StatusCodes.Status409Conflict,
        [ErrorCodes.CryptoKeyUnavailable] = StatusCodes.Status503ServiceUnavailable,
    };

    /// <summary>The HTTP status for <paramref name="code"/>.</summary>
    public static int StatusOf(string code)
    {
        if (Exact.TryGetValue(code, out var status))
        {
            return status;
        }

        var area = code.AsSpan(0, Math.Max(0, code.IndexOf('.', StringComparison.Ordinal)));
        return area switch
        {
            "validation" => StatusCodes.Status400BadRequest,
            "auth" => StatusCodes.Status403Forbidden,
            "request" => StatusCodes.Status409Conflict,
            "limits" => StatusCodes.Status429TooManyRequests,
            "cluster" => StatusCodes.Status503ServiceUnavailable,
            "retention" => StatusCodes.Status409Conflict,
            // storage.*, crypto.*, audit.*: stored data or keys failed a check. Not the client's
            // fault and not worth retrying blindly.
            _ => StatusCodes.Status500InternalServerError,
        };
    }

    /// <summary>True for statuses a client may retry unchanged (after <c>Retry-After</c> when given).</summary>
    public static bool IsRetryable(int status) => status is StatusCodes.Status429TooManyRequests or StatusCodes.Status503ServiceUnavailable;

    /// <summary>Short summary of a status, the problem's <c>title</c>.</summary>
    public static string TitleOf(int status) => status switch
    {
        400 => "Bad request",
        401 => "Authentication required",
        403 => "Forbidden",
        404 => "Not found",
        405 => "Method not allowed",
        409 => "Conflict",
        413 => "Content too large",
        415 => "Unsupported media type",
        422 => "Unprocessable content",
        429 => "Too many requests",
        503 => "Service unavailable",
        _ => "Internal error",
    };
}
