using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;

namespace ForgeOne.IntegrationTests;

/// <summary>The build configuration of this assembly, used to find the node binary built beside it.</summary>
[AttributeUsage(AttributeTargets.Assembly)]
public sealed class BuildConfigurationAttribute(string configuration) : Attribute
{
    public string Configuration { get; } = configuration;
}

/// <summary>A ForgeOne.Node child process with its output captured; killed on dispose.</summary>
public sealed class NodeProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<(string Text, TaskCompletionSource Seen)> _waiters = [];

    private NodeProcess(Process process, string name)
    {
        _process = process;
        Name = name;
    }

    public string Name { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string Output => string.Join(Environment.NewLine, _lines);

    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ForgeOne.Cluster.sln")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? throw new InvalidOperationException("Repository root not found above " + AppContext.BaseDirectory);
        }
    }

    public static string NodeDll
    {
        get
        {
            var configuration = typeof(NodeProcess).Assembly.GetCustomAttribute<BuildConfigurationAttribute>()?.Configuration ?? "Debug";
            var path = Path.Combine(RepoRoot, "src", "ForgeOne.Node", "bin", configuration, "net10.0", "ForgeOne.Node.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException("Build ForgeOne.Node first", path);
        }
    }

    public static NodeProcess Start(string name, string workingDirectory, IEnumerable<string> args, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(NodeDll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // A node with the edge role would serve HTTP on 8080 by default, which tests never bind:
        // a free port unless the test chose one (the node prints the address it serves).
        info.Environment["FORGEONE__EDGE__PORT"] = "0";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var node = new NodeProcess(process, name);
        process.OutputDataReceived += (_, e) => node.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => node.OnLine(e.Data);
        process.Exited += (_, _) => node._ready.TrySetException(new InvalidOperationException($"{name} exited with {process.ExitCode} before it was ready:\n{node.Output}"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return node;
    }

    /// <summary>Waits for the node's readiness line (or fails with its output if it exits first).</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        try
        {
            await _ready.Task.WaitAsync(timeout);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{Name} not ready within {timeout}:\n{Output}", e);
        }
    }

    /// <summary>The edge's base address, once the node printed it (null before, or without the edge role).</summary>
    public Uri? EdgeAddress =>
        _lines.Where(l => l.StartsWith(EdgeLine, StringComparison.Ordinal)).Select(l => new Uri(l[EdgeLine.Length..].Trim())).FirstOrDefault();

    private const string EdgeLine = "ForgeOne edge listening on ";

    /// <summary>Waits until a line containing <paramref name="text"/> has been printed (fails at once if the process exits first).</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waiters)
        {
            // Registered before looking at what was printed, so no line slips between the two.
            _waiters.Add((text, seen));
        }

        if (_lines.Any(l => l.Contains(text, StringComparison.Ordinal)))
        {
            seen.TrySetResult();
        }

        var exited = _process.WaitForExitAsync();
        var first = await Task.WhenAny(seen.Task, exited).WaitAsync(timeout).ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : null, TaskScheduler.Default);
        if (first != seen.Task && !seen.Task.IsCompleted)
        {
            throw new TimeoutException($"{Name} never printed '{text}' ({(first is null ? $"waited {timeout}" : "it exited")}):\n{Output}");
        }
    }

    /// <summary>SIGTERM: the graceful path (CoordinatedShutdown).</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>SIGKILL: a crash. No shutdown code runs.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        await _process.WaitForExitAsync().WaitAsync(timeout);
        return _process.ExitCode;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _process.Dispose();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        _lines.Enqueue(line);
        lock (_waiters)
        {
            foreach (var (text, seen) in _waiters.Where(w => line.Contains(w.Text, StringComparison.Ordinal)).ToList())
            {
                seen.TrySetResult();
                _waiters.Remove((text, seen));
            }
        }

        if (line.Contains("ForgeOne node ready", StringComparison.Ordinal))
        {
            _ready.TrySetResult();
        }
    }
}

/// <summary>A temp directory removed on dispose.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "forgeone-it", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
