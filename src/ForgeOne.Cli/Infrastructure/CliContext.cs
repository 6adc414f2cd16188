using System.CommandLine;
using System.Globalization;
using System.Net;
using ForgeOne.Client.Http;

namespace ForgeOne.Cli.Infrastructure;

/// <summary>The options every verb takes (recursive: they may stand before or after the verb).</summary>
public sealed class GlobalOptions
{
    /// <summary>How long a request waits for a connection and retries transient failures, unless <c>--timeout</c> says otherwise.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    public Option<string?> Url { get; } = new("--url") { Description = "The node's HTTP edge (env FORGEONE_URL; default http://127.0.0.1:8080)", Recursive = true, HelpName = "url" };

    public Option<string?> Key { get; } = new("--key") { Description = "API key (env FORGEONE_API_KEY)", Recursive = true, HelpName = "key" };

    public Option<string?> KeyFile { get; } = new("--key-file") { Description = "File holding the API key (e.g. keys/bootstrap-admin.key)", Recursive = true, HelpName = "path" };

    public Option<string?> Cluster { get; } = new("--cluster") { Description = "Named cluster of ~/.config/forgeone/config.json (env FORGEONE_CLUSTER)", Recursive = true, HelpName = "name" };

    public Option<bool> Json { get; } = new("--json") { Description = "Print JSON: one document, or JSON Lines for streams", Recursive = true };

    public Option<bool> Quiet { get; } = new("--quiet", "-q") { Description = "Print only the essential value (an id, an address); no tables or progress", Recursive = true };

    public Option<double?> Timeout { get; } = new("--timeout") { Description = "Seconds to wait for a connection and to retry transient failures (default 5)", Recursive = true, HelpName = "seconds" };

    /// <summary>Adds every option to <paramref name="root"/>.</summary>
    public void AddTo(RootCommand root)
    {
        ArgumentNullException.ThrowIfNull(root);
        foreach (var option in new Option[] { Url, Key, KeyFile, Cluster, Json, Quiet, Timeout })
        {
            root.Options.Add(option);
        }
    }

    /// <summary>The output mode the options ask for.</summary>
    public OutputMode Mode(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var json = parse.GetValue(Json);
        var quiet = parse.GetValue(Quiet);
        return json && quiet ? throw CliException.Usage("--json and --quiet exclude each other") : json ? OutputMode.Json : quiet ? OutputMode.Quiet : OutputMode.Human;
    }
}

/// <summary>One invocation: its output, the edge it talks to and the client (made on first use, so offline verbs need no edge).</summary>
public sealed class CliContext : IDisposable
{
    private readonly GlobalOptions _globals;
    private readonly ParseResult _parse;
    private Endpoint? _endpoint;
    private ForgeOneHttpClient? _client;
    private HttpClient? _http;

    public CliContext(CliConsole console, GlobalOptions globals, ParseResult parse)
    {
        _globals = globals;
        _parse = parse;
        Console = console;
        Output = new CliOutput(console, globals.Mode(parse));
    }

    public CliConsole Console { get; }

    public CliOutput Output { get; }

    /// <summary>The parse result of this invocation.</summary>
    public ParseResult Parse => _parse;

    /// <summary>The edge (resolved from flags, environment and profile on first use).</summary>
    public Endpoint Endpoint => _endpoint ??= Endpoint.Resolve(
        _parse.GetValue(_globals.Url), _parse.GetValue(_globals.Key), _parse.GetValue(_globals.KeyFile), _parse.GetValue(_globals.Cluster), Console.Environment);

    /// <summary>The address failures are reported against (the default when resolution itself failed).</summary>
    public Uri AddressTried => _endpoint?.Url ?? Endpoint.DefaultUrl;

    /// <summary>Connection and retry budget.</summary>
    public TimeSpan Timeout
    {
        get
        {
            var seconds = _parse.GetValue(_globals.Timeout);
            return seconds switch
            {
                null => GlobalOptions.DefaultTimeout,
                > 0 and <= 3600 => TimeSpan.FromSeconds(seconds.Value),
                _ => throw CliException.Usage($"--timeout {seconds.Value.ToString(CultureInfo.InvariantCulture)} must be between 0 and 3600 seconds"),
            };
        }
    }

    /// <summary>The HTTP client of the edge, with a connect timeout so an unreachable node fails within seconds.</summary>
    public ForgeOneHttpClient Client
    {
        get
        {
            if (_client is not null)
            {
                return _client;
            }

            var endpoint = Endpoint;
            var timeout = Timeout;
            _http = new HttpClient(new SocketsHttpHandler
            {
                ConnectTimeout = timeout,
                AutomaticDecompression = DecompressionMethods.None,
                PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
            })
            {
                BaseAddress = endpoint.Url,
                // Transfers and streams last as long as they last; the connect timeout and the
                // retry deadline bound the wait for an answer instead.
                Timeout = System.Threading.Timeout.InfiniteTimeSpan,
            };
            _http.DefaultRequestHeaders.UserAgent.ParseAdd("forgeone-cli/1.0");
            _client = new ForgeOneHttpClient(_http, new ForgeOneHttpClientOptions { ApiKey = endpoint.ApiKey, RetryDeadline = timeout });
            return _client;
        }
    }

    /// <summary>The value of <paramref name="option"/>.</summary>
    public T Get<T>(Option<T> option) => _parse.GetValue(option)!;

    /// <summary>The value of <paramref name="argument"/>.</summary>
    public T Get<T>(Argument<T> argument) => _parse.GetValue(argument)!;

    public void Dispose() => _http?.Dispose();
}
