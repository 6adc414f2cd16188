using ForgeOne.Edge.Routes;
using ForgeOne.Security;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ForgeOne.Edge;

/// <summary>Samples cluster state for <see cref="EdgeMetrics"/> every <see cref="Interval"/> in the background.</summary>
public sealed partial class ClusterPoller(EdgeCluster cluster, ILogger<ClusterPoller> log) : BackgroundService
{
    /// <summary>How often the cluster is sampled.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        do
        {
            if (cluster.Current is { } c)
            {
                try
                {
                    var placements = await SystemRoutes.PlacementsAsync(cluster).ConfigureAwait(false);
                    var perNode = placements.Placements.GroupBy(p => p.Node).ToDictionary(g => g.Key, g => g.Sum(p => p.Shards.Length), StringComparer.Ordinal);
                    var members = Akka.Cluster.Cluster.Get(c.System).State.Members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up);
                    var seals = await SystemRoutes.SealsAsync(cluster, cluster.Require().Tokens.Current, stoppingToken).ConfigureAwait(false);
                    var last = seals.Seals.Length > 0 ? SealCodec.Decode(seals.Seals[^1]) : null;
                    EdgeMetrics.Snapshot = new ClusterSnapshot(perNode, members, last?.Time, last?.Number ?? 0);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogSampleFailed(e.Message);
                }
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Cluster metrics not sampled: {Reason}")]
    private partial void LogSampleFailed(string reason);
}
