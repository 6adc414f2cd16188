using System.Globalization;
using Akka.Actor;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;
using ForgeOne.Security;
using static ForgeOne.Cluster.Protocol.EventProtocol;

namespace ForgeOne.Cluster.Client;

/// <summary>A page of topics across all events shards; pass <see cref="Continuation"/> back for the next page (null: done).</summary>
public sealed record TopicListPage(IReadOnlyList<TopicDescription> Topics, string? Continuation);

/// <summary>
/// Client-side scatter-gather over the events shards for listing topics. Shards are walked in
/// order, each through its own paged <see cref="ListTopics"/>; the continuation is
/// <c>"{shard}:{shard's token}"</c>, where the shard's token is MAC-protected by that shard (a
/// tampered token is refused there with <c>validation.invalid_continuation_token</c>).
/// </summary>
public static class EventTopics
{
    /// <summary>
    /// Up to <paramref name="limit"/> topics the caller may see, starting at
    /// <paramref name="continuation"/> (null: the first). Fails with a <see cref="ForgeOneException"/>
    /// when a shard refuses or does not answer within <paramref name="timeout"/>. With
    /// <paramref name="zone"/>, lists the topics held by that residency zone's shards.
    /// </summary>
    public static async Task<TopicListPage> ListAsync(IActorRef eventsRegion, int shardCount, PrincipalToken principal, int limit, string? continuation, TimeSpan timeout, string? zone = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var (shard, token) = Parse(continuation, shardCount);
        var topics = new List<TopicDescription>(limit);
        while (shard < shardCount)
        {
            var reply = await eventsRegion.Ask<object>(new ListTopics(principal, shard, limit - topics.Count, token, zone), timeout).ConfigureAwait(false);
            switch (reply)
            {
                case TopicPage page:
                    topics.AddRange(page.Topics);
                    if (page.Continuation is not null)
                    {
                        // This shard has more: the page is full.
                        return new TopicListPage(topics, $"{shard.ToString(CultureInfo.InvariantCulture)}:{page.Continuation}");
                    }

                    break;
                case IFailureReply failed:
                    throw new ForgeOneException(failed.Error);
                default:
                    throw new ForgeOneException(ErrorCodes.Unavailable, $"Unexpected reply from events shard {shard}: {reply.GetType().Name}");
            }

            shard++;
            token = null;
            if (topics.Count == limit)
            {
                return new TopicListPage(topics, shard < shardCount ? $"{shard.ToString(CultureInfo.InvariantCulture)}:" : null);
            }
        }

        return new TopicListPage(topics, null);
    }

    private static (int Shard, string? Token) Parse(string? continuation, int shardCount)
    {
        if (continuation is null)
        {
            return (0, null);
        }

        var colon = continuation.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || !int.TryParse(continuation.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var shard) || shard >= shardCount)
        {
            throw new ForgeOneException(ErrorCodes.InvalidContinuationToken, "The continuation token is not valid for this listing.");
        }

        var token = continuation[(colon + 1)..];
        return (shard, token.Length == 0 ? null : token);
    }
}
