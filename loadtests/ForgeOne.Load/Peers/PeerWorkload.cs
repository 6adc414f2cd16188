namespace ForgeOne.Load.Peers;

/// <summary>One commit's worth of entries, all of one topic (ForgeOne batches are per topic; the peers get the same batches).</summary>
public sealed record PeerBatch(int Topic, long[] Timestamps, byte[][] Messages);

/// <summary>A topic + one-hour range query and the number of entries it must return.</summary>
public sealed record PeerQuery(int Topic, long FromTicks, long ToTicks, int Expected);

/// <summary>
/// The records every system ingests, identical for all: <see cref="Entries"/> log entries of
/// <see cref="MessageBytes"/>-byte printable messages, spread round-robin over <see cref="Topics"/>
/// topics and evenly over 24 hours from <see cref="Origin"/>, cut into per-topic batches; then
/// topic + 1 h range queries whose expected counts come from the workload itself, so a system
/// that loses or invents entries fails the run. Pure and seeded.
/// </summary>
public sealed class PeerWorkload
{
    /// <summary>Rows per query page (every system applies the same limit).</summary>
    public const int QueryLimit = 1000;

    private PeerWorkload(int entries, int topics, int messageBytes, int batchSize, DateTimeOffset origin, IReadOnlyList<PeerBatch> batches, IReadOnlyList<PeerQuery> queries)
    {
        Entries = entries;
        Topics = topics;
        MessageBytes = messageBytes;
        BatchSize = batchSize;
        Origin = origin;
        Batches = batches;
        Queries = queries;
    }

    /// <summary>Entries in total.</summary>
    public int Entries { get; }

    /// <summary>Distinct topics.</summary>
    public int Topics { get; }

    /// <summary>Message length.</summary>
    public int MessageBytes { get; }

    /// <summary>Entries per commit (the last batch of a topic may be shorter).</summary>
    public int BatchSize { get; }

    /// <summary>Timestamp of the first entry.</summary>
    public DateTimeOffset Origin { get; }

    /// <summary>The commits, interleaved across topics (so parallel writers hit different topics).</summary>
    public IReadOnlyList<PeerBatch> Batches { get; }

    /// <summary>The range queries run after the ingest.</summary>
    public IReadOnlyList<PeerQuery> Queries { get; }

    /// <summary>The name every system stores topic <paramref name="topic"/> under.</summary>
    public static string TopicName(int topic) => $"peer.topic.{topic:D4}";

    /// <summary>Builds the workload; the same arguments always give the same records.</summary>
    public static PeerWorkload Create(int entries, int topics, int batchSize, int queries, DateTimeOffset origin, int messageBytes = 200, int seed = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(entries);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(topics);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        var random = new Random(seed);
        var spacing = TimeSpan.FromHours(24).Ticks / entries;
        var perTopic = Enumerable.Range(0, topics).Select(_ => new List<(long Ts, byte[] Message)>()).ToArray();
        const string alphabet = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789=:,.-_/";
        for (var i = 0; i < entries; i++)
        {
            var message = new byte[messageBytes];
            for (var k = 0; k < message.Length; k++)
            {
                message[k] = (byte)alphabet[random.Next(alphabet.Length)];
            }

            perTopic[i % topics].Add((origin.UtcTicks + (i * spacing), message));
        }

        var chunks = perTopic.Select((list, topic) => list.Chunk(batchSize).Select(c => new PeerBatch(topic, c.Select(e => e.Ts).ToArray(), c.Select(e => e.Message).ToArray())).ToArray()).ToArray();
        var batches = new List<PeerBatch>();
        for (var round = 0; batches.Count < chunks.Sum(c => c.Length); round++)
        {
            batches.AddRange(chunks.Where(c => round < c.Length).Select(c => c[round]));
        }

        var planned = new List<PeerQuery>(queries);
        for (var q = 0; q < queries; q++)
        {
            var topic = random.Next(topics);
            var from = origin.UtcTicks + (random.Next(23 * 60) * TimeSpan.TicksPerMinute);
            var to = from + TimeSpan.TicksPerHour;
            var expected = Math.Min(QueryLimit, perTopic[topic].Count(e => e.Ts >= from && e.Ts < to));
            planned.Add(new PeerQuery(topic, from, to, expected));
        }

        return new PeerWorkload(entries, topics, messageBytes, batchSize, origin, batches, planned);
    }
}
