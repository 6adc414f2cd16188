using System.Diagnostics;
using ForgeOne.Cli.Infrastructure;

namespace ForgeOne.Cli.Tests;

/// <summary>
/// <c>blob put</c> of 1 GiB on a real terminal (a tmux pane): the progress bar is drawn, Ctrl-C
/// stops the upload with exit code 130, and nothing of the blob is visible on the node.
/// </summary>
[Collection("node")]
[Trait("Category", "MultiProcess")]
public sealed class TerminalBlobTests(NodeFixture node) : IDisposable
{
    private readonly string _session = "forgeone-cli-" + Guid.NewGuid().ToString("N")[..8];

    [SkippableFact]
    public async Task BlobPut_OnATerminal_ShowsAProgressBar_AndCtrlCLeavesNothingOnTheNode()
    {
        var tmux = File.Exists("/usr/bin/tmux") ? "/usr/bin/tmux" : null;
        Skip.If(tmux is null && Environment.GetEnvironmentVariable("CI") != "true", "tmux is not installed (.ci/run installs it)");
        var file = Path.Combine(node.Directory, "one-gib.bin");
        await WriteIncompressibleAsync(file, 1L << 30);
        var name = "cli/interrupted-" + Guid.NewGuid().ToString("N") + ".bin";
        var exitFile = Path.Combine(node.Directory, _session + ".exit");
        var command = $"FORGEONE_CONFIG=/nonexistent FORGEONE_URL={node.Url} FORGEONE_API_KEY={node.AdminKey} dotnet {Forgeone.Dll} blob put {file} --name {name}; echo $? > {exitFile}; sleep 600";
        Run("new-session", "-d", "-s", _session, "-x", "150", "-y", "12", command);

        // The bar is drawn (Spectre's bar glyphs and a percentage below 100) while bytes move.
        var screen = await AwaitScreenAsync(s => s.Contains($"put {name}", StringComparison.Ordinal) && s.Contains('━') && System.Text.RegularExpressions.Regex.IsMatch(s, @"\b([1-9]|[1-9][0-9])%"), TimeSpan.FromSeconds(90));
        Run("send-keys", "-t", _session, "C-c");

        var deadline = Stopwatch.StartNew();
        while (!File.Exists(exitFile) || new FileInfo(exitFile).Length == 0)
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30), "forgeone did not exit after Ctrl-C:\n" + Capture());
            await Task.Delay(100);
        }

        Assert.Equal(ExitCodes.Interrupted.ToString(System.Globalization.CultureInfo.InvariantCulture), (await File.ReadAllTextAsync(exitFile)).Trim());
        Assert.Contains("error: interrupted", Capture(), StringComparison.Ordinal);

        // Nothing half-visible: the interrupted upload is no blob, by name or content type.
        var byName = await Forgeone.InProcessAsync(["blob", "ls", "--name", name, "--json"], node.AdminEnvironment);
        Assert.True(byName.ExitCode == 0, byName.ToString());
        Assert.Empty(byName.Lines);
        File.Delete(file);
        Assert.NotEmpty(screen);
    }

    public void Dispose()
    {
        try
        {
            Run("kill-session", "-t", _session);
        }
        catch (InvalidOperationException)
        {
            // Never started (tmux missing) or already gone.
        }
    }

    private static async Task WriteIncompressibleAsync(string path, long size)
    {
        // Random bytes (seeded, fast): LZ4 cannot shrink them, so the upload takes long enough to interrupt.
        var random = new Random(42);
        var buffer = new byte[4 << 20];
        await using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous);
        for (long written = 0; written < size; written += buffer.Length)
        {
            random.NextBytes(buffer);
            await stream.WriteAsync(buffer);
        }
    }

    private async Task<string> AwaitScreenAsync(Func<string, bool> shows, TimeSpan timeout)
    {
        // A terminal has no events to wait on: its screen is read until it shows what is awaited.
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var screen = Capture();
            if (shows(screen))
            {
                return screen;
            }

            Assert.True(watch.Elapsed < timeout, $"the terminal never showed the progress bar within {timeout}:\n{screen}");
            await Task.Delay(100);
        }
    }

    private string Capture() => Run("capture-pane", "-p", "-t", _session);

    private static string Run(params string[] args)
    {
        var info = new ProcessStartInfo("tmux") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? output : throw new InvalidOperationException($"tmux {string.Join(' ', args)}: {error}");
    }
}
