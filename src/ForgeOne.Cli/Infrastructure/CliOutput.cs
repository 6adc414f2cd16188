using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Spectre.Console;

namespace ForgeOne.Cli.Infrastructure;

/// <summary>How results are printed: tables and lines for people, JSON for scripts, or only the essential value.</summary>
public enum OutputMode
{
    /// <summary>Tables and sentences (the default).</summary>
    Human,

    /// <summary>One JSON document per result, JSON Lines for streams; stable camelCase field names.</summary>
    Json,

    /// <summary>Only the value a script needs (an id, an address), one per line; no progress.</summary>
    Quiet,
}

/// <summary>
/// The one place results, progress and errors are written. Results go to standard output;
/// progress and errors to standard error, so <c>forgeone ... --json | jq</c> sees only JSON.
/// </summary>
public sealed class CliOutput
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
    private readonly CliConsole _console;

    /// <summary>An output in <paramref name="mode"/> over <paramref name="console"/>.</summary>
    public CliOutput(CliConsole console, OutputMode mode)
    {
        _console = console;
        Mode = mode;
        Human = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(console.Out),
            Ansi = console.OutIsTerminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = console.OutIsTerminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        if (!console.OutIsTerminal)
        {
            // Redirected output is read by programs: never wrap a table row at 80 columns.
            Human.Profile.Width = 400;
        }
    }

    /// <summary>The mode.</summary>
    public OutputMode Mode { get; }

    /// <summary>The console for human output (tables).</summary>
    public IAnsiConsole Human { get; }

    /// <summary>The process's console.</summary>
    public CliConsole Console => _console;

    /// <summary>Prints a result: <paramref name="human"/> renders it for people, JSON serializes <paramref name="value"/>, quiet prints <paramref name="quiet"/>.</summary>
    public void Result<T>(T value, JsonTypeInfo<T> type, Action<CliOutput> human, string? quiet = null)
    {
        ArgumentNullException.ThrowIfNull(human);
        switch (Mode)
        {
            case OutputMode.Json:
                // One document, indented: a result is read whole (streams use Line).
                using (var doc = JsonDocument.Parse(JsonSerializer.SerializeToUtf8Bytes(value, type)))
                {
                    _console.Out.WriteLine(JsonSerializer.Serialize(doc.RootElement, Indented));
                }

                break;
            case OutputMode.Quiet:
                if (quiet is not null)
                {
                    _console.Out.WriteLine(quiet);
                }

                break;
            default:
                human(this);
                break;
        }

        _console.Out.Flush();
    }

    /// <summary>Prints one item of a stream: a JSON Lines record, a human line, or the quiet value.</summary>
    public void Line<T>(T value, JsonTypeInfo<T> type, string human, string? quiet = null)
    {
        var text = Mode switch
        {
            OutputMode.Json => JsonSerializer.Serialize(value, type),
            OutputMode.Quiet => quiet,
            _ => human,
        };
        if (text is not null)
        {
            _console.Out.WriteLine(text);
            _console.Out.Flush();
        }
    }

    /// <summary>Writes a plain line for people (nothing in JSON or quiet mode).</summary>
    public void WriteLine(string text)
    {
        if (Mode == OutputMode.Human)
        {
            _console.Out.WriteLine(text);
        }
    }

    /// <summary>Renders a table for people.</summary>
    public void Table(IEnumerable<string> columns, IEnumerable<IEnumerable<string>> rows)
    {
        var table = new Table().Border(TableBorder.Simple);
        foreach (var c in columns)
        {
            table.AddColumn(new TableColumn(Markup.Escape(c)));
        }

        foreach (var row in rows)
        {
            table.AddRow([.. row.Select(cell => new Text(cell))]);
        }

        Human.Write(table);
    }

    /// <summary>A note on standard error (progress lines, warnings); suppressed in quiet and JSON mode.</summary>
    public void Note(string text)
    {
        if (Mode == OutputMode.Human)
        {
            _console.Error.WriteLine(text);
            _console.Error.Flush();
        }
    }

    /// <summary>Reports a failure on standard error (in JSON mode as a JSON object scripts can read).</summary>
    public void Failure(CliException failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        if (Mode == OutputMode.Json)
        {
            _console.Error.WriteLine(JsonSerializer.Serialize(new CliError(failure.Code ?? "cli.error", failure.Message, failure.ExitCode), CliJsonContext.Default.CliError));
        }
        else
        {
            _console.Error.WriteLine($"error: {failure.Message}");
        }

        _console.Error.Flush();
    }

    /// <summary>Bytes as people read them (1.5 GiB).</summary>
    public static string Bytes(long bytes) =>
        bytes switch
        {
            >= 1L << 30 => (bytes / (double)(1L << 30)).ToString("0.##", CultureInfo.InvariantCulture) + " GiB",
            >= 1L << 20 => (bytes / (double)(1L << 20)).ToString("0.##", CultureInfo.InvariantCulture) + " MiB",
            >= 1L << 10 => (bytes / (double)(1L << 10)).ToString("0.##", CultureInfo.InvariantCulture) + " KiB",
            _ => bytes.ToString(CultureInfo.InvariantCulture) + " B",
        };

    /// <summary>A time as the CLI prints it (ISO 8601, UTC, milliseconds).</summary>
    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
