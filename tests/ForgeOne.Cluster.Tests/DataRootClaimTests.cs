using ForgeOne.Cluster.Hosting;
using ForgeOne.Common;

namespace ForgeOne.Cluster.Tests;

/// <summary>
/// The data root's claim as files: two "nodes" here are two claims in one process (the kernel's
/// locks are per open file, so they exclude each other as two processes would).
/// </summary>
public sealed class DataRootClaimTests : IDisposable
{
    private const string A1 = "akka.tcp://forgeone@127.0.0.1:5001";
    private const string A2 = "akka.tcp://forgeone@127.0.0.1:5002";
    private const string B1 = "akka.tcp://forgeone@127.0.0.1:6001";

    private readonly string _root = Path.Combine(Path.GetTempPath(), "forgeone-claim-" + Guid.NewGuid().ToString("N"));

    public DataRootClaimTests() => Directory.CreateDirectory(_root);

    private static DataRootHolder Node(string address, long uid, params string[] seeds) => new("forgeone", address, uid, seeds, 1);

    [Fact]
    public void AnotherClustersNode_ThatCanNeverJoin_IsRefusedAtOnce()
    {
        using var first = DataRootClaim.Register(_root, Node(A1, 1));
        using var other = DataRootClaim.Register(_root, Node(B1, 2));

        // B formed its own cluster (no seeds): A is live, not a member, and shares no seed.
        var refusal = other.Check([(B1, 2)]);
        Assert.NotNull(refusal);
        Assert.True(refusal.Value.Final);
        Assert.Equal(ErrorCodes.DataRootInUse, refusal.Value.Error.Code);
        Assert.Contains("127.0.0.1:5001", refusal.Value.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ANodeOfTheSameCluster_IsAcceptedOnceItIsAMember_AndAwaitedWhileItJoins()
    {
        using var seed = DataRootClaim.Register(_root, Node(A1, 1));
        using var joiner = DataRootClaim.Register(_root, Node(A2, 2, A1));

        // The joiner is up but has not seen the seed yet (or the seed has not seen it): not final.
        var early = seed.Check([(A1, 1)]);
        Assert.NotNull(early);
        Assert.False(early.Value.Final);

        Assert.Null(seed.Check([(A1, 1), (A2, 2)]));
        Assert.Null(joiner.Check([(A1, 1), (A2, 2)]));
    }

    [Fact]
    public void ARestartedIncarnation_IsNotTheMemberItReplaces()
    {
        using var first = DataRootClaim.Register(_root, Node(A1, 1));
        using var second = DataRootClaim.Register(_root, Node(A2, 7, A1));

        // A member at A1 with another uid is another process than the live holder.
        Assert.NotNull(second.Check([(A1, 99), (A2, 7)]));
    }

    [Fact]
    public void AStoppedNode_HoldsNothing_SoItsClusterRestartsWithAnySeeds()
    {
        DataRootClaim.Register(_root, Node(A1, 1)).Dispose();
        using var restarted = DataRootClaim.Register(_root, Node(B1, 2));

        Assert.Null(restarted.Check([(B1, 2)]));
    }

    [Fact]
    public void ACrashedNodesFiles_DoNotCount_OnlyItsLockDid()
    {
        var members = Path.Combine(_root, DataRootClaim.MembersFolder);
        Directory.CreateDirectory(members);
        File.WriteAllText(Path.Combine(members, "dead.json"), "{\"Cluster\":\"forgeone\",\"Address\":\"" + A1 + "\",\"Uid\":1,\"Seeds\":[],\"Pid\":1}");
        File.WriteAllText(Path.Combine(members, "dead.lock"), "");
        using var claim = DataRootClaim.Register(_root, Node(B1, 2));

        Assert.Empty(claim.OtherLiveHolders());
    }

    [Fact]
    public void ADataRootOfAnotherClusterName_IsRefusedAtRegistration()
    {
        DataRootClaim.Register(_root, Node(A1, 1)).Dispose();

        var e = Assert.Throws<ForgeOneException>(() => DataRootClaim.Register(_root, new DataRootHolder("payments", B1, 2, [], 1)));
        Assert.Equal(ErrorCodes.DataRootInUse, e.Code);
        Assert.Contains("belongs to cluster 'forgeone'", e.Error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
