using System.Net.Sockets;
using Akka.Hosting;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Common;
using ForgeOne.Edge;
using ForgeOne.Node;
using ForgeOne.Security;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// One process = one cluster node. With no arguments: a single node with every role, data in
// ./data, keys in ./keys, SQLite journal in ./data. Exit codes: 0 clean stop (or a valid
// --check-config), 2 invalid configuration (every problem listed), 3 shard-count mismatch,
// 4 any other refusal to start. A user's mistake never ends in a stack trace.
if (args.Length > 0 && args[0] == OfflineCommand.Verb)
{
    return await OfflineCommand.RunAsync(args[1..]);
}

if (args is ["certs", .. var certsArgs])
{
    return await CertsCommand.RunAsync(certsArgs);
}

var loaded = NodeConfiguration.Load(args, Directory.GetCurrentDirectory(), AppContext.BaseDirectory);
if (loaded.Errors.Count > 0)
{
    await Console.Error.WriteLineAsync($"ForgeOne node refused to start: invalid configuration ({ErrorCodes.InvalidConfiguration}), {loaded.Errors.Count} problem(s):");
    foreach (var error in loaded.Errors)
    {
        await Console.Error.WriteLineAsync("  - " + error);
    }

    return 2;
}

var options = loaded.Options;
if (loaded.CheckOnly)
{
    await Console.Out.WriteLineAsync($"ForgeOne configuration is valid: cluster {options.ClusterName}, {options.Hostname}:{options.Port}, roles [{string.Join(',', options.Roles)}], data {options.DataRootFull}, keys {options.KeysDirectoryFull}.");
    return 0;
}

// The member's TLS identity is needed before the actor system exists: DotNetty takes it at start.
// A dev certificate is created in the keys directory, so first refuse a keys directory that is
// not this data's (nothing may be created in a wrong one).
ClusterTlsIdentity? tls;
try
{
    if (options.IsStorage)
    {
        NodeService.RefuseDataWithoutItsKeys(options);
    }

    tls = ClusterTls.Load(options, TimeProvider.System);
}
catch (ForgeOneException e)
{
    await Console.Error.WriteLineAsync($"ForgeOne node refused to start ({e.Code}): {e.Error.Message}");
    return 4;
}

if (tls is null)
{
    await Console.Error.WriteLineAsync(
        $"WARNING: TLS IS OFF (ForgeOne:Tls:Enabled=false). Remoting on {options.Hostname}:{options.Port} is plain TCP: any process that reaches it can join this cluster " +
        "and send any message as a member. Use this only on a development machine.");
}
else
{
    await Console.Out.WriteLineAsync($"{NodeLogging.Now()} Mutual TLS between members: {tls.Source}, subject '{tls.Certificate.Subject}', expires {tls.Certificate.NotAfter:yyyy-MM-dd}.");
}

var exitCode = 0;
try
{
    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], ContentRootPath = Directory.GetCurrentDirectory() });
    builder.Configuration.Sources.Clear();
    builder.Configuration.AddConfiguration(loaded.Configuration);
    NodeLogging.Configure(builder.Logging, options);

    builder.Services.AddSingleton(options);
    builder.Services.AddSingleton<NodeState>();
    builder.Services.AddAkka(options.ClusterName, (akka, services) =>
    {
        akka.AddHocon(ClusterConfig.Build(options), HoconAddMode.Prepend);
        akka.AddHocon($"akka.stdout-logger-class = \"{typeof(NodeStdoutLogger).AssemblyQualifiedName}\"\nakka.stdout-loglevel = WARNING", HoconAddMode.Prepend);
        akka.AddSetup(new NodeLoggerSetup(services.GetRequiredService<ILoggerFactory>()));
        if (tls is not null)
        {
            akka.AddSetup(ClusterTls.Setup(tls, TimeProvider.System));
        }

        akka.ConfigureLoggers(loggers =>
        {
            loggers.ClearLoggers();
            loggers.AddLogger<NodeAkkaLogger>();
        });
    });
    if (options.IsEdge)
    {
        // Before NodeService: the edge listens while the node joins, and stops before the cluster does.
        builder.Services.AddSingleton(new EdgeCluster(options.Edge.RequestTimeout));
        builder.Services.AddHostedService<EdgeHostedService>();
    }

    builder.Services.AddHostedService<NodeService>();

    using var host = builder.Build();
    var state = host.Services.GetRequiredService<NodeState>();
    await host.RunAsync();
    state.Claim?.Dispose();
    exitCode = state.ExitCode;
}
catch (Exception e)
{
    exitCode = 4;
    await Console.Error.WriteLineAsync($"ForgeOne node refused to start: {NodeLogging.Describe(e, options)}");
}

await Console.Out.WriteLineAsync($"{NodeLogging.Now()} ForgeOne node stopped (exit code {exitCode})");
return exitCode;

/// <summary>Console logging of the node: one line per event, UTC ISO-8601 times, or JSON lines.</summary>
internal static class NodeLogging
{
    private const string TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";

    public static void Configure(ILoggingBuilder logging, ForgeOneNodeOptions options)
    {
        logging.ClearProviders();
        if (options.LogFormat == "json")
        {
            logging.AddJsonConsole(o =>
            {
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            });
        }
        else
        {
            logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = TimestampFormat;
            });
        }

        // The host's own start-up failure line repeats, with a stack trace, what the node
        // prints itself in one sentence.
        logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
    }

    public static string Now() => DateTimeOffset.UtcNow.ToString(TimestampFormat.TrimEnd(), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>What stopped the node, in a sentence: no stack trace for a cause the operator can fix.</summary>
    public static string Describe(Exception e, ForgeOneNodeOptions options)
    {
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse })
            {
                return $"{options.Hostname}:{options.Port} is already in use by another process (ForgeOne:Port); one node per port.";
            }

            if (inner is ForgeOneException fe)
            {
                return $"{fe.Code}: {fe.Error.Message}";
            }
        }

        var root = e.GetBaseException();
        return root.Message.Contains("bind", StringComparison.OrdinalIgnoreCase) || root.Message.Contains("in use", StringComparison.OrdinalIgnoreCase)
            ? $"could not listen on {options.Hostname}:{options.Port} (ForgeOne:Port): {root.Message}"
            : $"{root.GetType().Name}: {root.Message}";
    }
}
