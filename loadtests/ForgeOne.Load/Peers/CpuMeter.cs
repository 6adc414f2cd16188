using System.Diagnostics;
using System.Globalization;

namespace ForgeOne.Load.Peers;

/// <summary>
/// CPU time of this process plus whole process trees (a node, a database server and their
/// children), read from /proc. On a shared machine wall-clock rates move with everyone else's
/// load; CPU time per entry is what a system costs, whoever else is running.
/// </summary>
public static class CpuMeter
{
    // USER_HZ: the unit of utime/stime in /proc/[pid]/stat; 100 on every Linux we run.
    private const double TicksPerSecond = 100;

    /// <summary>Seconds of CPU used so far by this process and by the trees rooted at <paramref name="roots"/>.</summary>
    public static double Seconds(IEnumerable<int> roots)
    {
        ArgumentNullException.ThrowIfNull(roots);
        var own = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
        var stats = ReadAll();
        var children = stats.Values.ToLookup(s => s.Parent);
        var seen = new HashSet<int>();
        var pending = new Stack<int>(roots);
        double ticks = 0;
        while (pending.Count > 0)
        {
            var pid = pending.Pop();
            if (!seen.Add(pid) || !stats.TryGetValue(pid, out var stat))
            {
                continue;
            }

            ticks += stat.Ticks;
            foreach (var child in children[pid])
            {
                pending.Push(child.Pid);
            }
        }

        return own + (ticks / TicksPerSecond);
    }

    private static Dictionary<int, (int Pid, int Parent, long Ticks)> ReadAll()
    {
        var result = new Dictionary<int, (int, int, long)>();
        if (!Directory.Exists("/proc"))
        {
            return result;
        }

        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                // Fields after the parenthesised command name: state ppid ... utime(14) stime(15).
                var text = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
                result[pid] = (pid, int.Parse(fields[1], CultureInfo.InvariantCulture), long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
                // The process ended while we looked.
            }
        }

        return result;
    }
}
