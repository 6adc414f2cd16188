using System.Diagnostics;
using ForgeOne.Client;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Cluster.Tests.Client;

/// <summary>
/// Requests the cluster cannot route or carry, and seeds nobody answers: each is refused with
/// its typed error at once (bounded, not waited out as a 10-30 s ask timeout).
/// </summary>
public sealed class RefusalSpec
{
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task Connect_ToASeedNobodyAnswers_IsRefusedWithClusterUnreachable_NamingIt_WithinTheConnectTimeout()
    {
        using var keys = TestHosts.DevKeys();
        var seed = $"akka.ssl.tcp://forgeone@127.0.0.1:{InProcessNode.FreePort()}";
        var timeout = TimeSpan.FromSeconds(1);
        var clock = Stopwatch.StartNew();
        var refused = await Assert.ThrowsAsync<ForgeOneException>(() => ForgeOneActorClient.ConnectAsync([seed], new ShardCountOptions(), ClientCredential.FromToken(Callers.Writer), connectTimeout: timeout, configure: o => o.KeysDirectory = keys.KeysDirectory));
        Assert.True(clock.Elapsed < timeout + Prompt, $"refused after {clock.Elapsed}");
        Assert.Equal(ErrorCodes.Unreachable, refused.Code);
        Assert.Contains(seed, refused.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connect_Cancelled_StopsPromptly()
    {
        using var keys = TestHosts.DevKeys();
        var seed = $"akka.ssl.tcp://forgeone@127.0.0.1:{InProcessNode.FreePort()}";
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ForgeOneActorClient.ConnectAsync([seed], new ShardCountOptions(), ClientCredential.FromToken(Callers.Writer), connectTimeout: TimeSpan.FromSeconds(30), cancellationToken: cancel.Token, configure: o => o.KeysDirectory = keys.KeysDirectory));
        Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(300) + Prompt, $"stopped after {clock.Elapsed}");
    }

    [Fact]
    public async Task Requests_ThatCannotBeRoutedOrCarried_AreRefusedAtOnce_WithTheirCode()
    {
        using var root = new TempRoot();
        var port = InProcessNode.FreePort();
        var node = await InProcessNode.StartAsync(InProcessNode.Options_(root, port, port));
        try
        {
            await using var client = await ForgeOneActorClient.ConnectAsync([$"akka.ssl.tcp://forgeone@127.0.0.1:{port}"], node.Options.ShardCounts, ClientCredential.FromToken(Callers.Writer), configure: o => o.KeysDirectory = root.KeysDirectory);
            var logShards = node.Options.ShardCounts.Logs;

            await Refused(client, new AppendLog(Callers.Writer, null!, TestHosts.Entry()), ErrorCodes.InvalidTopic, "needs a topic");
            await Refused(client, new GetLog(Callers.Reader, RecordId.Create(1000, logShards + 3, 1)), ErrorCodes.InvalidId, $"this cluster has {logShards}");
            await Refused(client, new UnknownKind(), ErrorCodes.InvalidArgument, "Shard kind 77 is unknown");

            // 150 entries of 60 KiB pass validation (10,000 x 64 KiB would) but are ~9 MiB on the wire.
            var big = Enumerable.Range(0, 150).Select(i => TestHosts.Entry(bytes: 60 * 1024)).ToArray();
            var refused = await Refused(client, new AppendLogBatch(Callers.Writer, "big", big), ErrorCodes.BatchTooLarge, $"at most {ClusterConfig.FrameLimit} bytes");
            Assert.Contains("Split it", refused.Message, StringComparison.Ordinal);

            // The same entries in requests under the limit go through.
            var ids = await client.AppendLogBatchAsync("big", big[..100]);
            Assert.Equal(100, ids.Length);
        }
        finally
        {
            await node.System.Terminate();
        }
    }

    private static async Task<ForgeOneError> Refused(ForgeOneActorClient client, IShardMessage message, string code, string says)
    {
        var clock = Stopwatch.StartNew();
        var reply = await client.Ask(message);
        Assert.True(clock.Elapsed < Prompt, $"{message.GetType().Name} refused after {clock.Elapsed}");
        var failure = Assert.IsAssignableFrom<IFailureReply>(reply);
        Assert.Equal(code, failure.Error.Code);
        Assert.Contains(says, failure.Error.Message, StringComparison.Ordinal);
        return failure.Error;
    }

    private sealed record UnknownKind : IShardMessage
    {
        public ShardKind Kind => (ShardKind)77;

        public string? RoutingKey => "anything";

        public int? ShardNumber => null;
    }
}
