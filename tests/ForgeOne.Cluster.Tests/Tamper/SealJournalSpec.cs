using Akka.Actor;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Security;

namespace ForgeOne.Cluster.Tests.Tamper;

/// <summary>
/// Deleting the seal journal (it lives in the data root) hides nothing: the sealer adopts the
/// seals from the file outside the data root and continues the same chain.
/// </summary>
public sealed class SealJournalSpec : IAsyncLifetime
{
    private static readonly TimeSpan Ask = TimeSpan.FromSeconds(30);
    private readonly TempRoot _root = new();
    private InProcessNode? _node;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await Stop();
        _root.Dispose();
    }

    private async Task Start(int port)
    {
        var options = InProcessNode.Options_(_root, port, port);
        options.SeedNodes = [];
        options.ShardCounts = new ShardCountOptions { Logs = 1, Events = 1, Blobs = 1 };
        options.Singletons.SealInterval = TimeSpan.FromHours(1);
        _node = await InProcessNode.StartAsync(options);
    }

    private async Task Stop()
    {
        if (_node is not null)
        {
            await _node.System.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
            _node = null;
        }
    }

    private async Task<SealerProtocol.SealDone> Seal()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                return Assert.IsType<SealerProtocol.SealDone>(await _node!.Cluster.Sealer.Ask<object>(new SealerProtocol.SealNow(Callers.System), Ask));
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
            }
        }
    }

    [Fact]
    public async Task DeletedJournal_TheSealerContinuesTheChainFromTheSealsFile()
    {
        var port = InProcessNode.FreePort();
        await Start(port);
        var first = await Seal();
        Assert.Equal(1, first.Number);
        var again = await Seal();
        Assert.False(again.Written); // nothing moved: no new seal
        Assert.Equal(1, again.Number);
        await Stop();

        // In one process the SQLite driver keeps pooled connections to the deleted file; a node
        // process starting on this data root would have none.
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var file in Directory.EnumerateFiles(_root.DataRoot, "singletons.db*", SearchOption.AllDirectories))
        {
            File.Delete(file);
        }

        await Start(port);
        await _node!.Cluster.Region(Common.ShardKind.Logs).Ask<object>(new LogProtocol.AppendLog(Callers.Writer, "orders", TestHosts.Entry("moves a head")), Ask);
        var next = await Seal();
        Assert.Equal(2, next.Number);
        var history = await _node.Cluster.Sealer.Ask<SealerProtocol.SealHistory>(new SealerProtocol.GetSealHistory(Callers.Admin), Ask);
        Assert.Equal([1L, 2], history.Numbers);
        using var verifier = new SealVerifier(AuditSigner.Load(_root.KeysDirectory).ExportPublicKeyPem());
        var fileSeals = new SealLogFile(Path.Combine(_root.Root, "seals", "audit-seals.log")).ReadAll();
        Assert.Equal([1L, 2], fileSeals.Select(s => s.Number));
        Assert.True(verifier.VerifyHistory(fileSeals).IsValid);
    }
}
