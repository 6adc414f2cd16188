using ForgeOne.FaultTests.Harness;
using ForgeOne.Common;
using Xunit.Abstractions;

namespace ForgeOne.FaultTests.Scenarios;

/// <summary>
/// A storage node frozen with SIGSTOP (a long GC pause, a VM stall) past the failure detector:
/// the others down it and take its shards; when it runs on, it must not write as a stale owner,
/// and it must leave; started again, it rejoins.
/// </summary>
[Trait("Category", "Fault")]
public sealed class PauseScenario(ITestOutputHelper output)
{
    [Fact]
    public async Task SigstopPastTheFailureDetector_TheResumedNodeLeavesWithoutWritingAsAStaleOwner_AndRejoins()
    {
        await using var cluster = await FaultCluster.StartAsync(3, output);
        try
        {
            await using var load = await Workload.StartAsync(cluster);
            await Scenario.WarmUpAsync(cluster, load);
            var (victim, victimShards) = await Scenario.VictimAsync(cluster);
            var node = cluster.Node(victim);
            output.WriteLine($"victim {node.Name} hosts {string.Join(", ", victimShards.Select(s => $"{s.Kind.FolderName()}-{s.Shard}"))}");

            var paused = DateTimeOffset.UtcNow;
            node.Pause();
            output.WriteLine($"{paused:HH:mm:ss.fff} SIGSTOP {node.Name} (pid {node.Pid})");

            // The survivors down it (after stable-after) and re-allocate its shards. A shard whose
            // write transaction it was inside when it froze stays closed until it runs again: it
            // holds the file's LMDB writer lock, which no other process may take from a live
            // holder (a SIGKILLed one releases it at once). Safety over availability, so the
            // scenario resumes it once it is out of the cluster.
            var verifier = new ClusterVerifier(cluster, load, output);
            await ClusterVerifier.Eventually(
                () => Assert.Contains(cluster.Membership, e => e.Port == node.Port && e.Kind == "removed" && e.At >= paused),
                TimeSpan.FromSeconds(60),
                $"{node.Name} removed from the cluster");

            // Thawed, it learns it was removed (the first member it reaches answers that it is
            // quarantined) and downs itself before its own resolver could act on its stale view.
            // A write it was committing when it froze completes before any successor's claim (the
            // writer lock orders them); every later one is refused by the owner record its
            // successor wrote.
            var resumed = DateTimeOffset.UtcNow;
            await node.ResumeAsync();
            output.WriteLine($"{resumed:HH:mm:ss.fff} SIGCONT {node.Name} (state {node.State})");
            int exit;
            try
            {
                exit = await node.WaitForExitAsync(TimeSpan.FromSeconds(60));
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"{node.Name} did not leave within 60 s of SIGCONT (process state {node.State}, {node.Lines.Count(l => l.At >= resumed)} lines printed since)");
            }

            var fenced = node.Lines.Count(l => l.At >= resumed && l.Text.Contains("FENCED", StringComparison.Ordinal));
            var told = node.Lines.Any(l => l.At >= resumed && l.Text.Contains("has quarantined this node", StringComparison.Ordinal));
            output.WriteLine($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} {node.Name} exited ({exit}) {(DateTimeOffset.UtcNow - resumed).TotalSeconds:0.0} s after SIGCONT"
                + $" ({(told ? "downed itself when a member said it was quarantined" : "downed by its own resolver")}); {fenced} of its shards fenced on the way out");

            await Scenario.AwaitServingAsync(load, paused, victimShards, TimeSpan.FromSeconds(60));
            var servedWhileFrozen = load.Ledger.FirstAckSince(paused, victimShards).Count(f => f.Value < resumed);
            verifier.ReportTimeToServe($"SIGSTOP of {node.Name} ({servedWhileFrozen} of {victimShards.Count} served before SIGCONT)", paused, victimShards);
            Scenario.Breakdown(output, cluster, load, paused, node.Port, victimShards);

            // Started again, it rejoins as a new incarnation and takes shards at the next rebalance.
            await cluster.StartNodeAsync(victim);
            output.WriteLine($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} {node.Name} rejoined");
            await Scenario.RunForAsync(TimeSpan.FromSeconds(2));
            await load.StopAsync();

            await Scenario.VerifyAllAsync(cluster, load, verifier, sealedAfter: resumed);
        }
        catch
        {
            cluster.DumpOutput();
            throw;
        }
    }
}
