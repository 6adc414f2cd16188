using ForgeOne.Cli.Commands;
using ForgeOne.Cli.Infrastructure;
using ForgeOne.Client.Http;
using ForgeOne.Common;
using ForgeOne.Common.Api;

namespace ForgeOne.Cli.Tests;

/// <summary>The CLI's pure parts: formats, argument parsing, endpoint resolution, failure classification, usage errors.</summary>
public sealed class CliUnitTests
{
    [Fact]
    public void MemberLine_HasPbmsShape()
    {
        var member = new MemberView("akka.tcp://forgeone@127.0.0.1:4053", "Up", ["storage", "dc-default", "edge"], true, "1.0.0");
        Assert.Equal("akka.tcp://forgeone@127.0.0.1:4053 | [edge, storage] | up | reachable | 1.0.0", ClusterFormat.MemberLine(member));
        Assert.Equal("akka.tcp://forgeone@127.0.0.1:4054 | [storage] | leaving | unreachable | unknown",
            ClusterFormat.MemberLine(new MemberView("akka.tcp://forgeone@127.0.0.1:4054", "Leaving", ["storage"], false)));
        Assert.Equal("Count: 3 nodes", ClusterFormat.CountLine(3));
    }

    [Theory]
    [InlineData("now", 0)]
    [InlineData("15m", -15 * 60)]
    [InlineData("-2h", -2 * 3600)]
    [InlineData("7d", -7 * 86400)]
    [InlineData("30s", -30)]
    public void TimeArgument_ReadsRelativeTimes(string text, int offsetSeconds)
    {
        var now = new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
        Assert.Equal(now.AddSeconds(offsetSeconds), TimeArgument.Parse(text, now, "--from"));
    }

    [Fact]
    public void TimeArgument_ReadsIsoAndRefusesGarbage()
    {
        var now = DateTimeOffset.UnixEpoch;
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero), TimeArgument.Parse("2026-12-01T10:00:00Z", now, "--from"));
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero), TimeArgument.Parse("2026-12-01", now, "--from"));
        var e = Assert.Throws<CliException>(() => TimeArgument.Parse("yesterday", now, "--to"));
        Assert.Equal(ExitCodes.Usage, e.ExitCode);
        Assert.Contains("--to 'yesterday'", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("logs-3", "logs-3")]
    [InlineData("logs-0003", "logs-3")]
    [InlineData("blobs/1", "blobs-1")]
    [InlineData("system-0", "system-0")]
    public void ShardName_Normalizes(string text, string expected) => Assert.Equal(expected, KeysCommands.ShardName(text));

    [Theory]
    [InlineData("logs")]
    [InlineData("files-1")]
    [InlineData("logs--1")]
    [InlineData("3")]
    public void ShardName_RefusesMalformedAsUsage(string text) =>
        Assert.Equal(ExitCodes.Usage, Assert.Throws<CliException>(() => KeysCommands.ShardName(text)).ExitCode);

    [Fact]
    public void Endpoint_FlagBeatsEnvironmentBeatsProfileBeatsDefault()
    {
        using var dir = new ForgeOne.IntegrationTests.TempDir();
        var config = Path.Combine(dir.Path, "config.json");
        File.WriteAllText(Path.Combine(dir.Path, "prod.key"), "fo_prod_key\n");
        File.WriteAllText(config, """
            { "defaultCluster": "local",
              "clusters": { "local": { "url": "http://127.0.0.1:9001", "apiKey": "fo_local" },
                            "prod": { "url": "https://edge.example:8443", "apiKeyFile": "prod.key" } } }
            """);
        var env = new Dictionary<string, string?> { ["FORGEONE_CONFIG"] = config };
        string? Env(string name) => env.GetValueOrDefault(name);

        var byDefaultCluster = Endpoint.Resolve(null, null, null, null, Env);
        Assert.Equal(("http://127.0.0.1:9001/", "fo_local"), (byDefaultCluster.Url.ToString(), byDefaultCluster.ApiKey));

        var named = Endpoint.Resolve(null, null, null, "prod", Env);
        Assert.Equal(("https://edge.example:8443/", "fo_prod_key"), (named.Url.ToString(), named.ApiKey));

        env["FORGEONE_URL"] = "http://10.0.0.1:8080";
        env["FORGEONE_API_KEY"] = "fo_env";
        var fromEnv = Endpoint.Resolve(null, null, null, "prod", Env);
        Assert.Equal(("http://10.0.0.1:8080/", "fo_env"), (fromEnv.Url.ToString(), fromEnv.ApiKey));

        var fromFlags = Endpoint.Resolve("http://127.0.0.1:7000", "fo_flag", null, "prod", Env);
        Assert.Equal(("http://127.0.0.1:7000/", "fo_flag", "--url", "--key"), (fromFlags.Url.ToString(), fromFlags.ApiKey, fromFlags.UrlSource, fromFlags.KeySource));

        env.Clear();
        var nothing = Endpoint.Resolve(null, null, null, null, name => name == "FORGEONE_CONFIG" ? Path.Combine(dir.Path, "missing.json") : null);
        Assert.Equal((Endpoint.DefaultUrl, (string?)null), (nothing.Url, nothing.ApiKey));
    }

    [Theory]
    [InlineData("""{ "clusters": { "a": { "url": "http://x:1", "apikey": "typo" } } }""", "apikey")]
    [InlineData("""{ "defaultCluster": "b", "clusters": { "a": { "url": "http://x:1" } } }""", "defaultCluster 'b'")]
    [InlineData("""{ "clusters": { "a": { "url": "not a url" } } }""", "invalid url")]
    [InlineData("""{ "clusters": """, "is not valid")]
    public void ProfileFile_RefusesMistakesAsUsage(string json, string named)
    {
        using var dir = new ForgeOne.IntegrationTests.TempDir();
        var config = Path.Combine(dir.Path, "config.json");
        File.WriteAllText(config, json);
        var e = Assert.Throws<CliException>(() => Endpoint.Resolve(null, null, null, null, n => n == "FORGEONE_CONFIG" ? config : null));
        Assert.Equal(ExitCodes.Usage, e.ExitCode);
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Failures_MapEachClassToItsExitCode()
    {
        var address = new Uri("http://127.0.0.1:1/");
        ForgeOneHttpException Problem(int status, string code) => new(new Problem("about:blank", "x", status, "detail", null, code));
        Assert.Equal(ExitCodes.Refused, Failures.Classify(Problem(401, ErrorCodes.Unauthenticated), address).ExitCode);
        Assert.Equal(ExitCodes.Refused, Failures.Classify(Problem(403, ErrorCodes.Forbidden), address).ExitCode);
        var notFound = Failures.Classify(Problem(404, ErrorCodes.NotFound), address);
        Assert.Equal((ExitCodes.Failed, ErrorCodes.NotFound), (notFound.ExitCode, notFound.Code));
        Assert.Equal(ExitCodes.Failed, Failures.Classify(Problem(503, ErrorCodes.Unavailable), address).ExitCode);
        var unreachable = Failures.Classify(new ForgeOneException(ErrorCodes.Unreachable, "no answer", new HttpRequestException("Connection refused")), address);
        Assert.Equal(ExitCodes.Unreachable, unreachable.ExitCode);
        Assert.Contains("http://127.0.0.1:1/", unreachable.Message, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Unreachable, Failures.Classify(new HttpRequestException("Connection refused"), address).ExitCode);
        Assert.Equal(ExitCodes.Interrupted, Failures.Classify(new OperationCanceledException(), address).ExitCode);
    }

    [Theory]
    [InlineData("cluster", "shw")]
    [InlineData("cluster")]
    [InlineData("cluster", "show", "--bogus")]
    [InlineData("cluster-sharding", "region-stats")]
    [InlineData("keys", "rotate", "--shard", "nonsense")]
    [InlineData("cluster", "show", "--json", "--quiet")]
    [InlineData("evidence", "export")]
    [InlineData("backup", "run", "--type", "weekly")]
    [InlineData("backup", "restore", "b-1", "--to-time", "1h")]
    [InlineData("keys", "backup")]
    [InlineData("logs", "query", "--topic", "t", "--from", "yesterday")]
    [InlineData("schema", "migrate", "--without-rehearsal")]
    [InlineData("schema", "frobnicate")]
    public async Task UsageErrors_Exit2WithoutContactingAnyNode(params string[] args)
    {
        // No node listens on port 1: a usage error must be decided before anything is sent.
        var run = await Forgeone.InProcessAsync([.. args, "--url", "http://127.0.0.1:1"]);
        Assert.True(run.ExitCode == ExitCodes.Usage, run.ToString());
        Assert.StartsWith("error: ", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("cannot reach", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_ListsExitCodesAndReservedVerbs()
    {
        var run = await Forgeone.InProcessAsync(["--help"]);
        Assert.Equal(0, run.ExitCode);
        foreach (var expected in new[] { "3    cannot reach the node", "4    authentication or authorization refused", "backup", "dr", "evidence", "schema", "cluster-sharding" })
        {
            Assert.Contains(expected, run.Stdout, StringComparison.Ordinal);
        }
    }
}
