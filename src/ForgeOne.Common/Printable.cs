namespace ForgeOne.Common;

/// <summary>
/// Client-supplied text made safe to put into an audit record, a log line or an error message:
/// refusals can carry anything (control characters, megabytes), and the audit trail and the
/// operator's terminal must stay one readable, bounded line per event.
/// </summary>
public static class Printable
{
    /// <summary>
    /// At most <paramref name="maxLength"/> characters of <paramref name="value"/> with every control
    /// character replaced by '?'; <c>&lt;null&gt;</c> for null.
    /// </summary>
    public static string Text(string? value, int maxLength = 200) =>
        value is null ? "<null>" : new string([.. value.Take(maxLength).Select(c => char.IsControl(c) ? '?' : c)]);
}
