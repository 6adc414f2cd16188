namespace ForgeOne.Client;

/// <summary>
/// How the actor client coalesces single writes (<c>AppendLogAsync</c>, <c>PublishAsync</c>)
/// that many callers make at about the same time: writes bound for the same shard travel
/// together in one <see cref="Cluster.Protocol.ShardProtocol.CommandBatch"/>, each still with
/// its own request id, audit record, id and error (as Kafka's producer batches records per
/// partition).
/// </summary>
/// <remarks>
/// A shard with nothing in flight sends after <see cref="Linger"/>; while
/// <see cref="MaxInFlightPerShard"/> batches are in flight, new writes wait for the next one,
/// so batches grow with load and a lone write waits at most the linger.
/// </remarks>
public sealed record CoalescingOptions
{
    /// <summary>The default: 1 ms linger, up to 1,000 writes or 2 MiB per batch, 4 batches in flight per shard.</summary>
    public static readonly CoalescingOptions Default = new();

    /// <summary>Every single write travels alone.</summary>
    public static readonly CoalescingOptions Off = new() { Enabled = false };

    /// <summary>False: no coalescing.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>How long the first write of a batch waits for company (0 .. 1 s; 0 = send at once).</summary>
    public TimeSpan Linger { get; init; } = TimeSpan.FromMilliseconds(1);

    /// <summary>Most writes per batch.</summary>
    public int MaxWrites { get; init; } = 1000;

    /// <summary>Most estimated payload bytes per batch (the remoting frame is 8 MiB).</summary>
    public int MaxBytes { get; init; } = 2 * 1024 * 1024;

    /// <summary>Batches awaiting their reply per shard before new writes wait.</summary>
    public int MaxInFlightPerShard { get; init; } = 4;

    /// <summary>Every problem with these options, one sentence each; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Linger < TimeSpan.Zero || Linger > TimeSpan.FromSeconds(1))
        {
            errors.Add("CoalescingOptions.Linger must be 0..1 s.");
        }

        if (MaxWrites < 1 || MaxBytes < 1024 || MaxInFlightPerShard < 1)
        {
            errors.Add("CoalescingOptions.MaxWrites and MaxInFlightPerShard must be at least 1, MaxBytes at least 1 KiB.");
        }

        return errors;
    }
}
