using ForgeOne.Cluster.Hosting;

namespace ForgeOne.Node;

/// <summary>
/// What a person starting a node needs to see once it serves: where it listens, where its data
/// and keys are, where the admin key is, how logs are shown and how to stop it. Printed under the
/// readiness line instead of the start-up chatter of the actor system (which logs at Warning).
/// </summary>
internal static class NodeBanner
{
    /// <summary>The banner's lines, the readiness line first (scripts and tests wait for it).</summary>
    /// <param name="options">The node's validated options.</param>
    /// <param name="address">Its cluster address.</param>
    /// <param name="edge">The HTTP edge's base address (null on a node without the edge role).</param>
    public static IReadOnlyList<string> Lines(ForgeOneNodeOptions options, string address, Uri? edge)
    {
        ArgumentNullException.ThrowIfNull(options);
        var lines = new List<string>
        {
            $"ForgeOne node ready: {address} roles=[{string.Join(',', options.Roles)}] region={options.Region} data={options.DataRootFull} keys={options.KeysDirectoryFull}",
            options.SeedNodes.Count == 0
                ? $"  cluster  {options.ClusterName}: this node formed it (no ForgeOne:SeedNodes); others join with SeedNodes=[\"{address}\"]"
                : $"  cluster  {options.ClusterName}: joined through {string.Join(", ", options.SeedNodes)}",
        };
        if (edge is not null)
        {
            lines.Add($"  http     {edge}  (API reference {edge}docs, dashboard {edge}dashboard/, health {edge}healthz)");
        }

        if (options.IsStorage)
        {
            lines.Add($"  data     {options.DataRootFull}");
        }

        lines.Add($"  keys     {options.KeysDirectoryFull}" + (options.IsStorage ? $"  (admin API key: {BootstrapKeyPath(options)})" : ""));
        lines.Add($"  logs     {options.LogFormat} (ForgeOne:LogFormat text|json); Akka's own events at Warning (Logging:LogLevel:Akka)");
        lines.Add("  stop     Ctrl-C or SIGTERM: shards hand off and close, then \"ForgeOne node stopped (exit code 0)\"");
        return lines;
    }

    /// <summary>Where the bootstrap admin API key file is (written once per cluster, 0600).</summary>
    public static string BootstrapKeyPath(ForgeOneNodeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Path.GetFullPath(options.BootstrapKeyFile ?? Path.Combine(options.KeysDirectory, "bootstrap-admin.key"));
    }
}
