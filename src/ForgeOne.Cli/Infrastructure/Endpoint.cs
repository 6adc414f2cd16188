namespace ForgeOne.Cli.Infrastructure;

/// <summary>
/// Which edge the CLI talks to and with which credential, and where each came from. Order, first
/// wins: the flag (<c>--url</c>, <c>--key</c>/<c>--key-file</c>), the environment
/// (<c>FORGEONE_URL</c>, <c>FORGEONE_API_KEY</c>), the profile file's cluster (<c>--cluster</c>,
/// <c>FORGEONE_CLUSTER</c>, or its <c>defaultCluster</c>), then <c>http://127.0.0.1:8080</c> and no key.
/// </summary>
public sealed record Endpoint(Uri Url, string? ApiKey, string UrlSource, string KeySource)
{
    /// <summary>The address when nothing names one.</summary>
    public static readonly Uri DefaultUrl = new("http://127.0.0.1:8080");

    /// <summary>Resolves the endpoint from flags, environment and the profile file.</summary>
    public static Endpoint Resolve(string? urlFlag, string? keyFlag, string? keyFileFlag, string? clusterFlag, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (keyFlag is not null && keyFileFlag is not null)
        {
            throw CliException.Usage("give --key or --key-file, not both");
        }

        var profilePath = environment("FORGEONE_CONFIG") is { Length: > 0 } p ? p : ProfileFile.DefaultPath(environment);
        var clusterName = clusterFlag ?? (environment("FORGEONE_CLUSTER") is { Length: > 0 } c ? c : null);
        var profiles = ProfileFile.Load(profilePath);
        ClusterProfile? profile = null;
        if (clusterName is not null)
        {
            profile = profiles.Clusters.GetValueOrDefault(clusterName)
                ?? throw CliException.Usage(profiles.Clusters.Count == 0
                    ? $"no cluster '{clusterName}': the profile file {profilePath} names none"
                    : $"no cluster '{clusterName}' in {profilePath} (known: {string.Join(", ", profiles.Clusters.Keys.Order(StringComparer.Ordinal))})");
        }
        else if (profiles.DefaultCluster is { } d)
        {
            clusterName = d;
            profile = profiles.Clusters[d];
        }

        var (url, urlSource) = urlFlag is not null ? (urlFlag, "--url")
            : environment("FORGEONE_URL") is { Length: > 0 } envUrl ? (envUrl, "FORGEONE_URL")
            : profile?.Url is { } profileUrl ? (profileUrl, $"cluster '{clusterName}' of {profilePath}")
            : (DefaultUrl.ToString(), "default");
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw CliException.Usage($"{urlSource} names '{url}', which is not an http:// or https:// address");
        }

        var (key, keySource) = keyFlag is not null ? (keyFlag, "--key")
            : keyFileFlag is not null ? (ReadKeyFile(keyFileFlag, "--key-file"), "--key-file")
            : environment("FORGEONE_API_KEY") is { Length: > 0 } envKey ? (envKey, "FORGEONE_API_KEY")
            : profile?.ApiKey is { } profileKey ? (profileKey, $"cluster '{clusterName}'")
            : profile?.ApiKeyFile is { } file ? (ReadKeyFile(Path.Combine(Path.GetDirectoryName(profilePath) ?? ".", file), $"cluster '{clusterName}' apiKeyFile"), $"cluster '{clusterName}'")
            : ((string?)null, "none");
        return new Endpoint(uri, key, urlSource, keySource);
    }

    private static string ReadKeyFile(string path, string source)
    {
        try
        {
            var key = File.ReadAllText(path).Trim();
            return key.Length > 0 ? key : throw CliException.Usage($"{source}: {path} is empty");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliException.Usage($"{source}: cannot read {path}: {e.Message}");
        }
    }
}
