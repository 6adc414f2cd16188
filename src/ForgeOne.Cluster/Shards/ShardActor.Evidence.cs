using Akka.Actor;
using ForgeOne.Cluster.Integrity;
using ForgeOne.Cluster.Protocol;

using ForgeOne.Common;
using ForgeOne.Security;

namespace ForgeOne.Cluster.Shards;

/// <summary>Reading the stored audit chain for evidence exports and record proofs.</summary>
public sealed partial class ShardActor
{
    private void OnReadAudit(ShardProtocol.ReadAudit read)
    {
        // Acknowledged writes are in the chain before anyone exports it.
        CommitBuffered();
        if (_security is null || _store is null)
        {
            Sender.Tell(new ShardProtocol.ShardFailed(_kind, _shard, Unavailable()));
            return;
        }

        if (read.FromSeq < 1 || read.Limit is < 1 or > ShardProtocol.ReadAudit.MaxLimit)
        {
            Sender.Tell(new ShardProtocol.ShardFailed(_kind, _shard, new ForgeOneError(ErrorCodes.InvalidArgument,
                $"audit pages start at seq 1 or later and hold 1..{ShardProtocol.ReadAudit.MaxLimit} records (got from {read.FromSeq}, limit {read.Limit})")));
            return;
        }

        var head = _security.AuditHead.Sequence;
        var records = _store.Read(txn => AuditChainCheck.Records(txn, read.FromSeq)
            .TakeWhile(r => r.Seq <= head)
            .Take(read.Limit)
            .Select(AuditRecordCodec.Encode)
            .ToArray());
        Sender.Tell(new ShardProtocol.AuditPage(ChainId, head, records));
    }
}
