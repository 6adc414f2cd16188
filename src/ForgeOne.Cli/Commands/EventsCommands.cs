using System.CommandLine;
using System.Text;
using ForgeOne.Cli.Infrastructure;
using ForgeOne.Common;
using ForgeOne.Common.Api;
using ForgeOne.Common.Model;
using P = ForgeOne.Cluster.Protocol.EventProtocol;

namespace ForgeOne.Cli.Commands;

/// <summary><c>events create-topic | topics | publish | subscribe</c>.</summary>
public static class EventsCommands
{
    /// <summary>Builds the <c>events</c> group.</summary>
    public static Command Build(Verbs verbs)
    {
        ArgumentNullException.ThrowIfNull(verbs);
        var topic = new Argument<string>("topic") { Description = "The events topic" };
        var payload = new Argument<string?>("payload") { Description = "The payload as text (or --file)", Arity = ArgumentArity.ZeroOrOne };
        var file = new Option<FileInfo?>("--file") { Description = "Read the payload bytes from this file ('-': standard input)" };
        var priority = new Option<Priority>("--priority", "-p") { Description = "Low, Normal, High or Critical", DefaultValueFactory = _ => Priority.Normal };
        var meta = new Option<string[]>("--meta", "-m") { Description = "Metadata key=value (repeatable)" };
        var publish = new Command("publish", "Publishes one event") { topic, payload, file, priority, meta };
        verbs.Action(publish, async (ctx, ct) =>
        {
            byte[] bytes;
            if (ctx.Get(file) is { } f)
            {
                if (ctx.Get(payload) is not null)
                {
                    throw CliException.Usage("give the payload as an argument or --file, not both");
                }

                if (f.Name == "-")
                {
                    using var buffer = new MemoryStream();
                    await ctx.Console.StandardInput.CopyToAsync(buffer, ct).ConfigureAwait(false);
                    bytes = buffer.ToArray();
                }
                else
                {
                    bytes = f.Exists ? await File.ReadAllBytesAsync(f.FullName, ct).ConfigureAwait(false) : throw CliException.Usage($"--file {f.FullName} does not exist");
                }
            }
            else
            {
                bytes = Encoding.UTF8.GetBytes(ctx.Get(payload) ?? throw CliException.Usage("give the payload as an argument or with --file"));
            }

            var name = ctx.Get(topic);
            var id = await ctx.Client.PublishAsync(name, new P.EventInput(ctx.Console.Time.GetUtcNow(), ctx.Get(priority), bytes, Views.Metadata(ctx.Get(meta), "--meta")), ct).ConfigureAwait(false);
            ctx.Output.Result(new EventPublished(name, id.ToString()), ApiJsonContext.Default.EventPublished, o => o.WriteLine(id.ToString()), quiet: id.ToString());
            return ExitCodes.Ok;
        });

        var subTopic = new Argument<string>("topic") { Description = "The events topic" };
        var beginning = new Option<bool>("--from-beginning") { Description = "Start with the topic's first event (default: only new ones)" };
        var after = new Option<string?>("--after") { Description = "Start right after this event id" };
        var subscribe = new Command("subscribe", "Prints the topic's events as they are published (in order, each once), until Ctrl-C") { subTopic, beginning, after };
        verbs.Action(subscribe, async (ctx, ct) =>
        {
            if (ctx.Get(beginning) && ctx.Get(after) is not null)
            {
                throw CliException.Usage("--from-beginning and --after exclude each other");
            }

            var start = ctx.Get(after) is { } a
                ? P.SubscriptionStart.AfterId(RecordId.TryParse(a, out var id) ? id : throw CliException.Usage($"--after '{a}' is not an event id (16 hex digits)"))
                : ctx.Get(beginning) ? P.SubscriptionStart.Beginning : P.SubscriptionStart.Now;
            ctx.Output.Note($"Subscribed to {ctx.Get(subTopic)} (Ctrl-C to stop)...");
            await foreach (var e in ctx.Client.SubscribeAsync(ctx.Get(subTopic), start, ct).ConfigureAwait(false))
            {
                var text = e.Payload is null ? "[redacted]" : Encoding.UTF8.GetString(e.Payload);
                ctx.Output.Line(Views.View(e), ApiJsonContext.Default.EventView, $"{CliOutput.Time(e.Timestamp)} {e.Priority,-8} {e.Id} {text}", quiet: e.Id.ToString());
            }

            return ExitCodes.Ok;
        });

        return Verbs.Group("events", "Events: topics, publish, subscribe", CreateTopic(verbs), Topics(verbs), publish, subscribe);
    }

    private static Command CreateTopic(Verbs verbs)
    {
        var name = new Argument<string>("topic") { Description = "The new topic's name" };
        var retention = new Option<string?>("--retention") { Description = "How long events are kept: 30d, 12h, 90m (default: forever)", HelpName = "duration" };
        var zone = new Option<string?>("--zone") { Description = "Residency zone its events stay in (default: the node's)", HelpName = "zone" };
        var classification = new Option<int>("--classification") { Description = "Clearance a reader needs (0 = public)", DefaultValueFactory = _ => 0 };
        var meta = new Option<string[]>("--meta", "-m") { Description = "Metadata key=value (repeatable)" };
        var create = new Command("create-topic", "Creates an events topic (topics are explicit: retention, residency and classification are set here)") { name, retention, zone, classification, meta };
        verbs.Action(create, async (ctx, ct) =>
        {
            TimeSpan? keep = ctx.Get(retention) is { } r ? Duration(r) : null;
            var created = await ctx.Client.CreateTopicAsync(ctx.Get(name), new P.TopicSettings(keep, ctx.Get(zone), ctx.Get(classification), false, Views.Metadata(ctx.Get(meta), "--meta")), ct).ConfigureAwait(false);
            var view = TopicView(created);
            ctx.Output.Result(view, ApiJsonContext.Default.TopicView, o => o.WriteLine($"Topic {view.Name} created (retention {(keep is { } k ? k.ToString() : "forever")}, zone {view.ResidencyZone ?? "-"})"), quiet: view.Name);
            return ExitCodes.Ok;
        });
        return create;
    }

    private static Command Topics(Verbs verbs)
    {
        var topics = new Command("topics", "The events topics (JSON Lines with --json)");
        verbs.Action(topics, async (ctx, ct) =>
        {
            var rows = new List<TopicView>();
            string? continuation = null;
            do
            {
                var (page, next) = await ctx.Client.ListTopicsAsync(1000, continuation, ct).ConfigureAwait(false);
                rows.AddRange(page.Select(TopicView));
                continuation = next;
            }
            while (continuation is not null);

            if (ctx.Output.Mode == OutputMode.Human)
            {
                ctx.Output.Table(["topic", "created", "retention", "zone", "classification", "legal hold"], rows.Select(t => new[]
                {
                    t.Name, CliOutput.Time(t.CreatedAt), t.RetentionSeconds is { } s ? TimeSpan.FromSeconds(s).ToString() : "forever", t.ResidencyZone ?? "-",
                    t.Classification.ToString(System.Globalization.CultureInfo.InvariantCulture), t.LegalHold ? "yes" : "no",
                }));
                ctx.Output.WriteLine($"Count: {rows.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)} topics");
            }
            else
            {
                foreach (var t in rows)
                {
                    ctx.Output.Line(t, ApiJsonContext.Default.TopicView, t.Name, quiet: t.Name);
                }
            }

            return ExitCodes.Ok;
        });
        return topics;
    }

    private static TopicView TopicView(P.TopicDescription t) =>
        new(t.Name, t.CreatedAt, t.Retention is { } r ? (long)r.TotalSeconds : null, t.ResidencyZone, t.Classification, t.LegalHold, t.Metadata);

    /// <summary>A retention like <c>30d</c>, <c>12h</c>, <c>90m</c>, <c>45s</c>; anything else is a usage error.</summary>
    private static TimeSpan Duration(string text) =>
        TimeArgument.TryParseDuration(text, out var span) && span > TimeSpan.Zero ? span : throw CliException.Usage($"--retention '{text}' is not a duration: 30d, 12h, 90m, 45s");
}
