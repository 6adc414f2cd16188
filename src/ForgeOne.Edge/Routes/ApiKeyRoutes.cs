using ForgeOne.Cluster.Hosting;
using ForgeOne.Common;
using ForgeOne.Common.Api;
using ForgeOne.Edge.Http;
using ForgeOne.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using S = ForgeOne.Cluster.Protocol.SystemProtocol;

namespace ForgeOne.Edge.Routes;

/// <summary>
/// <c>/v1/api-keys</c>: create (the secret is in that answer only), list (never a secret), revoke.
/// The system shard decides who may (<c>apikey:admin</c> for the key's tenant, and no key beyond
/// what its creator may grant) and audits every change; the edge generates the secret, so it is
/// never sent into the cluster, only its salted hash.
/// </summary>
internal static class ApiKeyRoutes
{
    public static void Map(RouteGroupBuilder v1, EdgeOptions options)
    {
        var keys = v1.MapGroup("/api-keys").WithTags("API keys");

        keys.MapPost("", async (HttpContext http, EdgeCluster cluster) =>
        {
            var input = await RequestBody.ReadJsonAsync(http, ApiJsonContext.Default.ApiKeyInput).ConfigureAwait(false);
            var creator = http.Principal();
            var (id, key, salt, hash) = ApiKeySecret.Generate();
            var request = new S.CreateApiKey(creator.Token, id, input.Name, input.Roles ?? [], input.Tenant,
                input.Regions ?? [.. creator.Principal.Regions.Order(StringComparer.Ordinal)], input.Clearance ?? 0, input.ExpiresAt, salt, hash);
            var created = await cluster.AskAsync<S.ApiKeyCreated>(request, http.RequestAborted).ConfigureAwait(false);
            http.Response.Headers.CacheControl = "no-store";
            return Results.Json(new ApiKeyCreatedView(key, created.Key.ToView(http.RequestServices.GetTime())), ApiJsonContext.Default.ApiKeyCreatedView,
                statusCode: StatusCodes.Status201Created);
        })
            .WithName("CreateApiKey").WithSummary("Creates an API key (apikey:admin; only roles, regions and clearance the caller may grant). The secret key is in this answer only.")
            .JsonBody<ApiKeyInput>(options.MaxJsonBodyBytes)
            .Produces<ApiKeyCreatedView>(StatusCodes.Status201Created).Problems(409);

        keys.MapGet("", async (HttpContext http, EdgeCluster cluster) =>
        {
            var list = await cluster.AskAsync<S.ApiKeyList>(new S.ListApiKeys(http.Principal().Token), http.RequestAborted).ConfigureAwait(false);
            var now = http.RequestServices.GetTime();
            return Results.Json(new ApiKeyListView([.. list.Keys.Select(k => k.ToView(now))]), ApiJsonContext.Default.ApiKeyListView);
        })
            .WithName("ListApiKeys").WithSummary("Every API key the caller administers (apikey:admin), revoked ones too; never a secret.")
            .Produces<ApiKeyListView>().Problems();

        keys.MapDelete("/{id}", async (string id, string? reason, HttpContext http, EdgeCluster cluster) =>
        {
            object reply;
            bool replicated;
            try
            {
                (reply, replicated) = await cluster.Require().RevokeApiKeyAsync(new S.RevokeApiKey(http.Principal().Token, id, reason), cluster.RequestTimeout).ConfigureAwait(false);
            }
            catch (Akka.Actor.AskTimeoutException)
            {
                throw new ForgeOneException(ErrorCodes.Timeout, $"The cluster did not answer the revocation within {cluster.RequestTimeout.TotalSeconds:0.#} s; it may or may not have been applied (revoking again is safe).");
            }

            var revoked = EdgeCluster.Expect<S.ApiKeyRevoked>(reply);
            return Results.Json(new ApiKeyRevokedView(revoked.Key.ToView(http.RequestServices.GetTime()), revoked.Changed, replicated), ApiJsonContext.Default.ApiKeyRevokedView);
        })
            .WithName("RevokeApiKey").WithSummary("Revokes an API key (apikey:admin): refused at once on this node and, once replicated, on every node; its tokens stop working at the latest when they expire.")
            .Produces<ApiKeyRevokedView>().Problems(404);
    }

    private static DateTimeOffset GetTime(this IServiceProvider services) =>
        ((TimeProvider?)services.GetService(typeof(TimeProvider)) ?? TimeProvider.System).GetUtcNow();

    private static ApiKeyView ToView(this S.ApiKeyInfo k, DateTimeOffset now) =>
        new(k.Id, k.Name, k.Roles, k.Tenant, k.Regions, k.Clearance, k.CreatedAt, k.CreatedBy, k.ExpiresAt, k.RevokedAt, k.RevokedBy, k.RevokeReason,
            k.RevokedAt is not null ? "revoked" : k.ExpiresAt <= now ? "expired" : "active");
}
