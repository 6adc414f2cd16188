using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ForgeOne.LoadRunner;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace ForgeOne.Load;

/// <summary>
/// Reads a run file (JSON, or YAML, which is turned into the same JSON tree first so both
/// formats share one schema) strictly: every problem is collected with its path
/// (<c>scenarios[1].load[0].rate</c>), and unknown keys are problems too, so a typo never
/// silently falls back to a default.
/// </summary>
public sealed class ConfigReader
{
    private readonly JsonObject _node;
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    private ConfigReader(JsonObject node, string path, List<string> errors)
    {
        _node = node;
        Path = path;
        Errors = errors;
    }

    /// <summary>Where this object sits in the file (empty at the root).</summary>
    public string Path { get; }

    /// <summary>Every problem found so far, shared by all readers of one file.</summary>
    public List<string> Errors { get; }

    /// <summary>Parses <paramref name="text"/> as YAML when <paramref name="yaml"/>, else JSON, into a reader of its root object.</summary>
    public static ConfigReader Parse(string text, bool yaml)
    {
        ArgumentNullException.ThrowIfNull(text);
        JsonNode? root;
        try
        {
            root = yaml ? FromYaml(text) : JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (Exception e) when (e is JsonException or YamlException)
        {
            throw new FormatException($"not valid {(yaml ? "YAML" : "JSON")}: {e.Message}", e);
        }

        return root is JsonObject obj ? new ConfigReader(obj, string.Empty, []) : throw new FormatException("the run file must hold an object at its top level");
    }

    /// <summary>Records a problem at <paramref name="key"/> of this object.</summary>
    public void Error(string key, string message) => Errors.Add($"{At(key)}: {message}");

    /// <summary>True when the key is present.</summary>
    public bool Has(string key) => _node.ContainsKey(key);

    /// <summary>True when the key holds an object.</summary>
    public bool IsObject(string key) => _node.TryGetPropertyValue(key, out var n) && n is JsonObject;

    /// <summary>A string value, or <paramref name="fallback"/> when absent.</summary>
    public string? String(string key, string? fallback = null)
    {
        var n = Take(key);
        if (n is null)
        {
            return fallback;
        }

        if (n is JsonValue v && v.TryGetValue<string>(out var s))
        {
            return s;
        }

        Error(key, "must be a string");
        return fallback;
    }

    /// <summary>A string that must be one of <paramref name="allowed"/>.</summary>
    public string Choice(string key, string fallback, params string[] allowed)
    {
        var s = String(key, fallback)!;
        if (!allowed.Contains(s, StringComparer.Ordinal))
        {
            Error(key, $"'{s}' is not one of {string.Join(", ", allowed)}");
            return fallback;
        }

        return s;
    }

    /// <summary>An integer in [<paramref name="min"/>, <paramref name="max"/>], or <paramref name="fallback"/> when absent.</summary>
    public long Integer(string key, long fallback, long min = 0, long max = long.MaxValue)
    {
        var n = Take(key);
        if (n is null)
        {
            return fallback;
        }

        long value;
        if (n is JsonValue v && v.TryGetValue<long>(out var l))
        {
            value = l;
        }
        else if (n is JsonValue d && d.TryGetValue<double>(out var dbl) && dbl == Math.Floor(dbl) && dbl is >= long.MinValue and <= long.MaxValue)
        {
            value = (long)dbl;
        }
        else
        {
            Error(key, "must be a whole number");
            return fallback;
        }

        if (value < min || value > max)
        {
            Error(key, max >= int.MaxValue ? $"must be at least {min}" : $"must be {min}..{max}");
            return fallback;
        }

        return value;
    }

    /// <summary>An int-sized <see cref="Integer"/>.</summary>
    public int Int(string key, int fallback, int min = 0, int max = int.MaxValue) => (int)Integer(key, fallback, min, max);

    /// <summary>A boolean, or <paramref name="fallback"/> when absent.</summary>
    public bool Bool(string key, bool fallback)
    {
        var n = Take(key);
        if (n is null)
        {
            return fallback;
        }

        if (n is JsonValue v && v.TryGetValue<bool>(out var b))
        {
            return b;
        }

        Error(key, "must be true or false");
        return fallback;
    }

    /// <summary>A duration (<c>500ms</c>, <c>30s</c>, <c>2m</c>), or <paramref name="fallback"/> when absent.</summary>
    public TimeSpan Duration(string key, TimeSpan fallback, bool positive = true)
    {
        var n = Take(key);
        if (n is null)
        {
            return fallback;
        }

        var text = n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        if (!DurationText.TryParse(text, out var value, out var error))
        {
            Error(key, error ?? "must be a duration");
            return fallback;
        }

        if (positive && value <= TimeSpan.Zero)
        {
            Error(key, "must be longer than zero");
            return fallback;
        }

        return value;
    }

    /// <summary>A list of strings (empty when absent).</summary>
    public IReadOnlyList<string> Strings(string key)
    {
        var n = Take(key);
        if (n is null)
        {
            return [];
        }

        if (n is JsonArray a && a.All(x => x is JsonValue v && v.TryGetValue<string>(out _)))
        {
            return a.Select(x => x!.GetValue<string>()).ToArray();
        }

        Error(key, "must be a list of strings");
        return [];
    }

    /// <summary>A nested object, or null when absent (a non-object is an error).</summary>
    public ConfigReader? Object(string key)
    {
        var n = Take(key);
        switch (n)
        {
            case null:
                return null;
            case JsonObject o:
                return new ConfigReader(o, At(key), Errors);
            default:
                Error(key, "must be an object");
                return null;
        }
    }

    /// <summary>The raw items of a list (empty when absent); each with its path.</summary>
    public IReadOnlyList<(JsonNode? Node, string Path)> List(string key)
    {
        var n = Take(key);
        if (n is null)
        {
            return [];
        }

        if (n is JsonArray a)
        {
            return a.Select((x, i) => (x, $"{At(key)}[{i.ToString(CultureInfo.InvariantCulture)}]")).ToArray();
        }

        Error(key, "must be a list");
        return [];
    }

    /// <summary>A reader over a list item that must be an object.</summary>
    public ConfigReader? Item(JsonNode? node, string path)
    {
        if (node is JsonObject o)
        {
            return new ConfigReader(o, path, Errors);
        }

        Errors.Add($"{path}: must be an object");
        return null;
    }

    /// <summary>The keys of this object (in file order).</summary>
    public IReadOnlyList<string> Keys => _node.Select(p => p.Key).ToArray();

    /// <summary>Reports every key of this object nobody read.</summary>
    public void RejectUnknown()
    {
        foreach (var key in _node.Select(p => p.Key).Where(k => !_read.Contains(k)))
        {
            Error(key, "unknown key");
        }
    }

    private JsonNode? Take(string key)
    {
        _read.Add(key);
        return _node.TryGetPropertyValue(key, out var n) ? n : null;
    }

    private string At(string key) => Path.Length == 0 ? key : $"{Path}.{key}";

    // Plain YAML scalars become JSON numbers, booleans or null the way YAML 1.2's core schema
    // reads them; quoted scalars stay strings.
    private static JsonNode? FromYaml(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        return stream.Documents.Count == 0 ? new JsonObject() : Convert(stream.Documents[0].RootNode);

        static JsonNode? Convert(YamlNode node) => node switch
        {
            YamlMappingNode map => new JsonObject(map.Children.Select(kv => KeyValuePair.Create(((YamlScalarNode)kv.Key).Value ?? string.Empty, Convert(kv.Value)))),
            YamlSequenceNode seq => new JsonArray(seq.Children.Select(Convert).ToArray()),
            YamlScalarNode { Style: ScalarStyle.Plain } s => Plain(s.Value ?? string.Empty),
            YamlScalarNode s => JsonValue.Create(s.Value),
            _ => throw new FormatException($"unsupported YAML node at {node.Start}"),
        };

        static JsonNode? Plain(string v) =>
            v is "" or "~" or "null" ? null
            : v is "true" ? JsonValue.Create(true)
            : v is "false" ? JsonValue.Create(false)
            : long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) ? JsonValue.Create(l)
            : double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && !double.IsInfinity(d) ? JsonValue.Create(d)
            : JsonValue.Create(v);
    }
}
