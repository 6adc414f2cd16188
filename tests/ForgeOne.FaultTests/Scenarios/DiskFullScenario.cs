using ForgeOne.Common;
using ForgeOne.Common.Model;
using ForgeOne.FaultTests.Harness;
using Xunit.Abstractions;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.FaultTests.Scenarios;

/// <summary>The data root's file system fills up under load, then space comes back.</summary>
[Trait("Category", "Fault")]
public sealed class DiskFullScenario(ITestOutputHelper output)
{
    [SkippableFact]
    public async Task DiskFull_FailsWritesWithDiskFull_CorruptsNothing_AndWritesResumeWhenSpaceReturns()
    {
        var (mount, whyNot) = TmpfsMount.TryCreate(Path.GetTempPath(), 48);
        if (mount is null)
        {
            output.WriteLine("SKIPPED: " + whyNot);
        }

        Skip.If(mount is null, whyNot);
        using var _ = mount;
        await using var cluster = await FaultCluster.StartAsync(1, output, dataRoot: Path.Combine(mount!.Path, "data"));
        try
        {
            await using var load = await Workload.StartAsync(cluster);
            await Scenario.WarmUpAsync(cluster, load);

            // Fill the data root with large batches until the shard refuses one.
            var topic = load.LogTopics[0];
            var text = new string('x', 8000);
            ForgeOneException? full = null;
            var fullAt = DateTimeOffset.MaxValue;
            for (var n = 0; full is null && n < 500; n++)
            {
                var messages = Enumerable.Range(0, 50).Select(i => $"f-{n}-{i}-{text}").ToArray();
                try
                {
                    var ids = await cluster.Client.AppendLogBatchAsync(topic, [.. messages.Select(m => new LogInput(DateTimeOffset.UtcNow, Severity.Info, m))]);
                    for (var i = 0; i < ids.Length; i++)
                    {
                        load.Ledger.Logs[messages[i]] = (topic, ids[i]);
                    }
                }
                catch (ForgeOneException e)
                {
                    full = e;
                    fullAt = DateTimeOffset.UtcNow;
                    foreach (var m in messages)
                    {
                        load.Ledger.Refused[m] = e.Code;
                    }
                }
            }

            Assert.NotNull(full);
            output.WriteLine($"the data root filled up ({mount.FreeBytes} bytes free): {full!.Code}: {full.Error.Message}");
            Assert.Equal(ErrorCodes.StorageDiskFull, full.Code);
            Assert.False(cluster.Node(0).HasExited, "the node must keep running on a full disk");

            // Reads still work while it is full.
            var (readTopic, readId) = load.Ledger.Logs.First().Value;
            Assert.Equal(readTopic, (await cluster.Client.GetLogAsync(readId)).Topic);
            await ClusterVerifier.Eventually(
                () => Assert.True(load.Ledger.Errors.ContainsKey(ErrorCodes.StorageDiskFull), "the load has not met the full disk yet"),
                TimeSpan.FromSeconds(30),
                "the load's writes failing with storage.disk_full");

            // Keep it full until the sealer has tried to persist a seal into the full journal
            // (singletons.db lives on the data root): the failed persist stops the sealer, and
            // the seals checked below prove it came back and continued without a gap.
            var attempt = await cluster.Node(0).WaitForLineAsync(
                l => l.Contains("Failed to persist event", StringComparison.Ordinal) || l.Contains("Audit seal", StringComparison.Ordinal),
                TimeSpan.FromSeconds(30),
                "a seal attempt on the full disk",
                since: fullAt);
            output.WriteLine($"{attempt.At:HH:mm:ss.fff} seal attempt on the full disk: {attempt.Text[..Math.Min(attempt.Text.Length, 300)]}");

            var freed = DateTimeOffset.UtcNow;
            mount.Resize(512);
            output.WriteLine($"{freed:HH:mm:ss.fff} space returned ({mount.FreeBytes / (1024 * 1024)} MiB free)");
            var written = FaultCluster.Counts.ToCounts().All().Where(Scenario.Written).ToList();
            await Scenario.AwaitServingAsync(load, freed, written, TimeSpan.FromSeconds(60));
            new ClusterVerifier(cluster, load, output).ReportTimeToServe("space returned", freed, written);
            await Scenario.RunForAsync(TimeSpan.FromSeconds(2));
            await load.StopAsync();

            await Scenario.VerifyAllAsync(cluster, load, new ClusterVerifier(cluster, load, output), sealedAfter: freed);
        }
        catch
        {
            cluster.DumpOutput();
            throw;
        }
    }
}
