using System.Collections;
using System.Globalization;
using System.Reflection;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Common;
using Microsoft.Extensions.Configuration;

namespace ForgeOne.Node;

/// <summary>
/// Reads the node's configuration and reports every problem at once: a file that is missing or
/// not JSON, an argument that is not <c>--Key=value</c>, a key in the <c>ForgeOne</c> section
/// that no option has (with the closest known key), a value that does not parse, and then every
/// rule <see cref="ForgeOneNodeOptions.Validate"/> checks. Layers, later wins:
/// <c>appsettings.json</c> beside the binary &lt; <c>appsettings.json</c> in the working directory
/// &lt; <c>--config &lt;file&gt;</c> &lt; <c>FORGEONE__*</c> environment variables &lt;
/// <c>--ForgeOne:Key=value</c> arguments.
/// </summary>
/// <remarks>
/// The known keys are exactly the settable properties of <see cref="ForgeOneNodeOptions"/> and
/// its nested option classes, found by reflection: a new setting is registered by adding its
/// property (and its rule in <c>Validate</c>), nothing else.
/// </remarks>
internal static class NodeConfiguration
{
    /// <summary>The argument that validates the configuration and exits (0 when valid).</summary>
    public const string CheckArgument = "--check-config";

    /// <summary>Loads and validates; never throws for anything a user can type.</summary>
    public static NodeConfigurationResult Load(string[] args, string workingDirectory, string baseDirectory, IDictionary? environment = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        var errors = new List<string>();
        var (configFile, checkOnly, rest) = SplitArguments(args, errors);
        var builder = new ConfigurationBuilder();
        AddJson(builder, Path.Combine(baseDirectory, "appsettings.json"), optional: true, errors);
        if (!string.Equals(Path.GetFullPath(workingDirectory), Path.GetFullPath(baseDirectory), StringComparison.Ordinal))
        {
            AddJson(builder, Path.Combine(workingDirectory, "appsettings.json"), optional: true, errors);
        }

        if (configFile is not null)
        {
            AddJson(builder, Path.GetFullPath(configFile, workingDirectory), optional: false, errors);
        }

        builder.Add(new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource { InitialData = EnvironmentEntries(environment) });
        builder.AddCommandLine(rest);
        IConfigurationRoot root;
        try
        {
            root = builder.Build();
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
        {
            errors.Add($"The arguments could not be read: {e.Message}");
            root = new ConfigurationBuilder().Build();
        }

        // Lists start empty so configuration replaces them instead of appending to a default.
        var options = new ForgeOneNodeOptions { Roles = [], SeedNodes = [] };
        StrictBinder.Bind(root, root.GetSection(ForgeOneNodeOptions.Section), options, ForgeOneNodeOptions.Section, errors);
        if (options.Roles.Count == 0)
        {
            options.Roles = [ForgeOneNodeOptions.StorageRole, ForgeOneNodeOptions.EdgeRole];
        }

        // A value that did not parse left its default in place, so the rules below judge only
        // what the user did set: every problem comes out in one run.
        errors.AddRange(options.Validate());

        return new NodeConfigurationResult(options, errors, root, checkOnly);
    }

    private static (string? ConfigFile, bool CheckOnly, string[] Remaining) SplitArguments(string[] args, List<string> errors)
    {
        string? configFile = null;
        var checkOnly = false;
        var rest = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i] ?? string.Empty;
            if (arg == CheckArgument)
            {
                checkOnly = true;
            }
            else if (arg == "--config")
            {
                if (i + 1 >= args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    errors.Add("--config needs a file name: --config <file.json>.");
                }
                else
                {
                    configFile = args[++i];
                }
            }
            else if (arg.StartsWith("--config=", StringComparison.Ordinal))
            {
                configFile = arg["--config=".Length..];
                if (configFile.Length == 0)
                {
                    errors.Add("--config needs a file name: --config <file.json>.");
                    configFile = null;
                }
            }
            else if (arg.StartsWith("--", StringComparison.Ordinal) && arg.Length > 2 && arg[2] != '=')
            {
                if (arg.Contains('=', StringComparison.Ordinal))
                {
                    rest.Add(arg);
                }
                else if (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    rest.Add(arg);
                    rest.Add(args[++i]);
                }
                else
                {
                    errors.Add($"Argument '{Printable.Text(arg, 120)}' has no value: write {Printable.Text(arg, 120)}=<value>.");
                }
            }
            else
            {
                errors.Add($"Argument '{Printable.Text(arg, 120)}' is not understood: settings are given as --ForgeOne:<Key>=<value>, a file as --config <file.json>, and {CheckArgument} only checks the configuration.");
            }
        }

        return (configFile, checkOnly, [.. rest]);
    }

    private static void AddJson(ConfigurationBuilder builder, string path, bool optional, List<string> errors)
    {
        if (!File.Exists(path))
        {
            if (!optional)
            {
                errors.Add($"Configuration file '{path}' does not exist.");
            }

            return;
        }

        try
        {
            // Loaded alone first, so a broken file is named and the others still count.
            new ConfigurationBuilder().AddJsonFile(path, optional: false, reloadOnChange: false).Build();
            builder.AddJsonFile(path, optional: false, reloadOnChange: false);
        }
        catch (Exception e) when (e is FormatException or InvalidDataException or IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
        {
            errors.Add($"Configuration file '{path}' could not be read: {e.Message}{(e.InnerException is { } inner ? " " + inner.Message : "")}");
        }
    }

    // FORGEONE__Key__Sub (any case) as ForgeOne:Key:Sub; other variables are none of ours.
    private static Dictionary<string, string?> EnvironmentEntries(IDictionary? environment)
    {
        var entries = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (DictionaryEntry entry in environment ?? Environment.GetEnvironmentVariables())
        {
            if (entry.Key is string key && key.StartsWith(ForgeOneNodeOptions.Section + "__", StringComparison.OrdinalIgnoreCase))
            {
                entries[key.Replace("__", ConfigurationPath.KeyDelimiter, StringComparison.Ordinal)] = entry.Value as string;
            }
        }

        return entries;
    }


}

/// <summary>The configuration as loaded: options, every problem found, the layered configuration (logging reads it too).</summary>
/// <param name="Options">The bound options (meaningful only without errors).</param>
/// <param name="Errors">Every problem, each a sentence naming the key or file to fix.</param>
/// <param name="Configuration">Every layer, for the host's own sections (Logging).</param>
/// <param name="CheckOnly">True when <see cref="NodeConfiguration.CheckArgument"/> was given.</param>
internal sealed record NodeConfigurationResult(ForgeOneNodeOptions Options, IReadOnlyList<string> Errors, IConfiguration Configuration, bool CheckOnly);

/// <summary>
/// Binds a configuration section onto an options object, reporting instead of throwing: an
/// unknown key (with the closest known one), a value that does not parse (with the layer it
/// came from), a value where a section belongs and the reverse.
/// </summary>
internal static class StrictBinder
{
    public static void Bind(IConfigurationRoot root, IConfigurationSection section, object target, string path, List<string> errors)
    {
        var properties = Settable(target.GetType());
        foreach (var child in section.GetChildren())
        {
            var key = $"{path}:{child.Key}";
            if (!properties.TryGetValue(child.Key, out var property))
            {
                var suggestion = Closest(child.Key, properties.Keys);
                errors.Add($"{Printable.Text(key, 120)} is not a setting{SourceOf(root, child.Path)}; "
                    + (suggestion is not null ? $"did you mean {path}:{suggestion}?" : $"the settings of {path} are {string.Join(", ", properties.Keys.Order(StringComparer.Ordinal))}."));
                continue;
            }

            key = $"{path}:{property.Name}";
            var type = property.PropertyType;
            var hasChildren = child.GetChildren().Any();
            if (type == typeof(List<string>))
            {
                var items = hasChildren
                    ? child.GetChildren().OrderBy(c => int.TryParse(c.Key, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : int.MaxValue).Select(c => c.Value).ToList()
                    : (child.Value ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(v => (string?)v).ToList();
                if (hasChildren && child.GetChildren().Any(c => !int.TryParse(c.Key, NumberStyles.None, CultureInfo.InvariantCulture, out _) || c.GetChildren().Any()))
                {
                    errors.Add($"{key} is a list of strings{SourceOf(root, child.Path)}: use a JSON array, {key}:0=..., or a comma-separated value.");
                    continue;
                }

                property.SetValue(target, items.Select(v => v ?? string.Empty).ToList());
            }
            else if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>) && !IsValue(type.GetGenericArguments()[0]))
            {
                // A list of sections (e.g. Backup:Targets): each element binds as its own section.
                var itemType = type.GetGenericArguments()[0];
                var list = (System.Collections.IList)Activator.CreateInstance(type)!;
                foreach (var item in child.GetChildren().OrderBy(c => int.TryParse(c.Key, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : int.MaxValue))
                {
                    if (!int.TryParse(item.Key, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                    {
                        errors.Add($"{key} is a list{SourceOf(root, child.Path)}: use a JSON array or {key}:0:<setting>=..., not {key}:{Printable.Text(item.Key, 120)}.");
                        continue;
                    }

                    var element = Activator.CreateInstance(itemType)!;
                    Bind(root, item, element, $"{key}:{item.Key}", errors);
                    list.Add(element);
                }

                property.SetValue(target, list);
            }
            else if (type == typeof(Dictionary<string, string>))
            {
                // A map of free keys (e.g. Edge:Jwt:RoleMap): every child is an entry, values only.
                if (child.GetChildren().Any(c => c.GetChildren().Any()))
                {
                    errors.Add($"{key} is a map of strings{SourceOf(root, child.Path)}: each entry is key=value.");
                    continue;
                }

                property.SetValue(target, child.GetChildren().ToDictionary(c => c.Key, c => c.Value ?? string.Empty, StringComparer.Ordinal));
            }
            else if (IsValue(type))
            {
                if (hasChildren)
                {
                    errors.Add($"{key} is a single value, not a section{SourceOf(root, child.Path)}.");
                    continue;
                }

                if (TryParse(child.Value, type, out var value, out var expected))
                {
                    property.SetValue(target, value);
                }
                else
                {
                    errors.Add($"{key} '{Printable.Text(child.Value, 120)}' is not {expected}{SourceOf(root, child.Path)}.");
                }
            }
            else
            {
                if (!hasChildren)
                {
                    if (!string.IsNullOrEmpty(child.Value))
                    {
                        errors.Add($"{key} is a section ({string.Join(", ", Settable(type).Keys.Order(StringComparer.Ordinal))}), not a value{SourceOf(root, child.Path)}.");
                    }

                    continue;
                }

                var nested = property.GetValue(target) ?? Activator.CreateInstance(type)!;
                Bind(root, child, nested, key, errors);
                property.SetValue(target, nested);
            }
        }
    }

    private static Dictionary<string, PropertyInfo> Settable(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite && p.SetMethod!.IsPublic && p.GetIndexParameters().Length == 0)
            .ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);

    private static bool IsValue(Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        return t == typeof(string) || t.IsPrimitive || t.IsEnum || t == typeof(TimeSpan) || t == typeof(decimal);
    }

    private static bool TryParse(string? text, Type type, out object? value, out string expected)
    {
        var nullable = Nullable.GetUnderlyingType(type);
        var t = nullable ?? type;
        value = null;
        expected = t.Name;
        if (t == typeof(string))
        {
            value = text;
            return true;
        }

        if (string.IsNullOrWhiteSpace(text))
        {
            expected = "empty";
            return nullable is not null;
        }

        text = text.Trim();
        if (t == typeof(int))
        {
            expected = "a whole number";
            var ok = int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i);
            value = i;
            return ok;
        }

        if (t == typeof(long))
        {
            expected = "a whole number (bytes may carry KiB, MiB or GiB)";
            var ok = TryParseSize(text, out var l);
            value = l;
            return ok;
        }

        if (t == typeof(double))
        {
            expected = "a number";
            var ok = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d);
            value = d;
            return ok;
        }

        if (t == typeof(bool))
        {
            expected = "true or false";
            var ok = bool.TryParse(text, out var b);
            value = b;
            return ok;
        }

        if (t == typeof(TimeSpan))
        {
            expected = "a duration (00:05:00, 5min, 30s, 250ms, 2h, 1d)";
            var ok = TryParseDuration(text, out var span);
            value = span;
            return ok;
        }

        if (t.IsEnum)
        {
            expected = $"one of {string.Join(", ", Enum.GetNames(t))}";
            var ok = Enum.TryParse(t, text, ignoreCase: true, out var e) && Enum.IsDefined(t, e!);
            value = e;
            return ok;
        }

        return false;
    }

    /// <summary>A duration as <c>[d.]hh:mm:ss[.fff]</c> or a number with ms, s, m/min, h or d.</summary>
    internal static bool TryParseDuration(string text, out TimeSpan value)
    {
        if (TimeSpan.TryParseExact(text, "c", CultureInfo.InvariantCulture, out value))
        {
            return true;
        }

        (string Suffix, double Ms)[] units = [("ms", 1), ("min", 60_000), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)];
        foreach (var (suffix, ms) in units)
        {
            if (text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)
                && double.TryParse(text[..^suffix.Length].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var n)
                && double.IsFinite(n) && Math.Abs(n * ms) < TimeSpan.MaxValue.TotalMilliseconds)
            {
                value = TimeSpan.FromMilliseconds(n * ms);
                return true;
            }
        }

        return false;
    }

    private static bool TryParseSize(string text, out long value)
    {
        (string Suffix, long Factor)[] units = [("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30), ("B", 1)];
        foreach (var (suffix, factor) in units)
        {
            if (text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)
                && long.TryParse(text[..^suffix.Length].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)
                && n <= long.MaxValue / factor && n >= long.MinValue / factor)
            {
                value = n * factor;
                return true;
            }
        }

        return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out value);
    }

    // Which layer set a key, for the message: the last provider that has it wins, as in binding.
    private static string SourceOf(IConfigurationRoot root, string path)
    {
        foreach (var provider in root.Providers.Reverse())
        {
            if (provider.TryGet(path, out _) || provider.GetChildKeys([], path).Any())
            {
                return provider switch
                {
                    Microsoft.Extensions.Configuration.Json.JsonConfigurationProvider json => $" (in {json.Source.Path})",
                    Microsoft.Extensions.Configuration.CommandLine.CommandLineConfigurationProvider => " (from the command line)",
                    Microsoft.Extensions.Configuration.Memory.MemoryConfigurationProvider => " (from a FORGEONE__ environment variable)",
                    _ => string.Empty,
                };
            }
        }

        return string.Empty;
    }

    private static string? Closest(string key, IEnumerable<string> known)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in known)
        {
            var distance = Distance(key.ToUpperInvariant(), candidate.ToUpperInvariant());
            if (distance < bestDistance)
            {
                (best, bestDistance) = (candidate, distance);
            }
        }

        return bestDistance <= (key.Length + 2) / 3 ? best : null;
    }

    private static int Distance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var previous = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var current = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), previous + (a[i - 1] == b[j - 1] ? 0 : 1));
                previous = current;
            }
        }

        return row[b.Length];
    }
}

/// <summary>The process exit code, set by the node service when it has to stop the node.</summary>
internal sealed class NodeState
{
    public int ExitCode { get; set; }

    /// <summary>
    /// The node's claim on its data root: released only after the host has stopped, i.e. after
    /// every shard was handed off and closed, never while a shard of this node is still open.
    /// </summary>
    public DataRootClaim? Claim { get; set; }

    /// <summary>The HTTP edge's base address once it listens (for the banner); null without the edge role.</summary>
    public Uri? EdgeAddress { get; set; }
}
