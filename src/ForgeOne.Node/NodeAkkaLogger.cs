using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Dispatch;
using Akka.Event;
using Microsoft.Extensions.Logging;
using AkkaLogLevel = Akka.Event.LogLevel;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace ForgeOne.Node;

/// <summary>
/// Akka's log events into the node's <see cref="ILoggerFactory"/>: the category is the class that
/// logged (<c>ForgeOne.Cluster.Shards.ShardActor</c>, <c>Akka.Cluster.Cluster</c>), the message is
/// the message alone. Akka.Hosting's own logger files every event under one category with Akka's
/// <c>[INFO][time][thread][source]</c> prefix inside the line, so a line carried two times and two
/// levels, and Akka's chatter could not be filtered apart from ForgeOne's own events.
/// </summary>
public sealed class NodeAkkaLogger : ActorBase, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    private readonly ConcurrentDictionary<Type, ILogger> _loggers = new();
    private readonly ILoggerFactory _factory;

    /// <summary>Created by Akka from <c>akka.loggers</c>; needs <see cref="NodeLoggerSetup"/> in the system's setup.</summary>
    public NodeAkkaLogger()
    {
        var setup = Context.System.Settings.Setup.Get<NodeLoggerSetup>();
        _factory = setup.HasValue
            ? setup.Value.Factory
            : throw new InvalidOperationException($"{nameof(NodeAkkaLogger)} needs a {nameof(NodeLoggerSetup)} in the actor system's setup.");
    }

    /// <summary>The level an Akka log level maps to.</summary>
    public static LogLevel LevelOf(AkkaLogLevel level) => level switch
    {
        AkkaLogLevel.DebugLevel => LogLevel.Debug,
        AkkaLogLevel.InfoLevel => LogLevel.Information,
        AkkaLogLevel.WarningLevel => LogLevel.Warning,
        _ => LogLevel.Error,
    };

    /// <summary>
    /// The line of an event: ForgeOne's messages name what they are about themselves; Akka's
    /// often do not ("Singleton manager started singleton actor"), so they keep their source.
    /// </summary>
    public static string MessageOf(LogEvent log)
    {
        ArgumentNullException.ThrowIfNull(log);
        string message;
        try
        {
            message = log.Message?.ToString() ?? string.Empty;
        }
        catch (FormatException e)
        {
            // A broken format string must not lose the event.
            message = $"(unformattable log message: {e.Message})";
        }

        var ours = log.LogClass?.Namespace?.StartsWith("ForgeOne", StringComparison.Ordinal) == true;
        return ours || string.IsNullOrEmpty(log.LogSource) ? message : $"{log.LogSource}: {message}";
    }

    /// <inheritdoc />
    protected override bool Receive(object message)
    {
        switch (message)
        {
            case InitializeLogger:
                Sender.Tell(new LoggerInitialized());
                return true;
            case LogEvent log:
                var logger = _loggers.GetOrAdd(log.LogClass ?? typeof(NodeAkkaLogger), type => _factory.CreateLogger(type.FullName ?? type.Name));
                var level = LevelOf(log.LogLevel());
                if (logger.IsEnabled(level))
                {
                    // The text as state, not as a template: Akka already formatted it, and braces in
                    // it (a JSON value, an actor path) must not be read as placeholders.
                    logger.Log(level, default, MessageOf(log), log.Cause, static (text, _) => text);
                }

                return true;
            default:
                return false;
        }
    }
}

/// <summary>Hands the node's <see cref="ILoggerFactory"/> to <see cref="NodeAkkaLogger"/> through the actor system's setup.</summary>
/// <param name="factory">The host's logger factory.</param>
public sealed class NodeLoggerSetup(ILoggerFactory factory) : Akka.Actor.Setup.Setup
{
    /// <summary>The host's logger factory.</summary>
    public ILoggerFactory Factory { get; } = factory;
}

/// <summary>
/// Akka's fallback logger, for the moments no <see cref="NodeAkkaLogger"/> is subscribed (before
/// the loggers start, and after they stop while the actor system finishes shutting down): warnings
/// and errors in the node's one-line format, Akka's informational chatter not at all. The default
/// (<see cref="StandardOutLogger"/>) printed its own <c>[INFO][date][thread]</c> lines between the
/// node's last log line and its "stopped" line.
/// </summary>
public sealed class NodeStdoutLogger : MinimalLogger
{
    /// <inheritdoc />
    protected override void Log(object message)
    {
        if (message is LogEvent log && log.LogLevel() >= AkkaLogLevel.WarningLevel)
        {
            var level = log.LogLevel() == AkkaLogLevel.WarningLevel ? "warn" : "fail";
            Console.Out.WriteLine($"{NodeLogging.Now()} {level}: {log.LogClass?.FullName} {NodeAkkaLogger.MessageOf(log)}{(log.Cause is null ? "" : " " + log.Cause.GetType().Name + ": " + log.Cause.Message)}");
        }
    }
}
