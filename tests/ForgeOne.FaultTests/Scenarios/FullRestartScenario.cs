using ForgeOne.FaultTests.Harness;
using Xunit.Abstractions;

namespace ForgeOne.FaultTests.Scenarios;

/// <summary>
/// A full stop of the whole cluster (every node SIGTERMed, the client gone) and a start from the
/// same data root: everything acknowledged before the stop is there afterwards, exactly once
/// and with its ids, and the cluster takes writes again on every shard.
/// </summary>
[Trait("Category", "Fault")]
public sealed class FullRestartScenario(ITestOutputHelper output)
{
    [Fact]
    public async Task FullStopAndStartOfTheCluster_KeepsEveryAcknowledgedWrite_AndEveryShardServesAgain()
    {
        await using var cluster = await FaultCluster.StartAsync(3, output);
        try
        {
            await using var before = await Workload.StartAsync(cluster);
            await Scenario.WarmUpAsync(cluster, before);
            await Scenario.RunForAsync(TimeSpan.FromSeconds(3));
            await before.StopAsync();

            // Live first: the subscriptions have caught up, so the ledger is the whole truth of
            // what was acknowledged and delivered before the stop.
            var verifier = new ClusterVerifier(cluster, before, output);
            await verifier.VerifyDataAsync();
            before.StopSubscriptions();

            var stopping = DateTimeOffset.UtcNow;
            await cluster.StopAllAsync();
            output.WriteLine($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} every node stopped in {(DateTimeOffset.UtcNow - stopping).TotalSeconds:0.0} s (exit codes {string.Join(", ", Enumerable.Range(0, cluster.Size).Select(i => cluster.Node(i).Exited.Result))})");
            Assert.All(Enumerable.Range(0, cluster.Size), i => Assert.Equal(0, cluster.Node(i).Exited.Result));

            var starting = DateTimeOffset.UtcNow;
            await cluster.StartAllAsync();
            output.WriteLine($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} cluster up again in {(DateTimeOffset.UtcNow - starting).TotalSeconds:0.0} s");

            // Every write acknowledged before the stop, through the restarted cluster.
            await verifier.VerifyDataAsync();

            // And it takes writes again, on every shard (new topics, so the first ledger stays exact).
            await using var after = await Workload.StartAsync(cluster, name: "fault-after");
            await Scenario.WarmUpAsync(cluster, after);
            var afterVerifier = new ClusterVerifier(cluster, after, output);
            afterVerifier.ReportTimeToServe("a full stop and start (from the first node's start)", starting, [.. FaultCluster.Counts.ToCounts().All().Where(Scenario.Written)]);
            await after.StopAsync();

            await Scenario.VerifyAllAsync(cluster, after, afterVerifier, sealedAfter: starting);
        }
        catch
        {
            cluster.DumpOutput();
            throw;
        }
    }
}
