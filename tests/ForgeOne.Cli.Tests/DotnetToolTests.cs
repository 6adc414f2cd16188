using System.Diagnostics;
using System.Reflection;
using ForgeOne.IntegrationTests;

namespace ForgeOne.Cli.Tests;

/// <summary>
/// The CLI as users install it: <c>dotnet pack</c> (of the build under test) into a local folder,
/// <c>dotnet tool install</c> from that folder, then the installed <c>forgeone</c> command runs.
/// </summary>
[Trait("Category", "MultiProcess")]
public sealed class DotnetToolTests : IDisposable
{
    private readonly TempDir _dir = new();

    [Fact]
    public async Task DotnetTool_PackedAndInstalledFromALocalFolder_Runs()
    {
        var configuration = typeof(DotnetToolTests).Assembly.GetCustomAttribute<BuildConfigurationAttribute>()?.Configuration ?? "Debug";
        var packages = Path.Combine(_dir.Path, "packages");
        var tools = Path.Combine(_dir.Path, "tools");
        var pack = await DotnetAsync("pack", Path.Combine(NodeProcess.RepoRoot, "src", "ForgeOne.Cli", "ForgeOne.Cli.csproj"), "--no-build", "-c", configuration, "-o", packages, "-nologo");
        Assert.True(pack.Code == 0, pack.Output);
        Assert.Single(Directory.GetFiles(packages, "ForgeOne.Cli.*.nupkg"));

        var install = await DotnetAsync("tool", "install", "ForgeOne.Cli", "--tool-path", tools, "--add-source", packages);
        Assert.True(install.Code == 0, install.Output);

        var forgeone = new ProcessStartInfo(Path.Combine(tools, "forgeone"), ["completion", "bash"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(forgeone)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(0, process.ExitCode);
        Assert.Contains("complete -o default -F _forgeone_complete forgeone", output, StringComparison.Ordinal);
    }

    public void Dispose() => _dir.Dispose();

    private static async Task<(int Code, string Output)> DotnetAsync(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet", args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
        return (process.ExitCode, $"dotnet {string.Join(' ', args)}: exit {process.ExitCode}\n{await stdout}{await stderr}");
    }
}
