using Akka.Actor;
using Akka.Configuration;
using Akka.Remote;
using ForgeOne.Cluster.Hosting;

namespace ForgeOne.Cluster.Tests;

/// <summary>
/// A member that a peer has quarantined (what the cluster does to a member it removed) must not
/// go on acting on its own view: with the watcher it downs itself and its actor system ends
/// as soon as the peer refuses it, long before any failure detector or resolver would act.
/// </summary>
public sealed class QuarantineWatcherSpec : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private ActorSystem? _peer;
    private ActorSystem? _member;

    public async Task InitializeAsync()
    {
        // Resolver and failure detector far slower than the test: only the watcher can end it.
        const string slow = """
            akka.cluster.failure-detector.acceptable-heartbeat-pause = 120s
            akka.cluster.split-brain-resolver.stable-after = 120s
            akka.cluster.split-brain-resolver.down-all-when-unstable = off
            """;
        var port = InProcessNode.FreePort();
        _peer = Create(port, []);
        Akka.Cluster.Cluster.Get(_peer).Join(Akka.Cluster.Cluster.Get(_peer).SelfAddress);
        _member = Create(0, [Akka.Cluster.Cluster.Get(_peer).SelfAddress.ToString()]);
        _member.ActorOf(QuarantineWatcher.Props(), "quarantine-watcher");
        var up = new TaskCompletionSource();
        Akka.Cluster.Cluster.Get(_member).RegisterOnMemberUp(() => up.TrySetResult());
        await up.Task.WaitAsync(Wait);

        // Plain TCP: a quarantine is the same on either transport, and this spares the spec a cluster CA.
        ActorSystem Create(int p, string[] seeds) => ActorSystem.Create(
            "forgeone",
            ConfigurationFactory.ParseString(slow)
                .WithFallback(ConfigurationFactory.ParseString(InProcessNode.FastTestHocon))
                .WithFallback(ClusterConfig.Build(new ForgeOneNodeOptions { Port = p, SeedNodes = [.. seeds], Roles = [ForgeOneNodeOptions.ClientRole], Tls = new TlsOptions { Enabled = false } })));
    }

    public async Task DisposeAsync()
    {
        foreach (var system in new[] { _member, _peer })
        {
            if (system is not null)
            {
                await system.Terminate().WaitAsync(Wait);
            }
        }
    }

    [Fact]
    public async Task AMemberQuarantinedByAPeer_DownsItself_AndItsActorSystemEnds()
    {
        var member = Akka.Cluster.Cluster.Get(_member!);
        // What the cluster does to a member it removed: its peers refuse that incarnation for good.
        var peer = (IRemoteActorRefProvider)((ExtendedActorSystem)_peer!).Provider;
        peer.Quarantine(member.SelfAddress, member.SelfUniqueAddress.Uid);

        await _member!.WhenTerminated.WaitAsync(Wait);
        Assert.True(member.IsTerminated);
    }
}
