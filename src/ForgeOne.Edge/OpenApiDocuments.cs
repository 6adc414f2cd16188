using ForgeOne.Edge.Http;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace ForgeOne.Edge;

/// <summary>What the generated OpenAPI document adds to the endpoint metadata: title, the two credential schemes, which operations need them.</summary>
internal static class OpenApiDocuments
{
    private const string Bearer = "bearer";
    private const string ApiKey = "apiKey";

    public static void Configure(OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "ForgeOne HTTP API",
                Version = "v1",
                Description = "Logs, events and blobs in a compliance-grade storage cluster. Every error is application/problem+json (RFC 9457) with a stable `code`. Authenticate with an API key (`Authorization: Bearer fo_...` or `X-Api-Key`) or a JWT bearer token.",
            };
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[Bearer] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "An API key (fo_...) or a JWT from the configured issuer.",
            };
            document.Components.SecuritySchemes[ApiKey] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = EdgeAuthenticatorHeader,
                Description = "An API key (fo_...).",
            };
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            if (context.Description.ActionDescriptor.EndpointMetadata.OfType<RequiresPrincipal>().Any())
            {
                operation.Security =
                [
                    new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(Bearer, context.Document)] = [] },
                    new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKey, context.Document)] = [] },
                ];
            }

            if (context.Description.ActionDescriptor.EndpointMetadata.OfType<Routes.IdempotentRoute>().Any())
            {
                operation.Parameters ??= [];
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = Idempotency.Header,
                    In = ParameterLocation.Header,
                    Required = false,
                    Description = "Makes the append safe to retry: the same key and body return the original result and write nothing (Idempotent-Replayed: true); the same key with another body is 422 request.key_reused; while the first is in flight, 409 request.in_flight.",
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = 200 },
                });
            }

            return Task.CompletedTask;
        });
    }

    private const string EdgeAuthenticatorHeader = Auth.EdgeAuthenticator.ApiKeyHeader;
}
