using ForgeOne.Common.Api;
using ForgeOne.Edge.Http;
using ForgeOne.Edge.Problems;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace ForgeOne.Edge.Routes;

/// <summary>What every route declares for OpenAPI and the pipeline: body limits, problem responses.</summary>
internal static class RouteConventions
{
    /// <summary>Statuses every authenticated route may answer with.</summary>
    private static readonly int[] Common = [400, 401, 403, 429, 503];

    /// <summary>Declares the problem responses of the route: the common ones plus <paramref name="extra"/>.</summary>
    public static RouteHandlerBuilder Problems(this RouteHandlerBuilder route, params int[] extra)
    {
        foreach (var status in Common.Concat(extra).Distinct().Order())
        {
            route.Produces<Problem>(status, ProblemResponses.ContentType);
        }

        return route;
    }

    /// <summary>The route takes an <c>Idempotency-Key</c> header (see <see cref="Idempotency"/>); OpenAPI lists it.</summary>
    public static RouteHandlerBuilder Idempotent(this RouteHandlerBuilder route) =>
        route.WithMetadata(IdempotentRoute.Instance);

    /// <summary>The route reads a JSON body of <typeparamref name="T"/> of at most <paramref name="maxBytes"/>.</summary>
    public static RouteHandlerBuilder JsonBody<T>(this RouteHandlerBuilder route, long maxBytes)
        where T : notnull =>
        route.Accepts<T>(RequestBody.Json)
            .WithMetadata(new BodyLimit(maxBytes, RequestBody.Json))
            .Produces<Problem>(StatusCodes.Status413PayloadTooLarge, ProblemResponses.ContentType)
            .Produces<Problem>(StatusCodes.Status415UnsupportedMediaType, ProblemResponses.ContentType);
}

/// <summary>Endpoint metadata: the route honours <c>Idempotency-Key</c>.</summary>
public sealed class IdempotentRoute
{
    /// <summary>The instance.</summary>
    public static readonly IdempotentRoute Instance = new();
}
