using System.CommandLine;
using System.Globalization;
using ForgeOne.Cli.Infrastructure;
using ForgeOne.Common.Api;

namespace ForgeOne.Cli.Commands;

/// <summary><c>apikey create --role --tenant [--expires] | list | revoke</c>: the cluster's API keys.</summary>
public static class ApiKeyCommands
{
    /// <summary>Builds the <c>apikey</c> group.</summary>
    public static Command Build(Verbs verbs)
    {
        ArgumentNullException.ThrowIfNull(verbs);
        var name = new Option<string>("--name") { Description = "What the key is for (shown in listings and the audit trail)", Required = true };
        var roles = new Option<string[]>("--role") { Description = "A role of the key's principal (repeat for several)", Required = true, AllowMultipleArgumentsPerToken = true, HelpName = "role" };
        var tenant = new Option<string?>("--tenant") { Description = "The tenant it acts for (omit for a cluster-level key)" };
        var regions = new Option<string[]>("--region") { Description = "A residency region it may touch (repeat; default: the regions you hold)", AllowMultipleArgumentsPerToken = true, HelpName = "region" };
        var clearance = new Option<int?>("--clearance") { Description = "Highest data classification it may touch (default 0)" };
        var expires = new Option<string?>("--expires") { Description = "When it stops working: an ISO 8601 time or a duration from now (90d, 12h, 30m)", HelpName = "time" };
        var create = new Command("create", "Creates an API key and prints its secret, once (the cluster keeps only a salted hash)") { name, roles, tenant, regions, clearance, expires };
        verbs.Action(create, async (ctx, ct) =>
        {
            var input = new ApiKeyInput(ctx.Get(name)!, ctx.Get(roles) ?? [], ctx.Get(tenant), ctx.Get(regions) is { Length: > 0 } r ? r : null, ctx.Get(clearance), Expiry(ctx.Get(expires)));
            var made = await ctx.Client.CreateApiKeyAsync(input, ct).ConfigureAwait(false);
            ctx.Output.Result(made, ApiJsonContext.Default.ApiKeyCreatedView, o =>
            {
                o.WriteLine($"API key {made.ApiKey.Id} created for {Describe(made.ApiKey)}.");
                o.WriteLine("Its secret is shown this once; store it now:");
                o.WriteLine(made.Key);
            }, quiet: made.Key);
            return ExitCodes.Ok;
        });

        var list = new Command("list", "The API keys you administer, revoked ones too (never a secret)");
        verbs.Action(list, async (ctx, ct) =>
        {
            var all = await ctx.Client.ListApiKeysAsync(ct).ConfigureAwait(false);
            ctx.Output.Result(all, ApiJsonContext.Default.ApiKeyListView, o =>
            {
                o.Table(["id", "name", "roles", "tenant", "status", "expires", "created by"], all.Keys.Select(k => new[]
                {
                    k.Id, k.Name, string.Join(',', k.Roles), k.Tenant ?? "-", k.Status,
                    k.ExpiresAt?.ToString("u", CultureInfo.InvariantCulture) ?? "never", k.CreatedBy,
                }));
                o.WriteLine($"Count: {all.Keys.Length.ToString(CultureInfo.InvariantCulture)} keys");
            }, quiet: string.Join('\n', all.Keys.Select(k => k.Id)));
            return ExitCodes.Ok;
        });

        var id = new Argument<string>("id") { Description = "The key id (fo_live_<id>_...)" };
        var reason = new Option<string?>("--reason") { Description = "Why (recorded in the audit chain)" };
        var revoke = new Command("revoke", "Revokes an API key: refused at once, on every node once replicated (at the latest when its tokens expire)") { id, reason };
        verbs.Action(revoke, async (ctx, ct) =>
        {
            var done = await ctx.Client.RevokeApiKeyAsync(ctx.Get(id)!, ctx.Get(reason), ct).ConfigureAwait(false);
            ctx.Output.Result(done, ApiJsonContext.Default.ApiKeyRevokedView,
                o => o.WriteLine($"API key {done.ApiKey.Id} {(done.Changed ? "revoked" : "was already revoked")}{(done.Replicated ? "; every node refuses it" : "; other nodes refuse it once replication reaches them")}."),
                quiet: done.ApiKey.Id);
            return ExitCodes.Ok;
        });

        return Verbs.Group("apikey", "API keys: create (secret shown once), list, revoke", create, list, revoke);
    }

    private static string Describe(ApiKeyView k) =>
        $"roles {string.Join(',', k.Roles)}{(k.Tenant is null ? "" : " of tenant " + k.Tenant)}{(k.ExpiresAt is { } e ? ", until " + e.ToString("u", CultureInfo.InvariantCulture) : "")}";

    private static DateTimeOffset? Expiry(string? value)
    {
        if (value is null)
        {
            return null;
        }

        if (value.Length > 1 && char.IsAsciiDigit(value[0]) && value[^1] is 'd' or 'h' or 'm'
            && int.TryParse(value.AsSpan(0, value.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0)
        {
            return DateTimeOffset.UtcNow + value[^1] switch { 'd' => TimeSpan.FromDays(n), 'h' => TimeSpan.FromHours(n), _ => TimeSpan.FromMinutes(n) };
        }

        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? at
            : throw CliException.Usage($"--expires '{value}' is neither an ISO 8601 time nor a duration like 90d, 12h or 30m.");
    }
}
