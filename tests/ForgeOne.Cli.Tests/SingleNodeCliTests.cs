using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using ForgeOne.Cli.Infrastructure;
using ForgeOne.Common.Api;

namespace ForgeOne.Cli.Tests;

/// <summary>
/// Every verb against one running node, the way an operator's script runs it: output shapes
/// exact, <c>--json</c> parsed, and an exit code per failure class. Exit codes and a few verbs
/// run as the real <c>forgeone</c> process; the rest run through the same entry point in-process.
/// </summary>
[Collection("node")]
[Trait("Category", "MultiProcess")]
public sealed partial class SingleNodeCliTests(NodeFixture node)
{
    private static readonly Regex MemberLine = MemberLinePattern();

    [Fact]
    public async Task ClusterShow_PrintsOneLinePerMemberAndTheCountFooter_AsAProcess()
    {
        var run = await Forgeone.ProcessAsync(["cluster", "show"], node.AdminEnvironment);
        Assert.True(run.ExitCode == 0, run.ToString());
        var lines = run.Lines;
        Assert.Equal(2, lines.Length);
        Assert.Matches(MemberLine, lines[0]);
        Assert.Contains("| [edge, region-default, storage] | up | reachable |", lines[0], StringComparison.Ordinal);
        Assert.Equal("Count: 1 nodes", lines[1]);

        var json = await Forgeone.InProcessAsync(["cluster", "show", "--json"], node.AdminEnvironment);
        var view = JsonSerializer.Deserialize(json.Stdout, ApiJsonContext.Default.ClusterView)!;
        Assert.Equal(view.Self, Assert.Single(view.Members).Address);
        Assert.Equal("Up", view.Members[0].Status);

        var filtered = await Forgeone.InProcessAsync(["cluster", "show", "-r", "client"], node.AdminEnvironment);
        Assert.Equal(["Count: 0 nodes"], filtered.Lines);
    }

    [Fact]
    public async Task ClusterStatusAndLeader_NameTheNode()
    {
        var leader = await Forgeone.InProcessAsync(["cluster", "leader", "--quiet"], node.AdminEnvironment);
        Assert.True(leader.ExitCode == 0, leader.ToString());
        Assert.Matches("^akka\\.ssl\\.tcp://forgeone@127\\.0\\.0\\.1:[0-9]+$", leader.Lines.Single());

        var status = await Forgeone.InProcessAsync(["cluster", "status"], node.AdminEnvironment);
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.StartsWith(leader.Lines[0] + " | [edge, region-default, storage] | up | reachable | ", status.Lines[0], StringComparison.Ordinal);
        Assert.Equal($"Leader: {leader.Lines[0]}", status.Lines[1]);

        var json = await Forgeone.InProcessAsync(["cluster", "leader", "--json"], node.AdminEnvironment);
        Assert.Equal(leader.Lines[0], JsonDocument.Parse(json.Stdout).RootElement.GetProperty("leader").GetString());
    }

    [Fact]
    public async Task ClusterSharding_RegionsAndRegionStats()
    {
        // Touch a logs shard so the region has an entity to count.
        Assert.Equal(0, (await Forgeone.InProcessAsync(["logs", "append", "cli.sharding", "hello"], node.AdminEnvironment)).ExitCode);
        var regions = await Forgeone.InProcessAsync(["cluster-sharding", "regions", "--json"], node.AdminEnvironment);
        Assert.True(regions.ExitCode == 0, regions.ToString());
        var placements = JsonSerializer.Deserialize(regions.Stdout, ApiJsonContext.Default.ShardPlacementsView)!;
        Assert.Empty(placements.Failures);
        Assert.Contains(placements.Placements, p => p.Region == "logs");

        var stats = await Forgeone.InProcessAsync(["cluster-sharding", "region-stats", "-r", "logs", "--json"], node.AdminEnvironment);
        Assert.True(stats.ExitCode == 0, stats.ToString());
        var view = JsonSerializer.Deserialize(stats.Stdout, ApiJsonContext.Default.RegionStatsView)!;
        Assert.Equal("logs", view.Region);
        Assert.Empty(view.NotAnswered);
        var only = Assert.Single(view.Nodes);
        Assert.Contains(only.Shards, s => s.Entities == 1);

        var human = await Forgeone.InProcessAsync(["cluster-sharding", "region-stats", "-r", "logs"], node.AdminEnvironment);
        Assert.Equal("Region: logs", human.Lines[0]);
        Assert.Matches("^Count: 1 nodes, [0-9]+ shards$", human.Lines[^1]);

        var unknown = await Forgeone.InProcessAsync(["cluster-sharding", "region-stats", "-r", "nope"], node.AdminEnvironment);
        Assert.Equal(ExitCodes.Failed, unknown.ExitCode);
        Assert.Contains("storage.not_found", unknown.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExitCodes_OnePerFailureClass_AsAProcess()
    {
        // 3: nothing listens there. Refused at once, retried within the timeout, then named.
        var port = ForgeOne.IntegrationTests.NodeProcess.FreePort();
        var unreachable = await Forgeone.ProcessAsync(["cluster", "show", "--url", $"http://127.0.0.1:{port}"]);
        Assert.True(unreachable.ExitCode == ExitCodes.Unreachable, unreachable.ToString());
        Assert.Contains($"cannot reach the ForgeOne node at http://127.0.0.1:{port}/", unreachable.Stderr, StringComparison.Ordinal);
        Assert.True(unreachable.Elapsed < TimeSpan.FromSeconds(15), unreachable.ToString());

        // 4: a key the node does not know.
        var badKey = await Forgeone.ProcessAsync(["cluster", "show", "--url", node.Url, "--key", "fo_live_not_a_real_key"]);
        Assert.True(badKey.ExitCode == ExitCodes.Refused, badKey.ToString());
        Assert.Contains("auth.unauthenticated", badKey.Stderr, StringComparison.Ordinal);

        // 4: a reader may not rotate keys.
        var reader = await Forgeone.ProcessAsync(["keys", "rotate", "--shard", "logs-1", "--url", node.Url, "--key", node.Jwt("cli-reader", "reader")]);
        Assert.True(reader.ExitCode == ExitCodes.Refused, reader.ToString());
        Assert.Contains("auth.forbidden", reader.Stderr, StringComparison.Ordinal);

        // 1: a well-formed shard this cluster does not have (logs has 8).
        var unknownShard = await Forgeone.ProcessAsync(["keys", "rotate", "--shard", "logs-99", "--json"], node.AdminEnvironment);
        Assert.True(unknownShard.ExitCode == ExitCodes.Failed, unknownShard.ToString());
        var error = JsonDocument.Parse(unknownShard.Stderr).RootElement;
        Assert.Equal("storage.not_found", error.GetProperty("code").GetString());
        Assert.Equal(1, error.GetProperty("exitCode").GetInt32());

        // 2: a malformed one; nothing is sent.
        var malformed = await Forgeone.ProcessAsync(["keys", "rotate", "--shard", "logs"], node.AdminEnvironment);
        Assert.True(malformed.ExitCode == ExitCodes.Usage, malformed.ToString());
    }

    [Fact]
    public async Task KeysRotate_OneShardThenEveryShard_AndTheEventsListThem()
    {
        var one = await Forgeone.InProcessAsync(["keys", "rotate", "--shard", "events-2", "--json", "--reason", "cli test"], node.AdminEnvironment);
        Assert.True(one.ExitCode == 0, one.ToString());
        var view = JsonSerializer.Deserialize(one.Stdout, ApiJsonContext.Default.ShardKeyRotationView)!;
        Assert.Equal(("events-2", true), (view.Shard, view.Rotated));
        Assert.True(view.ActiveVersion >= 2);

        var all = await Forgeone.InProcessAsync(["keys", "rotate"], node.AdminEnvironment);
        Assert.True(all.ExitCode == 0, all.ToString());
        Assert.Matches("^Rotated: 21 of 21 shards$", all.Lines[0]);

        var events = await Forgeone.InProcessAsync(["keys", "events", "--json"], node.AdminEnvironment);
        var history = JsonSerializer.Deserialize(events.Stdout, ApiJsonContext.Default.KeyEventsView)!;
        Assert.True(history.Events.Count(e => e.Contains("keys.rotated", StringComparison.Ordinal)) >= 21, events.Stdout);
    }

    [Fact]
    public async Task Audit_SealVerifyAndPublicKey()
    {
        var seal = await Forgeone.InProcessAsync(["audit", "seal", "--quiet"], node.AdminEnvironment);
        Assert.True(seal.ExitCode == 0, seal.ToString());
        Assert.Matches("^[0-9]+$", seal.Lines.Single());

        var verify = await Forgeone.InProcessAsync(["audit", "verify"], node.AdminEnvironment);
        Assert.True(verify.ExitCode == 0, verify.ToString());
        Assert.Matches("^Seals: [0-9]+ verified under key [0-9a-f:]+: valid$", verify.Lines[0]);
        Assert.Contains(verify.Lines, l => l.TrimStart().StartsWith("system-0 ", StringComparison.Ordinal));

        var pem = await Forgeone.InProcessAsync(["audit", "public-key"], node.AdminEnvironment);
        Assert.StartsWith("-----BEGIN PUBLIC KEY-----", pem.Stdout, StringComparison.Ordinal);
        using var key = ECDsa.Create();
        key.ImportFromPem(pem.Stdout);
        Assert.Equal(256, key.KeySize);
    }

    [Fact]
    public async Task Logs_AppendQueryAndTail()
    {
        var topic = "cli.logs." + Guid.NewGuid().ToString("N")[..8];
        var first = await Forgeone.InProcessAsync(["logs", "append", topic, "first entry", "--severity", "Warning", "--meta", "k=v", "--quiet"], node.AdminEnvironment);
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Matches("^[0-9a-f]{16}$", first.Lines.Single());
        var batch = await Forgeone.InProcessAsync(["logs", "append", topic, "--json"], node.AdminEnvironment, input: "second\nthird\n");
        Assert.True(batch.ExitCode == 0, batch.ToString());
        Assert.Equal(2, batch.Lines.Select(l => JsonSerializer.Deserialize(l, ApiJsonContext.Default.LogAppended)!).Count(a => a.Topic == topic));

        var query = await Forgeone.InProcessAsync(["logs", "query", "--topic", topic, "--from", "10m", "--json"], node.AdminEnvironment);
        Assert.True(query.ExitCode == 0, query.ToString());
        var entries = query.Lines.Select(l => JsonSerializer.Deserialize(l, ApiJsonContext.Default.LogEntryView)!).ToArray();
        Assert.Equal(["first entry", "second", "third"], entries.Select(e => e.Message));
        Assert.Equal("v", entries[0].Metadata["k"]);

        var warnings = await Forgeone.InProcessAsync(["logs", "query", "--topic", topic, "--min-severity", "Warning"], node.AdminEnvironment);
        Assert.Equal("Count: 1 entries", warnings.Lines[^1]);

        var tail = await Forgeone.InProcessAsync(["logs", "tail", topic, "-n", "2", "--quiet"], node.AdminEnvironment);
        Assert.Equal(["second", "third"], tail.Lines);
    }

    [Fact]
    public async Task Events_PublishThenSubscribeFromTheBeginning()
    {
        var topic = "cli.events." + Guid.NewGuid().ToString("N")[..8];
        var created = await Forgeone.InProcessAsync(["events", "create-topic", topic, "--retention", "7d", "--json"], node.AdminEnvironment);
        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.Equal(7 * 86400, JsonSerializer.Deserialize(created.Stdout, ApiJsonContext.Default.TopicView)!.RetentionSeconds);
        Assert.Contains(topic, (await Forgeone.InProcessAsync(["events", "topics", "--quiet"], node.AdminEnvironment)).Lines);
        var again = await Forgeone.InProcessAsync(["events", "create-topic", topic], node.AdminEnvironment);
        Assert.Equal(ExitCodes.Failed, again.ExitCode);
        var published = await Forgeone.InProcessAsync(["events", "publish", topic, "payload one", "--priority", "High"], node.AdminEnvironment);
        Assert.True(published.ExitCode == 0, published.ToString());

        // A subscription runs until interrupted: stop it once the event arrived (JSON Lines on stdout).
        using var cancel = new CancellationTokenSource();
        var output = new StringWriter();
        var console = CliConsole.Captured(new LineWatcher(output, line => line.Contains("\"priority\":\"High\"", StringComparison.Ordinal), cancel), new StringWriter(),
            new Dictionary<string, string>(node.AdminEnvironment) { ["FORGEONE_CONFIG"] = "/nonexistent" });
        var code = await ForgeOneCli.RunAsync(["events", "subscribe", topic, "--from-beginning", "--json"], console, cancel.Token).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(ExitCodes.Interrupted, code);
        var e = JsonSerializer.Deserialize(output.ToString().Split('\n')[0], ApiJsonContext.Default.EventView)!;
        Assert.Equal("payload one", System.Text.Encoding.UTF8.GetString(e.Payload!));
    }

    [Fact]
    public async Task Blob_PutGetLsRm_WithChecksums()
    {
        var file = Path.Combine(node.Directory, "blob-in.bin");
        var bytes = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);
        await File.WriteAllBytesAsync(file, bytes);
        var name = "cli/" + Guid.NewGuid().ToString("N") + ".bin";
        var put = await Forgeone.InProcessAsync(["blob", "put", file, "--name", name, "--json"], node.AdminEnvironment);
        Assert.True(put.ExitCode == 0, put.ToString());
        var uploaded = JsonSerializer.Deserialize(put.Stdout, CliJsonContext.Default.BlobTransferView)!;
        Assert.Equal(bytes.Length, uploaded.Blob.Size);
        Assert.Equal(Convert.ToHexStringLower(System.IO.Hashing.XxHash128.Hash(bytes)), uploaded.LocalChecksum);
        Assert.Equal(uploaded.LocalChecksum, uploaded.Blob.Checksum);

        var human = await Forgeone.InProcessAsync(["blob", "ls", "--name", name], node.AdminEnvironment);
        Assert.Equal("Count: 1 blobs", human.Lines[^1]);

        var target = Path.Combine(node.Directory, "blob-out.bin");
        var get = await Forgeone.InProcessAsync(["blob", "get", uploaded.Blob.Id, "-o", target], node.AdminEnvironment);
        Assert.True(get.ExitCode == 0, get.ToString());
        Assert.Equal($"{uploaded.Blob.Id}  {bytes.Length} bytes  xxh128 {uploaded.LocalChecksum}  {name}", get.Lines.Single());
        Assert.Equal(bytes, await File.ReadAllBytesAsync(target));
        Assert.Empty(Directory.GetFiles(node.Directory, "*.part", SearchOption.AllDirectories));

        var exists = await Forgeone.InProcessAsync(["blob", "get", uploaded.Blob.Id, "-o", target], node.AdminEnvironment);
        Assert.Equal(ExitCodes.Usage, exists.ExitCode);

        var rm = await Forgeone.InProcessAsync(["blob", "rm", uploaded.Blob.Id, "--quiet"], node.AdminEnvironment);
        Assert.Equal([uploaded.Blob.Id], rm.Lines);
        var gone = await Forgeone.InProcessAsync(["blob", "get", uploaded.Blob.Id, "-o", target + ".2"], node.AdminEnvironment);
        Assert.Equal(ExitCodes.Failed, gone.ExitCode);
        Assert.Contains("storage.not_found", gone.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Completion_BashScriptAndSuggestions()
    {
        var script = await Forgeone.InProcessAsync(["completion", "bash"]);
        Assert.Contains("complete -o default -F _forgeone_complete forgeone", script.Stdout, StringComparison.Ordinal);
        var suggest = await Forgeone.InProcessAsync(["[suggest:9]", "cluster s"]);
        Assert.Equal(["show", "status"], suggest.Lines.Where(l => !l.StartsWith('-')).ToArray());
    }

    [GeneratedRegex(@"^akka\.ssl\.tcp://forgeone@127\.0\.0\.1:[0-9]+ \| \[[a-z0-9, -]*\] \| [a-z]+ \| (reachable|unreachable) \| [0-9A-Za-z.+-]+$")]
    private static partial Regex MemberLinePattern();
}

/// <summary>A writer that cancels <paramref name="cancel"/> when a written line matches.</summary>
internal sealed class LineWatcher(TextWriter inner, Func<string, bool> match, CancellationTokenSource cancel) : TextWriter
{
    public override System.Text.Encoding Encoding => inner.Encoding;

    public override void Write(char value) => inner.Write(value);

    public override void WriteLine(string? value)
    {
        inner.WriteLine(value);
        if (value is not null && match(value))
        {
            cancel.Cancel();
        }
    }
}

