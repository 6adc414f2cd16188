using System.Text.Json;
using System.Text.Json.Serialization;

namespace ForgeOne.Cli.Infrastructure;

/// <summary>
/// The profile file (<c>~/.config/forgeone/config.json</c>, or <c>$FORGEONE_CONFIG</c>): named
/// clusters, each an edge address and a credential, and which one is the default.
/// <code>
/// { "defaultCluster": "local",
///   "clusters": { "local": { "url": "http://127.0.0.1:8080", "apiKeyFile": "./keys/bootstrap-admin.key" },
///                 "prod":  { "url": "https://edge.prod.example:8443", "apiKey": "fo_live_..." } } }
/// </code>
/// </summary>
public sealed record ProfileFile(string? DefaultCluster, Dictionary<string, ClusterProfile> Clusters)
{
    /// <summary>No file: no clusters.</summary>
    public static ProfileFile Empty { get; } = new(null, []);

    /// <summary>Reads and validates <paramref name="path"/>; a missing file is <see cref="Empty"/>, a malformed one a usage error.</summary>
    public static ProfileFile Load(string path)
    {
        if (!File.Exists(path))
        {
            return Empty;
        }

        ProfileFile? file;
        try
        {
            file = JsonSerializer.Deserialize(File.ReadAllBytes(path), ProfileJsonContext.Default.ProfileFile);
        }
        catch (JsonException e)
        {
            throw CliException.Usage($"profile file {path} is not valid: {e.Message}");
        }

        if (file is null)
        {
            throw CliException.Usage($"profile file {path} is empty");
        }

        file = file with { Clusters = file.Clusters ?? [] };
        foreach (var (name, cluster) in file.Clusters)
        {
            if (cluster.Url is { } url && !Uri.TryCreate(url, UriKind.Absolute, out _))
            {
                throw CliException.Usage($"profile file {path}: cluster '{name}' has an invalid url '{url}'");
            }

            if (cluster.ApiKey is not null && cluster.ApiKeyFile is not null)
            {
                throw CliException.Usage($"profile file {path}: cluster '{name}' gives both apiKey and apiKeyFile; keep one");
            }
        }

        if (file.DefaultCluster is { } d && !file.Clusters.ContainsKey(d))
        {
            throw CliException.Usage($"profile file {path}: defaultCluster '{d}' is not one of its clusters ({string.Join(", ", file.Clusters.Keys)})");
        }

        return file;
    }

    /// <summary>The default location: <c>$XDG_CONFIG_HOME/forgeone/config.json</c>, else <c>~/.config/forgeone/config.json</c>.</summary>
    public static string DefaultPath(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var root = environment("XDG_CONFIG_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(environment("HOME") is { Length: > 0 } home ? home : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
        return Path.Combine(root, "forgeone", "config.json");
    }
}

/// <summary>One named cluster of the profile file.</summary>
/// <param name="Url">The edge's base address.</param>
/// <param name="ApiKey">An API key (keep the file 0600).</param>
/// <param name="ApiKeyFile">A file holding the API key (relative paths are relative to the profile file).</param>
public sealed record ClusterProfile(string? Url, string? ApiKey = null, string? ApiKeyFile = null);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow, ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(ProfileFile))]
internal sealed partial class ProfileJsonContext : JsonSerializerContext;
