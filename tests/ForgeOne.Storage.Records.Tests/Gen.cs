using System.Text;
using ForgeOne.Common;

namespace ForgeOne.Storage.Records.Tests;

/// <summary>Turns FsCheck's raw values into valid record fields.</summary>
internal static class Gen
{
    private static readonly long MaxTicks = DateTimeOffset.MaxValue.UtcTicks;

    /// <summary>Null becomes empty; lone surrogates (not representable in UTF-8) become '?'.</summary>
    public static string S(string? s)
    {
        if (s is null)
        {
            return string.Empty;
        }

        var sb = new StringBuilder(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                sb.Append(s[i]).Append(s[i + 1]);
                i++;
            }
            else
            {
                sb.Append(char.IsSurrogate(s[i]) ? '?' : s[i]);
            }
        }

        return sb.ToString();
    }

    public static string? OptS(string? s) => s is null ? null : S(s);

    public static byte[] B(byte[]? b) => b ?? [];

    public static DateTimeOffset Ts(long raw) => new((long)((ulong)raw % (ulong)(MaxTicks + 1)), TimeSpan.Zero);

    public static long NonNeg(long raw) => raw & long.MaxValue;

    public static int NonNeg(int raw) => raw & int.MaxValue;

    public static RecordId Id(ulong raw) => new(raw);

    public static Dictionary<string, string> Map(string[]? keys)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var key in keys ?? [])
        {
            map[S(key)] = S(key) + "=v";
        }

        return map;
    }

    public static byte[] Token(byte fill) => Enumerable.Repeat(fill, RecordKeys.TokenLength).ToArray();
}
