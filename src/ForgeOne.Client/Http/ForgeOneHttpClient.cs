using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using ForgeOne.Common;
using ForgeOne.Common.Api;

namespace ForgeOne.Client.Http;

/// <summary>
/// A typed client of the ForgeOne HTTP API. Give it an <see cref="HttpClient"/> (from
/// <c>IHttpClientFactory</c>: <c>services.AddForgeOneHttpClient(...)</c>, or your own) and a
/// credential. Implements <see cref="IForgeOneClient"/>, the operations it shares with the actor
/// client, plus the HTTP-only ones (bulk, replay, admin). Every refusal is a
/// <see cref="ForgeOneHttpException"/> carrying the problem's stable code.
/// </summary>
/// <remarks>
/// Retries: reads, and writes that carry an <c>Idempotency-Key</c> (every append and publish
/// gets a fresh one per call, kept across its retries), are retried on a lost connection, 429,
/// 503 and <c>request.in_flight</c> until <see cref="ForgeOneHttpClientOptions.RetryDeadline"/>;
/// the edge's de-duplication makes a retried write apply once. Other writes are sent once.
/// </remarks>
public sealed partial class ForgeOneHttpClient : IForgeOneClient
{
    private const string ProblemContentType = "application/problem+json";
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(5);
    private readonly HttpClient _http;
    private readonly ForgeOneHttpClientOptions _options;

    /// <summary>A client over <paramref name="http"/> (its base address, or <see cref="ForgeOneHttpClientOptions.BaseAddress"/>).</summary>
    public ForgeOneHttpClient(HttpClient http, ForgeOneHttpClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(options);
        _http = http;
        _options = options;
        if (_http.BaseAddress is null)
        {
            _http.BaseAddress = options.BaseAddress ?? throw new ArgumentException("Either the HttpClient or the options must name the edge's base address.", nameof(options));
        }
    }

    /// <summary>A client of the edge at <paramref name="baseAddress"/> with an API key (owns its own <see cref="HttpClient"/>).</summary>
    public ForgeOneHttpClient(Uri baseAddress, string apiKey)
        : this(new HttpClient { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan }, new ForgeOneHttpClientOptions { ApiKey = apiKey })
    {
    }

    /// <summary>The edge's base address.</summary>
    public Uri BaseAddress => _http.BaseAddress!;

    // The backup API's shapes have their own source-generated context.
    private static JsonTypeInfo<T> Type<T>() =>
        (JsonTypeInfo<T>?)ApiJsonContext.Default.GetTypeInfo(typeof(T)) ?? (JsonTypeInfo<T>)BackupApiJsonContext.Default.GetTypeInfo(typeof(T))!;

    private static string Escape(string value) => Uri.EscapeDataString(value);

    private static string NewKey() => Guid.NewGuid().ToString("N");

    /// <summary>Sends a JSON request and reads a JSON answer, retrying when <paramref name="retryable"/>.</summary>
    private async Task<TResponse> SendAsync<TResponse>(HttpMethod method, string path, HttpContentFactory? body, bool retryable, string? idempotencyKey, CancellationToken cancellationToken)
    {
        using var response = await SendRawAsync(method, path, body, retryable, idempotencyKey, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        return await ReadAsync<TResponse>(response, cancellationToken).ConfigureAwait(false);
    }

    private Task<TResponse> GetAsync<TResponse>(string path, CancellationToken cancellationToken) =>
        SendAsync<TResponse>(HttpMethod.Get, path, null, retryable: true, null, cancellationToken);

    private Task<TResponse> PostJsonAsync<TRequest, TResponse>(string path, TRequest value, bool idempotent, CancellationToken cancellationToken, HttpMethod? method = null) =>
        SendAsync<TResponse>(method ?? HttpMethod.Post, path, () => Json(value), retryable: idempotent, idempotent ? NewKey() : null, cancellationToken);

    private static HttpContent Json<T>(T value)
    {
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(value, Type<T>()));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await JsonSerializer.DeserializeAsync(stream, Type<T>(), cancellationToken).ConfigureAwait(false)
                ?? throw new ForgeOneException(ErrorCodes.MalformedBody, $"The edge answered {(int)response.StatusCode} with an empty body.");
        }
        catch (JsonException e)
        {
            throw new ForgeOneException(ErrorCodes.MalformedBody, $"The edge's answer is not the expected JSON: {e.Message}", e);
        }
    }

    /// <summary>Makes a fresh request body for each attempt (a stream can be read once).</summary>
    private delegate HttpContent HttpContentFactory();

    /// <summary>
    /// Sends until a non-retryable answer or the deadline; returns a success response (the
    /// caller disposes it) or throws the problem.
    /// </summary>
    private async Task<HttpResponseMessage> SendRawAsync(HttpMethod method, string path, HttpContentFactory? body, bool retryable, string? idempotencyKey, HttpCompletionOption completion, CancellationToken cancellationToken, Action<HttpRequestMessage>? configure = null)
    {
        var deadline = DateTimeOffset.UtcNow + _options.RetryDeadline;
        var delay = _options.RetryDelay;
        while (true)
        {
            using var request = new HttpRequestMessage(method, path) { Content = body?.Invoke() };
            await AuthenticateAsync(request, cancellationToken).ConfigureAwait(false);
            if (idempotencyKey is not null)
            {
                request.Headers.Add("Idempotency-Key", idempotencyKey);
            }

            configure?.Invoke(request);
            HttpResponseMessage? response = null;
            Exception? failure;
            TimeSpan? retryAfter = null;
            try
            {
                response = await _http.SendAsync(request, completion, cancellationToken).ConfigureAwait(false);
                if (response.IsSuccessStatusCode || response.StatusCode is HttpStatusCode.NotModified or HttpStatusCode.PartialContent)
                {
                    return response;
                }

                var problem = await ProblemAsync(response, cancellationToken).ConfigureAwait(false);
                retryAfter = response.Headers.RetryAfter?.Delta;
                failure = problem;
                response.Dispose();
                if (!retryable || !IsTransient(problem))
                {
                    throw problem;
                }
            }
            catch (HttpRequestException e) when (retryable && !cancellationToken.IsCancellationRequested)
            {
                response?.Dispose();
                failure = e;
            }

            var wait = retryAfter is { } ra && ra > delay ? ra : delay;
            if (DateTimeOffset.UtcNow + wait > deadline)
            {
                // A problem is the edge's answer; anything else means no answer at all, which
                // callers (the CLI's exit code 3) must tell apart from a 503.
                throw failure is ForgeOneException fe ? fe
                    : new ForgeOneException(ErrorCodes.Unreachable, $"The edge at {BaseAddress} could not be reached within {_options.RetryDeadline.TotalSeconds:0.#} s: {failure.Message}", failure);
            }

            await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
            delay = delay * 2 > MaxDelay ? MaxDelay : delay * 2;
        }
    }

    private async ValueTask AuthenticateAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var token = _options.BearerToken is { } provider ? await provider(cancellationToken).ConfigureAwait(false) : _options.ApiKey;
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    private static bool IsTransient(ForgeOneHttpException problem) =>
        problem.Status is 429 or 502 or 503 or 504 || problem.Code == ErrorCodes.RequestInFlight;

    /// <summary>The problem of a failed response (or one made up from its status when the body is not a problem).</summary>
    internal static async Task<ForgeOneHttpException> ProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        Problem? problem = null;
        if (response.Content.Headers.ContentType?.MediaType == ProblemContentType)
        {
            try
            {
                await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                problem = await JsonSerializer.DeserializeAsync(stream, ApiJsonContext.Default.Problem, cancellationToken).ConfigureAwait(false);
            }
            catch (JsonException)
            {
                problem = null;
            }
        }

        problem ??= new Problem("about:blank", response.ReasonPhrase ?? "HTTP error", status, $"The edge answered {status} without a problem document.", response.RequestMessage?.RequestUri?.AbsolutePath,
            status switch
            {
                401 => ErrorCodes.Unauthenticated,
                403 => ErrorCodes.Forbidden,
                404 => ErrorCodes.NotFound,
                429 => ErrorCodes.RateLimited,
                >= 500 => ErrorCodes.Unavailable,
                _ => ErrorCodes.InvalidArgument,
            });
        return new ForgeOneHttpException(problem, response.Headers.RetryAfter?.Delta);
    }
}
