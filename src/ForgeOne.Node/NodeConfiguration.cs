namespace ForgeOne.Node;

/// <summary>The <c>--config &lt;file&gt;</c> argument: a JSON file layered over appsettings (cluster-config/*.json).</summary>
internal static class NodeConfiguration
{
    public static string? ConfigFileArgument(string[] args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--config" && i + 1 < args.Length)
            {
                return args[i + 1];
            }

            if (args[i].StartsWith("--config=", StringComparison.Ordinal))
            {
                return args[i]["--config=".Length..];
            }
        }

        return null;
    }

    public static string[] WithoutConfigArgument(string[] args)
    {
        var rest = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--config")
            {
                i++;
                continue;
            }

            if (!args[i].StartsWith("--config=", StringComparison.Ordinal))
            {
                rest.Add(args[i]);
            }
        }

        return [.. rest];
    }
}

/// <summary>The process exit code, set by the node service when it has to stop the node.</summary>
internal sealed class NodeState
{
    public int ExitCode { get; set; }
}
