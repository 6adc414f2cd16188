using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using ForgeOne.Cli.Infrastructure;
using ForgeOne.Common.Api;

namespace ForgeOne.Cli.Commands;

/// <summary><c>keys rotate [--shard kind-n] | events</c>: data-key rotation and the key event history.</summary>
public static partial class KeysCommands
{
    /// <summary>Builds the <c>keys</c> group.</summary>
    public static Command Build(Verbs verbs)
    {
        ArgumentNullException.ThrowIfNull(verbs);
        var shard = new Option<string?>("--shard") { Description = "Rotate only this shard's data key: kind-number, e.g. logs-3 (default: every shard)", HelpName = "kind-n" };
        var reason = new Option<string?>("--reason") { Description = "Why (recorded in the audit chain)" };
        var rotate = new Command("rotate", "Rotates data keys now: every shard's, or one shard's (--shard); old versions stay decrypt-only") { shard, reason };
        verbs.Action(rotate, async (ctx, ct) =>
        {
            if (ctx.Get(shard) is { } name)
            {
                var one = await ctx.Client.RotateShardKeyAsync(ShardName(name), ctx.Get(reason), ct).ConfigureAwait(false);
                ctx.Output.Result(one, ApiJsonContext.Default.ShardKeyRotationView,
                    o => o.WriteLine($"{one.Shard}: data key v{one.ActiveVersion.ToString(CultureInfo.InvariantCulture)} active ({(one.Rotated ? "rotated" : "not rotated")})"),
                    quiet: one.ActiveVersion.ToString(CultureInfo.InvariantCulture));
                return ExitCodes.Ok;
            }

            var all = await ctx.Client.RotateKeysAsync(ctx.Get(reason), ct).ConfigureAwait(false);
            ctx.Output.Result(all, ApiJsonContext.Default.KeyRotationView, o =>
            {
                o.WriteLine($"Rotated: {all.Rotated.ToString(CultureInfo.InvariantCulture)} of {all.Checked.ToString(CultureInfo.InvariantCulture)} shards");
                foreach (var failure in all.Failures)
                {
                    o.WriteLine($"  failed: {failure}");
                }
            }, quiet: all.Rotated.ToString(CultureInfo.InvariantCulture));
            return all.Failures.Length == 0 ? ExitCodes.Ok : ExitCodes.Failed;
        });

        var events = new Command("events", "The cluster-wide key event history (time shard event), oldest first");
        verbs.Action(events, async (ctx, ct) =>
        {
            var history = await ctx.Client.GetKeyEventsAsync(ct).ConfigureAwait(false);
            ctx.Output.Result(history, ApiJsonContext.Default.KeyEventsView, o =>
            {
                foreach (var e in history.Events)
                {
                    o.WriteLine(e);
                }

                o.WriteLine($"Count: {history.Events.Length.ToString(CultureInfo.InvariantCulture)} events");
            }, quiet: history.Events.Length.ToString(CultureInfo.InvariantCulture));
            return ExitCodes.Ok;
        });

        return Verbs.Group("keys", "Data keys (DEKs) and their rotation", rotate, events);
    }

    /// <summary>A shard name as the API takes it (<c>logs-3</c>); a malformed one is a usage error (nothing sent).</summary>
    public static string ShardName(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var m = ShardPattern().Match(text.Trim());
        return m.Success
            ? $"{m.Groups[1].Value}-{int.Parse(m.Groups[2].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture)}"
            : throw CliException.Usage($"--shard '{text}' is not a shard: kind-number, e.g. logs-3 (kinds: system, logs, events, blobs)");
    }

    [GeneratedRegex("^(system|logs|events|blobs)[-/]([0-9]{1,6})$")]
    private static partial Regex ShardPattern();
}
