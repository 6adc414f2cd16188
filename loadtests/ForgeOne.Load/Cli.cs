using System.Globalization;
using ForgeOne.Client;
using ForgeOne.Common;
using ForgeOne.LoadRunner;

namespace ForgeOne.Load;

/// <summary>The command line of <c>forgeone-load</c>: parses, runs, maps outcomes to exit codes.</summary>
public static class Cli
{
    /// <summary>Exit code: the run completed and every threshold passed.</summary>
    public const int Passed = 0;

    /// <summary>Exit code: a threshold failed, or the run was aborted or cut by its time bound.</summary>
    public const int Failed = 1;

    /// <summary>Exit code: bad arguments or run file (every problem is listed).</summary>
    public const int Usage = 2;

    /// <summary>Exit code: the target could not be started, reached, or set up for a scenario.</summary>
    public const int TargetError = 3;

    private const string Help = """
        usage: forgeone-load smoke [options]
               forgeone-load run <file.yaml|file.json> [options]
               forgeone-load profiles
               forgeone-load peers [--entries N] [--quick] [--postgres CONNSTRING] [--out DIR]
        options: --target node|cluster   --seeds addr[,addr]   --reports DIR   --only NAME   --nosync
        """;

    /// <summary>Runs the command in <paramref name="args"/>; returns the process exit code.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            await output.WriteLineAsync(Help).ConfigureAwait(false);
            return args.Length == 0 ? Usage : Passed;
        }

        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            // First Ctrl-C stops the load and cleans up (the child node included); a second one kills.
            e.Cancel = !cancel.IsCancellationRequested;
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            switch (args[0])
            {
                case "profiles":
                    foreach (var file in Directory.GetFiles(ProfilesDirectory, "*.yaml").Order(StringComparer.Ordinal))
                    {
                        await output.WriteLineAsync(file).ConfigureAwait(false);
                    }

                    return Passed;
                case "smoke":
                    return await RunFileAsync(Path.Combine(ProfilesDirectory, "smoke.yaml"), args[1..], output, error, cancel.Token).ConfigureAwait(false);
                case "run" when args.Length >= 2:
                    return await RunFileAsync(args[1], args[2..], output, error, cancel.Token).ConfigureAwait(false);
                case "peers":
                    return await PeerBenchmark.RunAsync(args[1..], output, error, cancel.Token).ConfigureAwait(false);
                default:
                    await error.WriteLineAsync(Help).ConfigureAwait(false);
                    return Usage;
            }
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>The built-in profiles shipped beside the tool.</summary>
    public static string ProfilesDirectory => Path.Combine(AppContext.BaseDirectory, "profiles");

    private static async Task<int> RunFileAsync(string path, string[] options, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        RunDefinition run;
        try
        {
            run = ApplyOptions(RunDefinition.Load(path), options);
        }
        catch (RunFileException e)
        {
            await error.WriteLineAsync(e.Message).ConfigureAwait(false);
            return Usage;
        }
        catch (ArgumentException e)
        {
            await error.WriteLineAsync(e.Message).ConfigureAwait(false);
            return Usage;
        }

        LoadTarget target;
        try
        {
            target = await LoadTarget.StartAsync(run.Target, output, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidOperationException or FileNotFoundException or TimeoutException or OperationCanceledException)
        {
            await error.WriteLineAsync("forgeone-load: the target did not start: " + e.Message).ConfigureAwait(false);
            return TargetError;
        }

        await using (target.ConfigureAwait(false))
        {
            ForgeOneActorClient client;
            try
            {
                client = await target.ConnectAsync().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                await error.WriteLineAsync($"forgeone-load: could not join {target.Description}: {e.Message}").ConfigureAwait(false);
                return TargetError;
            }

            await using (client.ConfigureAwait(false))
            {
                Scenario[] scenarios;
                try
                {
                    // One HTTP client for every via: http scenario, made only when one needs it.
                    var http = new Lazy<ForgeOne.Client.Http.ForgeOneHttpClient>(target.ConnectHttp);
                    scenarios = run.Scenarios.Select(s => ScenarioCatalog.Create(s, client, target.Identity, () => http.Value)).ToArray();
                }
                catch (ScenarioSetupException e)
                {
                    await error.WriteLineAsync("forgeone-load: " + e.Message).ConfigureAwait(false);
                    return TargetError;
                }

                var runner = new ScenarioRunner(new LoadRunnerOptions
                {
                    Name = run.Name,
                    MaxInFlight = run.MaxInFlight,
                    MaxDuration = run.MaxDuration,
                    ReportFolder = run.ReportFolder,
                    Seed = run.Seed,
                    Console = output,
                    Progress = output,
                    ProgressInPlace = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected,
                    Configuration =
                    [
                        new("run file", Path.GetFullPath(path)),
                        new("target", target.Description),
                        new("shard counts", $"logs {run.Target.Logs}, events {run.Target.Events}, blobs {run.Target.Blobs}"),
                        new("fsync", run.Target.NoSync ? "off (noSync)" : "on"),
                        new("client", "ForgeOne actor client in the runner's process (remoting)"),
                        new("machine", $"{Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}"),
                        new("load average at start", LoadAverage()),
                    ],
                });
                RunReport report;
                try
                {
                    report = await runner.RunAsync(scenarios, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is ForgeOneException or TimeoutException or Akka.Actor.AskTimeoutException)
                {
                    // A scenario's init (a prefill, a subscription) failed against the target.
                    await error.WriteLineAsync("forgeone-load: scenario set-up failed: " + e.Message).ConfigureAwait(false);
                    return TargetError;
                }

                await output.WriteLineAsync($"reports: {Path.GetFullPath(run.ReportFolder)}").ConfigureAwait(false);
                await output.WriteLineAsync(report.Passed ? "PASSED" : $"FAILED ({report.StopReason}; {report.Thresholds.Count(t => !t.Passed)} threshold(s) failed)").ConfigureAwait(false);
                return report.Passed ? Passed : Failed;
            }
        }
    }

    /// <summary>Command-line options layered over the run file.</summary>
    public static RunDefinition ApplyOptions(RunDefinition run, string[] options)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(options);
        var only = new List<string>();
        for (var i = 0; i < options.Length; i++)
        {
            string Value() => i + 1 < options.Length ? options[++i] : throw new ArgumentException($"{options[i]} needs a value");
            switch (options[i])
            {
                case "--target":
                    var kind = Value();
                    run = kind is "node" or "cluster" ? run with { Target = run.Target with { Kind = kind } } : throw new ArgumentException($"--target must be node or cluster, not '{kind}'");
                    break;
                case "--seeds":
                    run = run with { Target = run.Target with { Kind = "cluster", Seeds = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) } };
                    break;
                case "--reports":
                    run = run with { ReportFolder = Value() };
                    break;
                case "--only":
                    only.Add(Value());
                    break;
                case "--nosync":
                    run = run with { Target = run.Target with { NoSync = true } };
                    break;
                default:
                    throw new ArgumentException($"unknown option '{options[i]}'");
            }
        }

        if (run.Target.Kind == "cluster" && run.Target.Seeds.Count == 0)
        {
            throw new ArgumentException("a cluster target needs --seeds (e.g. akka.tcp://forgeone@127.0.0.1:4053)");
        }

        if (only.Count > 0)
        {
            var unknown = only.Except(run.Scenarios.Select(s => s.Name), StringComparer.Ordinal).ToArray();
            if (unknown.Length > 0)
            {
                throw new ArgumentException($"--only: no scenario named {string.Join(", ", unknown)} (have {string.Join(", ", run.Scenarios.Select(s => s.Name))})");
            }

            run = run with { Scenarios = run.Scenarios.Where(s => only.Contains(s.Name, StringComparer.Ordinal)).ToArray() };
        }

        return run;
    }

    /// <summary>The 1/5/15-minute load average (Linux), for reports: these machines are shared.</summary>
    public static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Trim();
        }
        catch (IOException)
        {
            return "unknown";
        }
        catch (UnauthorizedAccessException)
        {
            return "unknown";
        }
    }

    /// <summary>Invariant formatting for figures.</summary>
    public static string F(double value, string format = "N0") => value.ToString(format, CultureInfo.InvariantCulture);
}
