using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ForgeOne.Common.Api;

namespace ForgeOne.Edge.Tests;

/// <summary>Request and assertion helpers over the API's JSON contract.</summary>
internal static class Http
{
    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static StringContent Ndjson(string body) => new(body, Encoding.UTF8, "application/x-ndjson");

    public static async Task<T> ReadAsync<T>(this HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"Expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        var type = (System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>)(ApiJsonContext.Default.GetTypeInfo(typeof(T)) ?? BackupApiJsonContext.Default.GetTypeInfo(typeof(T)))!;
        return JsonSerializer.Deserialize(body, type)!;
    }

    /// <summary>Asserts a problem+json answer with <paramref name="status"/> and <paramref name="code"/>; returns it.</summary>
    public static async Task<Problem> ProblemAsync(this HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"Expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonSerializer.Deserialize(body, ApiJsonContext.Default.Problem)!;
        Assert.Equal(code, problem.Code);
        Assert.Equal((int)status, problem.Status);
        Assert.Equal("https://forgeone.dev/problems/" + code, problem.Type);
        Assert.False(string.IsNullOrWhiteSpace(problem.Detail));
        return problem;
    }

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string path, string json) => client.PostAsync(path, Json(json));

    public static Task<HttpResponseMessage> PutJsonAsync(this HttpClient client, string path, string json) => client.PutAsync(path, Json(json));

    public static string Unique(string prefix) => $"{prefix}.{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, prefix.Length + 33)];

    public static Task<HttpResponseMessage> PostAsJson<T>(this HttpClient client, string path, T value) =>
        client.PostAsync(path, JsonContent.Create(value, (System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>)ApiJsonContext.Default.GetTypeInfo(typeof(T))!));
}
