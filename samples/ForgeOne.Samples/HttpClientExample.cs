using ForgeOne.Client;
using ForgeOne.Client.Http;
using ForgeOne.Common;
using ForgeOne.Common.Model;
using Microsoft.Extensions.DependencyInjection;
using static ForgeOne.Cluster.Protocol.EventProtocol;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Samples;

/// <summary>README "Using it over HTTP (.NET)".</summary>
public static class HttpClientExample
{
    /// <summary>The README block, with what it assumes passed in; returns the events it read.</summary>
    public static async Task<int> RunAsync(Uri edge, string apiKey, Stream report, Stream destination, CancellationToken cancellationToken)
    {
        #region README
        // With IHttpClientFactory (ASP.NET Core, worker services) ...
        var services = new ServiceCollection();
        services.AddForgeOneHttpClient(o => { o.BaseAddress = edge; o.ApiKey = apiKey; });
        // ... or on its own: new ForgeOneHttpClient(new Uri("http://127.0.0.1:8080"), apiKey).
        await using var provider = services.BuildServiceProvider();
        IForgeOneClient client = provider.GetRequiredService<ForgeOneHttpClient>();   // same interface as ForgeOneActorClient.As(caller)

        // Appends and publishes carry an Idempotency-Key: retried on 503/429/lost connections, written once.
        var id = await client.AppendLogAsync("payments.audit", new LogInput(DateTimeOffset.UtcNow, Severity.Info, "card captured"), cancellationToken);
        var page = await client.QueryLogsAsync("payments.audit", DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.MaxValue, Severity.Warning, cancellationToken: cancellationToken);

        await client.CreateTopicAsync("orders", new TopicSettings(Retention: TimeSpan.FromDays(30)), cancellationToken);
        var first = await client.PublishAsync("orders", new EventInput(DateTimeOffset.UtcNow, Priority.High, "{\"order\":42}"u8.ToArray()), cancellationToken);
        // Server-Sent Events as IAsyncEnumerable: resumes with Last-Event-ID after a broken connection.
        await foreach (var e in client.SubscribeAsync("orders", SubscriptionStart.Beginning, cancellationToken))
        {
            if (e.Id == first)
            {
                break;
            }
        }

        // Blobs stream both ways; the download is checked against the stored XXH3-128.
        var meta = await client.UploadBlobAsync(report, "reports/q3.pdf", "application/pdf", cancellationToken: cancellationToken);
        await client.DownloadBlobAsync(meta.Id, destination, cancellationToken);

        try
        {
            await client.GetLogAsync(RecordId.Parse("0000000000001000"), cancellationToken);
        }
        catch (ForgeOneException e) when (e.Code == ErrorCodes.NotFound)   // ForgeOneHttpException: + Status, Problem
        {
        }
        #endregion
        _ = (id, page);
        return 1;
    }
}
