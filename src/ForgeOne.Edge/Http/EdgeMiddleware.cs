using System.Net;
using System.Text.Json;
using ForgeOne.Common;
using ForgeOne.Edge.Auth;
using ForgeOne.Edge.RateLimiting;
using ForgeOne.Edge.Problems;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ForgeOne.Edge.Http;

/// <summary>Endpoint metadata: the route needs an authenticated principal (every <c>/v1</c> route).</summary>
public sealed class RequiresPrincipal
{
    /// <summary>The instance.</summary>
    public static readonly RequiresPrincipal Instance = new();

    private RequiresPrincipal()
    {
    }
}

/// <summary>The request's authenticated principal.</summary>
public static class PrincipalAccess
{
    /// <summary>The principal the authentication middleware set; only on <see cref="RequiresPrincipal"/> routes.</summary>
    public static EdgePrincipal Principal(this HttpContext http) =>
        http.Features.Get<EdgePrincipal>() ?? throw new ForgeOneException(ErrorCodes.Unauthenticated, "The request is not authenticated.");
}

/// <summary>
/// Turns every failure into problem+json: a <see cref="ForgeOneException"/> with its code,
/// Kestrel's body-size and binding errors with theirs, a client that went away into nothing, and
/// anything else into a logged 500 whose detail names no internals.
/// </summary>
public sealed partial class ErrorMiddleware(RequestDelegate next, ILogger<ErrorMiddleware> log)
{
    /// <summary>Runs the rest of the pipeline.</summary>
    public async Task InvokeAsync(HttpContext http)
    {
        try
        {
            await next(http).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client went away; there is nobody to answer.
        }
        catch (Exception e) when (!http.Response.HasStarted)
        {
            var error = ErrorOf(e, http);
            if (error.Code == ErrorCodes.Internal)
            {
                LogUnexpected(e, http.Request.Method, http.Request.Path);
            }

            // Clear what the handler may have set, but keep the rate-limit headers: a 429 must
            // still say when to come back.
            var kept = KeptHeaders.Select(h => (h, http.Response.Headers[h])).Where(h => h.Item2.Count > 0).ToList();
            http.Response.Clear();
            foreach (var (name, value) in kept)
            {
                http.Response.Headers[name] = value;
            }

            await ProblemResponses.WriteAsync(http, error).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // The response is already streaming (a download, SSE, NDJSON): the status is gone, so
            // the only honest signal left is to cut the connection.
            LogAbortedStream(e, http.Request.Method, http.Request.Path);
            http.Abort();
        }
    }

    private static readonly string[] KeptHeaders = ["RateLimit-Policy", "RateLimit", "Retry-After"];

    private static ForgeOneError ErrorOf(Exception e, HttpContext http) => e switch
    {
        ForgeOneException fe => fe.Error,
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } =>
            BodyLimitMiddleware.TooLarge(http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize ?? 0).Error,
        BadHttpRequestException { InnerException: JsonException je } => RequestBody.Malformed(je).Error,
        BadHttpRequestException bad => new ForgeOneError(ErrorCodes.InvalidArgument, bad.Message),
        JsonException je => RequestBody.Malformed(je).Error,
        _ => new ForgeOneError(ErrorCodes.Internal, $"The node failed unexpectedly while serving the request (trace id {http.TraceIdentifier})."),
    };

    [LoggerMessage(Level = LogLevel.Error, Message = "Unexpected failure serving {Method} {Path}")]
    private partial void LogUnexpected(Exception e, string method, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Response to {Method} {Path} cut short")]
    private partial void LogAbortedStream(Exception e, string method, string path);
}

/// <summary>
/// Authenticates requests to <see cref="RequiresPrincipal"/> routes and applies the
/// per-principal rate limit, with <c>RateLimit-Policy</c>/<c>RateLimit</c> headers on every
/// answer and <c>Retry-After</c> on a 429. A failed authentication counts against the client
/// address's bucket, so guessing credentials is throttled too.
/// </summary>
public sealed class AuthenticationMiddleware(RequestDelegate next, EdgeAuthenticator authenticator, PrincipalRateLimiter? limiter, EdgeCluster cluster)
{
    private const string PolicyName = "per-principal";

    /// <summary>Authenticates, limits, then runs the endpoint.</summary>
    public async Task InvokeAsync(HttpContext http)
    {
        if (http.GetEndpoint()?.Metadata.GetMetadata<RequiresPrincipal>() is null)
        {
            await next(http).ConfigureAwait(false);
            return;
        }

        EdgePrincipal principal;
        try
        {
            principal = await authenticator.AuthenticateAsync(http.Request, http.RequestAborted).ConfigureAwait(false);
        }
        catch (ForgeOneException e) when (e.Code == ErrorCodes.Unauthenticated)
        {
            Limit(http, "address:" + (http.Connection.RemoteIpAddress ?? IPAddress.None));
            throw;
        }

        Limit(http, principal.CredentialId);

        // The edge vouches for the principal it checked: every command of the request carries a
        // token this node issued for it (an API key's comes with it: no longer-lived than the key),
        // which the shards verify before anything else.
        http.Features.Set(principal.Token is null ? principal with { Token = cluster.Issue(principal.Principal, principal.CredentialId) } : principal);
        await next(http).ConfigureAwait(false);
    }

    private void Limit(HttpContext http, string key)
    {
        if (limiter is null)
        {
            return;
        }

        var decision = limiter.TryAcquire(key);
        var headers = http.Response.Headers;
        headers["RateLimit-Policy"] = $"\"{PolicyName}\";q={limiter.Burst};w={limiter.WindowSeconds}";
        headers["RateLimit"] = $"\"{PolicyName}\";r={decision.Remaining};t={(decision.Allowed ? decision.ResetSeconds : decision.RetryAfterSeconds)}";
        if (!decision.Allowed)
        {
            headers.RetryAfter = decision.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            throw new ForgeOneException(ErrorCodes.RateLimited, $"Rate limit of {limiter.Burst} requests per {limiter.WindowSeconds} s exceeded; retry after {decision.RetryAfterSeconds} s.");
        }
    }
}
