using System.CommandLine;
using ForgeOne.Cli.Commands;
using ForgeOne.Cli.Infrastructure;

namespace ForgeOne.Cli;

/// <summary>
/// The <c>forgeone</c> command line: builds the verb tree, parses, runs one verb, maps every
/// outcome to an exit code (<see cref="ExitCodes"/>). <see cref="RunAsync"/> is the whole program,
/// so tests can run it in-process with their own console.
/// </summary>
public static class ForgeOneCli
{
    /// <summary>Runs the command line <paramref name="args"/> and returns the exit code.</summary>
    public static async Task<int> RunAsync(string[] args, CliConsole console, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(console);
        var globals = new GlobalOptions();
        var root = Build(globals, console);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await console.Error.WriteLineAsync($"error: {error.Message}").ConfigureAwait(false);
            }

            var verb = string.Join(' ', parse.CommandResult.Command.Name == root.Name ? [] : Path(parse.CommandResult.Command, root));
            await console.Error.WriteLineAsync($"Run 'forgeone {(verb.Length == 0 ? "" : verb + " ")}--help' for usage.").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        return await parse.InvokeAsync(new InvocationConfiguration
        {
            Output = console.Out,
            Error = console.Error,
            EnableDefaultExceptionHandler = false,
            // Program.cs turns Ctrl-C and SIGTERM into cancellation of this token itself.
            ProcessTerminationTimeout = null,
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The root command with every verb.</summary>
    internal static RootCommand Build(GlobalOptions globals, CliConsole console)
    {
        var root = new RootCommand($"""
            forgeone: operate a ForgeOne cluster through a node's HTTP edge (never joins the cluster).

            Where and as whom: --url / FORGEONE_URL / the profile's cluster / http://127.0.0.1:8080;
            --key, --key-file / FORGEONE_API_KEY / the profile's apiKey or apiKeyFile. Profiles:
            ~/.config/forgeone/config.json (or FORGEONE_CONFIG), chosen with --cluster / FORGEONE_CLUSTER.

            {ExitCodes.Help}
            """);
        globals.AddTo(root);
        var verbs = new Verbs(globals, console);
        root.Subcommands.Add(ClusterCommands.Cluster(verbs));
        root.Subcommands.Add(ClusterCommands.Sharding(verbs));
        root.Subcommands.Add(KeysCommands.Build(verbs));
        root.Subcommands.Add(ApiKeyCommands.Build(verbs));
        root.Subcommands.Add(AuditCommands.Build(verbs));
        root.Subcommands.Add(EvidenceCommands.Build(verbs));
        root.Subcommands.Add(LogsCommands.Build(verbs));
        root.Subcommands.Add(EventsCommands.Build(verbs));
        root.Subcommands.Add(BlobCommands.Build(verbs));
        root.Subcommands.Add(BackupCommands.Backup(verbs));
        root.Subcommands.Add(BackupCommands.Dr(verbs));
        root.Subcommands.Add(SchemaCommands.Build(verbs));
        foreach (var reserved in ReservedCommands.Build(verbs))
        {
            root.Subcommands.Add(reserved);
        }

        root.Subcommands.Add(CompletionCommand.Build(verbs));
        return root;
    }

    private static IEnumerable<string> Path(Command command, RootCommand root)
    {
        var names = new List<string>();
        for (Command? c = command; c is not null && c != root; c = Parent(root, c))
        {
            names.Insert(0, c.Name);
        }

        return names;
    }

    private static Command? Parent(Command from, Command child)
    {
        foreach (var sub in from.Subcommands)
        {
            if (sub == child)
            {
                return from;
            }

            if (Parent(sub, child) is { } found)
            {
                return found;
            }
        }

        return null;
    }
}

/// <summary>How verbs are wired: each action runs with a <see cref="CliContext"/> and every failure becomes an exit code.</summary>
public sealed class Verbs(GlobalOptions globals, CliConsole console)
{
    /// <summary>The global options.</summary>
    public GlobalOptions Globals { get; } = globals;

    /// <summary>Sets <paramref name="command"/>'s action to <paramref name="body"/>.</summary>
    public Command Action(Command command, Func<CliContext, CancellationToken, Task<int>> body)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(body);
        command.SetAction(async (parse, cancellationToken) =>
        {
            CliContext? context = null;
            try
            {
                context = new CliContext(console, Globals, parse);
                return await body(context, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                var failure = Failures.Classify(cancellationToken.IsCancellationRequested && e is not CliException ? new OperationCanceledException("interrupted", e) : e, context?.AddressTried ?? Endpoint.DefaultUrl);
                (context?.Output ?? new CliOutput(console, OutputMode.Human)).Failure(failure);
                return failure.ExitCode;
            }
            finally
            {
                context?.Dispose();
            }
        });
        return command;
    }

    /// <summary>A command group (it only holds verbs).</summary>
    public static Command Group(string name, string description, params Command[] verbs)
    {
        var group = new Command(name, description);
        foreach (var verb in verbs)
        {
            group.Subcommands.Add(verb);
        }

        return group;
    }
}
