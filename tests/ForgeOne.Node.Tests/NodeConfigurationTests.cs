using System.Collections;
using ForgeOne.Cluster.Hosting;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace ForgeOne.Node.Tests;

/// <summary>The node's configuration as a user gets it wrong: every mistake reported at once, none thrown.</summary>
public sealed class NodeConfigurationTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "forgeone-config-tests", Guid.NewGuid().ToString("N"));

    public NodeConfigurationTests() => Directory.CreateDirectory(_dir);

    [Fact]
    public void Load_ReportsEveryProblemTogether_EachNamingItsKeyAndWhereItCameFrom()
    {
        var result = Load(
            ["--ForgeOne:Port=abc", "--ForgeOne:Shards:PassivateIdleAfter=soon", "--config", "nothere.json", "--ForgeOne:DataRute=/data", "--ForgeOne:ShardCount:Logs=3"],
            new Hashtable { ["FORGEONE__Shards__MaxGroupCommit"] = "lots", ["PATH"] = "/usr/bin" });

        Assert.Equal(6, result.Errors.Count);
        Assert.Contains(result.Errors, e => e.StartsWith("ForgeOne:Port 'abc' is not a whole number (from the command line)", StringComparison.Ordinal));
        Assert.Contains(result.Errors, e => e.StartsWith("ForgeOne:Shards:PassivateIdleAfter 'soon' is not a duration", StringComparison.Ordinal));
        Assert.Contains(result.Errors, e => e.StartsWith("ForgeOne:Shards:MaxGroupCommit 'lots' is not a whole number (from a FORGEONE__ environment variable)", StringComparison.Ordinal));
        Assert.Contains(result.Errors, e => e == $"Configuration file '{Path.Combine(_dir, "nothere.json")}' does not exist.");
        Assert.Contains(result.Errors, e => e.Contains("ForgeOne:DataRute is not a setting", StringComparison.Ordinal) && e.EndsWith("did you mean ForgeOne:DataRoot?", StringComparison.Ordinal));
        Assert.Contains(result.Errors, e => e.Contains("ForgeOne:ShardCount is not a setting", StringComparison.Ordinal) && e.EndsWith("did you mean ForgeOne:ShardCounts?", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_MalformedJsonFile_IsNamed_AndTheOtherLayersStillCount()
    {
        File.WriteAllText(Path.Combine(_dir, "broken.json"), "{ \"ForgeOne\": { \"Port\": 4053, ");
        var result = Load(["--config", "broken.json", "--ForgeOne:Port=-5"]);
        Assert.Equal(2, result.Errors.Count);
        Assert.Contains(result.Errors, e => e.StartsWith($"Configuration file '{Path.Combine(_dir, "broken.json")}' could not be read", StringComparison.Ordinal));
        Assert.Contains(result.Errors, e => e.Contains("ForgeOne:Port -5 must be 0..65535", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_ValuesInEveryLayer_LaterLayersWin_DurationsAndSizesInFriendlyUnits()
    {
        File.WriteAllText(Path.Combine(_dir, "node.json"), """
            { "ForgeOne": { "Port": 5000, "Roles": ["storage"], "Shards": { "PassivateIdleAfter": "00:02:00", "MaxGroupBytes": "16MiB" } } }
            """);
        var result = Load(["--config", "node.json", "--ForgeOne:Shards:PassivateIdleAfter=5min", "--ForgeOne:Shards:ReadAuditDelay", "250ms"], new Hashtable { ["FORGEONE__PORT"] = "5001", ["forgeone__seednodes"] = "akka.tcp://forgeone@10.0.0.1:4053,akka.tcp://forgeone@10.0.0.2:4053" });
        Assert.Empty(result.Errors);
        Assert.Equal(5001, result.Options.Port);
        Assert.Equal(["storage"], result.Options.Roles);
        Assert.Equal(TimeSpan.FromMinutes(5), result.Options.Shards.PassivateIdleAfter);
        Assert.Equal(TimeSpan.FromMilliseconds(250), result.Options.Shards.ReadAuditDelay);
        Assert.Equal(16L << 20, result.Options.Shards.MaxGroupBytes);
        Assert.Equal(["akka.tcp://forgeone@10.0.0.1:4053", "akka.tcp://forgeone@10.0.0.2:4053"], result.Options.SeedNodes);
    }

    [Fact]
    public void Load_BackupTargets_BindAsAListOfSections_AndTheirMistakesAreNamed()
    {
        File.WriteAllText(Path.Combine(_dir, "backup.json"), """
            { "ForgeOne": { "Backup": { "Targets": [ { "Region": "eu-west", "Path": "/srv/backup-a" }, { "Region": "us-east", "Path": "/srv/backup-b", "Required": false, "KeysPath": "/srv/keys-b" } ],
              "FullInterval": "3d", "MaxAge": "90d", "Scheduled": false } } }
            """);
        var result = Load(["--config", "backup.json", "--ForgeOne:Backup:Targets:1:Region=us-west"]);
        Assert.Empty(result.Errors);
        var targets = result.Options.Backup.Targets;
        Assert.Equal(["eu-west", "us-west"], targets.Select(t => t.Region));
        Assert.Equal(("/srv/backup-b", false, "/srv/keys-b"), (targets[1].Path, targets[1].Required, targets[1].KeysPath));
        Assert.Equal(TimeSpan.FromDays(3), result.Options.Backup.FullInterval);
        Assert.Equal(TimeSpan.FromDays(90), result.Options.Backup.MaxAge);
        Assert.False(result.Options.Backup.Scheduled);

        var wrong = Load(["--ForgeOne:Backup:Targets:0:Regon=eu", "--ForgeOne:Backup:Targets:x:Path=/a", "--ForgeOne:Backup:Targets:1:Region=eu", "--ForgeOne:Backup:Targets:1:Path=/b"]);
        Assert.Contains(wrong.Errors, e => e.Contains("ForgeOne:Backup:Targets:0:Regon", StringComparison.Ordinal) && e.Contains("Region", StringComparison.Ordinal));
        Assert.Contains(wrong.Errors, e => e.Contains("ForgeOne:Backup:Targets is a list", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_ArgumentsThatAreNotSettings_AreRefused()
    {
        var result = Load(["serve", "--ForgeOne:Port", "--config"]);
        Assert.Equal(3, result.Errors.Count);
        Assert.Contains(result.Errors, e => e.StartsWith("Argument 'serve' is not understood", StringComparison.Ordinal));
        Assert.Contains(result.Errors, e => e.StartsWith("Argument '--ForgeOne:Port' has no value", StringComparison.Ordinal));
        Assert.Contains(result.Errors, e => e.StartsWith("--config needs a file name", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_NoArguments_IsTheValidSingleNodeDefault()
    {
        var result = Load([]);
        Assert.Empty(result.Errors);
        Assert.Equal([ForgeOneNodeOptions.StorageRole, ForgeOneNodeOptions.EdgeRole], result.Options.Roles);
        Assert.False(result.CheckOnly);
        Assert.True(Load([NodeConfiguration.CheckArgument]).CheckOnly);
    }

    /// <summary>
    /// Any mix of arguments, environment variables and a file (valid or broken JSON, known,
    /// misspelled and random keys, values of every shape): the loader never throws, and a
    /// configuration it accepts is one the options' own rules accept.
    /// </summary>
    [Property(MaxTest = 300)]
    public Property Load_RandomConfigurations_NeverThrow_AndAcceptOnlyValidOptions() =>
        Prop.ForAll(Inputs().ToArbitrary(), input =>
        {
            File.WriteAllText(Path.Combine(_dir, "random.json"), input.File);
            var result = Load([.. input.Args, "--config", "random.json"], input.Environment);
            return result.Errors.Count > 0 || result.Options.Validate().Count == 0;
        });

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }

    /// <summary>Random configuration inputs (shared with the process-level property in the integration tests).</summary>
    public static Gen<ConfigInput> Inputs()
    {
        string[] keys =
        [
            "Port", "Hostname", "ClusterName", "DataRoot", "DataRute", "KeysDirectory", "Roles", "Roles:0", "Roles:1", "SeedNodes:0", "Region", "LogFormat",
            "ShardCounts:Logs", "ShardCount:Logs", "ShardCounts:Blobs", "Shards:MaxGroupCommit", "Shards:MaxGroupBytes", "Shards:PassivateIdleAfter",
            "Shards:ReadAuditDelay", "Shards:NoSync", "Shards", "Singletons:SealInterval", "Persistence:Provider", "Failure:StableAfter", "Compliance:RetentionSweepBatch", "Bogus:Deep:Key",
        ];
        string[] values =
        [
            "0", "1", "4053", "65536", "-1", "abc", "", " ", "true", "false", "5min", "00:00:10", "1.5s", "-3s", "10000000000000000000", "16MiB", "storage", "edge,client", "chef",
            "akka.tcp://forgeone@127.0.0.1:4053", "./data", "json", "sqlite", "postgresql", "\u0000\u0007", "ünïcödé", "1e309", "NaN", "99999999999999999999999d",
        ];
        var pair = Gen.Zip(Gen.Elements(keys), Gen.OneOf(Gen.Elements(values), ArbMap.Default.GeneratorFor<string>().Where(s => s is not null)));
        var args = pair.Select(p => $"--ForgeOne:{p.Item1}={p.Item2}").ArrayOf();
        var environment = pair.ArrayOf().Select(ps =>
        {
            var table = new Hashtable();
            foreach (var (key, value) in ps)
            {
                table[$"FORGEONE__{key.Replace(":", "__", StringComparison.Ordinal)}"] = value;
            }

            return table;
        });
        var file = Gen.OneOf(
            pair.ArrayOf().Select(ps => "{ \"ForgeOne\": { " + string.Join(", ", ps.DistinctBy(p => p.Item1.Split(':')[0]).Select(p => $"\"{p.Item1.Split(':')[0]}\": \"{p.Item2.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\u0000", "", StringComparison.Ordinal).Replace("\u0007", "", StringComparison.Ordinal)}\"")) + " } }"),
            Gen.Elements("{", "[]", "{ \"ForgeOne\": [1, 2] }", "{ \"ForgeOne\": 5 }", "{ \"ForgeOne\": { \"Shards\": { \"MaxGroupCommit\": { \"x\": 1 } } } }", "", "null", "{ \"ForgeOne\": { \"Roles\": [ [\"a\"] ] } }"),
            ArbMap.Default.GeneratorFor<string>().Where(s => s is not null));
        var extra = Gen.Elements<string[]>([], ["stray"], ["--ForgeOne:Port"], ["--check-config"], ["--config"], ["--=x"]);
        return Gen.Zip(Gen.Zip(args, extra), Gen.Zip(environment, file)).Select(t => new ConfigInput([.. t.Item1.Item1, .. t.Item1.Item2], t.Item2.Item1, t.Item2.Item2));
    }

    private NodeConfigurationResult Load(string[] args, Hashtable? environment = null) =>
        NodeConfiguration.Load(args, _dir, Path.Combine(_dir, "bin"), environment ?? new Hashtable());
}

/// <summary>One random configuration: arguments, environment, and the text of a JSON file.</summary>
public sealed record ConfigInput(string[] Args, Hashtable Environment, string File);
