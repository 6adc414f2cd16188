using System.Diagnostics.Metrics;
using ForgeOne.Common;

namespace ForgeOne.Cluster.Shards;

/// <summary>
/// Shard instruments of this process (meter <c>ForgeOne.Shards</c>), exported by the node's
/// <c>/metrics</c> like every <c>ForgeOne.*</c> meter: group-commit sizes and commit latency,
/// by shard kind. Other parts of the node add their instruments to their own <c>ForgeOne.*</c>
/// meter and are exported with no change to the exporter.
/// </summary>
public static class ShardMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "ForgeOne.Shards";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Histogram<int> BatchSize = Meter.CreateHistogram(
        "forgeone.shard.commit.batch_size",
        unit: "{command}",
        description: "Commands folded into one group-commit transaction.",
        tags: null,
        advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096] });

    private static readonly Histogram<double> CommitDuration = Meter.CreateHistogram(
        "forgeone.shard.commit.duration",
        unit: "s",
        description: "Time of one group-commit transaction (apply, audit, commit, fsync).",
        tags: null,
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] });

    /// <summary>Records one committed group of <paramref name="commands"/> that took <paramref name="elapsed"/>.</summary>
    public static void Committed(ShardKind kind, int commands, TimeSpan elapsed)
    {
        var tag = new KeyValuePair<string, object?>("kind", kind.FolderName());
        BatchSize.Record(commands, tag);
        CommitDuration.Record(elapsed.TotalSeconds, tag);
    }
}
