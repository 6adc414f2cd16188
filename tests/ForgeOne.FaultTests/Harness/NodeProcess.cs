using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Reflection;

namespace ForgeOne.FaultTests.Harness;

/// <summary>The build configuration of this assembly, used to find the node binary built beside it.</summary>
[AttributeUsage(AttributeTargets.Assembly)]
public sealed class BuildConfigurationAttribute(string configuration) : Attribute
{
    /// <summary>Debug or Release.</summary>
    public string Configuration { get; } = configuration;
}

/// <summary>
/// One ForgeOne.Node child process: output captured line by line, waits on printed lines as
/// events (no polling), and the faults a test injects: SIGKILL, SIGTERM, SIGSTOP and SIGCONT.
/// Killed on dispose.
/// </summary>
public sealed class NodeProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<OutputLine> _lines = new();
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<OutputLine> Seen)> _waiters = [];
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private NodeProcess(Process process, string name, string host, int port)
    {
        _process = process;
        Name = name;
        Host = host;
        Port = port;
    }

    /// <summary>Name in test output (storage-1, ...).</summary>
    public string Name { get; }

    /// <summary>Remoting hostname.</summary>
    public string Host { get; }

    /// <summary>Remoting port.</summary>
    public int Port { get; }

    /// <summary>Akka address of the node.</summary>
    public string Address => $"akka.ssl.tcp://forgeone@{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>OS process id.</summary>
    public int Pid => _process.Id;

    /// <summary>True once the process ended.</summary>
    public bool HasExited => _exited.Task.IsCompleted;

    /// <summary>Completes with the exit code when the process ends.</summary>
    public Task<int> Exited => _exited.Task;

    /// <summary>Everything it printed so far, each line with the time the harness read it.</summary>
    public IReadOnlyList<OutputLine> Lines => [.. _lines];

    /// <summary>The repository root (holds ForgeOne.Cluster.sln).</summary>
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

    /// <summary>The node executable built with this test assembly's configuration.</summary>
    public static string NodeDll
    {
        get
        {
            var configuration = typeof(NodeProcess).Assembly.GetCustomAttribute<BuildConfigurationAttribute>()?.Configuration ?? "Debug";
            var path = Path.Combine(RepoRoot, "src", "ForgeOne.Node", "bin", configuration, "net10.0", "ForgeOne.Node.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException("Build ForgeOne.Node first", path);
        }
    }

    /// <summary>
    /// Starts <c>dotnet ForgeOne.Node.dll args</c> in <paramref name="workingDirectory"/>, inside
    /// <paramref name="networkNamespace"/> when given (<c>ip netns exec</c> execs dotnet in place,
    /// so the process id, and every signal sent to it, is the node's).
    /// </summary>
    public static NodeProcess Start(string name, int port, string workingDirectory, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, string host = "127.0.0.1", string? networkNamespace = null)
    {
        var info = new ProcessStartInfo(networkNamespace is null ? "dotnet" : "ip")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (networkNamespace is not null)
        {
            foreach (var arg in new[] { "netns", "exec", networkNamespace, "dotnet" })
            {
                info.ArgumentList.Add(arg);
            }
        }

        info.ArgumentList.Add(NodeDll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var node = new NodeProcess(process, name, host, port);
        process.OutputDataReceived += (_, e) => node.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => node.OnLine(e.Data);
        process.Exited += (_, _) => node.OnExit();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return node;
    }

    /// <summary>Waits for the node's readiness line; fails with its output if it exits or times out first.</summary>
    public Task WaitReadyAsync(TimeSpan timeout) => WaitForLineAsync(l => l.Contains("ForgeOne node ready", StringComparison.Ordinal), timeout, "its readiness line");

    /// <summary>
    /// Waits until it prints a line matching <paramref name="match"/> (lines printed earlier
    /// count, from <paramref name="since"/> on when given).
    /// </summary>
    public async Task<OutputLine> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout, string what, DateTimeOffset? since = null)
    {
        TaskCompletionSource<OutputLine> seen;
        lock (_waiters)
        {
            var already = _lines.FirstOrDefault(l => l.At >= (since ?? DateTimeOffset.MinValue) && match(l.Text));
            if (already is not null)
            {
                return already;
            }

            seen = new TaskCompletionSource<OutputLine>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((match, seen));
        }

        var first = await Task.WhenAny(seen.Task, _exited.Task, Task.Delay(timeout)).ConfigureAwait(false);
        if (first == seen.Task)
        {
            return await seen.Task.ConfigureAwait(false);
        }

        throw new TimeoutException(first == _exited.Task
            ? $"{Name} exited ({_exited.Task.Result}) before printing {what}:\n{Tail()}"
            : $"{Name} did not print {what} within {timeout}:\n{Tail()}");
    }

    /// <summary>SIGTERM: the graceful path (CoordinatedShutdown: hand-off, leave).</summary>
    public void Terminate() => Signal("TERM");

    /// <summary>SIGKILL: a crash. No shutdown code runs.</summary>
    public void Kill()
    {
        if (!HasExited)
        {
            Signal("KILL");
        }
    }

    /// <summary>SIGSTOP: the process freezes (as in a long GC pause or a VM stall).</summary>
    public void Pause() => Signal("STOP");

    /// <summary>
    /// SIGCONT: a paused process runs on, unaware time passed. Returns once the kernel no
    /// longer reports it stopped (there is no event for that, so its state is read again, and
    /// the signal repeated, until it runs: a stop delivered late must not leave it frozen).
    /// </summary>
    public async Task ResumeAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        do
        {
            Signal("CONT");
            if (State is not ('T' or 't'))
            {
                return;
            }

            await Task.Delay(100).ConfigureAwait(false);
        }
        while (DateTime.UtcNow < deadline);

        throw new InvalidOperationException($"{Name} (pid {Pid}) is still stopped after SIGCONT: {State}");
    }

    /// <summary>The process's state letter as the kernel reports it (R, S, D, T stopped, Z, X), or '?' once it is gone.</summary>
    public char State
    {
        get
        {
            try
            {
                // /proc/<pid>/stat: "pid (comm) S ...": the state follows the last ')'.
                var stat = File.ReadAllText($"/proc/{Pid.ToString(CultureInfo.InvariantCulture)}/stat");
                return stat[stat.LastIndexOf(')') + 2];
            }
            catch (IOException)
            {
                return '?';
            }
        }
    }

    /// <summary>Waits for the process to end; returns its exit code.</summary>
    public Task<int> WaitForExitAsync(TimeSpan timeout) => _exited.Task.WaitAsync(timeout);

    /// <summary>The last lines it printed (for failure messages).</summary>
    public string Tail(int lines = 60) => string.Join(Environment.NewLine, _lines.TakeLast(lines).Select(l => $"{l.At:HH:mm:ss.fff} {l.Text}"));

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                Signal("CONT");
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

    /// <summary>A free loopback TCP port.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Signal(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, _process.Id.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        var entry = new OutputLine(DateTimeOffset.UtcNow, line);
        lock (_waiters)
        {
            _lines.Enqueue(entry);
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Match(line))
                {
                    _waiters[i].Seen.TrySetResult(entry);
                    _waiters.RemoveAt(i);
                }
            }
        }
    }

    private void OnExit()
    {
        // Let the output readers drain first, so the last lines are in Output.
        _process.WaitForExit();
        _exited.TrySetResult(_process.ExitCode);
    }
}

/// <summary>A line a node printed, with the time the harness read it.</summary>
public sealed record OutputLine(DateTimeOffset At, string Text);
