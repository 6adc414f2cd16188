using System.Globalization;

namespace ForgeOne.Cli.Infrastructure;

/// <summary>
/// Times on the command line: ISO 8601 (<c>2026-12-01T10:00:00Z</c>, a date alone is midnight UTC),
/// <c>now</c>, or a duration ago (<c>15m</c>, <c>-2h</c>, <c>7d</c>, <c>30s</c>).
/// </summary>
public static class TimeArgument
{
    /// <summary>Parses <paramref name="text"/> relative to <paramref name="now"/>; a usage error names <paramref name="option"/>.</summary>
    public static DateTimeOffset Parse(string text, DateTimeOffset now, string option)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim();
        if (t.Equals("now", StringComparison.OrdinalIgnoreCase))
        {
            return now;
        }

        if (TryParseDuration(t.StartsWith('-') ? t[1..] : t, out var ago))
        {
            return now - ago;
        }

        if (DateTimeOffset.TryParse(t, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var absolute))
        {
            return absolute;
        }

        throw CliException.Usage($"{option} '{text}' is not a time: give ISO 8601 (2026-12-01T10:00:00Z), 'now', or a duration ago (30s, 15m, 2h, 7d)");
    }

    /// <summary>A duration: a count and a unit, <c>30s</c>, <c>15m</c>, <c>2h</c>, <c>7d</c>.</summary>
    public static bool TryParseDuration(string text, out TimeSpan duration)
    {
        ArgumentNullException.ThrowIfNull(text);
        duration = default;
        var t = text.Trim();
        if (t.Length < 2 || !char.IsAsciiDigit(t[0]) || !long.TryParse(t.AsSpan(0, t.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var amount) || amount > 100_000)
        {
            return false;
        }

        TimeSpan? span = char.ToLowerInvariant(t[^1]) switch
        {
            's' => TimeSpan.FromSeconds(amount),
            'm' => TimeSpan.FromMinutes(amount),
            'h' => TimeSpan.FromHours(amount),
            'd' => TimeSpan.FromDays(amount),
            _ => null,
        };
        duration = span ?? default;
        return span is not null;
    }
}
