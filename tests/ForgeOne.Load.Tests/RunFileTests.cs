using ForgeOne.LoadRunner;

namespace ForgeOne.Load.Tests;

public class RunFileTests
{
    private const string Yaml = """
        name: ingest
        target:
          kind: cluster
          seeds: [akka.tcp://forgeone@127.0.0.1:4053]
          shardCounts: { logs: 16 }
        run:
          maxInFlight: 64
          maxDuration: 2m
          reportFolder: out
          seed: 7
        scenarios:
          - name: write
            type: log-append
            batch: 100
            warmUp: 5s
            load:
              - rampingInject: { rate: 100, interval: 1s, during: 10s }
              - injectRandom: { minRate: 50, maxRate: 150, interval: 500ms, during: 10s }
              - pause: 2s
              - keepConstant: { copies: 4, during: 30s }
              - rampingConstant: { copies: 0, during: 5s }
            thresholds:
              - "fail% < 1"
              - { expr: "p99 < 20 ms", abortWhenErrorCount: 3, startCheckAfter: 10s }
          - name: count
            type: log-get
            load:
              - iterationsForInject: { rate: 10, interval: 1s, iterations: 95 }
        """;

    [Fact]
    public void Parse_ReadsEveryPartOfAYamlRunFile()
    {
        var run = RunDefinition.Parse(Yaml, yaml: true);

        Assert.Equal(("ingest", 64, TimeSpan.FromMinutes(2), "out", 7), (run.Name, run.MaxInFlight, run.MaxDuration, run.ReportFolder, run.Seed));
        Assert.Equal(("cluster", "akka.tcp://forgeone@127.0.0.1:4053", 16, 8, 4, false), (run.Target.Kind, Assert.Single(run.Target.Seeds), run.Target.Logs, run.Target.Events, run.Target.Blobs, run.Target.NoSync));
        var write = run.Scenarios[0];
        Assert.Equal(("write", "log-append", 100, TimeSpan.FromSeconds(5)), (write.Name, write.Type, write.Parameters.Batch, write.WarmUp));
        Assert.Equal(
            new LoadSimulation[]
            {
                Simulation.RampingInject(100, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10)),
                Simulation.InjectRandom(50, 150, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(10)),
                Simulation.Pause(TimeSpan.FromSeconds(2)),
                Simulation.KeepConstant(4, TimeSpan.FromSeconds(30)),
                Simulation.RampingConstant(0, TimeSpan.FromSeconds(5)),
            },
            write.Load);
        Assert.Equal(["fail% < 1", "p99 < 20 ms"], write.Thresholds.Select(t => t.Expression));
        Assert.Equal((3, TimeSpan.FromSeconds(10)), (write.Thresholds[1].AbortWhenErrorCount, write.Thresholds[1].StartCheckAfter));
        Assert.Equal(Simulation.IterationsForInject(10, TimeSpan.FromSeconds(1), 95), Assert.Single(run.Scenarios[1].Load));
    }

    [Fact]
    public void Parse_JsonAndYamlOfTheSameRun_AreTheSame()
    {
        const string json = """
            { "name": "j", "scenarios": [ { "name": "w", "type": "log-append", "weight": 80, "load": [ { "inject": { "rate": 5, "interval": "1s", "during": "3s" } } ], "thresholds": ["fail == 0"] } ] }
            """;
        const string yaml = """
            name: j
            scenarios:
              - name: w
                type: log-append
                weight: 80
                load: [ { inject: { rate: 5, interval: 1s, during: 3s } } ]
                thresholds: ["fail == 0"]
            """;

        var a = RunDefinition.Parse(json, yaml: false);
        var b = RunDefinition.Parse(yaml, yaml: true);

        Assert.Equal(a.Scenarios[0].Load, b.Scenarios[0].Load);
        Assert.Equal((a.Name, a.Scenarios[0].Weight, a.Scenarios[0].Parameters), (b.Name, b.Scenarios[0].Weight, b.Scenarios[0].Parameters));
    }

    [Fact]
    public void Parse_ListsEveryProblemWithItsPath()
    {
        const string yaml = """
            name: bad
            colour: blue
            target: { kind: moon }
            scenarios:
              - name: a
                type: log-append
                batch: 0
                load:
                  - inject: { rate: 10, interval: 300ms, during: 1s }
                  - warpDrive: { factor: 9 }
                  - keepConstant: { copies: 4, during: soon }
                thresholds: ["p99 < 20 parsecs", { step: x }]
              - name: a
                type: teleport
                load: [ { pause: 1s } ]
            """;

        var ex = Assert.Throws<RunFileException>(() => RunDefinition.Parse(yaml, yaml: true, "bad.yaml"));

        Assert.Equal(
            [
                "target.kind: 'moon' is not one of node, cluster",
                "scenarios[0].load[0].inject.during: must be a whole number of intervals (300ms)",
                "scenarios[0].load[1].warpDrive: unknown load simulation",
                "scenarios[0].load[2].keepConstant.during: 'soon' is not a duration (use e.g. 500ms, 30s, 2m, 1h)",
                "scenarios[0].thresholds[0]: threshold 'p99 < 20 parsecs': latency unit must be us, ms or s, not 'parsecs'",
                "scenarios[0].thresholds[1].expr: a threshold needs an expression such as 'p99 < 20 ms'",
                "scenarios[0].batch: must be 1..10000",
                "scenarios[1].type: 'teleport' is not one of log-append, log-query, log-get, event-publish-deliver, blob-transfer",
                "scenarios: name 'a' is used 2 times",
                "colour: unknown key",
            ],
            ex.Problems);
        Assert.StartsWith("bad.yaml: 10 problem(s):", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_RefusesWeightedScenariosWithDifferentLoads()
    {
        const string yaml = """
            scenarios:
              - { name: r, type: log-get, weight: 80, load: [ { inject: { rate: 10, interval: 1s, during: 5s } } ] }
              - { name: w, type: log-append, weight: 20, load: [ { inject: { rate: 20, interval: 1s, during: 5s } } ] }
            """;

        var ex = Assert.Throws<RunFileException>(() => RunDefinition.Parse(yaml, yaml: true));
        Assert.Equal(["scenarios: weighted scenarios share one load: give them the same load and warmUp"], ex.Problems);
    }

    [Fact]
    public void Parse_RejectsInvalidSyntaxAndAnEmptyRun()
    {
        Assert.Contains("not valid YAML", Assert.Throws<RunFileException>(() => RunDefinition.Parse("scenarios: [unclosed", yaml: true)).Message, StringComparison.Ordinal);
        Assert.Contains("not valid JSON", Assert.Throws<RunFileException>(() => RunDefinition.Parse("{ \"name\": ", yaml: false)).Message, StringComparison.Ordinal);
        Assert.Equal(["scenarios: at least one scenario is required"], Assert.Throws<RunFileException>(() => RunDefinition.Parse("name: empty", yaml: true)).Problems);
    }

    [Fact]
    public void BuiltInProfiles_AllParse()
    {
        var files = Directory.GetFiles(Cli.ProfilesDirectory, "*.yaml");
        Assert.Contains(files, f => f.EndsWith("smoke.yaml", StringComparison.Ordinal));
        foreach (var file in files)
        {
            var run = RunDefinition.Load(file);
            Assert.NotEmpty(run.Scenarios);
        }
    }

    [Fact]
    public void Options_OverrideTheTargetAndSelectScenarios()
    {
        var run = RunDefinition.Parse(Yaml, yaml: true) with { Target = TargetDefinition.Default };

        var changed = Cli.ApplyOptions(run, ["--seeds", "akka.tcp://forgeone@127.0.0.1:4053, akka.tcp://forgeone@127.0.0.1:4054", "--only", "count", "--reports", "r", "--nosync"]);

        Assert.Equal(("cluster", 2, true, "r"), (changed.Target.Kind, changed.Target.Seeds.Count, changed.Target.NoSync, changed.ReportFolder));
        Assert.Equal(["count"], changed.Scenarios.Select(s => s.Name));
        Assert.Contains("no scenario named nope", Assert.Throws<ArgumentException>(() => Cli.ApplyOptions(run, ["--only", "nope"])).Message, StringComparison.Ordinal);
        Assert.Contains("unknown option '--turbo'", Assert.Throws<ArgumentException>(() => Cli.ApplyOptions(run, ["--turbo"])).Message, StringComparison.Ordinal);
        Assert.Contains("needs --seeds", Assert.Throws<ArgumentException>(() => Cli.ApplyOptions(run, ["--target", "cluster"])).Message, StringComparison.Ordinal);
    }
}
