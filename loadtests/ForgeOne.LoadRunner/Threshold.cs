using System.Globalization;
using System.Text.RegularExpressions;

namespace ForgeOne.LoadRunner;

/// <summary>Comparison of a threshold expression.</summary>
public enum ThresholdOperator
{
    /// <summary><c>&lt;</c></summary>
    Less,

    /// <summary><c>&lt;=</c></summary>
    LessOrEqual,

    /// <summary><c>&gt;</c></summary>
    Greater,

    /// <summary><c>&gt;=</c></summary>
    GreaterOrEqual,

    /// <summary><c>==</c></summary>
    Equal,

    /// <summary><c>!=</c></summary>
    NotEqual,
}

/// <summary>
/// A parsed criterion such as <c>fail% &lt; 1</c>, <c>p99 &lt; 20 ms</c>, <c>rps &gt; 100000</c> or
/// <c>error[storage.full]% == 0</c>. Metrics: <c>ok</c>, <c>fail</c>, <c>requests</c> (counts),
/// <c>ok%</c>, <c>fail%</c>, <c>rps</c> (successful calls per second), <c>bytes</c>,
/// <c>min</c>, <c>mean</c>, <c>max</c>, <c>stddev</c>, <c>p50</c>, <c>p75</c>, <c>p95</c>, <c>p99</c>
/// (latency of successful calls; unit <c>us</c>, <c>ms</c> (default) or <c>s</c>), and
/// <c>error[CODE]</c> / <c>error[CODE]%</c> (count or share of one error).
/// </summary>
public sealed partial record ThresholdExpression(string Metric, string? ErrorCode, ThresholdOperator Operator, double Value, string Unit)
{
    private static readonly string[] LatencyMetrics = ["min", "mean", "max", "stddev", "p50", "p75", "p95", "p99"];
    private static readonly string[] PlainMetrics = ["ok", "fail", "requests", "ok%", "fail%", "rps", "bytes"];

    /// <summary>Parses <paramref name="text"/>; throws <see cref="FormatException"/> naming what is wrong.</summary>
    public static ThresholdExpression Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var m = Grammar().Match(text);
        if (!m.Success)
        {
            throw new FormatException($"threshold '{text}' is not '<metric> <op> <number> [unit]' (e.g. 'p99 < 20 ms', 'fail% < 1', 'rps > 1000')");
        }

        var metric = m.Groups["metric"].Value.ToLowerInvariant();
        string? code = m.Groups["code"].Success ? m.Groups["code"].Value : null;
        if (code is not null)
        {
            metric = m.Groups["pct"].Success ? "error%" : "error";
        }
        else if (!LatencyMetrics.Contains(metric) && !PlainMetrics.Contains(metric))
        {
            throw new FormatException($"threshold '{text}': unknown metric '{metric}' (known: {string.Join(", ", PlainMetrics.Concat(LatencyMetrics))}, error[CODE], error[CODE]%)");
        }

        var op = m.Groups["op"].Value switch
        {
            "<" => ThresholdOperator.Less,
            "<=" => ThresholdOperator.LessOrEqual,
            ">" => ThresholdOperator.Greater,
            ">=" => ThresholdOperator.GreaterOrEqual,
            "==" or "=" => ThresholdOperator.Equal,
            _ => ThresholdOperator.NotEqual,
        };
        var value = double.Parse(m.Groups["value"].Value.Replace("_", string.Empty, StringComparison.Ordinal), NumberStyles.Float, CultureInfo.InvariantCulture);
        var unit = m.Groups["unit"].Value.ToLowerInvariant();
        var isLatency = LatencyMetrics.Contains(metric);
        if (isLatency)
        {
            unit = unit.Length == 0 ? "ms" : unit;
            if (unit is not ("us" or "ms" or "s"))
            {
                throw new FormatException($"threshold '{text}': latency unit must be us, ms or s, not '{unit}'");
            }
        }
        else if (unit.Length > 0 && !(unit == "%" && metric.EndsWith('%')))
        {
            throw new FormatException($"threshold '{text}': '{metric}' takes no unit");
        }

        return new ThresholdExpression(metric, code, op, value, isLatency ? unit : string.Empty);
    }

    /// <summary>
    /// The metric's value in the expression's unit, or null when it has no value (a latency of
    /// no successful call: a criterion over no data fails rather than passing vacuously).
    /// </summary>
    public double? Measure(ScenarioStats stats)
    {
        ArgumentNullException.ThrowIfNull(stats);
        var scale = Unit switch { "us" => 1.0, "s" => 1_000_000.0, _ => 1000.0 };
        var l = stats.Latency;
        return Metric switch
        {
            "ok" => stats.Ok,
            "fail" => stats.Fail,
            "requests" => stats.Requests,
            "ok%" => stats.Requests > 0 ? 100.0 * stats.Ok / stats.Requests : 0,
            "fail%" => stats.FailPercent,
            "rps" => stats.OkRps,
            "bytes" => stats.Bytes,
            "error" => stats.Errors.GetValueOrDefault(ErrorCode!),
            "error%" => stats.ErrorPercent(ErrorCode!),
            _ when stats.Ok == 0 => null,
            "min" => l.MinUs / scale,
            "mean" => l.MeanUs / scale,
            "max" => l.MaxUs / scale,
            "stddev" => l.StdDevUs / scale,
            "p50" => l.P50Us / scale,
            "p75" => l.P75Us / scale,
            "p95" => l.P95Us / scale,
            _ => l.P99Us / scale,
        };
    }

    /// <summary>True when <paramref name="actual"/> satisfies the comparison.</summary>
    public bool Holds(double? actual) =>
        actual is { } a && Operator switch
        {
            ThresholdOperator.Less => a < Value,
            ThresholdOperator.LessOrEqual => a <= Value,
            ThresholdOperator.Greater => a > Value,
            ThresholdOperator.GreaterOrEqual => a >= Value,
            ThresholdOperator.Equal => a == Value,
            _ => a != Value,
        };

    [GeneratedRegex(@"^\s*(?:error\[(?<code>[^\]\s]+)\](?<pct>%)?|(?<metric>[a-zA-Z][a-zA-Z0-9]*%?))\s*(?<op><=|>=|==|!=|<|>|=)\s*(?<value>[0-9][0-9_]*(?:\.[0-9]+)?)\s*(?<unit>[a-zA-Z%]*)\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex Grammar();
}

/// <summary>
/// A pass/fail criterion of a scenario (or of one of its steps). Checked every reporting interval
/// once <see cref="StartCheckAfter"/> of measured load has passed, and once more at the end. The run
/// fails when the final check fails; after <see cref="AbortWhenErrorCount"/> failed checks during
/// the run, the run is stopped early (and fails).
/// </summary>
public sealed record Threshold
{
    /// <summary>Creates a threshold; the expression is parsed here, so a typo fails before any load.</summary>
    public Threshold(string expression, string? step = null, int? abortWhenErrorCount = null, TimeSpan startCheckAfter = default)
    {
        Parsed = ThresholdExpression.Parse(expression);
        if (abortWhenErrorCount is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(abortWhenErrorCount), "abortWhenErrorCount must be at least 1 (or null: never abort).");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(startCheckAfter, TimeSpan.Zero);
        Expression = expression.Trim();
        Step = step;
        AbortWhenErrorCount = abortWhenErrorCount;
        StartCheckAfter = startCheckAfter;
    }

    /// <summary>The expression as written.</summary>
    public string Expression { get; }

    /// <summary>The parsed expression.</summary>
    public ThresholdExpression Parsed { get; }

    /// <summary>The step it applies to; null: the whole scenario.</summary>
    public string? Step { get; }

    /// <summary>Failed checks during the run after which the run is aborted; null: never abort.</summary>
    public int? AbortWhenErrorCount { get; }

    /// <summary>No check during the first part of the measured run (a ramp-up, say).</summary>
    public TimeSpan StartCheckAfter { get; }

    /// <summary>The stats this threshold looks at: the scenario's, or its step's (empty when the step never ran).</summary>
    public ScenarioStats Select(ScenarioStats scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        return Step is null
            ? scenario
            : scenario.Step(Step) ?? new ScenarioStats(Step, 0, 0, 0, 0, scenario.Duration, default, default, new Dictionary<string, long>());
    }
}

/// <summary>
/// How a threshold fared: the final check's outcome and value, and the checks made during the run.
/// <see cref="Actual"/> is in the expression's unit; null when there was nothing to measure.
/// </summary>
public sealed record ThresholdResult(string Scenario, string? Step, string Expression, bool Passed, double? Actual, int Checks, int FailedChecks, bool AbortedRun)
{
    /// <summary>Scenario (and step) the threshold belongs to, for reports.</summary>
    public string Scope => Step is null ? Scenario : $"{Scenario} / {Step}";
}
