using System.Text;
using ForgeOne.Client;
using ForgeOne.Client.Http;
using ForgeOne.Common;
using ForgeOne.Common.Model;
using ForgeOne.Security;
using Microsoft.Extensions.DependencyInjection;
using static ForgeOne.Cluster.Protocol.BlobProtocol;
using static ForgeOne.Cluster.Protocol.EventProtocol;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Edge.Tests;

/// <summary>
/// One spec for <see cref="IForgeOneClient"/>, run against both implementations: the HTTP
/// client through the edge, and the actor client joined to the same cluster. Same calls, same
/// answers, same error codes.
/// </summary>
public abstract class ClientConformance(EdgeFixture fx)
{
    protected EdgeFixture Fx { get; } = fx;

    protected abstract Task<IForgeOneClient> ClientAsync();

    private static readonly DateTimeOffset Start = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Logs_AppendGetQueryCount()
    {
        var client = await ClientAsync();
        var topic = Http.Unique("conf.logs");
        var one = await client.AppendLogAsync(topic, new LogInput(DateTimeOffset.UtcNow, Severity.Error, "boom", new Dictionary<string, string> { ["k"] = "v" }));
        var more = await client.AppendLogBatchAsync(topic, [new LogInput(DateTimeOffset.UtcNow, Severity.Info, "a"), new LogInput(DateTimeOffset.UtcNow, Severity.Info, "b")]);
        var entry = await client.GetLogAsync(one);
        Assert.Equal(("boom", Severity.Error, "v"), (entry.Message, entry.Severity, entry.Metadata["k"]));
        Assert.Equal(ContentHashes.ForLog(entry), entry.ContentHash);

        var page = await client.QueryLogsAsync(topic, Start, DateTimeOffset.MaxValue, limit: 2);
        Assert.Equal([one, more[0]], page.Entries.Select(e => e.Id));
        var rest = await client.QueryLogsAsync(topic, Start, DateTimeOffset.MaxValue, limit: 2, continuation: page.ContinuationToken);
        Assert.Equal([more[1]], rest.Entries.Select(e => e.Id));
        Assert.Equal([one], (await client.QueryLogsAsync(topic, Start, DateTimeOffset.MaxValue, Severity.Warning)).Entries.Select(e => e.Id));
        Assert.Equal(3, await client.CountLogsAsync(topic, Start, DateTimeOffset.MaxValue));

        var missing = await Assert.ThrowsAnyAsync<ForgeOneException>(() => client.GetLogAsync(RecordId.Create(1, 0, 1)));
        Assert.Equal(ErrorCodes.NotFound, missing.Code);
        var invalid = await Assert.ThrowsAnyAsync<ForgeOneException>(() => client.AppendLogAsync("bad topic", new LogInput(DateTimeOffset.UtcNow, Severity.Info, "x")));
        Assert.Equal(ErrorCodes.InvalidTopic, invalid.Code);
    }

    [Fact]
    public async Task Events_TopicPublishQueryOffsetsAndSubscribe()
    {
        var client = await ClientAsync();
        var topic = Http.Unique("conf.events");
        var created = await client.CreateTopicAsync(topic, new TopicSettings(Retention: TimeSpan.FromDays(1)));
        Assert.Equal((topic, TimeSpan.FromDays(1)), (created.Name, created.Retention!.Value));
        Assert.Equal(topic, (await client.DescribeTopicAsync(topic)).Name);
        var conflict = await Assert.ThrowsAnyAsync<ForgeOneException>(() => client.CreateTopicAsync(topic, new TopicSettings()));
        Assert.Equal(ErrorCodes.Conflict, conflict.Code);

        var first = await client.PublishAsync(topic, new EventInput(DateTimeOffset.UtcNow, Priority.High, Encoding.UTF8.GetBytes("e1")));
        var rest = await client.PublishBatchAsync(topic, [new EventInput(DateTimeOffset.UtcNow, Priority.Low, Encoding.UTF8.GetBytes("e2")), new EventInput(DateTimeOffset.UtcNow, Priority.Normal, Encoding.UTF8.GetBytes("e3"))]);
        var page = await client.QueryEventsAsync(topic, Start, DateTimeOffset.MaxValue);
        Assert.Equal(["e1", "e2", "e3"], page.Events.Select(e => Encoding.UTF8.GetString(e.Payload!)));
        Assert.Equal([first], (await client.QueryEventsAsync(topic, Start, DateTimeOffset.MaxValue, Priority.High)).Events.Select(e => e.Id));

        await client.CommitOffsetAsync("g1", topic, rest[0]);
        var offset = await client.GetOffsetAsync("g1", topic);
        Assert.Equal(rest[0], offset.Position);
        var regression = await Assert.ThrowsAnyAsync<ForgeOneException>(() => client.CommitOffsetAsync("g1", topic, first));
        Assert.Equal(ErrorCodes.OffsetRegression, regression.Code);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var seen = new List<RecordId>();
        await foreach (var e in client.SubscribeAsync(topic, SubscriptionStart.AfterId(first), timeout.Token))
        {
            seen.Add(e.Id);
            if (seen.Count == 2)
            {
                break;
            }
        }

        Assert.Equal(rest, seen);
    }

    [Fact]
    public async Task Blobs_UploadDownloadFindDelete()
    {
        var client = await ClientAsync();
        var data = new byte[(2 * 1024 * 1024) + 7];
        new Random(9).NextBytes(data);
        var name = Http.Unique("conf.blob") + ".bin";
        var meta = await client.UploadBlobAsync(new MemoryStream(data), name, "application/octet-stream", new Dictionary<string, string> { ["owner"] = "qa" });
        Assert.Equal((data.LongLength, name, "qa"), (meta.Size, meta.Name, meta.Metadata["owner"]));
        var copy = new MemoryStream();
        var downloaded = await client.DownloadBlobAsync(meta.Id, copy);
        Assert.Equal(data, copy.ToArray());
        Assert.Equal(meta.Checksum, downloaded.Checksum);
        Assert.Equal(meta.Id, (await client.GetBlobAsync(meta.Id)).Id);
        Assert.Equal([meta.Id], (await client.FindBlobsAsync(BlobLookupKind.Name, name)).Blobs.Select(b => b.Id));
        Assert.Equal(3, await client.DeleteBlobAsync(meta.Id));
        var gone = await Assert.ThrowsAnyAsync<ForgeOneException>(() => client.GetBlobAsync(meta.Id));
        Assert.Equal(ErrorCodes.NotFound, gone.Code);
    }
}

[Collection(EdgeCollection.Name)]
public sealed class HttpClientConformance(EdgeFixture fx) : ClientConformance(fx)
{
    protected override Task<IForgeOneClient> ClientAsync() => Task.FromResult<IForgeOneClient>(new ForgeOneHttpClient(Fx.Server.BaseAddress, Fx.AdminKey));

    [Fact]
    public async Task Refusals_CarryTheProblem()
    {
        var client = new ForgeOneHttpClient(Fx.Server.BaseAddress, "fo_live_not-a-key");
        var e = await Assert.ThrowsAsync<ForgeOneHttpException>(() => client.CountLogsAsync("any.topic", DateTimeOffset.UnixEpoch.AddYears(31), DateTimeOffset.UtcNow));
        Assert.Equal((ErrorCodes.Unauthenticated, 401), (e.Code, e.Status));
        Assert.Equal("https://forgeone.dev/problems/auth.unauthenticated", e.Problem.Type);
    }

    [Fact]
    public async Task FactoryRegistration_GivesAWorkingClient()
    {
        var services = new ServiceCollection();
        services.AddForgeOneHttpClient(o =>
        {
            o.BaseAddress = Fx.Server.BaseAddress;
            o.ApiKey = Fx.AdminKey;
        });
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<IForgeOneClient>();
        var topic = Http.Unique("conf.di");
        await client.AppendLogAsync(topic, new LogInput(DateTimeOffset.UtcNow, Severity.Info, "via the factory"));
        Assert.Equal(1, await client.CountLogsAsync(topic, DateTimeOffset.UnixEpoch.AddYears(31), DateTimeOffset.MaxValue));
    }

    [Fact]
    public async Task Subscribe_ResumesByItself_WhenTheEdgeGoesAwayAndComesBack()
    {
        var port = EdgeFixture.FreePort();
        var server = await Fx.StartServerAsync(_ => { }, port);
        var client = new ForgeOneHttpClient(new HttpClient { BaseAddress = server.BaseAddress, Timeout = Timeout.InfiniteTimeSpan }, new ForgeOneHttpClientOptions { ApiKey = Fx.AdminKey, SubscriptionReconnectDelay = TimeSpan.FromMilliseconds(100), RetryDeadline = TimeSpan.FromSeconds(60) });
        var admin = new ForgeOneHttpClient(Fx.Server.BaseAddress, Fx.AdminKey);
        var topic = Http.Unique("conf.resume");
        await admin.CreateTopicAsync(topic, new TopicSettings());
        var before = await admin.PublishBatchAsync(topic, [.. Enumerable.Range(0, 3).Select(i => new EventInput(DateTimeOffset.UtcNow, Priority.Normal, [(byte)i]))]);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var seen = new List<RecordId>();
        RecordId[] after = [];
        await foreach (var e in client.SubscribeAsync(topic, cancellationToken: timeout.Token))
        {
            seen.Add(e.Id);
            if (seen.Count == 2)
            {
                // The edge goes away mid-stream, events keep coming, another edge takes its port.
                await server.DisposeAsync();
                after = await admin.PublishBatchAsync(topic, [.. Enumerable.Range(3, 3).Select(i => new EventInput(DateTimeOffset.UtcNow, Priority.Normal, [(byte)i]))]);
                server = await Fx.StartServerAsync(_ => { }, port);
            }

            if (seen.Count == 6)
            {
                break;
            }
        }

        await server.DisposeAsync();
        Assert.Equal(before.Concat(after), seen);
    }
}

[Collection(EdgeCollection.Name)]
public sealed class ActorClientConformance(EdgeFixture fx) : ClientConformance(fx), IAsyncLifetime
{
    private ForgeOneActorClient? _client;

    protected override async Task<IForgeOneClient> ClientAsync()
    {
        var admin = Fx.IssueToken(Principal.Of("actor-admin", ["admin"], null, ["*"], int.MaxValue));
        _client ??= await ForgeOneActorClient.ConnectAsync([Fx.SeedNode], EdgeFixture.Counts, ClientCredential.FromToken(admin), extraHocon: "akka.loglevel = WARNING", configure: o => o.KeysDirectory = Path.Combine(Fx.Root, "keys"));
        return _client.As(admin);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_client is not null)
        {
            await _client.DisposeAsync();
        }
    }
}
