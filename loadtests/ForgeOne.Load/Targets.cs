using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.InteropServices;
using ForgeOne.Client;
using ForgeOne.Client.Http;
using ForgeOne.Cluster.Hosting;

namespace ForgeOne.Load;

/// <summary>
/// Where the load goes. Every scenario talks to it through the one actor client
/// <see cref="ConnectAsync"/> builds, from this process (never in the node's own process), so
/// each request crosses serialization and remoting like a real client's.
/// </summary>
public abstract class LoadTarget : IAsyncDisposable
{
    /// <summary>Seed node addresses the client joins through.</summary>
    public abstract IReadOnlyList<string> Seeds { get; }

    /// <summary>The cluster's shard counts (a client must use the cluster's).</summary>
    public required ShardCountOptions ShardCounts { get; init; }

    /// <summary>One line for reports: what was loaded.</summary>
    public abstract string Description { get; }

    /// <summary>The HTTP edge's base address, when the target has one.</summary>
    public abstract Uri? Http { get; }

    /// <summary>The API key HTTP requests present (the cluster's bootstrap admin key until API keys exist).</summary>
    public abstract string? ApiKey { get; }

    /// <summary>Starts (kind <c>node</c>) or addresses (kind <c>cluster</c>) the target of <paramref name="definition"/>.</summary>
    public static async Task<LoadTarget> StartAsync(TargetDefinition definition, TextWriter log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var counts = new ShardCountOptions { Logs = definition.Logs, Events = definition.Events, Blobs = definition.Blobs };
        return definition.Kind == "cluster"
            ? new ClusterTarget(definition.Seeds, definition.Http is null ? null : new Uri(definition.Http), ReadKey(definition.ApiKeyFile)) { ShardCounts = counts }
            : await ChildNodeTarget.StartAsync(definition, counts, log, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Who the load acts as on this target.</summary>
    public abstract LoadIdentity Identity { get; }

    /// <summary>
    /// The single place an actor client is built (authentication, TLS and request options go
    /// here), so every scenario and the peer benchmark connect alike. The client acts as
    /// <see cref="Identity"/>'s writer.
    /// </summary>
    public Task<ForgeOneActorClient> ConnectAsync() =>
        ForgeOneActorClient.ConnectAsync(Seeds, ShardCounts, ClientCredential.FromToken(Identity.Writer), timeout: TimeSpan.FromSeconds(30), configure: o => o.KeysDirectory = ClientKeysDirectory);

    /// <summary>
    /// Where the client finds its TLS certificate (members authenticate each other): a directory
    /// with the cluster's <c>cluster-ca.crt</c> and a <c>client.pem</c>, or the dev CA to issue one
    /// from. A cluster target uses <c>FORGEONE_KEYS_DIRECTORY</c> (default <c>./keys</c>), the
    /// directory that also proves its principals.
    /// </summary>
    public virtual string ClientKeysDirectory => Environment.GetEnvironmentVariable("FORGEONE_KEYS_DIRECTORY") ?? "./keys";

    /// <summary>The single place an HTTP client is built; throws <see cref="ScenarioSetupException"/> when the target has no edge or key.</summary>
    public ForgeOneHttpClient ConnectHttp() =>
        Http is null || ApiKey is null
            ? throw new ScenarioSetupException($"{Description} has no HTTP edge and API key for via: http (a cluster target needs target.http and target.apiKeyFile)")
            : new ForgeOneHttpClient(Http, ApiKey);

    /// <summary>Reads an API key file (first line), or null when none is given.</summary>
    protected static string? ReadKey(string? path) =>
        path is null ? null : File.ReadLines(path).FirstOrDefault()?.Trim();

    /// <inheritdoc />
    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}

/// <summary>A running cluster given by its seed nodes (for instance the local 3 + 1 cluster of cluster-config/).</summary>
internal sealed class ClusterTarget(IReadOnlyList<string> seeds, Uri? http, string? apiKey) : LoadTarget
{
    public override IReadOnlyList<string> Seeds => seeds;

    public override Uri? Http => http;

    public override string? ApiKey => apiKey;

    public override string Description => "cluster " + string.Join(", ", seeds);

    // A running cluster's authentication key belongs to its nodes; the runner proves itself
    // with a key directory it was given access to.
    public override LoadIdentity Identity => LoadIdentity.FromKeys(
        Environment.GetEnvironmentVariable("FORGEONE_KEYS_DIRECTORY")
        ?? throw new ScenarioSetupException("a cluster target needs the cluster's keys directory in FORGEONE_KEYS_DIRECTORY to prove the load's principals"));
}

/// <summary>
/// A single ForgeOne.Node started by this runner as a child process, on a free loopback port,
/// with its data and keys in a temp directory deleted on dispose. Stopped with SIGTERM (the
/// node's graceful path), killed if it does not exit in time, and killed when this process exits.
/// </summary>
public sealed class ChildNodeTarget : LoadTarget
{
    private const int SigTerm = 15;
    private readonly Process _process;
    private readonly DirectoryInfo _directory;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _seed;
    private readonly Uri _http;
    private string? _apiKey;
    private LoadIdentity? _identity;
    private int _disposed;

    private ChildNodeTarget(Process process, DirectoryInfo directory, string seed, Uri http)
    {
        _process = process;
        _directory = directory;
        _seed = seed;
        _http = http;
    }

    /// <inheritdoc />
    public override Uri? Http => _http;

    /// <inheritdoc />
    public override string? ApiKey => _apiKey;

    /// <inheritdoc />
    public override IReadOnlyList<string> Seeds => [_seed];

    /// <inheritdoc />
    /// <remarks>The node's own keys directory: the client issues itself a certificate from the node's dev CA.</remarks>
    public override string ClientKeysDirectory => Path.Combine(Directory, "keys");

    /// <inheritdoc />
    public override string Description => $"single node (child process {_process.Id}) at {_seed}";

    /// <summary>The node's data and keys live under here.</summary>
    public string Directory => _directory.FullName;

    /// <summary>The process id of the node.</summary>
    public int Pid => _process.Id;

    /// <inheritdoc />
    public override LoadIdentity Identity => _identity ??= LoadIdentity.FromKeys(Path.Combine(_directory.FullName, "keys"));

    /// <summary>Starts the node and waits for its readiness line (90 s at most).</summary>
    public static async Task<ChildNodeTarget> StartAsync(TargetDefinition definition, ShardCountOptions counts, TextWriter log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var dll = definition.NodeDll ?? Environment.GetEnvironmentVariable("FORGEONE_NODE_DLL") ?? FindNodeDll();
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"ForgeOne.Node not found at {dll}; build it (dotnet build src/ForgeOne.Node -c Release) or set target.nodeDll / FORGEONE_NODE_DLL.", dll);
        }

        var directory = System.IO.Directory.CreateTempSubdirectory("forgeone-load-");
        var port = FreePort();
        var httpPort = FreePort();
        var seed = $"akka.tcp://forgeone@127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = directory.FullName,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
                 {
                     dll,
                     "--ForgeOne:Hostname=127.0.0.1",
                     $"--ForgeOne:Port={port.ToString(CultureInfo.InvariantCulture)}",
                     $"--ForgeOne:SeedNodes:0={seed}",
                     "--ForgeOne:Roles:0=storage",
                     "--ForgeOne:Roles:1=edge",
                     "--ForgeOne:Edge:Hostname=127.0.0.1",
                     $"--ForgeOne:Edge:Port={httpPort.ToString(CultureInfo.InvariantCulture)}",
                     // The load is the point here: the edge's per-principal rate limit (1,000/s
                     // by default) would cap it. Raised rather than disabled: Enabled=false stops
                     // the node at start in this build (a null service registration in the edge).
                     "--ForgeOne:Edge:RateLimit:RequestsPerSecond=10000000",
                     "--ForgeOne:Edge:RateLimit:Burst=10000000",
                     $"--ForgeOne:DataRoot={Path.Combine(directory.FullName, "data")}",
                     $"--ForgeOne:KeysDirectory={Path.Combine(directory.FullName, "keys")}",
                     $"--ForgeOne:ShardCounts:Logs={counts.Logs.ToString(CultureInfo.InvariantCulture)}",
                     $"--ForgeOne:ShardCounts:Events={counts.Events.ToString(CultureInfo.InvariantCulture)}",
                     $"--ForgeOne:ShardCounts:Blobs={counts.Blobs.ToString(CultureInfo.InvariantCulture)}",
                     $"--ForgeOne:Shards:NoSync={(definition.NoSync ? "true" : "false")}",
                 })
        {
            info.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var node = new ChildNodeTarget(process, directory, seed, new Uri($"http://127.0.0.1:{httpPort.ToString(CultureInfo.InvariantCulture)}/")) { ShardCounts = counts };
        process.OutputDataReceived += (_, e) => node.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => node.OnLine(e.Data);
        process.Exited += (_, _) => node._ready.TrySetException(new InvalidOperationException($"the node exited with {process.ExitCode} before it was ready:\n{node.Output}"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        // Whatever ends this process (Ctrl-C, SIGTERM, an unhandled error) ends the node too.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => node.KillNow();
        await log.WriteLineAsync($"started ForgeOne.Node (pid {process.Id}) at {seed}, data in {directory.FullName}").ConfigureAwait(false);
        try
        {
            await node._ready.Task.WaitAsync(TimeSpan.FromSeconds(90), cancellationToken).ConfigureAwait(false);
            node._apiKey = ReadKey(Path.Combine(directory.FullName, "keys", "bootstrap-admin.key"));
            await node.WaitForEdgeAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await node.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return node;
    }

    // The readiness line can come before the edge's listener answers: wait for its /readyz.
    private async Task WaitForEdgeAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = _http, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                using var response = await http.GetAsync(new Uri("readyz", UriKind.Relative), cancellationToken).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested && DateTime.UtcNow < deadline)
            {
                // A probe timed out.
            }

            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException($"the node's HTTP edge at {_http} was not ready within 60 s:\n{Output}");
            }

            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The node's output so far (the last lines).</summary>
    public string Output => string.Join(Environment.NewLine, _lines);

    /// <summary>SIGTERM, up to 30 s for the graceful stop, then SIGKILL; deletes the temp directory.</summary>
    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            if (!_process.HasExited)
            {
                _ = Kill(_process.Id, SigTerm);
                try
                {
                    await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    KillNow();
                }
            }
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped.
        }

        _process.Dispose();
        try
        {
            _directory.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A file still held for a moment; the OS temp cleaner gets the rest.
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }

    private void KillNow()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        _lines.Enqueue(line);
        while (_lines.Count > 200 && _lines.TryDequeue(out _))
        {
        }

        if (line.Contains("ForgeOne node ready", StringComparison.Ordinal))
        {
            _ready.TrySetResult();
        }
    }

    /// <summary>The node built beside this tool: src/ForgeOne.Node/bin/{this build's configuration}/net10.0.</summary>
    private static string FindNodeDll()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ForgeOne.Cluster.sln")))
        {
            dir = dir.Parent;
        }

        var configuration = typeof(ChildNodeTarget).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
        return dir is null
            ? Path.Combine(AppContext.BaseDirectory, "ForgeOne.Node.dll")
            : Path.Combine(dir.FullName, "src", "ForgeOne.Node", "bin", configuration, "net10.0", "ForgeOne.Node.dll");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
