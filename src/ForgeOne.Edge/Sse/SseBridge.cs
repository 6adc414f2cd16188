using System.Threading.Channels;
using Akka.Actor;
using ForgeOne.Cluster.Client;
using ForgeOne.Common;
using static ForgeOne.Cluster.Protocol.EventProtocol;

namespace ForgeOne.Edge.Sse;

/// <summary>
/// The consumer end of an <see cref="EventSubscription"/> for one SSE response: delivered events
/// go into a channel the response writer drains; the writer acknowledges each event once it is
/// written to the connection, so the subscription's window (at most that many events
/// unacknowledged) is also the most this node holds for a slow reader.
/// </summary>
public sealed class SseBridge : ReceiveActor
{
    /// <summary>Creates the bridge over <paramref name="events"/> (capacity >= the subscription window) and <paramref name="started"/>.</summary>
    public SseBridge(ChannelWriter<EventRecord> events, TaskCompletionSource<ForgeOneError?> started)
    {
        Receive<EventSubscription.Started>(_ => started.TrySetResult(null));
        Receive<EventSubscription.Delivered>(d =>
        {
            if (!events.TryWrite(d.Event))
            {
                // Cannot happen while the window is below the channel's capacity; if it does,
                // end the stream rather than buffer without bound.
                events.TryComplete(new ForgeOneException(ErrorCodes.Internal, "The subscription delivered more events than its window."));
            }
        });
        Receive<EventSubscription.Failed>(f =>
        {
            started.TrySetResult(f.Error);
            events.TryComplete(new ForgeOneException(f.Error));
        });
    }

    /// <summary>Props of a bridge.</summary>
    public static Props Props(ChannelWriter<EventRecord> events, TaskCompletionSource<ForgeOneError?> started) =>
        Akka.Actor.Props.Create(() => new SseBridge(events, started));
}
