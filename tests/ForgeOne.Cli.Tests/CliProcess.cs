using System.Diagnostics;
using System.Reflection;
using System.Text;
using ForgeOne.Cli.Infrastructure;
using ForgeOne.IntegrationTests;

namespace ForgeOne.Cli.Tests;

/// <summary>What one run of the CLI printed and returned.</summary>
public sealed record CliRun(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)
{
    /// <summary>Standard output split into lines (no trailing empty line).</summary>
    public string[] Lines => Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();

    public override string ToString() => $"exit {ExitCode} after {Elapsed.TotalSeconds:0.0} s\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>Runs <c>forgeone</c>: as the real process (exit codes, signals, terminals) or in-process through its entry point.</summary>
public static class Forgeone
{
    /// <summary>The built CLI (<c>forgeone.dll</c>) beside the node binary of the same configuration.</summary>
    public static string Dll
    {
        get
        {
            var configuration = typeof(Forgeone).Assembly.GetCustomAttribute<BuildConfigurationAttribute>()?.Configuration ?? "Debug";
            var path = Path.Combine(NodeProcess.RepoRoot, "src", "ForgeOne.Cli", "bin", configuration, "net10.0", "forgeone.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException("Build ForgeOne.Cli first", path);
        }
    }

    /// <summary>Runs the CLI as a child process with a clean environment (no profile file, no FORGEONE_* from the caller).</summary>
    public static async Task<CliRun> ProcessAsync(IEnumerable<string> args, IDictionary<string, string>? environment = null, TimeSpan? timeout = null, string? stdin = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Dll);
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("FORGEONE", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(key);
        }

        info.Environment["FORGEONE_CONFIG"] = "/nonexistent/forgeone-test-config.json";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var watch = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout ?? TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"forgeone {string.Join(' ', args)} did not exit within {timeout}: {await stdout}{await stderr}");
        }

        return new CliRun(process.ExitCode, await stdout, await stderr, watch.Elapsed);
    }

    /// <summary>Runs the CLI in this process through <see cref="ForgeOneCli.RunAsync"/> (same code, no process start).</summary>
    public static async Task<CliRun> InProcessAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, string input = "", CancellationToken cancellationToken = default)
    {
        var output = new StringWriter(new StringBuilder());
        var error = new StringWriter(new StringBuilder());
        var env = new Dictionary<string, string>(environment ?? new Dictionary<string, string>()) { ["FORGEONE_CONFIG"] = "/nonexistent/forgeone-test-config.json" };
        var watch = Stopwatch.StartNew();
        var code = await ForgeOneCli.RunAsync([.. args], CliConsole.Captured(output, error, env, input), cancellationToken);
        return new CliRun(code, output.ToString(), error.ToString(), watch.Elapsed);
    }
}
