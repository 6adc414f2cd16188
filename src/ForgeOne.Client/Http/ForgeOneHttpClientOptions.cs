namespace ForgeOne.Client.Http;

/// <summary>How a <see cref="ForgeOneHttpClient"/> reaches and authenticates to an edge.</summary>
public sealed class ForgeOneHttpClientOptions
{
    /// <summary>The edge (e.g. <c>http://127.0.0.1:8080</c>); used when the <see cref="HttpClient"/> has no base address.</summary>
    public Uri? BaseAddress { get; set; }

    /// <summary>An API key (<c>fo_live_...</c>) sent as <c>Authorization: Bearer</c>.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Supplies a JWT for each request (for tokens that renew); wins over <see cref="ApiKey"/>.</summary>
    public Func<CancellationToken, ValueTask<string>>? BearerToken { get; set; }

    /// <summary>How long a request is retried on transient failures (connection lost, 429, 503, a write still in flight).</summary>
    public TimeSpan RetryDeadline { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>First pause between attempts; doubles up to 5 s (a <c>Retry-After</c> from the edge wins).</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Pause before a subscription reconnects (with Last-Event-ID) after its stream broke.</summary>
    public TimeSpan SubscriptionReconnectDelay { get; set; } = TimeSpan.FromMilliseconds(500);
}
