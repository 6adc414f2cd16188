using System.Diagnostics;
using YamlDotNet.RepresentationModel;

namespace ForgeOne.Edge.Tests;

/// <summary>
/// The compose file and the image's entrypoint, checked without a Docker engine: the edge port
/// is published, every service is health-checked on /readyz, and a refusal to start (exit
/// 2/3/4) does not become a restart loop while a crash still restarts.
/// </summary>
public sealed class DockerFilesTests
{
    private static readonly string Root = FindRoot();

    [Fact]
    public void Compose_PublishesTheEdgeAndHealthChecksEveryServiceOnReadyz()
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader(File.ReadAllText(Path.Combine(Root, "docker", "compose.yaml"))));
        var services = Merge((YamlMappingNode)((YamlMappingNode)yaml.Documents[0].RootNode)["services"]);
        Assert.Equal(["edge", "storage-1", "storage-2", "storage-3"], services.Children.Keys.Select(k => k.ToString()).Order(StringComparer.Ordinal));
        foreach (var (name, node) in services.Children)
        {
            var service = (YamlMappingNode)node;
            var health = (YamlMappingNode)service["healthcheck"];
            Assert.Contains("/readyz", string.Join(' ', ((YamlSequenceNode)health["test"]).Children.Select(c => c.ToString())), StringComparison.Ordinal);
            Assert.Equal("on-failure", service["restart"].ToString());
            var environment = (YamlMappingNode)service["environment"];
            var roles = environment.Children.Where(e => e.Key.ToString().StartsWith("FORGEONE__ROLES__", StringComparison.Ordinal)).Select(e => e.Value.ToString()).ToList();
            Assert.Contains("edge", roles);
            Assert.True(roles.Distinct().Count() == roles.Count, $"{name} repeats a role");
        }

        var ports = (YamlSequenceNode)((YamlMappingNode)services["edge"])["ports"];
        Assert.Equal("127.0.0.1:8080:8080", ports.Children.Single().ToString());
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(2, 0)]
    [InlineData(3, 0)]
    [InlineData(4, 0)]
    [InlineData(1, 1)]
    [InlineData(137, 137)]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Entrypoint_EndsCleanlyOnARefusalToStart_ButNotOnACrash(int nodeExit, int containerExit)
    {
        var bin = Directory.CreateTempSubdirectory("forgeone-entrypoint-").FullName;
        try
        {
            var fake = Path.Combine(bin, "dotnet");
            await File.WriteAllTextAsync(fake, $"#!/bin/sh\nexit {nodeExit}\n");
            File.SetUnixFileMode(fake, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var info = new ProcessStartInfo("/bin/sh", [Path.Combine(Root, "docker", "entrypoint.sh")]) { RedirectStandardError = true, UseShellExecute = false };
            info.Environment["PATH"] = bin + ":/usr/bin:/bin";
            using var process = Process.Start(info)!;
            var stderr = await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.Equal(containerExit, process.ExitCode);
            Assert.Equal(nodeExit is 2 or 3 or 4, stderr.Contains("not restarting", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(bin, recursive: true);
        }
    }

    // Compose files share settings through anchors and merge keys (<<): resolve them as Compose
    // does, the mapping's own keys winning over the merged ones, at every level.
    private static YamlMappingNode Merge(YamlMappingNode node)
    {
        var merged = new YamlMappingNode();
        if (node.Children.TryGetValue(new YamlScalarNode("<<"), out var baseNode) && baseNode is YamlMappingNode baseMap)
        {
            foreach (var (key, value) in Merge(baseMap).Children)
            {
                merged.Children[key] = value;
            }
        }

        foreach (var (key, value) in node.Children.Where(c => c.Key.ToString() != "<<"))
        {
            merged.Children[key] = value is YamlMappingNode map ? Merge(map) : value;
        }

        return merged;
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ForgeOne.Cluster.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
    }
}
