using System.Threading.Channels;
using Akka.Actor;
using ForgeOne.Backup;

namespace ForgeOne.Cluster.Tests.Backup;

/// <summary>The backup coordinator's events as a node's event stream announces them: what a test waits on instead of polling.</summary>
public sealed class BackupEvents
{
    private readonly Channel<BackupEvent> _events = Channel.CreateUnbounded<BackupEvent>();

    /// <summary>Listens on every given system (the coordinator may move between them).</summary>
    public BackupEvents(params ActorSystem[] systems)
    {
        foreach (var system in systems)
        {
            var listener = system.ActorOf(Props.Create(() => new Listener(_events.Writer)));
            system.EventStream.Subscribe(listener, typeof(BackupEvent));
        }
    }

    /// <summary>The next event of type <typeparamref name="T"/> that matches, skipping others.</summary>
    public async Task<T> Next<T>(Func<T, bool>? match = null, TimeSpan? timeout = null)
        where T : BackupEvent
    {
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            while (true)
            {
                var e = await _events.Reader.ReadAsync(cancel.Token);
                if (e is T hit && (match is null || match(hit)))
                {
                    return hit;
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no {typeof(T).Name} within {timeout ?? TimeSpan.FromSeconds(60)}");
        }
    }

    private sealed class Listener : ReceiveActor
    {
        public Listener(ChannelWriter<BackupEvent> writer) => Receive<BackupEvent>(e => writer.TryWrite(e));
    }
}
