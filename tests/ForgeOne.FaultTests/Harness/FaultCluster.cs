using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using ForgeOne.Client;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;
using ForgeOne.Security;
using Xunit.Abstractions;

namespace ForgeOne.FaultTests.Harness;

/// <summary>
/// A real cluster for one scenario: storage node processes started from cluster-config, an
/// actor client (retries and coalescing on, the shipped defaults) in the test process, and the
/// faults: kill, pause, leave, restart. Everything it starts is stopped on dispose.
/// </summary>
public sealed class FaultCluster : IAsyncDisposable
{
    /// <summary>The shard counts of cluster-config.</summary>
    public static readonly ShardCountOptions Counts = new() { Logs = 8, Events = 8, Blobs = 4 };

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);

    // The client's Akka log level (INFO shows its membership and SBR decisions when investigating).
    private static readonly string ClientHocon = $"akka.loglevel = {Environment.GetEnvironmentVariable("FORGEONE_FAULTS_CLIENT_LOGLEVEL") ?? "WARNING"}";
    private readonly NodeProcess?[] _nodes;
    private readonly ITestOutputHelper _output;
    private readonly Func<int, IEnumerable<string>> _extraArgs;

    private FaultCluster(ClusterLayout layout, ITestOutputHelper output, Func<int, IEnumerable<string>> extraArgs)
    {
        Layout = layout;
        // The nodes load the authentication key this creates; the harness signs its principals' tokens with it.
        Principals = new FaultPrincipals(AuthenticationKeyring.LoadOrCreate(layout.KeysDirectory, layout.DataRoot));
        _output = output;
        _extraArgs = extraArgs;
        _nodes = new NodeProcess?[layout.Ports.Count];
    }

    /// <summary>Ports, data root, keys.</summary>
    public ClusterLayout Layout { get; }

    /// <summary>Tokens of the principals the workload and the checks act as.</summary>
    public FaultPrincipals Principals { get; }

    /// <summary>Membership changes as the client saw them, timestamped.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<MembershipEvent> Membership { get; } = new();

    /// <summary>The actor client (connected once the cluster is up).</summary>
    public ForgeOneActorClient Client { get; private set; } = null!;

    /// <summary>Storage node i (null while stopped).</summary>
    public NodeProcess Node(int i) => _nodes[i] ?? throw new InvalidOperationException($"storage-{i + 1} is not running");

    /// <summary>Storage nodes that are running now.</summary>
    public IEnumerable<NodeProcess> Running => _nodes.Where(n => n is { HasExited: false })!;

    /// <summary>Number of storage node slots.</summary>
    public int Size => _nodes.Length;

    /// <summary>Starts <paramref name="storageNodes"/> storage nodes (the first alone, then the rest) and connects the client.</summary>
    public static async Task<FaultCluster> StartAsync(int storageNodes, ITestOutputHelper output, string? dataRoot = null, Func<int, IEnumerable<string>>? extraArgs = null, (int Node, IsolatedNetwork Network)? isolated = null)
    {
        var cluster = new FaultCluster(new ClusterLayout(storageNodes, dataRoot, isolated), output, extraArgs ?? (_ => []));
        try
        {
            var clock = Stopwatch.StartNew();
            await cluster.StartNodeAsync(0).ConfigureAwait(false);
            await Task.WhenAll(Enumerable.Range(1, storageNodes - 1).Select(cluster.StartNodeAsync)).ConfigureAwait(false);
            cluster.Client = await ForgeOneActorClient.ConnectAsync(cluster.Layout.Seeds, Counts, ClientCredential.FromToken(cluster.Principals.Service),
                hostname: cluster.Layout.ClientHost,
                extraHocon: ClientHocon,
                configure: cluster.ConfigureClient).ConfigureAwait(false);
            cluster.RecordMembership();
            output.WriteLine($"cluster of {storageNodes} storage nodes up in {clock.Elapsed.TotalSeconds:0.0} s; data {cluster.Layout.DataRoot}");
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Starts (or restarts) storage node <paramref name="i"/> and waits until it serves.</summary>
    public async Task StartNodeAsync(int i)
    {
        if (_nodes[i] is { HasExited: false })
        {
            throw new InvalidOperationException($"storage-{i + 1} is already running");
        }

        _nodes[i]?.Dispose();
        var node = NodeLauncher.StartStorage(Layout, i, _extraArgs(i));
        _nodes[i] = node;
        await node.WaitReadyAsync(StartTimeout).ConfigureAwait(false);
    }

    /// <summary>Starts every storage node again after a full stop (the first alone, as at the first start) and connects a new client.</summary>
    public async Task StartAllAsync()
    {
        await StartNodeAsync(0).ConfigureAwait(false);
        await Task.WhenAll(Enumerable.Range(1, Size - 1).Select(StartNodeAsync)).ConfigureAwait(false);
        await ReconnectAsync().ConfigureAwait(false);
    }

    /// <summary>SIGKILL of storage node <paramref name="i"/>; returns when the process is gone.</summary>
    public async Task<DateTimeOffset> KillAsync(int i)
    {
        var node = Node(i);
        var at = DateTimeOffset.UtcNow;
        node.Kill();
        await node.WaitForExitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        _output.WriteLine($"{at:HH:mm:ss.fff} SIGKILL {node.Name} (pid {node.Pid})");
        return at;
    }

    /// <summary>SIGTERM of storage node <paramref name="i"/> (graceful leave); waits for its clean exit and returns its exit code.</summary>
    public async Task<int> LeaveAsync(int i, TimeSpan? timeout = null)
    {
        var node = Node(i);
        _output.WriteLine($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} SIGTERM {node.Name}");
        node.Terminate();
        return await node.WaitForExitAsync(timeout ?? TimeSpan.FromSeconds(90)).ConfigureAwait(false);
    }

    /// <summary>The storage node of address <paramref name="address"/> (an Akka address string), or null.</summary>
    public NodeProcess? NodeAt(string address) =>
        _nodes.FirstOrDefault(n => n is not null && address.StartsWith(n.Address, StringComparison.Ordinal));

    /// <summary>Index of the storage node hosting the singletons (the oldest Up storage member) as the client sees it.</summary>
    public int OldestStorageIndex()
    {
        var oldest = Akka.Cluster.Cluster.Get(Client.System).State.Members
            .Where(m => m.Status == MemberStatus.Up && m.HasRole(ForgeOneNodeOptions.StorageRole))
            .Aggregate((a, b) => a.IsOlderThan(b) ? a : b);
        return Array.FindIndex(_nodes, n => n is not null && n.Port == oldest.Address.Port);
    }

    /// <summary>Which node hosts each shard (asking a shard also starts it where the coordinator allocates it).</summary>
    public async Task<Dictionary<(ShardKind Kind, int Shard), string>> ShardHomesAsync()
    {
        var homes = new Dictionary<(ShardKind, int), string>();
        foreach (var (kind, shard) in Counts.ToCounts().All())
        {
            var stats = await Client.Cluster.Region(kind).Ask<object>(new ShardProtocol.GetShardStats(Principals.Admin, kind, shard), TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            homes[(kind, shard)] = stats is ShardProtocol.ShardStats s ? NodeAt(s.Node)?.Name ?? s.Node : $"? {stats}";
        }

        return homes;
    }

    /// <summary>Stops every node gracefully (SIGTERM, in reverse order) and the client; what a full stop is.</summary>
    public async Task StopAllAsync()
    {
        if (Client is not null)
        {
            await Client.System.Terminate().WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            Client = null!;
        }

        foreach (var node in _nodes.Reverse().Where(n => n is { HasExited: false }))
        {
            node!.Terminate();
        }

        foreach (var node in _nodes.Where(n => n is not null))
        {
            await node!.WaitForExitAsync(TimeSpan.FromSeconds(90)).ConfigureAwait(false);
        }
    }

    /// <summary>Connects a new client (after a full stop and start, say).</summary>
    public async Task ReconnectAsync()
    {
        if (Client is not null)
        {
            await Client.System.Terminate().WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        }

        Client = await ForgeOneActorClient.ConnectAsync(Layout.Seeds, Counts, ClientCredential.FromToken(Principals.Service), hostname: Layout.ClientHost, extraHocon: ClientHocon, configure: ConfigureClient).ConfigureAwait(false);
        RecordMembership();
    }

    // The shipped failure defaults, and a certificate issued from the nodes' dev CA (members talk mutual TLS).
    private void ConfigureClient(ForgeOneNodeOptions options)
    {
        options.Failure = new FailureOptions();
        options.KeysDirectory = Layout.KeysDirectory;
    }

    private void RecordMembership() =>
        Client.System.ActorOf(Props.Create(() => new MembershipRecorder(Membership)), "fault-membership-recorder");

    /// <summary>On failure: writes each node's whole output to a log file kept after the test, and prints its last lines.</summary>
    public void DumpOutput(int lines = 40)
    {
        var folder = Path.Combine(Path.GetTempPath(), "forgeone-fault-logs", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(folder);
        foreach (var node in _nodes.Where(n => n is not null))
        {
            var file = Path.Combine(folder, node!.Name + ".log");
            File.WriteAllLines(file, node.Lines.Select(l => $"{l.At:HH:mm:ss.fff} {l.Text}"));
            _output.WriteLine($"--- {node.Name} (pid {node.Pid}{(node.HasExited ? $", exited {node.Exited.Result}" : "")}; full output in {file}) ---");
            _output.WriteLine(node.Tail(lines));
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Client is not null)
        {
            try
            {
                await Client.System.Terminate().WaitAsync(TimeSpan.FromSeconds(20)).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
        }

        foreach (var node in _nodes)
        {
            node?.Dispose();
        }

        Layout.Dispose();
    }
}
