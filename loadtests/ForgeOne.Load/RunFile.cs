using System.Text.Json.Nodes;
using ForgeOne.LoadRunner;

namespace ForgeOne.Load;

/// <summary>Where the load goes: a node this runner starts as a child process, or a running cluster.</summary>
/// <param name="Kind"><c>node</c> (default) or <c>cluster</c>.</param>
/// <param name="Seeds">Seed node addresses of a running cluster.</param>
/// <param name="Logs">Log shard count of the cluster (a node started here gets it too).</param>
/// <param name="Events">Events shard count.</param>
/// <param name="Blobs">Blob shard count.</param>
/// <param name="NoSync">Node started here: no fsync per commit (faster, not durable).</param>
/// <param name="NodeDll">Node started here: the ForgeOne.Node.dll to run (default: the one built beside this tool).</param>
/// <param name="Http">Cluster target: base address of an HTTP edge for <c>via: http</c> scenarios (a node started here serves one itself).</param>
/// <param name="ApiKeyFile">Cluster target: file holding the API key HTTP requests present.</param>
public sealed record TargetDefinition(string Kind, IReadOnlyList<string> Seeds, int Logs, int Events, int Blobs, bool NoSync, string? NodeDll, string? Http, string? ApiKeyFile = null)
{
    /// <summary>A node started by the runner, the node's default shard counts.</summary>
    public static TargetDefinition Default { get; } = new("node", [], 8, 8, 4, false, null, null);
}

/// <summary>One scenario of a run file: its catalog type, load, thresholds and type-specific parameters.</summary>
public sealed record ScenarioDefinition(
    string Name,
    string Type,
    IReadOnlyList<LoadSimulation> Load,
    IReadOnlyList<Threshold> Thresholds,
    TimeSpan WarmUp,
    int Weight,
    ScenarioParameters Parameters);

/// <summary>Type-specific parameters (each type reads the ones it uses; see <see cref="ScenarioCatalog"/>).</summary>
/// <param name="Batch">Entries per append (1: single appends).</param>
/// <param name="Via"><c>actor</c> or <c>http</c>.</param>
/// <param name="Topics">Distinct topics the scenario spreads over.</param>
/// <param name="MessageBytes">Bytes per log message / event payload.</param>
/// <param name="Size">Blob size in bytes.</param>
/// <param name="Prefill">Entries written before the load (reads and queries need data).</param>
/// <param name="Limit">Page size of a query.</param>
public sealed record ScenarioParameters(int Batch, string Via, int Topics, int MessageBytes, int Size, int Prefill, int Limit);

/// <summary>A whole run file: name, target, run bounds and scenarios.</summary>
public sealed record RunDefinition(
    string Name,
    TargetDefinition Target,
    int MaxInFlight,
    TimeSpan MaxDuration,
    string ReportFolder,
    int Seed,
    IReadOnlyList<ScenarioDefinition> Scenarios)
{
    /// <summary>Reads a run file (<c>.yaml</c>/<c>.yml</c> as YAML, anything else as JSON); throws <see cref="RunFileException"/> listing every problem.</summary>
    public static RunDefinition Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RunFileException(path, [$"cannot read: {e.Message}"]);
        }

        var yaml = path.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".yml", StringComparison.OrdinalIgnoreCase);
        return Parse(text, yaml, path);
    }

    /// <summary>Parses run-file text; <paramref name="source"/> names it in errors.</summary>
    public static RunDefinition Parse(string text, bool yaml, string source = "run file")
    {
        ConfigReader root;
        try
        {
            root = ConfigReader.Parse(text, yaml);
        }
        catch (FormatException e)
        {
            throw new RunFileException(source, [e.Message]);
        }

        var name = root.String("name", "load")!;
        var target = ReadTarget(root.Object("target"));
        var run = root.Object("run");
        var maxInFlight = run?.Int("maxInFlight", 1024, 1, 1_000_000) ?? 1024;
        var maxDuration = run?.Duration("maxDuration", TimeSpan.FromMinutes(10)) ?? TimeSpan.FromMinutes(10);
        var reports = run?.String("reportFolder", "reports") ?? "reports";
        var seed = run?.Int("seed", 0, int.MinValue) ?? 0;
        run?.RejectUnknown();

        var scenarios = new List<ScenarioDefinition>();
        foreach (var (node, path) in root.List("scenarios"))
        {
            if (root.Item(node, path) is { } s && ReadScenario(s) is { } scenario)
            {
                scenarios.Add(scenario);
            }
        }

        if (!root.Has("scenarios"))
        {
            root.Error("scenarios", "at least one scenario is required");
        }

        foreach (var duplicate in scenarios.GroupBy(s => s.Name, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            root.Error("scenarios", $"name '{duplicate.Key}' is used {duplicate.Count()} times");
        }

        var weighted = scenarios.Where(s => s.Weight > 0).ToArray();
        if (weighted.Any(w => !w.Load.SequenceEqual(weighted[0].Load) || w.WarmUp != weighted[0].WarmUp))
        {
            root.Error("scenarios", "weighted scenarios share one load: give them the same load and warmUp");
        }

        root.RejectUnknown();
        return root.Errors.Count > 0
            ? throw new RunFileException(source, root.Errors)
            : new RunDefinition(name, target, maxInFlight, maxDuration, reports, seed, scenarios);
    }

    private static TargetDefinition ReadTarget(ConfigReader? t)
    {
        if (t is null)
        {
            return TargetDefinition.Default;
        }

        var kind = t.Choice("kind", "node", "node", "cluster");
        var seeds = t.Strings("seeds");
        if (kind == "cluster" && seeds.Count == 0)
        {
            t.Error("seeds", "a cluster target needs its seed node addresses (e.g. akka.tcp://forgeone@127.0.0.1:4053)");
        }

        var counts = t.Object("shardCounts");
        var definition = new TargetDefinition(
            kind,
            seeds,
            counts?.Int("logs", 8, 1, 1024) ?? 8,
            counts?.Int("events", 8, 1, 1024) ?? 8,
            counts?.Int("blobs", 4, 1, 1024) ?? 4,
            t.Bool("noSync", false),
            t.String("nodeDll"),
            t.String("http"),
            t.String("apiKeyFile"));
        counts?.RejectUnknown();
        t.RejectUnknown();
        return definition;
    }

    private static ScenarioDefinition? ReadScenario(ConfigReader s)
    {
        var name = s.String("name");
        if (string.IsNullOrWhiteSpace(name))
        {
            s.Error("name", "a scenario needs a name");
        }

        var type = s.Choice("type", ScenarioCatalog.Types[0], [.. ScenarioCatalog.Types]);
        var load = new List<LoadSimulation>();
        foreach (var (node, path) in s.List("load"))
        {
            if (s.Item(node, path) is { } item && ReadSimulation(item) is { } simulation)
            {
                load.Add(simulation);
            }
        }

        if (!s.Has("load"))
        {
            s.Error("load", "a scenario needs at least one load simulation");
        }
        else if (load.Count > 1 && load.Any(l => l is IterationsForConstantSimulation or IterationsForInjectSimulation))
        {
            s.Error("load", "an iterations simulation must be the scenario's only one");
        }

        var thresholds = new List<Threshold>();
        foreach (var (node, path) in s.List("thresholds"))
        {
            if (ReadThreshold(s, node, path) is { } threshold)
            {
                thresholds.Add(threshold);
            }
        }

        var parameters = new ScenarioParameters(
            s.Int("batch", 1, 1, 10_000),
            s.Choice("via", "actor", "actor", "http"),
            s.Int("topics", 16, 1, 100_000),
            s.Int("messageBytes", 200, 1, 1 << 20),
            s.Int("size", 256 * 1024, 1, 1 << 30),
            s.Int("prefill", 10_000, 0, 100_000_000),
            s.Int("limit", 100, 1, 1000));
        var definition = new ScenarioDefinition(name ?? "?", type, load, thresholds, s.Duration("warmUp", TimeSpan.Zero, positive: false), s.Int("weight", 0, 0, 1_000_000), parameters);
        s.RejectUnknown();
        return definition;
    }

    // A simulation is a one-key object named after its NBomber counterpart.
    private static LoadSimulation? ReadSimulation(ConfigReader item)
    {
        if (item.Keys.Count != 1)
        {
            item.Errors.Add($"{item.Path}: a load simulation is one of inject, rampingInject, injectRandom, iterationsForInject, keepConstant, rampingConstant, iterationsForConstant, pause");
            return null;
        }

        var kind = item.Keys[0];
        if (kind == "pause" && !item.IsObject("pause") && item.String("pause") is { } pauseText)
        {
            if (DurationText.TryParse(pauseText, out var pause, out var error) && pause > TimeSpan.Zero)
            {
                return Simulation.Pause(pause);
            }

            item.Error("pause", error ?? "must be longer than zero");
            return null;
        }

        string[] known = ["inject", "rampingInject", "injectRandom", "iterationsForInject", "keepConstant", "rampingConstant", "iterationsForConstant", "pause"];
        if (!known.Contains(kind, StringComparer.Ordinal))
        {
            item.Error(kind, "unknown load simulation");
            return null;
        }

        var p = item.Object(kind);
        if (p is null)
        {
            return null;
        }

        var errors = p.Errors.Count;
        LoadSimulation? result = kind switch
        {
            "inject" => Open(p, (rate, interval, during) => Simulation.Inject(rate, interval, during)),
            "rampingInject" => Open(p, (rate, interval, during) => Simulation.RampingInject(rate, interval, during)),
            "injectRandom" => Random(p),
            "iterationsForInject" => Simulation.IterationsForInject(p.Int("rate", 1, 1), p.Duration("interval", TimeSpan.FromSeconds(1)), p.Integer("iterations", 1, 1)),
            "keepConstant" => Simulation.KeepConstant(p.Int("copies", 1, 1, 100_000), p.Duration("during", TimeSpan.FromSeconds(1))),
            "rampingConstant" => Simulation.RampingConstant(p.Int("copies", 0, 0, 100_000), p.Duration("during", TimeSpan.FromSeconds(1))),
            "iterationsForConstant" => Simulation.IterationsForConstant(p.Int("copies", 1, 1, 100_000), p.Integer("iterations", 1, 1)),
            "pause" => Simulation.Pause(p.Duration("during", TimeSpan.FromSeconds(1))),
            _ => null,
        };
        p.RejectUnknown();
        return p.Errors.Count > errors ? null : result;

        static LoadSimulation? Open(ConfigReader p, Func<int, TimeSpan, TimeSpan, LoadSimulation> make)
        {
            var (rate, interval, during) = (p.Int("rate", 0, 0), p.Duration("interval", TimeSpan.FromSeconds(1)), p.Duration("during", TimeSpan.FromSeconds(1)));
            if (during.Ticks % interval.Ticks != 0)
            {
                p.Error("during", $"must be a whole number of intervals ({DurationText.Format(interval)})");
                return null;
            }

            return make(rate, interval, during);
        }

        static LoadSimulation? Random(ConfigReader p)
        {
            var (min, max) = (p.Int("minRate", 0, 0), p.Int("maxRate", 0, 0));
            if (max < min)
            {
                p.Error("maxRate", "must be at least minRate");
                return null;
            }

            return Open(p, (_, interval, during) => Simulation.InjectRandom(min, max, interval, during));
        }
    }

    // "fail% < 1" or { expr: "p99 < 20 ms", step: name, abortWhenErrorCount: 3, startCheckAfter: 10s }.
    private static Threshold? ReadThreshold(ConfigReader scenario, JsonNode? node, string path)
    {
        try
        {
            if (node is JsonValue v && v.TryGetValue<string>(out var text))
            {
                return new Threshold(text);
            }

            if (scenario.Item(node, path) is not { } t)
            {
                return null;
            }

            var expression = t.String("expr");
            var step = t.String("step");
            var abort = t.Has("abortWhenErrorCount") ? t.Int("abortWhenErrorCount", 1, 1) : (int?)null;
            var after = t.Duration("startCheckAfter", TimeSpan.Zero, positive: false);
            t.RejectUnknown();
            if (expression is null)
            {
                t.Error("expr", "a threshold needs an expression such as 'p99 < 20 ms'");
                return null;
            }

            return new Threshold(expression, step, abort, after);
        }
        catch (FormatException e)
        {
            scenario.Errors.Add($"{path}: {e.Message}");
            return null;
        }
    }
}

/// <summary>A run file that cannot be used, with every problem found in it.</summary>
public sealed class RunFileException(string source, IReadOnlyList<string> problems)
    : Exception($"{source}: {problems.Count} problem(s):\n  - " + string.Join("\n  - ", problems))
{
    /// <summary>Each problem, with its path in the file.</summary>
    public IReadOnlyList<string> Problems { get; } = problems;
}
