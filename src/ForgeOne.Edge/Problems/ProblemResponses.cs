using System.Text.Json;
using ForgeOne.Common;
using ForgeOne.Common.Api;
using Microsoft.AspNetCore.Http;

namespace ForgeOne.Edge.Problems;

/// <summary>Writes <c>application/problem+json</c> (RFC 9457) for a <see cref="ForgeOneError"/>.</summary>
public static class ProblemResponses
{
    /// <summary>The media type.</summary>
    public const string ContentType = "application/problem+json";

    /// <summary>Base of every problem <c>type</c> URI; the code follows.</summary>
    public const string TypeBase = "https://forgeone.dev/problems/";

    /// <summary>The problem document for <paramref name="error"/> on <paramref name="path"/>, its details as extension members.</summary>
    public static Problem For(ForgeOneError error, string? path)
    {
        var status = ProblemMapping.StatusOf(error.Code);
        return Problem.Of(error, TypeBase + error.Code, ProblemMapping.TitleOf(status), status, path);
    }

    /// <summary>Writes the problem as the response (headers must not have been sent).</summary>
    public static async Task WriteAsync(HttpContext http, ForgeOneError error)
    {
        var problem = For(error, http.Request.Path.Value);
        var response = http.Response;
        response.StatusCode = problem.Status;
        response.ContentType = ContentType;
        if (problem.Status == StatusCodes.Status401Unauthorized)
        {
            response.Headers.WWWAuthenticate = "Bearer realm=\"forgeone\"";
        }

        if (problem.Status == StatusCodes.Status503ServiceUnavailable && !response.Headers.ContainsKey("Retry-After"))
        {
            response.Headers.RetryAfter = "1";
        }

        await JsonSerializer.SerializeAsync(response.Body, problem, ApiJsonContext.Default.Problem, http.RequestAborted).ConfigureAwait(false);
    }
}
