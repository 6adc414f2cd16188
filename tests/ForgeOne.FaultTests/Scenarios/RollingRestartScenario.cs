using ForgeOne.FaultTests.Harness;
using Xunit.Abstractions;

namespace ForgeOne.FaultTests.Scenarios;

/// <summary>
/// Graceful leave and rejoin of every storage node in turn (a rolling restart, the oldest
/// with the singletons and shard coordinators last): shards hand off, and no request fails.
/// </summary>
[Trait("Category", "Fault")]
public sealed class RollingRestartScenario(ITestOutputHelper output)
{
    [Fact]
    public async Task RollingRestartOfEveryNode_HandsOffGracefully_AndNoRequestFails()
    {
        await using var cluster = await FaultCluster.StartAsync(3, output);
        try
        {
            await using var load = await Workload.StartAsync(cluster);
            await Scenario.WarmUpAsync(cluster, load);
            var verifier = new ClusterVerifier(cluster, load, output);
            var oldest = cluster.OldestStorageIndex();
            var started = DateTimeOffset.UtcNow;
            foreach (var i in Enumerable.Range(0, cluster.Size).Where(i => i != oldest).Append(oldest))
            {
                var name = cluster.Node(i).Name;
                var left = DateTimeOffset.UtcNow;
                var exit = await cluster.LeaveAsync(i);
                Assert.True(exit == 0, $"{name} left with exit code {exit}");
                output.WriteLine($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} {name} left in {(DateTimeOffset.UtcNow - left).TotalSeconds:0.0} s");
                await cluster.StartNodeAsync(i);
                output.WriteLine($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} {name} rejoined");
            }

            // Every shard serves after the last restart.
            var restarted = DateTimeOffset.UtcNow;
            var written = FaultCluster.Counts.ToCounts().All().Where(Scenario.Written).ToList();
            await Scenario.AwaitServingAsync(load, restarted, written, TimeSpan.FromSeconds(60));
            output.WriteLine($"rolling restart of {cluster.Size} nodes took {(restarted - started).TotalSeconds:0.0} s");
            await load.StopAsync();

            Assert.True(load.Ledger.Refused.IsEmpty && load.Ledger.Unknown.IsEmpty,
                $"requests failed during the rolling restart: {string.Join(", ", load.Ledger.Errors.Select(e => $"{e.Key} x{e.Value}"))}");
            await Scenario.VerifyAllAsync(cluster, load, verifier, sealedAfter: restarted);
        }
        catch
        {
            cluster.DumpOutput();
            throw;
        }
    }
}
