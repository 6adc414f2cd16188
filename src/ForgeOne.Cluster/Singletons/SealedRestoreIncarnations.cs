using Akka.Actor;
using ForgeOne.Backup;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Security;
using ForgeOne.Common;
using ForgeOne.Security;
using static ForgeOne.Cluster.Protocol.SealerProtocol;

namespace ForgeOne.Cluster.Singletons;

/// <summary>
/// A restore's authorized rewind, recorded by the audit sealer: one seal that names every
/// restored chain as a new incarnation at the head the restore verified, appended to the seal
/// journal and the seals file before any shard opens the restored version. Each shard's open
/// check then finds that seal as its newest one, accepts its head (behind the heads sealed
/// before) and records the rewind in its own chain; the sealer continues from those heads. The
/// sealer records <c>audit.incarnation</c> in the system store's audit chain.
/// </summary>
public sealed class SealedRestoreIncarnations : IRestoreIncarnations
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly Func<IActorRef> _sealer;
    private readonly IPrincipalTokenSource _node;

    /// <summary>Records through the sealer <paramref name="sealer"/> gives (resolved at the restore, not at start).</summary>
    public SealedRestoreIncarnations(Func<IActorRef> sealer, IPrincipalTokenSource node)
    {
        _sealer = sealer;
        _node = node;
    }

    /// <summary>The heads of <paramref name="shards"/> as the sealer names them.</summary>
    public static ChainHead[] Heads(IReadOnlyList<ShardRestored> shards)
    {
        ArgumentNullException.ThrowIfNull(shards);
        return [.. shards.Select(s => new ChainHead(ShardSecurityFactory.ChainIdOf(s.Shard.Kind, s.Shard.Shard, s.Shard.Zone), s.AuditSeq, Convert.FromHexString(s.AuditHash)))];
    }

    /// <inheritdoc />
    public async Task Record(string restoreId, string backupId, string version, int incarnation, IReadOnlyList<ShardRestored> heads, Principal caller)
    {
        var named = Heads(heads);
        // Asked as the node (the coordinator already authorized the restore for its caller, who is named in the reason).
        var reason = $"restore {restoreId} of backup {backupId} into {version} (incarnation {incarnation}) by {caller.Id}";
        var reply = await _sealer().Ask<object>(new StartIncarnation(_node.Current, [.. named.Select(h => h.ShardId)], reason, named), Timeout).ConfigureAwait(false);
        switch (reply)
        {
            case IncarnationStarted:
                return;
            case IFailureReply failed:
                throw new ForgeOneException(failed.Error);
            default:
                throw new ForgeOneException(ErrorCodes.Unavailable, $"unexpected reply from the audit sealer: {reply}");
        }
    }
}
