using System.CommandLine;
using ForgeOne.Cli.Infrastructure;

namespace ForgeOne.Cli.Commands;

/// <summary>
/// <c>forgeone completion bash</c>: a bash completion script. It asks forgeone itself for the
/// candidates (System.CommandLine's <c>[suggest:N]</c> directive), so verbs and options added
/// later complete without a new script. Install: <c>source &lt;(forgeone completion bash)</c>.
/// </summary>
public static class CompletionCommand
{
    /// <summary>The bash script.</summary>
    public const string Bash = """
        # bash completion for forgeone; install with: source <(forgeone completion bash)
        _forgeone_complete() {
          local line="${COMP_LINE#* }"
          [[ "$line" == "$COMP_LINE" ]] && line=""
          local position=$(( COMP_POINT - (${#COMP_LINE} - ${#line}) ))
          (( position < 0 )) && position=0
          local IFS=$'\n'
          COMPREPLY=( $(compgen -W "$("${COMP_WORDS[0]}" "[suggest:${position}]" "${line}" 2>/dev/null)" -- "${COMP_WORDS[COMP_CWORD]}") )
        }
        complete -o default -F _forgeone_complete forgeone
        """;

    /// <summary>Builds <c>completion</c>.</summary>
    public static Command Build(Verbs verbs)
    {
        ArgumentNullException.ThrowIfNull(verbs);
        var shell = new Argument<string>("shell") { Description = "The shell (bash)" };
        shell.AcceptOnlyFromAmong("bash");
        var completion = new Command("completion", "Prints a shell completion script: source <(forgeone completion bash)") { shell };
        verbs.Action(completion, (ctx, _) =>
        {
            ctx.Console.Out.WriteLine(Bash);
            return Task.FromResult(ExitCodes.Ok);
        });
        return completion;
    }
}
