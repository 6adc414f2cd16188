using System.CommandLine;
using System.Globalization;
using ForgeOne.Cli.Infrastructure;
using ForgeOne.Common.Api;
using ForgeOne.Common.Model;
using ForgeOne.Common;
using P = ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Cli.Commands;

/// <summary><c>logs append | query | tail [-f]</c>.</summary>
public static class LogsCommands
{
    private const int AppendBatch = 1000;
    private static readonly TimeSpan FollowInterval = TimeSpan.FromSeconds(1);

    /// <summary>Builds the <c>logs</c> group.</summary>
    public static Command Build(Verbs verbs)
    {
        ArgumentNullException.ThrowIfNull(verbs);
        return Verbs.Group("logs", "Immutable log entries by topic", Append(verbs), Query(verbs), Tail(verbs));
    }

    private static Command Append(Verbs verbs)
    {
        var topic = new Argument<string>("topic") { Description = "The log topic" };
        var message = new Argument<string?>("message") { Description = "The entry's message (omit to append every line of standard input, in batches)", Arity = ArgumentArity.ZeroOrOne };
        var severity = new Option<Severity>("--severity", "-s") { Description = "Trace, Debug, Info, Warning, Error or Critical", DefaultValueFactory = _ => Severity.Info };
        var meta = new Option<string[]>("--meta", "-m") { Description = "Metadata key=value (repeatable)", AllowMultipleArgumentsPerToken = false };
        var append = new Command("append", "Appends one entry, or each line of standard input (batches of 1000, one transaction each)") { topic, message, severity, meta };
        verbs.Action(append, async (ctx, ct) =>
        {
            var name = ctx.Get(topic);
            var metadata = Views.Metadata(ctx.Get(meta), "--meta");
            var level = ctx.Get(severity);
            if (ctx.Get(message) is { } text)
            {
                var id = await ctx.Client.AppendLogAsync(name, new P.LogInput(ctx.Console.Time.GetUtcNow(), level, text, metadata), ct).ConfigureAwait(false);
                ctx.Output.Result(new LogAppended(name, id.ToString()), ApiJsonContext.Default.LogAppended, o => o.WriteLine(id.ToString()), quiet: id.ToString());
                return ExitCodes.Ok;
            }

            var batch = new List<P.LogInput>(AppendBatch);
            long appended = 0;
            while (await ctx.Console.In.ReadLineAsync(ct).ConfigureAwait(false) is { } line)
            {
                if (line.Length == 0)
                {
                    continue;
                }

                batch.Add(new P.LogInput(ctx.Console.Time.GetUtcNow(), level, line, metadata));
                if (batch.Count == AppendBatch)
                {
                    appended += await FlushAsync(ctx, name, batch, ct).ConfigureAwait(false);
                }
            }

            appended += await FlushAsync(ctx, name, batch, ct).ConfigureAwait(false);
            ctx.Output.Note($"appended {appended.ToString(CultureInfo.InvariantCulture)} entries to {name}");
            return ExitCodes.Ok;
        });
        return append;
    }

    private static async Task<int> FlushAsync(CliContext ctx, string topic, List<P.LogInput> batch, CancellationToken ct)
    {
        if (batch.Count == 0)
        {
            return 0;
        }

        var ids = await ctx.Client.AppendLogBatchAsync(topic, [.. batch], ct).ConfigureAwait(false);
        foreach (var id in ids)
        {
            ctx.Output.Line(new LogAppended(topic, id.ToString()), ApiJsonContext.Default.LogAppended, id.ToString(), quiet: id.ToString());
        }

        batch.Clear();
        return ids.Length;
    }

    private static Command Query(Verbs verbs)
    {
        var topic = new Option<string>("--topic", "-t") { Description = "The log topic", Required = true };
        var from = new Option<string>("--from") { Description = "Start (ISO 8601, 'now', or ago: 15m, 2h, 7d; default 1h)", DefaultValueFactory = _ => "1h" };
        var to = new Option<string>("--to") { Description = "End, exclusive (default now)", DefaultValueFactory = _ => "now" };
        var min = new Option<Severity>("--min-severity") { Description = "Lowest severity returned", DefaultValueFactory = _ => Severity.Trace };
        var limit = new Option<int?>("--limit", "-n") { Description = "At most this many entries (default: all in the range)" };
        var query = new Command("query", "Entries of a topic in a time range, oldest first (JSON Lines with --json)") { topic, from, to, min, limit };
        verbs.Action(query, async (ctx, ct) =>
        {
            var now = ctx.Console.Time.GetUtcNow();
            var start = TimeArgument.Parse(ctx.Get(from), now, "--from");
            var end = TimeArgument.Parse(ctx.Get(to), now, "--to");
            var max = ctx.Get(limit) is { } l ? (l > 0 ? l : throw CliException.Usage("--limit must be positive")) : int.MaxValue;
            var rows = new List<LogEntry>();
            var count = 0;
            string? continuation = null;
            do
            {
                var page = await ctx.Client.QueryLogsAsync(ctx.Get(topic), start, end, ctx.Get(min), Math.Min(1000, max - count), continuation, ct).ConfigureAwait(false);
                foreach (var e in page.Entries.Take(max - count))
                {
                    Print(ctx, e, rows);
                    count++;
                }

                continuation = page.ContinuationToken;
            }
            while (continuation is not null && count < max);

            Flush(ctx, rows);
            return ExitCodes.Ok;
        });
        return query;
    }

    private static Command Tail(Verbs verbs)
    {
        var topic = new Argument<string>("topic") { Description = "The log topic" };
        var lines = new Option<int>("--lines", "-n") { Description = "How many of the newest entries to show first", DefaultValueFactory = _ => 10 };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new entries until Ctrl-C" };
        var window = new Option<string>("--since") { Description = "How far back to look for the newest entries (default 1d)", DefaultValueFactory = _ => "1d" };
        var tail = new Command("tail", "The newest entries of a topic; with -f, then every new one as it is appended") { topic, lines, follow, window };
        verbs.Action(tail, async (ctx, ct) =>
        {
            var name = ctx.Get(topic);
            var n = ctx.Get(lines) is var v and >= 0 ? v : throw CliException.Usage("--lines must be 0 or more");
            var now = ctx.Console.Time.GetUtcNow();
            var since = TimeArgument.Parse(ctx.Get(window), now, "--since");
            var newest = new Queue<LogEntry>();
            var (lastTime, lastId) = (since, (RecordId?)null);
            string? continuation = null;
            do
            {
                var page = await ctx.Client.QueryLogsAsync(name, since, now.AddMilliseconds(1), Severity.Trace, 1000, continuation, ct).ConfigureAwait(false);
                foreach (var e in page.Entries)
                {
                    newest.Enqueue(e);
                    (lastTime, lastId) = (e.Timestamp, e.Id);
                    if (newest.Count > n)
                    {
                        newest.Dequeue();
                    }
                }

                continuation = page.ContinuationToken;
            }
            while (continuation is not null);

            foreach (var e in newest)
            {
                PrintLine(ctx, e);
            }

            if (!ctx.Get(follow))
            {
                return ExitCodes.Ok;
            }

            // Logs have no push stream: poll from the last entry seen. Entries with the same
            // timestamp as the last one are told apart by id, so none is printed twice.
            using var timer = new PeriodicTimer(FollowInterval, ctx.Console.Time);
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                continuation = null;
                do
                {
                    var page = await ctx.Client.QueryLogsAsync(name, lastTime, DateTimeOffset.MaxValue.AddDays(-1), Severity.Trace, 1000, continuation, ct).ConfigureAwait(false);
                    foreach (var e in page.Entries.Where(e => lastId is null || e.Timestamp > lastTime || e.Id > lastId.Value))
                    {
                        PrintLine(ctx, e);
                        (lastTime, lastId) = (e.Timestamp, e.Id);
                    }

                    continuation = page.ContinuationToken;
                }
                while (continuation is not null);
            }

            return ExitCodes.Ok;
        });
        return tail;
    }

    private static void Print(CliContext ctx, LogEntry e, List<LogEntry> rows)
    {
        if (ctx.Output.Mode == OutputMode.Human)
        {
            rows.Add(e);
        }
        else
        {
            PrintLine(ctx, e);
        }
    }

    private static void Flush(CliContext ctx, List<LogEntry> rows)
    {
        if (ctx.Output.Mode == OutputMode.Human)
        {
            ctx.Output.Table(["time", "severity", "id", "message"], rows.Select(e => new[] { CliOutput.Time(e.Timestamp), e.Severity.ToString(), e.Id.ToString(), e.Message }));
            ctx.Output.WriteLine($"Count: {rows.Count.ToString(CultureInfo.InvariantCulture)} entries");
        }
    }

    private static void PrintLine(CliContext ctx, LogEntry e) =>
        ctx.Output.Line(Views.View(e), ApiJsonContext.Default.LogEntryView, $"{CliOutput.Time(e.Timestamp)} {e.Severity,-8} {e.Id} {e.Message}", quiet: e.Message);
}
