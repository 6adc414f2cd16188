using System.Diagnostics.Metrics;

namespace ForgeOne.Edge;

/// <summary>
/// The edge's own instruments (meter <c>ForgeOne.Edge</c>): what the HTTP API ingested, and
/// gauges of cluster state (shards per node, seal age, members) read from the last
/// <see cref="ClusterSnapshot"/> the edge's poller took, so a scrape never waits on the cluster.
/// HTTP requests by route and status come from ASP.NET Core's own <c>http.server.request.duration</c>.
/// </summary>
public static class EdgeMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "ForgeOne.Edge";

    private static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> Entries = Meter.CreateCounter<long>("forgeone.ingest.entries", "{entry}", "Log entries and events committed through the HTTP API.");
    private static readonly Counter<long> Bytes = Meter.CreateCounter<long>("forgeone.ingest.bytes", "By", "Message, payload and blob bytes committed through the HTTP API.");
    private static volatile ClusterSnapshot _snapshot = ClusterSnapshot.Empty;

    static EdgeMetrics()
    {
        Meter.CreateObservableGauge("forgeone.cluster.shards", () => _snapshot.ShardsPerNode.Select(s => new Measurement<int>(s.Value, new KeyValuePair<string, object?>("node", s.Key))), "{shard}", "Shards hosted per node (every region).");
        Meter.CreateObservableGauge("forgeone.cluster.members", () => new Measurement<int>(_snapshot.Members), "{member}", "Cluster members this node sees Up.");
        Meter.CreateObservableGauge("forgeone.audit.seal.age", () => _snapshot.LastSeal is { } t ? [new Measurement<double>((DateTimeOffset.UtcNow - t).TotalSeconds)] : Array.Empty<Measurement<double>>(), "s", "Seconds since the newest audit seal.");
        Meter.CreateObservableGauge("forgeone.audit.seal.number", () => new Measurement<long>(_snapshot.LastSealNumber), "{seal}", "Number of the newest audit seal.");
    }

    /// <summary>The cluster state the gauges show.</summary>
    public static ClusterSnapshot Snapshot
    {
        get => _snapshot;
        set => _snapshot = value;
    }

    /// <summary>Counts <paramref name="entries"/> entries or events and <paramref name="bytes"/> bytes ingested.</summary>
    public static void Ingested(long entries, long bytes)
    {
        if (entries > 0)
        {
            Entries.Add(entries);
        }

        if (bytes > 0)
        {
            Bytes.Add(bytes);
        }
    }
}

/// <summary>Cluster state sampled by the edge for its gauges.</summary>
public sealed record ClusterSnapshot(IReadOnlyDictionary<string, int> ShardsPerNode, int Members, DateTimeOffset? LastSeal, long LastSealNumber)
{
    /// <summary>Nothing sampled yet.</summary>
    public static readonly ClusterSnapshot Empty = new(new Dictionary<string, int>(), 0, null, 0);
}
