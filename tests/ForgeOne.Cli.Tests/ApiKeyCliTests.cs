using System.Text.Json;
using ForgeOne.Cli.Infrastructure;
using ForgeOne.Common.Api;

namespace ForgeOne.Cli.Tests;

/// <summary><c>forgeone apikey</c> against a running node: the secret printed once, the key usable, escalation and revoked keys refused with exit 4.</summary>
[Collection("node")]
[Trait("Category", "MultiProcess")]
public sealed class ApiKeyCliTests(NodeFixture node)
{
    private Dictionary<string, string> As(string key) => new(node.AdminEnvironment) { ["FORGEONE_API_KEY"] = key };

    [Fact]
    public async Task CreateListUseRevoke_AsAProcess()
    {
        var created = await Forgeone.ProcessAsync(["apikey", "create", "--name", "cli ingest", "--role", "writer", "--tenant", "acme", "--expires", "30d", "--quiet"], node.AdminEnvironment);
        Assert.True(created.ExitCode == 0, created.ToString());
        var key = Assert.Single(created.Lines);
        Assert.Matches("^fo_live_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$", key);
        var id = key.Split('_')[2];

        var listed = await Forgeone.InProcessAsync(["apikey", "list", "--json"], node.AdminEnvironment);
        Assert.True(listed.ExitCode == 0, listed.ToString());
        Assert.DoesNotContain(key[^43..], listed.Stdout, StringComparison.Ordinal);
        var view = JsonSerializer.Deserialize(listed.Stdout, ApiJsonContext.Default.ApiKeyListView)!;
        var mine = Assert.Single(view.Keys, k => k.Id == id);
        Assert.Equal(("cli ingest", "writer", "acme", "active"), (mine.Name, mine.Roles.Single(), mine.Tenant, mine.Status));
        Assert.InRange(mine.ExpiresAt!.Value, DateTimeOffset.UtcNow.AddDays(29), DateTimeOffset.UtcNow.AddDays(31));
        var human = await Forgeone.InProcessAsync(["apikey", "list"], node.AdminEnvironment);
        Assert.Contains(human.Lines, l => l.Contains(id, StringComparison.Ordinal) && l.Contains("active", StringComparison.Ordinal));
        Assert.Equal($"Count: {view.Keys.Length} keys", human.Lines[^1]);

        Assert.Equal(0, (await Forgeone.InProcessAsync(["logs", "append", "cli.apikey", "by a key"], As(key))).ExitCode);
        var escalate = await Forgeone.InProcessAsync(["apikey", "create", "--name", "mine now", "--role", "admin"], As(key));
        Assert.True(escalate.ExitCode == ExitCodes.Refused, escalate.ToString());

        var revoked = await Forgeone.ProcessAsync(["apikey", "revoke", id, "--reason", "cli test"], node.AdminEnvironment);
        Assert.True(revoked.ExitCode == 0, revoked.ToString());
        Assert.StartsWith($"API key {id} revoked", revoked.Lines.Single(), StringComparison.Ordinal);
        var refused = await Forgeone.InProcessAsync(["logs", "append", "cli.apikey", "after revocation"], As(key));
        Assert.True(refused.ExitCode == ExitCodes.Refused, refused.ToString());
        Assert.Contains("auth.unauthenticated", refused.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_WithoutARoleOrWithAnUnreadableExpiry_IsAUsageError()
    {
        Assert.Equal(ExitCodes.Usage, (await Forgeone.InProcessAsync(["apikey", "create", "--name", "x"], node.AdminEnvironment)).ExitCode);
        Assert.Equal(ExitCodes.Usage, (await Forgeone.InProcessAsync(["apikey", "create", "--name", "x", "--role", "writer", "--expires", "soon"], node.AdminEnvironment)).ExitCode);
        Assert.Equal(ExitCodes.Failed, (await Forgeone.InProcessAsync(["apikey", "revoke", "0000000000000000"], node.AdminEnvironment)).ExitCode);
    }
}
