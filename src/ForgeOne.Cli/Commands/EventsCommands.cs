using System.CommandLine;
using System.Text;
using ForgeOne.Cli.Infrastructure;
using ForgeOne.Common;
using ForgeOne.Common.Api;
using ForgeOne.Common.Model;
using P = ForgeOne.Cluster.Protocol.EventProtocol;

namespace ForgeOne.Cli.Commands;

/// <summary><c>events publish | subscribe</c>.</summary>
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

        return Verbs.Group("events", "Events by topic: publish and subscribe", publish, subscribe);
    }
}
