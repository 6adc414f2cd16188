using System.Buffers.Binary;
using System.Diagnostics;
using System.Reflection;
using ForgeOne.Common;

namespace ForgeOne.Storage.Tests;

/// <summary>
/// A writer process is SIGKILLed in the middle of a stream of durable batch commits; the file
/// must then hold every batch the process reported committed, each complete, and no partial
/// batch. The child is tests/ForgeOne.Storage.CrashWriter.
/// </summary>
[Trait("Category", "Process")]
public sealed class CrashSafetyTests : IDisposable
{
    private const int PutsPerBatch = 50;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string CrashWriterPath =>
        typeof(CrashSafetyTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "CrashWriterPath").Value!;

    [Theory]
    [InlineData(5)]
    [InlineData(40)]
    public async Task SigkillMidStream_LeavesEveryReportedBatchCompleteAndNoPartialBatch(int killAfterBatches)
    {
        Assert.True(File.Exists(CrashWriterPath), $"crash writer not built at {CrashWriterPath}");
        var startInfo = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add(CrashWriterPath);
        startInfo.ArgumentList.Add(_dir.Path);
        startInfo.ArgumentList.Add(PutsPerBatch.ToString(System.Globalization.CultureInfo.InvariantCulture));

        using var child = Process.Start(startInfo)!;
        var stderr = child.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        ulong lastReported = 0;
        try
        {
            // Wait on the child's own reports, then kill it while it keeps writing.
            while (lastReported < (ulong)killAfterBatches)
            {
                var line = await child.StandardOutput.ReadLineAsync(timeout.Token)
                    ?? throw new InvalidOperationException($"the crash writer exited before reporting {killAfterBatches} batches: {await stderr}");
                lastReported = Math.Max(lastReported, ParseCommitted(line));
            }
        }
        finally
        {
            child.Kill(entireProcessTree: true); // SIGKILL on Unix: no flush, no finalizers, no atexit
        }

        // Lines already in the pipe were written after their commit returned: they count too.
        while (await child.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            lastReported = Math.Max(lastReported, ParseCommitted(line));
        }

        await child.WaitForExitAsync(timeout.Token);
        Assert.Equal(137, child.ExitCode); // 128 + SIGKILL

        using var store = ShardStore.Open(new ShardStoreOptions(_dir.Path, ShardKind.Logs, 0, 1));
        var report = store.CheckIntegrity();
        Assert.True(report.IsHealthy, string.Join("; ", report.Errors));

        var markers = store.Read(r => r.Scan(Tables.Checkpoints, [], []).Select(kv => KeyCodec.ReadUInt64(kv.Key)).ToList());
        var lastCommitted = (ulong)markers.Count;

        // Batches are committed in order, so the markers must be exactly 1..lastCommitted, and
        // at most one batch may have committed without its report reaching the pipe.
        Assert.Equal(Enumerable.Range(1, markers.Count).Select(n => (ulong)n), markers);
        Assert.InRange(lastCommitted, lastReported, lastReported + 1);

        // Every record belongs to a committed batch, and every committed batch is complete.
        var records = store.Read(r => r.Scan(Tables.Logs, [], []).Select(kv => (Batch: BinaryPrimitives.ReadUInt64BigEndian(kv.Key), Value: kv.Value)).ToList());
        var perBatch = records.GroupBy(r => r.Batch).ToDictionary(g => g.Key, g => g.ToList());
        Assert.Equal(markers, perBatch.Keys.Order());
        Assert.All(perBatch, batch =>
        {
            Assert.Equal(PutsPerBatch, batch.Value.Count);
            Assert.All(batch.Value, r => Assert.All(r.Value, b => Assert.Equal((byte)batch.Key, b)));
        });
        Assert.All(store.Read(r => r.Scan(Tables.Checkpoints, [], []).ToList()), kv => Assert.Equal(PutsPerBatch, BinaryPrimitives.ReadInt32BigEndian(kv.Value)));
    }

    private static ulong ParseCommitted(string line) =>
        line.StartsWith("committed ", StringComparison.Ordinal) ? ulong.Parse(line.AsSpan("committed ".Length), provider: System.Globalization.CultureInfo.InvariantCulture) : 0;
}
