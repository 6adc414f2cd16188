using ForgeOne.Common;
using ForgeOne.FaultTests.Harness;
using Xunit.Abstractions;

namespace ForgeOne.FaultTests.Scenarios;

/// <summary>
/// A network partition that cuts one storage node off from every other member (the client
/// too), made with a network namespace the test creates and blackhole routes on its link: the
/// majority downs it and takes its shards, the cut-off node downs itself (keep-majority: it is
/// alone) without serving anyone, and after the partition heals it rejoins when started.
/// </summary>
[Trait("Category", "Fault")]
public sealed class PartitionScenario(ITestOutputHelper output)
{
    private const int Isolated = 2;

    [SkippableFact]
    public async Task PartitionCuttingOffAStorageNode_TheMajorityServesItsShards_TheMinorityDownsItself_AndNothingIsLost()
    {
        using var network = IsolatedNetwork.TryCreate(out var reason);
        if (network is null)
        {
            output.WriteLine("SKIPPED: " + reason);
        }

        Skip.If(network is null, reason);

        // storage-3 (never a seed, never the oldest) runs inside the namespace.
        await using var cluster = await FaultCluster.StartAsync(3, output, isolated: (Isolated, network!));
        try
        {
            await using var load = await Workload.StartAsync(cluster);
            await Scenario.WarmUpAsync(cluster, load);
            var node = cluster.Node(Isolated);
            List<(ShardKind Kind, int Shard)> shards = [];
            await ClusterVerifier.Eventually(
                () =>
                {
                    var homes = cluster.ShardHomesAsync().GetAwaiter().GetResult();
                    shards = [.. homes.Where(h => h.Value == node.Name && Scenario.Written(h.Key)).Select(h => h.Key)];
                    Assert.True(shards.Count >= 2, $"{node.Name} hosts {shards.Count} written shards yet");
                },
                TimeSpan.FromSeconds(90),
                $"{node.Name} hosting written shards");
            output.WriteLine($"{node.Name} ({node.Host}, namespace {network!.Namespace}) hosts {string.Join(", ", shards.Select(s => $"{s.Kind.FolderName()}-{s.Shard}"))}");

            var cut = DateTimeOffset.UtcNow;
            network.Cut();
            output.WriteLine($"{cut:HH:mm:ss.fff} partition: {node.Name} cut off from every other member");

            // Both sides decide on their own: the two-node side keeps the majority and downs it;
            // alone, it downs itself and exits.
            var exit = await node.WaitForExitAsync(TimeSpan.FromSeconds(90));
            output.WriteLine($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} {node.Name} downed itself and exited ({exit}) {(DateTimeOffset.UtcNow - cut).TotalSeconds:0.0} s after the cut");
            await Scenario.AwaitServingAsync(load, cut, shards, TimeSpan.FromSeconds(60));
            var verifier = new ClusterVerifier(cluster, load, output);
            verifier.ReportTimeToServe($"the partition of {node.Name}", cut, shards);
            Scenario.Breakdown(output, cluster, load, cut, node.Port, shards);
            Assert.Equal(0, exit);

            network.Heal();
            await cluster.StartNodeAsync(Isolated);
            output.WriteLine($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} partition healed, {node.Name} rejoined");
            await Scenario.RunForAsync(TimeSpan.FromSeconds(2));
            await load.StopAsync();

            await Scenario.VerifyAllAsync(cluster, load, verifier, sealedAfter: cut);
        }
        catch
        {
            cluster.DumpOutput();
            throw;
        }
    }
}
