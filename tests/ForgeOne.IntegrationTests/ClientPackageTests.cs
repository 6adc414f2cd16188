using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Reflection;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace ForgeOne.IntegrationTests;

/// <summary>
/// <c>dotnet pack</c> makes ForgeOne.Client (and the ForgeOne libraries it depends on) NuGet
/// packages in a local folder feed; a program outside the solution, whose code is the package
/// README's example, restores ForgeOne.Client from that feed, builds, and talks to a running node.
/// </summary>
[Trait("Category", "MultiProcess")]
public sealed partial class ClientPackageTests : IDisposable
{
    // ForgeOne.Client and its project references, transitively: each becomes a package it
    // depends on. Read from the project files, so a library added to the chain is packed too.
    private static readonly string[] Packed = ProjectClosure("ForgeOne.Client");
    private readonly TempDir _dir = new();
    private NodeProcess? _node;

    [Fact]
    public async Task PackedClient_RestoredFromAFolderFeed_TalksToARunningNode()
    {
        // A version no earlier run used, so no package cache can answer instead of this feed.
        var version = "0.0.0-test." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", CultureInfo.InvariantCulture);
        var feed = Directory.CreateDirectory(Path.Combine(_dir.Path, "feed")).FullName;
        _node = NodeProcess.Start("node", _dir.Path, [$"--ForgeOne:Port={NodeProcess.FreePort().ToString(CultureInfo.InvariantCulture)}", "--ForgeOne:Shards:NoSync=true"]);

        // One MSBuild process packs them all from the solution's build (no rebuild).
        var packAll = Path.Combine(_dir.Path, "pack.proj");
        var projects = string.Join(';', Packed.Select(p => Path.Combine(NodeProcess.RepoRoot, "src", p, p + ".csproj")));
        await File.WriteAllTextAsync(packAll, $"""
            <Project>
              <Target Name="PackAll">
                <MSBuild Projects="{projects}" Targets="Pack" Properties="NoBuild=true;Configuration={Configuration};PackageVersion={version};PackageOutputPath={feed}" />
              </Target>
            </Project>
            """);
        await RunAsync(_dir.Path, TimeSpan.FromMinutes(4), "msbuild", packAll, "-t:PackAll", "-nologo", "-v:minimal");

        var package = Path.Combine(feed, $"ForgeOne.Client.{version}.nupkg");
        using (var zip = ZipFile.OpenRead(package))
        {
            Assert.NotNull(zip.GetEntry("README.md"));
            Assert.NotNull(zip.GetEntry("lib/net10.0/ForgeOne.Client.dll"));
            Assert.NotNull(zip.GetEntry("lib/net10.0/ForgeOne.Client.xml"));
            using var nuspec = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
            var document = XDocument.Load(nuspec);
            var dependencies = document.Descendants().Where(e => e.Name.LocalName == "dependency").ToDictionary(e => (string)e.Attribute("id")!, e => (string)e.Attribute("version")!);
            Assert.Equal(version, dependencies["ForgeOne.Cluster"]);
            Assert.True(dependencies.ContainsKey("Microsoft.Extensions.Http"), string.Join(", ", dependencies.Keys));
            Assert.Equal("README.md", document.Descendants().Single(e => e.Name.LocalName == "readme").Value);
        }

        // The consumer: outside the repository (none of its build props apply), the package's
        // README example as its code. Its own package folder takes ForgeOne.* from the feed; the
        // machine's package cache is only a fallback for third-party packages.
        var app = Directory.CreateDirectory(Path.Combine(_dir.Path, "app")).FullName;
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        await File.WriteAllTextAsync(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config><add key="globalPackagesFolder" value="{Path.Combine(_dir.Path, "packages")}" /></config>
              <packageSources><add key="forgeone-local" value="{feed}" /></packageSources>
              <fallbackPackageFolders><add key="machine" value="{cache}" /></fallbackPackageFolders>
            </configuration>
            """);
        await File.WriteAllTextAsync(Path.Combine(app, "app.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="ForgeOne.Client" Version="{version}" />
              </ItemGroup>
            </Project>
            """);
        var example = ReadmeExample().Match(await File.ReadAllTextAsync(Path.Combine(NodeProcess.RepoRoot, "src", "ForgeOne.Client", "README.md")));
        Assert.True(example.Success, "src/ForgeOne.Client/README.md has no ```csharp example");
        var code = example.Groups[1].Value;
        Assert.Contains("new Uri(\"http://127.0.0.1:8080\")", code, StringComparison.Ordinal);
        var usings = string.Concat(code.Split('\n').Where(l => l.StartsWith("using ", StringComparison.Ordinal)).Select(l => l + "\n"));
        var body = string.Concat(code.Split('\n').Where(l => !l.StartsWith("using ", StringComparison.Ordinal)).Select(l => l + "\n"))
            .Replace("new Uri(\"http://127.0.0.1:8080\")", "new Uri(args[0])", StringComparison.Ordinal);
        await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), usings + "var apiKey = args[1];\n" + body + "Console.WriteLine($\"appended {id}, count {count}\");\n");
        await RunAsync(app, TimeSpan.FromMinutes(4), "build", "-nologo", "-v:minimal");
        Assert.True(File.Exists(Path.Combine(_dir.Path, "packages", "forgeone.client", version, $"forgeone.client.{version}.nupkg")), "ForgeOne.Client was not restored from the feed");

        await _node.WaitReadyAsync(TimeSpan.FromSeconds(90));
        var edge = _node.EdgeAddress ?? throw new InvalidOperationException("the node printed no edge address:\n" + _node.Output);
        var key = (await File.ReadAllTextAsync(Path.Combine(_dir.Path, "keys", "bootstrap-admin.key"))).Trim();
        var output = await RunAsync(app, TimeSpan.FromMinutes(2), Path.Combine(app, "bin", "Debug", "net10.0", "app.dll"), edge.ToString(), key);
        Assert.Matches(@"appended [0-9A-Fa-f]{16,}, count 1", output);
    }

    public void Dispose()
    {
        _node?.Dispose();
        _dir.Dispose();
    }

    private static string[] ProjectClosure(string root)
    {
        var found = new SortedSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([root]);
        while (pending.TryPop(out var project))
        {
            if (!found.Add(project))
            {
                continue;
            }

            var file = XDocument.Load(Path.Combine(NodeProcess.RepoRoot, "src", project, project + ".csproj"));
            foreach (var reference in file.Descendants("ProjectReference"))
            {
                pending.Push(Path.GetFileNameWithoutExtension((string)reference.Attribute("Include")!));
            }
        }

        return [.. found];
    }

    private static string Configuration => typeof(NodeProcess).Assembly.GetCustomAttribute<BuildConfigurationAttribute>()?.Configuration ?? "Debug";

    [GeneratedRegex("```csharp\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex ReadmeExample();

    // Runs `dotnet args...` in directory; returns its output, fails with it on a non-zero exit.
    private static async Task<string> RunAsync(string directory, TimeSpan timeout, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // Outside the solution: no inherited MSBuild state from the test host's own build.
        info.Environment.Remove("MSBuildExtensionsPath");
        info.Environment.Remove("MSBuildSDKsPath");
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(' ', args)} did not finish within {timeout}:\n{await stdout}\n{await stderr}");
        }

        var output = await stdout + await stderr;
        Assert.True(process.ExitCode == 0, $"dotnet {string.Join(' ', args)} exited with {process.ExitCode}:\n{output}");
        return output;
    }
}
