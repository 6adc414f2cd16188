using ForgeOne.Client.Http;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="ForgeOneHttpClient"/> as a typed client of <c>IHttpClientFactory</c>.</summary>
public static class ForgeOneHttpClientServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="ForgeOneHttpClient"/> (and <see cref="ForgeOne.Client.IForgeOneClient"/>) backed by a
    /// factory-managed <see cref="HttpClient"/>; <paramref name="configure"/> sets the base address
    /// and the credential. Returns the builder to add handlers or resilience.
    /// </summary>
    public static IHttpClientBuilder AddForgeOneHttpClient(this IServiceCollection services, Action<ForgeOneHttpClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var options = new ForgeOneHttpClientOptions();
        configure(options);
        var builder = services.AddHttpClient<ForgeOneHttpClient>(http =>
        {
            http.BaseAddress = options.BaseAddress;
            // Subscriptions and large blobs stream for as long as they take; per-request time
            // limits belong to the caller's cancellation tokens.
            http.Timeout = Timeout.InfiniteTimeSpan;
        }).AddTypedClient((http, _) => new ForgeOneHttpClient(http, options));
        services.AddTransient<ForgeOne.Client.IForgeOneClient>(sp => sp.GetRequiredService<ForgeOneHttpClient>());
        return builder;
    }
}
