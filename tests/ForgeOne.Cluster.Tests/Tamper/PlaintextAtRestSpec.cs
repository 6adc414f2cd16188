using System.Text;
using Akka.Actor;
using ForgeOne.Client;
using ForgeOne.Common.Model;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Common;
using static ForgeOne.Cluster.Protocol.EventProtocol;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Cluster.Tests.Tamper;

/// <summary>
/// Nothing that names data is readable at rest: a topic name, a tenant name and a blob name
/// written through the cluster's protocol appear in no byte of any shard file, audit chains and
/// indexes included (they hold blind-index tokens and ciphertexts).
/// </summary>
public sealed class PlaintextAtRestSpec : IAsyncLifetime
{
    private static readonly TimeSpan Ask = TimeSpan.FromSeconds(30);
    private readonly TempRoot _root = new();
    private InProcessNode? _node;

    public async Task InitializeAsync()
    {
        var port = InProcessNode.FreePort();
        var options = InProcessNode.Options_(_root, port, port);
        options.SeedNodes = [];
        options.ShardCounts = new ShardCountOptions { Logs = 2, Events = 1, Blobs = 1 };
        _node = await InProcessNode.StartAsync(options);
    }

    public async Task DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.System.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
        }

        _root.Dispose();
    }

    [Fact]
    public async Task ShardFiles_HoldNoTopicTenantOrBlobName()
    {
        const string topic = "zebra-ledger-quux";
        const string tenant = "tenant-wombat-9q";
        const string blob = "secret-merger-plan.pdf";
        var caller = TestAuth.Token("svc-1", ["admin"], tenant, ["*"], 5);
        var cluster = _node!.Cluster;

        for (var i = 0; i < 3; i++)
        {
            Assert.IsType<LogAppended>(await cluster.Region(ShardKind.Logs).Ask<object>(new AppendLog(caller, topic, new LogInput(DateTimeOffset.UtcNow, Severity.Info, $"m{i}")), Ask));
        }

        Assert.IsType<LogPage>(await cluster.Region(ShardKind.Logs).Ask<object>(new QueryLogs(caller, topic, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1)), Ask));
        Assert.IsType<TopicCreated>(await cluster.Region(ShardKind.Events).Ask<object>(new CreateTopic(caller, topic, new TopicSettings()), Ask));
        Assert.IsType<EventPublished>(await cluster.Region(ShardKind.Events).Ask<object>(new PublishEvent(caller, topic, new EventInput(DateTimeOffset.UtcNow, Priority.Normal, [1, 2, 3])), Ask));
        var blobs = new BlobClient(cluster.Region(ShardKind.Blobs), 1, new ForgeOne.Cluster.Security.FixedTokenSource(caller));
        var meta = await blobs.UploadAsync(new MemoryStream(Encoding.UTF8.GetBytes("contents")), blob, "application/pdf");
        Assert.Equal(blob, meta.Name);

        // Stop the node: shards flush, hand off and close their files.
        await _node.System.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
        _node = null;

        var files = Directory.EnumerateFiles(_root.DataRoot, "*.mdb", SearchOption.AllDirectories).ToList();
        Assert.Equal(["blobs", "events", "logs", "system"], files.Select(f => Path.GetFileName(Path.GetDirectoryName(f))!).Distinct().Order());
        foreach (var file in files)
        {
            var bytes = await File.ReadAllBytesAsync(file);
            foreach (var name in new[] { topic, tenant, blob })
            {
                Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(name)) < 0, $"'{name}' is readable in {file}");
                Assert.True(bytes.AsSpan().IndexOf(Encoding.Unicode.GetBytes(name)) < 0, $"'{name}' (UTF-16) is readable in {file}");
            }
        }
    }
}
