using System.Globalization;
using ForgeOne.Common;
using ForgeOne.FaultTests.Harness;
using Xunit.Abstractions;

namespace ForgeOne.FaultTests.Scenarios;

/// <summary>
/// The soak: random faults from the suite's list, one after another, against the steady load
/// for a bounded time, then every check of the suite and the recovery figures per fault kind.
/// Opt-in (it runs for half an hour by default): <c>FORGEONE_SOAK=1 dotnet test
/// tests/ForgeOne.FaultTests --filter Category=Soak</c>; <c>FORGEONE_SOAK_MINUTES</c> (1..1440)
/// sets the length and <c>FORGEONE_SOAK_SEED</c> replays a sequence of faults.
/// </summary>
[Trait("Category", "Soak")]
public sealed class SoakScenario(ITestOutputHelper output)
{
    private static readonly string[] Faults = ["sigkill", "sigkill-singleton-host", "sigstop", "leave"];

    [SkippableFact]
    public async Task RandomFaultsUnderLoad_LoseNothing_AndEveryShardServesAgainAfterEach()
    {
        Skip.If(Environment.GetEnvironmentVariable("FORGEONE_SOAK") != "1", "the soak is opt-in: set FORGEONE_SOAK=1 (and FORGEONE_SOAK_MINUTES, default 30)");
        var minutes = Math.Clamp(int.TryParse(Environment.GetEnvironmentVariable("FORGEONE_SOAK_MINUTES"), CultureInfo.InvariantCulture, out var m) ? m : 30, 1, 1440);
        var seed = int.TryParse(Environment.GetEnvironmentVariable("FORGEONE_SOAK_SEED"), CultureInfo.InvariantCulture, out var s) ? s : Random.Shared.Next();
        var random = new Random(seed);
        output.WriteLine($"soak: {minutes} min, seed {seed}");

        await using var cluster = await FaultCluster.StartAsync(3, output);
        try
        {
            await using var load = await Workload.StartAsync(cluster);
            await Scenario.WarmUpAsync(cluster, load);
            var verifier = new ClusterVerifier(cluster, load, output);
            var recoveries = Faults.ToDictionary(f => f, _ => new List<double>());
            var deadline = DateTimeOffset.UtcNow.AddMinutes(minutes);
            var last = DateTimeOffset.UtcNow;
            while (DateTimeOffset.UtcNow < deadline)
            {
                var fault = Faults[random.Next(Faults.Length)];
                var (victim, shards) = fault == "sigkill-singleton-host"
                    ? (cluster.OldestStorageIndex(), new List<(ShardKind, int)>())
                    : await Scenario.VictimAsync(cluster, atLeast: 1);
                var node = cluster.Node(victim);
                if (shards.Count == 0)
                {
                    shards = [.. (await cluster.ShardHomesAsync()).Where(h => h.Value == node.Name).Select(h => h.Key).Where(Scenario.Written)];
                }

                var at = DateTimeOffset.UtcNow;
                output.WriteLine($"{at:HH:mm:ss.fff} {fault} of {node.Name} ({shards.Count} written shards)");
                switch (fault)
                {
                    case "sigstop":
                        node.Pause();
                        await ClusterVerifier.Eventually(
                            () => Assert.Contains(cluster.Membership, e => e.Port == node.Port && e.Kind == "removed" && e.At >= at),
                            TimeSpan.FromSeconds(60),
                            $"{node.Name} removed");
                        await node.ResumeAsync();
                        await node.WaitForExitAsync(TimeSpan.FromSeconds(60));
                        break;
                    case "leave":
                        Assert.Equal(0, await cluster.LeaveAsync(victim));
                        break;
                    default:
                        await cluster.KillAsync(victim);
                        break;
                }

                await Scenario.AwaitServingAsync(load, at, shards, TimeSpan.FromSeconds(90));
                recoveries[fault].Add(verifier.ReportTimeToServe(fault, at, shards).TotalSeconds);
                await cluster.StartNodeAsync(victim);
                var rejoined = DateTimeOffset.UtcNow;
                await Scenario.AwaitServingAsync(load, rejoined, FaultCluster.Counts.ToCounts().All().Where(Scenario.Written).ToList(), TimeSpan.FromSeconds(90));
                last = rejoined;
            }

            await load.StopAsync();
            foreach (var (fault, times) in recoveries.Where(r => r.Value.Count > 0))
            {
                var sorted = times.Order().ToList();
                output.WriteLine($"{fault}: {sorted.Count} times, time to serve again p50 {sorted[sorted.Count / 2]:0.00} s, max {sorted[^1]:0.00} s");
            }

            await Scenario.VerifyAllAsync(cluster, load, verifier, sealedAfter: last);
        }
        catch
        {
            cluster.DumpOutput();
            throw;
        }
    }
}
