using System.Globalization;

namespace ForgeOne.LoadRunner;

/// <summary>
/// Durations as run files and reports write them: a sequence of number + unit
/// (<c>us</c>, <c>ms</c>, <c>s</c>, <c>m</c>, <c>h</c>), e.g. <c>500ms</c>, <c>30s</c>, <c>1m30s</c>,
/// or a .NET time span (<c>00:01:30</c>).
/// </summary>
public static class DurationText
{
    /// <summary>Parses <paramref name="text"/>; false (with a reason) when it is not a duration.</summary>
    public static bool TryParse(string? text, out TimeSpan value, out string? error)
    {
        value = TimeSpan.Zero;
        error = null;
        var s = text?.Trim() ?? string.Empty;
        if (s.Length == 0)
        {
            error = "a duration is required (e.g. 500ms, 30s, 2m)";
            return false;
        }

        if (s.Contains(':', StringComparison.Ordinal))
        {
            if (TimeSpan.TryParse(s, CultureInfo.InvariantCulture, out value) && value >= TimeSpan.Zero)
            {
                return true;
            }

            error = $"'{s}' is not a duration";
            return false;
        }

        var i = 0;
        double ticks = 0;
        while (i < s.Length)
        {
            var start = i;
            while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.'))
            {
                i++;
            }

            var unitStart = i;
            while (i < s.Length && char.IsAsciiLetter(s[i]))
            {
                i++;
            }

            if (start == unitStart || !double.TryParse(s.AsSpan(start, unitStart - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            {
                error = $"'{s}' is not a duration (use e.g. 500ms, 30s, 2m, 1h)";
                return false;
            }

            double? unit = s[unitStart..i].ToLowerInvariant() switch
            {
                "us" => TimeSpan.TicksPerMillisecond / 1000.0,
                "ms" => TimeSpan.TicksPerMillisecond,
                "s" => TimeSpan.TicksPerSecond,
                "m" or "min" => TimeSpan.TicksPerMinute,
                "h" => TimeSpan.TicksPerHour,
                _ => null,
            };
            if (unit is null)
            {
                error = $"'{s}': unknown unit '{s[unitStart..i]}' (us, ms, s, m, h)";
                return false;
            }

            ticks += number * unit.Value;
        }

        if (ticks > TimeSpan.MaxValue.Ticks)
        {
            error = $"'{s}' is too long";
            return false;
        }

        value = TimeSpan.FromTicks((long)Math.Round(ticks));
        return true;
    }

    /// <summary>Parses or throws <see cref="FormatException"/>.</summary>
    public static TimeSpan Parse(string text) =>
        TryParse(text, out var value, out var error) ? value : throw new FormatException(error);

    /// <summary>The shortest exact form: <c>250ms</c>, <c>30s</c>, <c>2m</c>, <c>1m30s</c>.</summary>
    public static string Format(TimeSpan t)
    {
        if (t == TimeSpan.Zero)
        {
            return "0s";
        }

        if (t.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            return (t.Ticks % TimeSpan.TicksPerMillisecond == 0)
                ? ((long)t.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "ms"
                : (t.Ticks / 10.0).ToString("0.#", CultureInfo.InvariantCulture) + "us";
        }

        var parts = new List<string>();
        var total = (long)t.TotalSeconds;
        if (total >= 3600)
        {
            parts.Add((total / 3600).ToString(CultureInfo.InvariantCulture) + "h");
            total %= 3600;
        }

        if (total >= 60)
        {
            parts.Add((total / 60).ToString(CultureInfo.InvariantCulture) + "m");
            total %= 60;
        }

        if (total > 0)
        {
            parts.Add(total.ToString(CultureInfo.InvariantCulture) + "s");
        }

        return string.Concat(parts);
    }
}
