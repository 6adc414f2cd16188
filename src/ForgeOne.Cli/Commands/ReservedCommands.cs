using System.CommandLine;
using ForgeOne.Cli.Infrastructure;

namespace ForgeOne.Cli.Commands;

/// <summary>
/// Verb names kept for services that bring their own endpoints: they show in <c>--help</c> so
/// nothing else takes the name, and say plainly that this version does not have them.
/// </summary>
public static class ReservedCommands
{
    private static readonly (string Name, string Description)[] Reserved =
    [
        ("integrity", "Integrity checks of one shard or all, --deep (arrives with the scrubber endpoints)"),
    ];

    /// <summary>The reserved commands.</summary>
    public static IEnumerable<Command> Build(Verbs verbs)
    {
        ArgumentNullException.ThrowIfNull(verbs);
        foreach (var (name, description) in Reserved)
        {
            var rest = new Argument<string[]>("arguments") { Arity = ArgumentArity.ZeroOrMore, Hidden = true };
            var command = new Command(name, $"[reserved] {description}") { rest };
            command.TreatUnmatchedTokensAsErrors = false;
            verbs.Action(command, (_, _) => throw CliException.Usage($"'forgeone {name}' is reserved and not available in this version: {description}."));
            yield return command;
        }
    }
}
