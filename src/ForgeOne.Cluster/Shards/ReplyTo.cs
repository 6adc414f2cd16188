using Akka.Actor;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;

namespace ForgeOne.Cluster.Shards;

/// <summary>Where a command's reply goes: its sender, or its slot among a <see cref="ShardProtocol.CommandBatch"/>'s replies.</summary>
internal readonly struct ReplyTo
{
    private readonly IActorRef? _actor;
    private readonly CommandBatchReplySink? _sink;
    private readonly int _slot;

    private ReplyTo(IActorRef? actor, CommandBatchReplySink? sink, int slot)
    {
        _actor = actor;
        _sink = sink;
        _slot = slot;
    }

    /// <summary>Replies go to <paramref name="actor"/>.</summary>
    public static ReplyTo Actor(IActorRef actor) => new(actor, null, -1);

    /// <summary>The reply fills slot <paramref name="slot"/> of <paramref name="sink"/>.</summary>
    public static ReplyTo Slot(CommandBatchReplySink sink, int slot) => new(null, sink, slot);

    /// <summary>Sends (or files) the reply.</summary>
    public void Tell(object reply, IActorRef self)
    {
        if (_sink is not null)
        {
            _sink.Set(_slot, reply);
        }
        else
        {
            _actor!.Tell(reply, self);
        }
    }
}

/// <summary>Collects the replies of one <see cref="ShardProtocol.CommandBatch"/> and sends them together once all are in.</summary>
internal sealed class CommandBatchReplySink
{
    private readonly IActorRef _sender;
    private readonly IActorRef _self;
    private readonly IForgeOneMessage?[] _replies;
    private int _missing;

    public CommandBatchReplySink(IActorRef sender, int count, IActorRef self)
    {
        _sender = sender;
        _self = self;
        _replies = new IForgeOneMessage?[count];
        _missing = count;
        if (count == 0)
        {
            sender.Tell(new ShardProtocol.CommandBatchReplies([]), self);
        }
    }

    /// <summary>Slots in the batch.</summary>
    public int Count => _replies.Length;

    /// <summary>Files the reply of slot <paramref name="slot"/>; the first reply of a slot wins.</summary>
    public void Set(int slot, object reply)
    {
        if (_replies[slot] is not null)
        {
            return;
        }

        _replies[slot] = reply as IForgeOneMessage
            ?? new ShardProtocol.ShardFailed(ShardKind.System, -1, new ForgeOneError(ErrorCodes.Unavailable, $"Unexpected reply {reply.GetType().Name}."));
        if (--_missing == 0)
        {
            _sender.Tell(new ShardProtocol.CommandBatchReplies([.. _replies!]), _self);
        }
    }
}
