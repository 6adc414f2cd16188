using Akka.Actor;
using ForgeOne.Client;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Common;
using ForgeOne.Common.Model;
using static ForgeOne.Cluster.Protocol.EventProtocol;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Samples;

/// <summary>README "Using it from .NET (actor client)".</summary>
public static class ActorClientExample
{
    /// <summary>The README block, with what it assumes passed in.</summary>
    public static async Task RunAsync(LogInput[] entries, ClientCredential credential, IForgeOneClient admin, byte[] payload, Common.RecordId lastId, IActorRef consumerActor, Stream stream, Stream destination)
    {
        #region README
        // The client acts as the principal its credential proves: every request carries a short-lived
        // token signed with the cluster's authentication key, which the owning shard verifies before it
        // authorizes (policy) and audits the request. Nothing in a request names who the caller is.
        // It joins over mutual TLS with a certificate of the cluster's CA: in dev it issues itself one
        // from the node's dev CA in ./keys (client.pem); elsewhere use a directory made by `certs issue`.
        await using var client = await ForgeOneActorClient.ConnectAsync(
            ["akka.ssl.tcp://forgeone@127.0.0.1:4053"], new ShardCountOptions { Logs = 8, Events = 8, Blobs = 4 }, credential,
            configure: o => o.KeysDirectory = "./keys");

        // Logs: immutable; the shard assigns id and content hash. A batch is one transaction and one audit record.
        var id = await client.AppendLogAsync("payments.audit", new LogInput(DateTimeOffset.UtcNow, Severity.Info, "card captured"));
        var ids = await client.AppendLogBatchAsync("payments.audit", entries);
        var entry = await client.GetLogAsync(id);          // get-by-id routes by the shard inside the id

        // Events: explicit topics (retention, residency zone, classification), priorities, consumer offsets.
        await admin.CreateTopicAsync("orders", new TopicSettings());   // admin: a client connected with an admin's credential
        await client.PublishAsync("orders", new EventInput(DateTimeOffset.UtcNow, Priority.High, payload));
        await client.CommitOffsetAsync("billing", "orders", lastId);
        // Catch-up then live, in order, at most Window unacknowledged events in flight; the consumer
        // actor receives EventSubscription.Delivered and answers EventSubscription.Ack. Resumes after node loss.
        client.Subscribe("orders", consumerActor, SubscriptionStart.Beginning);

        // Blobs: streamed in 1 MiB chunks, compressed when it helps, encrypted; each chunk carries an
        // XXH3-128 the shard verifies, and the shard records the whole blob's XXH3-128 (meta.Checksum,
        // the value `xxh128sum` prints for the file; blobs stored before carry a SHA-256 and still verify).
        var blobs = new BlobClient(client.Cluster.Region(ShardKind.Blobs), shardCount: 4, client.Tokens);
        var meta = await blobs.UploadAsync(stream, "reports/q3.pdf", "application/pdf");   // expectedChecksum: optional check
        await blobs.DownloadAsync(meta.Id, destination);          // verifies every chunk and the whole-blob checksum
        #endregion
        _ = (ids, entry);
    }
}
