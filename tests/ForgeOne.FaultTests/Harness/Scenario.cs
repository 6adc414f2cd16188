using ForgeOne.Common;
using Xunit.Abstractions;

namespace ForgeOne.FaultTests.Harness;

/// <summary>Steps every scenario shares.</summary>
public static class Scenario
{
    /// <summary>
    /// The bound a scenario asserts on the time to serve again. The target for the shipped
    /// defaults is 10 s at the 99th percentile (README, Reliability); the assertion leaves
    /// headroom for a loaded CI machine, and the measured figure is printed either way.
    /// </summary>
    public static readonly TimeSpan ServeAgainBound = TimeSpan.FromSeconds(15);

    /// <summary>The shard kinds the workload writes to (the system shard takes no client writes).</summary>
    public static bool Written((ShardKind Kind, int Shard) shard) => shard.Kind is ShardKind.Logs or ShardKind.Events;

    /// <summary>Waits until every log and events shard acknowledged a write (the load reaches all of them).</summary>
    public static Task WarmUpAsync(FaultCluster cluster, Workload load) =>
        ClusterVerifier.Eventually(
            () =>
            {
                var missing = FaultCluster.Counts.ToCounts().All().Where(Written).Where(s => !load.Ledger.AckTimes.ContainsKey(s)).ToList();
                Assert.True(missing.Count == 0, $"no acknowledgement yet from {string.Join(", ", missing)}");
            },
            TimeSpan.FromSeconds(90),
            "every shard acknowledging the load");

    /// <summary>
    /// A storage node other than the oldest (so the singletons and coordinators stay put) and
    /// the shards of interest it hosts (<paramref name="which"/>, by default the written ones),
    /// once it hosts <paramref name="atLeast"/>: right after start every shard lives on the first
    /// node, and the coordinator moves them one per kind per rebalance round.
    /// </summary>
    public static async Task<(int Victim, List<(ShardKind Kind, int Shard)> Shards)> VictimAsync(FaultCluster cluster, int atLeast = 2, Func<(ShardKind Kind, int Shard), bool>? which = null)
    {
        which ??= Written;
        (int, List<(ShardKind, int)>) chosen = default;
        await ClusterVerifier.Eventually(
            () =>
            {
                var homes = cluster.ShardHomesAsync().GetAwaiter().GetResult();
                var oldest = cluster.OldestStorageIndex();
                var victim = Enumerable.Range(0, cluster.Size).Where(i => i != oldest).MaxBy(i => homes.Count(h => h.Value == cluster.Node(i).Name && which(h.Key)));
                var shards = homes.Where(h => h.Value == cluster.Node(victim).Name).Select(h => h.Key).Where(which).ToList();
                Assert.True(shards.Count >= atLeast, $"no node but the oldest hosts {atLeast} of the shards asked for yet");
                chosen = (victim, shards);
            },
            TimeSpan.FromSeconds(90),
            "the shards spreading over the nodes");
        return chosen;
    }

    /// <summary>Waits until each of <paramref name="shards"/> acknowledged a write after <paramref name="since"/>.</summary>
    public static Task AwaitServingAsync(Workload load, DateTimeOffset since, IReadOnlyCollection<(ShardKind Kind, int Shard)> shards, TimeSpan timeout) =>
        ClusterVerifier.Eventually(
            () =>
            {
                var waiting = load.Ledger.FirstAckSince(since, shards).Where(f => f.Value is null).Select(f => f.Key).ToList();
                Assert.True(waiting.Count == 0, $"not serving again yet: {string.Join(", ", waiting)}");
            },
            timeout,
            "the shards to serve again");

    /// <summary>Waits for the sealer (wherever it runs now) to write a seal after <paramref name="since"/>; returns that seal's time.</summary>
    public static async Task<DateTimeOffset> AwaitSealAfterAsync(ClusterVerifier verifier, DateTimeOffset since, TimeSpan timeout)
    {
        DateTimeOffset at = default;
        await ClusterVerifier.Eventually(
            () =>
            {
                var seals = verifier.SealsAsync().GetAwaiter().GetResult();
                Assert.True(seals.Count > 0 && seals[^1].Time > since, "no seal since the fault yet");
                at = seals.First(s => s.Time > since).Time;
            },
            timeout,
            "a seal after the fault");
        return at;
    }

    /// <summary>Lets the load run on.</summary>
    public static Task RunForAsync(TimeSpan duration) => Task.Delay(duration);

    /// <summary>
    /// Prints where the time between <paramref name="fault"/> and the shards serving again went:
    /// failure detection (the client sees the node unreachable), the split-brain resolver's
    /// stable-after (unreachable -> downed), removal (downed -> removed), the shards re-opening
    /// on survivors, and the first acknowledged write. Returns the parts, in seconds after the fault.
    /// </summary>
    public static IReadOnlyDictionary<string, double> Breakdown(ITestOutputHelper output, FaultCluster cluster, Workload load, DateTimeOffset fault, int victimPort, IReadOnlyCollection<(ShardKind Kind, int Shard)> shards)
    {
        var parts = new Dictionary<string, double>();
        foreach (var kind in new[] { "unreachable", "downed", "removed" })
        {
            var seen = cluster.Membership.Where(e => e.Port == victimPort && e.Kind == kind && e.At >= fault).Select(e => e.At).DefaultIfEmpty(DateTimeOffset.MinValue).Min();
            if (seen != DateTimeOffset.MinValue)
            {
                parts[kind] = (seen - fault).TotalSeconds;
            }
        }

        var reopened = cluster.Running.SelectMany(n => n.Lines).Where(l => l.At >= fault && l.Text.Contains(" open on ", StringComparison.Ordinal)).Select(l => l.At).DefaultIfEmpty(DateTimeOffset.MinValue).Max();
        if (reopened != DateTimeOffset.MinValue)
        {
            parts["last shard re-opened"] = (reopened - fault).TotalSeconds;
        }

        var served = load.Ledger.FirstAckSince(fault, shards).Values.Where(v => v is not null).Select(v => v!.Value).DefaultIfEmpty(DateTimeOffset.MinValue).Max();
        if (served != DateTimeOffset.MinValue)
        {
            parts["last shard serving"] = (served - fault).TotalSeconds;
        }

        output.WriteLine("after the fault (s): " + string.Join(", ", parts.Select(p => $"{p.Key} +{p.Value:0.00}"))
            + $" [load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}]");
        return parts;
    }

    /// <summary>
    /// The checks of every scenario: data through the running cluster, seals written after
    /// <paramref name="sealedAfter"/>, then a full graceful stop and the offline file, chain and
    /// seal checks.
    /// </summary>
    public static async Task VerifyAllAsync(FaultCluster cluster, Workload load, ClusterVerifier verifier, DateTimeOffset? sealedAfter = null)
    {
        await verifier.VerifyDataAsync();
        IReadOnlyList<ForgeOne.Security.Seal> seals = [];
        await ClusterVerifier.Eventually(
            () =>
            {
                seals = verifier.SealsAsync().GetAwaiter().GetResult();
                Assert.NotEmpty(seals);
                if (sealedAfter is { } after)
                {
                    Assert.True(seals[^1].Time > after, $"the latest seal ({seals[^1].Number} at {seals[^1].Time:HH:mm:ss.fff}) is older than the fault");
                }
            },
            TimeSpan.FromSeconds(60),
            "a seal after the fault");

        load.StopSubscriptions();
        await cluster.StopAllAsync();

        // The shards sealed last may have taken writes after the history was read: verify the
        // chains against the history as it stood, which they must extend.
        verifier.VerifyFilesOffline(seals);
    }
}
