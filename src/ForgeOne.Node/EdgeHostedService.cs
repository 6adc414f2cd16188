using ForgeOne.Cluster.Hosting;
using ForgeOne.Common;
using ForgeOne.Edge;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ForgeOne.Node;

/// <summary>
/// Serves the HTTP edge on nodes with the <c>edge</c> role. Registered before
/// <see cref="NodeService"/>, so it listens while the node is still joining (<c>/healthz</c>
/// answers, <c>/readyz</c> says why it is not ready) and stops before the actor system does.
/// A port that cannot be bound stops the node with exit code 4.
/// </summary>
internal sealed partial class EdgeHostedService : IHostedService
{
    private readonly ForgeOneNodeOptions _options;
    private readonly EdgeCluster _cluster;
    private readonly ILoggerFactory _loggers;
    private readonly NodeState _state;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger<EdgeHostedService> _log;
    private EdgeServer? _server;

    public EdgeHostedService(ForgeOneNodeOptions options, EdgeCluster cluster, ILoggerFactory loggers, NodeState state, IHostApplicationLifetime lifetime, ILogger<EdgeHostedService> log)
    {
        _options = options;
        _cluster = cluster;
        _loggers = loggers;
        _state = state;
        _lifetime = lifetime;
        _log = log;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            _server = EdgeServer.Create(_options.Edge, _cluster, _loggers);
            await _server.StartAsync(cancellationToken).ConfigureAwait(false);
            _state.EdgeAddress = _server.BaseAddress;
            await Console.Out.WriteLineAsync($"ForgeOne edge listening on {_server.BaseAddress}").ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ForgeOneException or InvalidOperationException or System.Security.Cryptography.CryptographicException)
        {
            LogRefused(e.Message);
            await Console.Error.WriteLineAsync($"ForgeOne node refused to start: the HTTP edge cannot serve on {_options.Edge.Hostname}:{_options.Edge.Port}: {e.Message}").ConfigureAwait(false);
            _state.ExitCode = 4;
            _server = null;
            _lifetime.StopApplication();
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is not null)
        {
            await _server.StopAsync(cancellationToken).ConfigureAwait(false);
            await _server.DisposeAsync().ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "The HTTP edge cannot start: {Reason}")]
    private partial void LogRefused(string reason);
}
