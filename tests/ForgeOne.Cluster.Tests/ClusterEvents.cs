using Akka.Actor;
using Akka.Cluster;
using Akka.Event;

namespace ForgeOne.Cluster.Tests;

/// <summary>
/// Waits on what a node observes (membership events, its own log events) instead of polling its
/// state: the wait ends at the event, and a timeout names what never happened.
/// </summary>
public static class ClusterEvents
{
    /// <summary>Completes once the members <paramref name="system"/> knows satisfy <paramref name="condition"/> (from its membership events, starting with the current snapshot).</summary>
    public static async Task MembersAsync(ActorSystem system, Func<IReadOnlyCollection<Member>, bool> condition, string what, TimeSpan timeout)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var watcher = system.ActorOf(Props.Create(() => new MemberWatcher(condition, done)));
        try
        {
            await done.Task.WaitAsync(timeout);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"Timed out after {timeout} waiting for: {what}", e);
        }
        finally
        {
            system.Stop(watcher);
        }
    }

    /// <summary>
    /// The first log event of <paramref name="system"/> whose message satisfies <paramref name="match"/>
    /// from now on (subscribe before causing it; the node's log level must let the event through).
    /// </summary>
    public static Task<string> LogAsync(ActorSystem system, Func<string, bool> match)
    {
        var seen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var watcher = system.ActorOf(Props.Create(() => new LogWatcher(match, seen)));
        system.EventStream.Subscribe(watcher, typeof(LogEvent));
        _ = seen.Task.ContinueWith(_ => system.Stop(watcher), TaskScheduler.Default);
        return seen.Task;
    }

    /// <summary>Awaits <paramref name="task"/> for at most <paramref name="timeout"/>, naming <paramref name="what"/> if it never completes.</summary>
    public static async Task<T> Within<T>(this Task<T> task, TimeSpan timeout, string what)
    {
        try
        {
            return await task.WaitAsync(timeout);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"Timed out after {timeout} waiting for: {what}", e);
        }
    }

    private sealed class MemberWatcher : ReceiveActor
    {
        private readonly Dictionary<UniqueAddress, Member> _members = [];

        public MemberWatcher(Func<IReadOnlyCollection<Member>, bool> condition, TaskCompletionSource done)
        {
            void Check()
            {
                if (condition(_members.Values))
                {
                    done.TrySetResult();
                }
            }

            Receive<ClusterEvent.CurrentClusterState>(state =>
            {
                foreach (var member in state.Members)
                {
                    _members[member.UniqueAddress] = member;
                }

                Check();
            });
            Receive<ClusterEvent.MemberRemoved>(removed =>
            {
                _members.Remove(removed.Member.UniqueAddress);
                Check();
            });
            Receive<ClusterEvent.IMemberEvent>(changed =>
            {
                _members[changed.Member.UniqueAddress] = changed.Member;
                Check();
            });
        }

        protected override void PreStart() =>
            Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot, typeof(ClusterEvent.IMemberEvent));

        protected override void PostStop() => Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
    }

    private sealed class LogWatcher : ReceiveActor
    {
        public LogWatcher(Func<string, bool> match, TaskCompletionSource<string> seen)
        {
            Receive<LogEvent>(log =>
            {
                var text = log.Message?.ToString() ?? "";
                if (match(text))
                {
                    seen.TrySetResult(text);
                }
            });
        }

        protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);
    }
}

/// <summary>
/// A request sent again until it is answered with something other than a failure: during a
/// fail-over, sharding may drop a message sent to a shard's old home (delivery is at most once)
/// or the shard may refuse while it moves, so a client retries. Paced by each attempt's own
/// timeout, never by a sleep; the last answer or timeout is the error at the deadline.
/// </summary>
public static class RetriedRequests
{
    public static async Task<object> UntilAnsweredAsync(Func<TimeSpan, Task<object>> request, string what, TimeSpan? deadline = null)
    {
        var until = DateTime.UtcNow + (deadline ?? TimeSpan.FromSeconds(90));
        object? last = null;
        while (true)
        {
            try
            {
                var reply = await request(TimeSpan.FromSeconds(10));
                if (reply is not ForgeOne.Cluster.Protocol.IFailureReply)
                {
                    return reply;
                }

                last = reply;
            }
            catch (AskTimeoutException e)
            {
                last = e;
            }

            if (DateTime.UtcNow >= until)
            {
                throw new TimeoutException($"No answer but failures until the deadline for: {what} (last: {last})");
            }
        }
    }
}
