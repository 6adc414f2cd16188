using System.Globalization;

namespace ForgeOne.FaultTests.Harness;

/// <summary>Where one test cluster lives: a temp root with the shared data root, the keys directory and each node's working directory.</summary>
public sealed class ClusterLayout : IDisposable
{
    /// <summary>
    /// A fresh layout under the temp directory; <paramref name="dataRoot"/> overrides the data
    /// root (a small mount, say). Every member binds loopback, unless one node is
    /// <paramref name="isolated"/>: that one runs inside the network's namespace, and every
    /// other member (the client too) binds the host side of its link so the inside can reach it.
    /// </summary>
    public ClusterLayout(int storageNodes, string? dataRoot = null, (int Node, IsolatedNetwork Network)? isolated = null)
    {
        Hosts = [.. Enumerable.Range(0, storageNodes).Select(i => isolated is { } x ? (i == x.Node ? x.Network.InsideAddress : x.Network.HostAddress) : "127.0.0.1")];
        Namespaces = [.. Enumerable.Range(0, storageNodes).Select(i => isolated is { } x && i == x.Node ? x.Network.Namespace : null)];
        ClientHost = isolated?.Network.HostAddress ?? "127.0.0.1";
        Root = Path.Combine(Path.GetTempPath(), "forgeone-faults", Guid.NewGuid().ToString("N"));
        DataRoot = dataRoot ?? Path.Combine(Root, "data");
        KeysDirectory = Path.Combine(Root, "keys");
        Directory.CreateDirectory(Root);
        Directory.CreateDirectory(DataRoot);
        Ports = [.. Enumerable.Range(0, storageNodes).Select(_ => NodeProcess.FreePort())];
    }

    /// <summary>The temp root (deleted on dispose).</summary>
    public string Root { get; }

    /// <summary>The shared data root of every storage node.</summary>
    public string DataRoot { get; }

    /// <summary>The shared keys directory (KEK, audit signing key), outside the data root.</summary>
    public string KeysDirectory { get; }

    /// <summary>Remoting port of storage node i (kept across restarts).</summary>
    public IReadOnlyList<int> Ports { get; }

    /// <summary>Remoting hostname of storage node i.</summary>
    public IReadOnlyList<string> Hosts { get; }

    /// <summary>The network namespace storage node i runs in (null: the host's).</summary>
    public IReadOnlyList<string?> Namespaces { get; }

    /// <summary>The hostname the test's actor client binds.</summary>
    public string ClientHost { get; }

    /// <summary>Seed nodes: the first two storage nodes, as in cluster-config (the first twice in a one-node cluster: the config files list two).</summary>
    public IReadOnlyList<string> Seeds => [.. Enumerable.Range(0, Math.Min(2, Ports.Count)).Append(0).Take(2).Select(i => $"akka.ssl.tcp://forgeone@{Hosts[i]}:{Ports[i].ToString(CultureInfo.InvariantCulture)}")];

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A child may still be closing a file; the OS cleans temp space.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>
/// The one place that knows how a ForgeOne.Node process is started for a fault test: the
/// cluster-config file of its role, with ports, seeds, data root and keys directory moved to
/// the test's layout. Failure detection and downing are NOT overridden: the scenarios measure
/// the shipped defaults. (When remoting TLS or principal credentials need start-up arguments,
/// they go here, once.)
/// </summary>
public static class NodeLauncher
{
    /// <summary>Starts storage node <paramref name="index"/> (0-based; config <c>storage-{index+1}.json</c>).</summary>
    public static NodeProcess StartStorage(ClusterLayout layout, int index, IEnumerable<string>? extraArgs = null)
    {
        var name = $"storage-{index + 1}";
        var config = Path.Combine(NodeProcess.RepoRoot, "cluster-config", $"storage-{Math.Min(index + 1, 3)}.json");
        var work = Path.Combine(layout.Root, "work-" + name);
        Directory.CreateDirectory(work);
        List<string> args =
        [
            "--config", config,
            $"--ForgeOne:Hostname={layout.Hosts[index]}",
            $"--ForgeOne:Port={layout.Ports[index].ToString(CultureInfo.InvariantCulture)}",
            $"--ForgeOne:DataRoot={layout.DataRoot}",
            $"--ForgeOne:KeysDirectory={layout.KeysDirectory}",
            $"--ForgeOne:BootstrapKeyFile={Path.Combine(layout.KeysDirectory, "bootstrap-admin.key")}",
            // Seals often enough that a scenario sees several.
            "--ForgeOne:Singletons:SealInterval=00:00:02",
        ];
        for (var i = 0; i < layout.Seeds.Count; i++)
        {
            args.Add($"--ForgeOne:SeedNodes:{i.ToString(CultureInfo.InvariantCulture)}={layout.Seeds[i]}");
        }

        args.AddRange(extraArgs ?? []);
        return NodeProcess.Start(name, layout.Ports[index], work, args, host: layout.Hosts[index], networkNamespace: layout.Namespaces[index]);
    }
}
