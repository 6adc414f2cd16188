using System.Net;
using System.Security.Cryptography.X509Certificates;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Security;
using ForgeOne.Cluster.Shards;
using ForgeOne.Common;
using ForgeOne.Common.Api;
using ForgeOne.Edge.Auth;
using ForgeOne.Edge.Http;
using ForgeOne.Edge.RateLimiting;
using ForgeOne.Edge.Problems;
using ForgeOne.Edge.Routes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using Scalar.AspNetCore;

namespace ForgeOne.Edge;

/// <summary>
/// The HTTP edge: a Kestrel server with the <c>/v1</c> API, health, OpenAPI + reference page,
/// Prometheus metrics and the dashboard, in front of one node's <see cref="EdgeCluster"/>. The
/// node executable starts it on nodes with the <c>edge</c> role; tests start it next to an
/// in-process cluster.
/// </summary>
public sealed class EdgeServer : IAsyncDisposable
{
    /// <summary>Route of the OpenAPI document.</summary>
    public const string OpenApiPath = "/openapi/v1.json";

    private readonly WebApplication _app;

    private EdgeServer(WebApplication app, EdgeCluster cluster)
    {
        _app = app;
        Cluster = cluster;
    }

    /// <summary>The cluster handle the API serves.</summary>
    public EdgeCluster Cluster { get; }

    /// <summary>The server's services (tests read the endpoint data source from here).</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>The address the server listens on (after <see cref="StartAsync"/>), e.g. <c>http://127.0.0.1:8080</c>.</summary>
    public Uri BaseAddress =>
        new(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    /// <summary>
    /// Builds the server. <paramref name="apiKeys"/> is the API-key seam (default: the
    /// bootstrap-key check against the system shard); <paramref name="policy"/> authorizes what
    /// the edge serves without a shard (default: the default policy).
    /// </summary>
    public static EdgeServer Create(EdgeOptions options, EdgeCluster cluster, ILoggerFactory? loggerFactory = null, TimeProvider? time = null, IApiKeyVerifier? apiKeys = null, PolicyAccess? policy = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(cluster);
        var errors = options.ValidateForServer();
        if (errors.Count > 0)
        {
            throw new ForgeOneException(ErrorCodes.InvalidConfiguration, string.Join(" ", errors));
        }

        time ??= TimeProvider.System;
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "ForgeOne.Edge", ContentRootPath = AppContext.BaseDirectory });
        // The node's configuration is ForgeOne's, already bound: nothing from ASPNETCORE_* or an
        // appsettings.json may reconfigure the edge behind it.
        builder.Configuration.Sources.Clear();
        builder.Logging.ClearProviders();
        if (loggerFactory is not null)
        {
            builder.Services.Replace(ServiceDescriptor.Singleton(loggerFactory));
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.MaxJsonBodyBytes;
            var address = string.Equals(options.Hostname, "localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback : IPAddress.Parse(options.Hostname);
            kestrel.Listen(address, options.Port, listen =>
            {
                if (options.CertificatePath is not null)
                {
                    listen.UseHttps(LoadCertificate(options));
                }
            });
        });

        var services = builder.Services;
        services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default);
            json.SerializerOptions.TypeInfoResolverChain.Insert(1, BackupApiJsonContext.Default);
        });
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddSingleton(options);
        services.AddSingleton(cluster);
        services.AddSingleton(time);
        services.AddSingleton(new EdgeAuthorization(policy ?? new PolicyAccess()));
        services.AddSingleton(apiKeys ?? new StoreKeyVerifier(cluster));
        services.AddSingleton(sp => new EdgeAuthenticator(sp.GetRequiredService<IApiKeyVerifier>(), options.Jwt.Enabled ? new JwtAuthenticator(options.Jwt) : null));
        // No limiter at all when limits are off: the middleware then skips the headers too.
        var limiter = options.RateLimit.Enabled ? new PrincipalRateLimiter(options.RateLimit.RequestsPerSecond, options.RateLimit.Burst, time) : null;
        services.AddOpenApi(OpenApiDocuments.Configure);
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter("ForgeOne.*")
            .AddMeter(ShardMetrics.MeterName)
            .AddMeter("Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel")
            .AddPrometheusExporter());
        services.AddHostedService<ClusterPoller>();

        var app = builder.Build();
        app.UseMiddleware<ErrorMiddleware>();
        app.UseStatusCodePages(async context =>
        {
            var http = context.HttpContext;
            var code = http.Response.StatusCode switch
            {
                StatusCodes.Status404NotFound => ErrorCodes.UnknownRoute,
                StatusCodes.Status405MethodNotAllowed => ErrorCodes.MethodNotAllowed,
                // Routing itself refuses a body type the endpoint does not declare.
                StatusCodes.Status415UnsupportedMediaType => ErrorCodes.UnsupportedMediaType,
                _ => null,
            };
            if (code is not null)
            {
                await ProblemResponses.WriteAsync(http, new ForgeOneError(code, code switch
                {
                    ErrorCodes.UnknownRoute => $"No route matches {http.Request.Path}; the API is described at {OpenApiPath}.",
                    ErrorCodes.MethodNotAllowed => $"{http.Request.Method} is not supported on {http.Request.Path}.",
                    _ => $"{http.Request.Path} does not take Content-Type '{http.Request.ContentType ?? "(none)"}'; see {OpenApiPath}.",
                })).ConfigureAwait(false);
            }
        });
        app.UseRouting();
        var authenticator = app.Services.GetRequiredService<EdgeAuthenticator>();
        app.Use(next => new AuthenticationMiddleware(next, authenticator, limiter, cluster).InvokeAsync);
        app.UseMiddleware<BodyLimitMiddleware>();

        HealthRoutes.Map(app);
        var v1 = app.MapGroup("/v1").WithMetadata(RequiresPrincipal.Instance);
        LogRoutes.Map(v1, options);
        EventRoutes.Map(v1, options);
        BlobRoutes.Map(v1, options);
        SystemRoutes.Map(v1, options);
        ApiKeyRoutes.Map(v1, options);
        BackupRoutes.Map(v1, options);
        SchemaRoutes.Map(v1, options);
        ClusterAdminRoutes.Map(v1, options);
        EvidenceRoutes.Map(v1, options);

        app.MapOpenApi(OpenApiPath.Replace("v1", "{documentName}", StringComparison.Ordinal));
        app.MapScalarApiReference("/docs", o => o.WithTitle("ForgeOne HTTP API").WithOpenApiRoutePattern(OpenApiPath));
        app.MapPrometheusScrapingEndpoint("/metrics");
        Dashboard.Map(app);
        return new EdgeServer(app, cluster);
    }

    /// <summary>Starts listening.</summary>
    public Task StartAsync(CancellationToken cancellationToken = default) => _app.StartAsync(cancellationToken);

    /// <summary>Stops: no new connections; requests in flight finish within the host's shutdown timeout.</summary>
    public Task StopAsync(CancellationToken cancellationToken = default) => _app.StopAsync(cancellationToken);

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await _app.DisposeAsync().ConfigureAwait(false);

    private static X509Certificate2 LoadCertificate(EdgeOptions options)
    {
        var path = options.CertificatePath!;
        if (path.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".p12", StringComparison.OrdinalIgnoreCase))
        {
            return X509CertificateLoader.LoadPkcs12FromFile(path, options.CertificatePassword);
        }

        return options.CertificatePassword is null
            ? X509Certificate2.CreateFromPemFile(path, options.CertificateKeyPath)
            : X509Certificate2.CreateFromEncryptedPemFile(path, options.CertificatePassword, options.CertificateKeyPath);
    }
}
