using System.Diagnostics;
using System.Text.RegularExpressions;

namespace ForgeOne.Load.Tests;

/// <summary>
/// The smoke load as a user runs it: <c>forgeone-load smoke</c> in its own process, which starts
/// a ForgeOne.Node child process and drives it through the actor client over remoting. CI runs
/// this, so it fails on errors (the smoke profile's thresholds are error checks), never on speed.
/// </summary>
[Trait("Category", "MultiProcess")]
public sealed partial class SmokeLoadTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("forgeone-smoke-").FullName;

    [Fact]
    public async Task Smoke_RunsEveryScenarioWithoutErrorsAndLeavesNoNodeBehind()
    {
        var (exit, output) = await RunAsync(["smoke", "--reports", _dir], TimeSpan.FromMinutes(3));

        Assert.True(exit == 0, $"exit {exit}:\n{output}");
        Assert.Contains("PASSED", output, StringComparison.Ordinal);
        var text = await File.ReadAllTextAsync(Path.Combine(_dir, "smoke.txt"));
        foreach (var scenario in new[] { "log-ingest-single", "log-ingest-batch", "http-ingest-single", "http-ingest-batch", "http-query", "event-publish-deliver", "blob-transfer", "mixed-read", "mixed-write", "log-query" })
        {
            Assert.Matches(new Regex($@"(?m)^{Regex.Escape(scenario)}\s+\d+\s+[1-9]\d*\s+0\s+0\.00\s"), text);
        }

        Assert.DoesNotContain("FAIL", text, StringComparison.Ordinal);
        Assert.All(new[] { "smoke.md", "smoke.csv", "smoke.html" }, f => Assert.True(File.Exists(Path.Combine(_dir, f)), f));

        // The node it started is stopped and its temp data directory removed.
        var started = StartedNode().Match(output);
        Assert.True(started.Success, output);
        Assert.False(Directory.Exists($"/proc/{started.Groups["pid"].Value}"), "the node process is still running");
        Assert.False(Directory.Exists(started.Groups["dir"].Value), "the node's data directory was left behind");
    }

    [Fact]
    public async Task Run_WithAnInvalidRunFile_ExitsTwoListingTheProblems()
    {
        var file = Path.Combine(_dir, "bad.yaml");
        await File.WriteAllTextAsync(file, "scenarios:\n  - name: x\n    type: log-append\n    load: [ { inject: { rate: -1 } } ]\n");

        var (exit, output) = await RunAsync(["run", file], TimeSpan.FromMinutes(1));

        Assert.Equal(2, exit);
        Assert.Contains("scenarios[0].load[0].inject.rate: must be at least 0", output, StringComparison.Ordinal);
        Assert.DoesNotContain("started ForgeOne.Node", output, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }

    private static async Task<(int Exit, string Output)> RunAsync(string[] args, TimeSpan timeout)
    {
        var tool = Path.Combine(AppContext.BaseDirectory, "forgeone-load.dll");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(tool);
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    [GeneratedRegex(@"started ForgeOne\.Node \(pid (?<pid>\d+)\) at \S+, data in (?<dir>\S+)")]
    private static partial Regex StartedNode();
}
