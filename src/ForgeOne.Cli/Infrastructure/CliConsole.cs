namespace ForgeOne.Cli.Infrastructure;

/// <summary>
/// Everything the CLI reads from and writes to its process: standard streams, whether they are
/// terminals, the environment and the clock. <see cref="System"/> is the real process; tests run
/// the CLI in-process through <see cref="ForgeOneCli.RunAsync"/> with their own.
/// </summary>
public sealed record CliConsole(
    TextWriter Out,
    TextWriter Error,
    TextReader In,
    Stream StandardInput,
    Func<Stream> StandardOutput,
    bool OutIsTerminal,
    bool ErrorIsTerminal,
    Func<string, string?> Environment,
    TimeProvider Time)
{
    /// <summary>The process's own console.</summary>
    public static CliConsole System() => new(
        Console.Out,
        Console.Error,
        Console.In,
        Console.OpenStandardInput(),
        Console.OpenStandardOutput,
        !Console.IsOutputRedirected,
        !Console.IsErrorRedirected,
        global::System.Environment.GetEnvironmentVariable,
        TimeProvider.System);

    /// <summary>A console over the given writers (no terminal, empty input), for tests.</summary>
    public static CliConsole Captured(TextWriter output, TextWriter error, IReadOnlyDictionary<string, string>? environment = null, string input = "") => new(
        output,
        error,
        new StringReader(input),
        new MemoryStream(global::System.Text.Encoding.UTF8.GetBytes(input)),
        () => throw new InvalidOperationException("binary standard output is not available in a captured console"),
        false,
        false,
        name => environment is not null && environment.TryGetValue(name, out var v) ? v : null,
        TimeProvider.System);
}
