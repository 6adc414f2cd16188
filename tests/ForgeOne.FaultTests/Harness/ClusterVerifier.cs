using System.Text;
using Akka.Actor;
using ForgeOne.Client;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Security;
using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage;
using Xunit.Abstractions;
using static ForgeOne.Cluster.Protocol.EventProtocol;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.FaultTests.Harness;

/// <summary>
/// What must hold after every scenario, checked from outside: every acknowledged write is
/// readable, correct and stored exactly once; no refused write is stored; every subscription
/// delivered its topic in order, without a gap or a duplicate; every blob reads back intact;
/// and, with the cluster stopped, every shard file passes its integrity check, every audit
/// chain verifies, and the seal history is complete, linked and covers the chains.
/// </summary>
public sealed class ClusterVerifier(FaultCluster cluster, Workload workload, ITestOutputHelper output)
{
    private static readonly DateTimeOffset From = DateTimeOffset.UtcNow.AddHours(-2);

    /// <summary>Data checks through the running cluster; returns what they counted.</summary>
    public async Task<string> VerifyDataAsync()
    {
        var ledger = workload.Ledger;
        var client = cluster.Client;
        Assert.True(ledger.Unexpected.IsEmpty, $"the client let {ledger.Unexpected.Count} exceptions out, e.g. {ledger.Unexpected.FirstOrDefault()}");
        var to = DateTimeOffset.UtcNow.AddHours(1);

        // Logs: exactly once, with the acknowledged id, nothing refused stored.
        var storedLogs = 0;
        foreach (var topic in workload.LogTopics)
        {
            var entries = new List<(RecordId Id, string Message)>();
            string? next = null;
            do
            {
                var page = Expect<LogPage>(await client.Ask(new QueryLogs(cluster.Principals.Reader, topic, From, to, Limit: 1000, ContinuationToken: next)).ConfigureAwait(false));
                entries.AddRange(page.Entries.Select(e => (e.Id, e.Message)));
                next = page.ContinuationToken;
            }
            while (next is not null);

            storedLogs += entries.Count;
            var duplicates = entries.GroupBy(e => e.Message).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
            Assert.True(duplicates.Count == 0, $"{topic}: stored more than once: {string.Join(", ", duplicates.Take(10))}");
            var stored = entries.ToDictionary(e => e.Message, e => e.Id);
            foreach (var (message, (ackedTopic, id)) in ledger.Logs.Where(l => l.Value.Topic == topic))
            {
                Assert.True(stored.TryGetValue(message, out var storedId), $"{topic}: acknowledged entry '{message}' ({id}) is missing");
                Assert.Equal(id, storedId);
            }

            var refusedButStored = entries.Where(e => ledger.Refused.ContainsKey(e.Message)).Select(e => $"{e.Message} ({ledger.Refused[e.Message]})").ToList();
            Assert.True(refusedButStored.Count == 0, $"{topic}: refused writes were stored: {string.Join(", ", refusedButStored.Take(10))}");
        }

        // Events: the same, and every subscription saw its topic in order, once, without gaps.
        var storedEvents = 0;
        foreach (var topic in workload.EventTopics)
        {
            var stored = await AllEventsAsync(topic, to).ConfigureAwait(false);
            storedEvents += stored.Count;
            Assert.True(stored.Select(e => e.Payload).Distinct().Count() == stored.Count, $"{topic}: an event is stored more than once");
            var byPayload = stored.ToDictionary(e => e.Payload, e => e.Id);
            foreach (var (payload, (_, id)) in ledger.Events.Where(e => e.Value.Topic == topic))
            {
                Assert.True(byPayload.TryGetValue(payload, out var storedId), $"{topic}: acknowledged event '{payload}' ({id}) is missing");
                Assert.Equal(id, storedId);
            }

            Assert.DoesNotContain(stored, e => ledger.Refused.ContainsKey(e.Payload));
            var expected = stored.Select(e => e.Id).Order().ToList();
            await Eventually(() =>
            {
                var delivered = ledger.Delivered[topic].Select(d => d.Id).ToList();
                Assert.True(delivered.Count >= expected.Count, $"{topic}: {delivered.Count} of {expected.Count} events delivered");
            }, TimeSpan.FromSeconds(60), $"the subscription to {topic} catching up").ConfigureAwait(false);
            var deliveredIds = ledger.Delivered[topic].Select(d => d.Id).ToList();
            Assert.True(deliveredIds.Zip(deliveredIds.Skip(1)).All(p => p.Item1 < p.Item2), $"{topic}: deliveries out of order or repeated");
            Assert.Equal(expected, deliveredIds);
        }

        // Blobs: every acknowledged one reads back bit for bit.
        var blobClient = new BlobClient(client.Cluster.Region(ShardKind.Blobs), FaultCluster.Counts.Blobs, new FixedTokenSource(cluster.Principals.Reader));
        foreach (var (id, (checksum, size)) in ledger.Blobs)
        {
            using var copy = new MemoryStream();
            await blobClient.DownloadAsync(id, copy).ConfigureAwait(false);
            Assert.Equal(size, copy.Length);
            Assert.Equal(checksum, System.IO.Hashing.XxHash128.Hash(copy.ToArray()));
        }

        var summary = $"{ledger.Logs.Count} acknowledged log entries ({storedLogs} stored), {ledger.Events.Count} events ({storedEvents} stored, all delivered once in order), {ledger.Blobs.Count} blobs; "
            + $"{ledger.Unknown.Count} writes with unknown outcome, {ledger.Refused.Count} refused; errors seen: {string.Join(", ", ledger.Errors.Select(e => $"{e.Key} x{e.Value}"))}; client: {client.Counters}";
        output.WriteLine(summary);
        return summary;
    }

    /// <summary>The seal history as the sealer singleton has it now.</summary>
    public async Task<IReadOnlyList<Seal>> SealsAsync()
    {
        var reply = await cluster.Client.Cluster.Sealer.Ask<object>(new SealerProtocol.GetSealHistory(cluster.Principals.Admin), TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        var history = Assert.IsType<SealerProtocol.SealHistory>(reply);
        return [.. history.Seals.Select(s => SealCodec.Decode(s))];
    }

    /// <summary>
    /// With every node stopped: each shard file's integrity check, each audit chain, and the seal
    /// history (complete, linked, signed; its last seal covering the chains).
    /// </summary>
    public void VerifyFilesOffline(IReadOnlyList<Seal> seals)
    {
        var chains = new Dictionary<string, IEnumerable<AuditRecord>>(StringComparer.Ordinal);
        foreach (var (kind, shard) in FaultCluster.Counts.ToCounts().All())
        {
            var chainId = $"{kind.FolderName()}-{shard:D4}";
            if (!File.Exists(ShardStore.PathFor(cluster.Layout.DataRoot, kind, shard)))
            {
                continue;
            }

            using var store = ShardStore.Open(new ShardStoreOptions(cluster.Layout.DataRoot, kind, shard, FaultCluster.Counts.ToCounts().Of(kind)));
            var integrity = store.CheckIntegrity();
            Assert.True(integrity.IsHealthy, $"{chainId}: {string.Join("; ", integrity.Errors.Take(5))}");
            var records = store.Read(txn => txn.Scan(Tables.Audit, [], []).Select(kv => AuditRecordCodec.Decode(kv.Value)).ToList());
            var chain = AuditVerifier.Verify(records, chainId);
            Assert.True(chain.IsValid, $"{chainId}: {chain.Failure} at {chain.FirstBadSeq}: {chain.Message}");
            chains[chainId] = records;
        }

        using var signer = AuditSigner.LoadOrCreate(cluster.Layout.KeysDirectory, cluster.Layout.DataRoot);
        using var verifier = new SealVerifier(signer.ExportPublicKeyPem());
        var history = verifier.VerifyHistory(seals);
        Assert.True(history.IsValid, history.Message);
        var covered = verifier.VerifyChains(seals[^1], chains);
        Assert.True(covered.IsValid, covered.Message);
        output.WriteLine($"{chains.Count} shard files healthy, every audit chain verifies; {seals.Count} seals verified and linked (latest {seals[^1].Number} at {seals[^1].Time:HH:mm:ss.fff})");
    }

    /// <summary>Prints how long each shard took to acknowledge a write again after <paramref name="fault"/>; returns the longest.</summary>
    public TimeSpan ReportTimeToServe(string what, DateTimeOffset fault, IEnumerable<(ShardKind Kind, int Shard)> shards)
    {
        var first = workload.Ledger.FirstAckSince(fault, shards);
        var longest = TimeSpan.Zero;
        var lines = new List<string>();
        foreach (var ((kind, shard), at) in first.OrderBy(f => f.Key.Kind).ThenBy(f => f.Key.Shard))
        {
            var gap = at is { } t ? t - fault : TimeSpan.MaxValue;
            longest = gap > longest ? gap : longest;
            lines.Add($"{kind.FolderName()}-{shard}: {(at is null ? "never" : $"{gap.TotalSeconds:0.00} s")}");
        }

        output.WriteLine($"time to serve again after {what}: longest {(longest == TimeSpan.MaxValue ? "never" : $"{longest.TotalSeconds:0.00} s")} ({string.Join(", ", lines)})");
        return longest;
    }

    private async Task<List<(RecordId Id, string Payload)>> AllEventsAsync(string topic, DateTimeOffset to)
    {
        var all = new List<(RecordId, string)>();
        string? next = null;
        do
        {
            var page = Expect<EventPage>(await cluster.Client.Ask(new QueryEvents(cluster.Principals.Reader, topic, From, to, Limit: 1000, Continuation: next)).ConfigureAwait(false));
            all.AddRange(page.Events.Select(e => (e.Id, Encoding.UTF8.GetString(e.Payload ?? []))));
            next = page.Continuation;
        }
        while (next is not null);

        return all;
    }

    private static T Expect<T>(object reply) =>
        reply is T t ? t : throw new Xunit.Sdk.XunitException($"Expected {typeof(T).Name}, got {reply}");

    /// <summary>Retries an assertion until it holds or the time is up (the cluster converges asynchronously).</summary>
    public static async Task Eventually(Action assertion, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                assertion();
                return;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                throw new TimeoutException($"Timed out waiting for {what}", e);
            }
        }
    }
}
