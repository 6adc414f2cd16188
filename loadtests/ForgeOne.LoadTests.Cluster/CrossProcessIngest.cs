using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using ForgeOne.Client;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Common.Model;
using ForgeOne.LoadRunner;
using ForgeOne.Security;
using static ForgeOne.Cluster.Protocol.LogProtocol;

/// <summary>
/// <c>--cross-process</c>: log ingest in batches of 100 from an actor client in this process to a
/// <c>ForgeOne.Node</c> child process, the way a real client writes: every batch is serialized
/// (the ForgeOne wire format), crosses remoting, and is committed by the node. Three phases, each
/// against a fresh node and data root: plain TCP with the principal-token check off (the cluster
/// as it was before members and principals were authenticated: the reference), mutual TLS with
/// the check off, and mutual TLS with the check on (the shipped default). Prints each with its
/// ratio to the reference. <c>--rounds N</c> repeats the three N times, in rotating order.
/// </summary>
internal static class CrossProcessIngest
{
    private const int Shards = 8;
    private const int BatchSize = 100;
    private const int InFlight = 64;
    private const int Topics = 256;

    private static readonly (bool Tls, bool Proof, string Name)[] Phases =
    [
        (false, false, "plain TCP, no proof check (reference)"),
        (true, false, "mutual TLS, no proof check"),
        (true, true, "mutual TLS + proof check (default)"),
    ];

    public static async Task RunAsync(int seconds, bool noSync, int rounds)
    {
        var node = NodeDll();
        Console.WriteLine($"Cross-process ingest: actor client here, node in its own process ({node}); {Environment.ProcessorCount} cores, {Shards} log shards, batches of {BatchSize} x 200-byte messages, {InFlight} batches in flight, fsync {(noSync ? "OFF" : "ON")}, {seconds}s per phase");
        Console.WriteLine($"Machine load before: {File.ReadAllText("/proc/loadavg").Trim()}");
        var results = Phases.ToDictionary(p => p, _ => new List<(double Rate, LatencySummary Latency, double ClientCpuUs, double NodeCpuUs)>());
        for (var round = 0; round < rounds; round++)
        {
            // Rotate which goes first, so drift in the machine's load does not favour one.
            foreach (var phase in Phases.Skip(round % Phases.Length).Concat(Phases.Take(round % Phases.Length)))
            {
                var r = await Phase(node, phase.Tls, phase.Proof, seconds, noSync);
                results[phase].Add(r);
                Console.WriteLine($"  {phase.Name,-38}  {r.Rate,10:N0} entries/s  p50 {LatencySummary.ToMs(r.Latency.P50Us):0.00} ms  p99 {LatencySummary.ToMs(r.Latency.P99Us):0.00} ms  CPU/entry: client {r.ClientCpuUs:0.0} us, node {r.NodeCpuUs:0.0} us");
            }
        }

        double Median((bool, bool, string) phase, Func<(double Rate, LatencySummary Latency, double ClientCpuUs, double NodeCpuUs), double> f)
        {
            var values = results[phase].Select(f).Order().ToArray();
            return values.Length % 2 == 1 ? values[values.Length / 2] : (values[(values.Length / 2) - 1] + values[values.Length / 2]) / 2;
        }

        var reference = Median(Phases[0], r => r.Rate);
        Console.WriteLine();
        Console.WriteLine($"| remoting, principal proof (median of {rounds}) | entries/s (batches of 100, client in its own process) | vs reference | node CPU us/entry | client CPU us/entry |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var phase in Phases)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {phase.Name} | {Median(phase, r => r.Rate):N0} | {Median(phase, r => r.Rate) / reference:0.00}x | {Median(phase, r => r.NodeCpuUs):0.0} | {Median(phase, r => r.ClientCpuUs):0.0} |"));
        }

        var tls = Median(Phases[1], r => r.Rate) / reference;
        var proof = Median(Phases[2], r => r.Rate) / Median(Phases[1], r => r.Rate);
        var both = Median(Phases[2], r => r.Rate) / reference;
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"TLS on / off: {tls:0.00}x; proof check on / off (TLS on): {proof:0.00}x; both / neither: {both:0.00}x, loss {(1 - both) * 100:0.0}% (target: within 15%: {(both >= 0.85 ? "MET" : "NOT MET")})"));
        Console.WriteLine($"Machine load after: {File.ReadAllText("/proc/loadavg").Trim()} (load average on {Environment.ProcessorCount} cores; other processes share them).");
    }

    private static async Task<(double Rate, LatencySummary Latency, double ClientCpuUs, double NodeCpuUs)> Phase(string nodeDll, bool tls, bool proof, int seconds, bool noSync)
    {
        var root = Directory.CreateTempSubdirectory("forgeone-xproc-");
        var port = FreePort();
        var keys = Path.Combine(root.FullName, "keys");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = root.FullName };
        foreach (var arg in new[]
                 {
                     nodeDll,
                     "--ForgeOne:Hostname=127.0.0.1",
                     $"--ForgeOne:Port={port.ToString(CultureInfo.InvariantCulture)}",
                     "--ForgeOne:Roles:0=storage",
                     $"--ForgeOne:DataRoot={Path.Combine(root.FullName, "data")}",
                     $"--ForgeOne:KeysDirectory={keys}",
                     $"--ForgeOne:ShardCounts:Logs={Shards.ToString(CultureInfo.InvariantCulture)}",
                     "--ForgeOne:ShardCounts:Events=1",
                     "--ForgeOne:ShardCounts:Blobs=1",
                     "--ForgeOne:Shards:MaxGroupCommit=8192",
                     $"--ForgeOne:Shards:NoSync={(noSync ? "true" : "false")}",
                     "--ForgeOne:Singletons:SealInterval=00:10:00",
                     $"--ForgeOne:Tls:Enabled={(tls ? "true" : "false")}",
                     $"--ForgeOne:Security:VerifyTokens={(proof ? "true" : "false")}",
                     "--Logging:LogLevel:Default=Warning",
                 })
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            output.Enqueue(line);
            if (line.Contains("ForgeOne node ready", StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        }

        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await ready.Task.WaitAsync(TimeSpan.FromSeconds(120));
            // A writer's token minted with the node's authentication key (created at its start).
            var writer = new TokenIssuer(AuthenticationKeyring.LoadOrCreate(keys), TimeProvider.System)
                .Issue(Principal.Of("bench", ["writer"], "acme", ["*"], 0), "bench", TokenIssuer.MaxLifetime).Token;
            var scheme = tls ? "akka.ssl.tcp" : "akka.tcp";
            await using var client = await ForgeOneActorClient.ConnectAsync([$"{scheme}://forgeone@127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}"], new ShardCountOptions { Logs = Shards, Events = 1, Blobs = 1 },
                ClientCredential.FromToken(writer),
                timeout: TimeSpan.FromSeconds(60),
                configure: o =>
                {
                    o.KeysDirectory = keys;
                    o.Tls.Enabled = tls;
                });
            var message = new string('m', 200);
            var topics = Enumerable.Range(0, Topics).Select(i => $"bench-topic-{i:D3}").ToArray();
            async ValueTask<StepResult> Batch(ScenarioContext ctx)
            {
                var batch = new LogInput[BatchSize];
                for (var i = 0; i < batch.Length; i++)
                {
                    batch[i] = new LogInput(DateTimeOffset.UtcNow, Severity.Info, message);
                }

                var reply = await client.Ask(new AppendLogBatch(writer, topics[ctx.InvocationNumber % Topics], batch));
                return reply is LogBatchAppended ? StepResult.Ok(200 * BatchSize) : StepResult.Fail((reply as LogFailed)?.Error.Code ?? reply.GetType().Name);
            }

            await Run("warm-up", Batch, TimeSpan.FromSeconds(Math.Max(3, seconds / 3)));
            var clientCpu = Process.GetCurrentProcess().TotalProcessorTime;
            process.Refresh();
            var nodeCpu = process.TotalProcessorTime;
            var stats = await Run(tls ? "tls" : "plain", Batch, TimeSpan.FromSeconds(seconds));
            process.Refresh();
            var entries = Math.Max(1, stats.Ok * BatchSize);
            return (stats.OkRps * BatchSize, stats.Latency,
                (Process.GetCurrentProcess().TotalProcessorTime - clientCpu).TotalMicroseconds / entries,
                (process.TotalProcessorTime - nodeCpu).TotalMicroseconds / entries);
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            throw new InvalidOperationException($"The node (TLS {(tls ? "on" : "off")}) did not serve: {e.Message}\n{string.Join('\n', output.TakeLast(30))}", e);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            try
            {
                root.Delete(recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task<ScenarioStats> Run(string name, Func<ScenarioContext, ValueTask<StepResult>> step, TimeSpan duration)
    {
        var report = await new ScenarioRunner(new LoadRunnerOptions
        {
            Name = name,
            MaxInFlight = InFlight,
            MaxDuration = duration + TimeSpan.FromSeconds(60),
            ReportFolder = null,
            Console = null,
        }).RunAsync([new Scenario(name, step).WithLoadSimulations(Simulation.KeepConstant(InFlight, duration))]);
        var s = report.Scenarios[0];
        if (s.Fail > 0)
        {
            Console.WriteLine($"  {name}: {s.Fail} failures: {string.Join(", ", s.Errors.Select(e => $"{e.Key} x{e.Value}"))}");
        }

        return s;
    }

    private static string NodeDll()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ForgeOne.Cluster.sln")))
        {
            dir = dir.Parent;
        }

        var configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        var path = Path.Combine(dir?.FullName ?? ".", "src", "ForgeOne.Node", "bin", configuration, "net10.0", "ForgeOne.Node.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException("Build ForgeOne.Node first (dotnet build -c Release src/ForgeOne.Node)", path);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
