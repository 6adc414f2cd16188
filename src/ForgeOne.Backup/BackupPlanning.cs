namespace ForgeOne.Backup;

/// <summary>How often backups and drills run (from <see cref="ScheduleSet"/>, or the configured defaults).</summary>
/// <param name="Full">Between full backups (default weekly).</param>
/// <param name="Incremental">Between backups of any kind (default daily): an incremental unless a full is due.</param>
/// <param name="Drill">Between DR drills of each region (default quarterly).</param>
public sealed record BackupSchedule(TimeSpan Full, TimeSpan Incremental, TimeSpan Drill)
{
    /// <summary>Weekly full, daily incremental, quarterly drill.</summary>
    public static BackupSchedule Default { get; } = new(TimeSpan.FromDays(7), TimeSpan.FromDays(1), TimeSpan.FromDays(91));

    /// <summary>The shortest interval accepted for each.</summary>
    public static TimeSpan Minimum { get; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// What the schedule wants at <paramref name="now"/>: a full when none completed yet or the
    /// last full started <see cref="Full"/> ago, else an incremental when the last backup
    /// started <see cref="Incremental"/> ago, else nothing; and when to look again.
    /// </summary>
    public (BackupType? Due, DateTimeOffset Next) NextBackup(BackupCatalog catalog, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var lastFull = catalog.Completed.Where(b => b.Type == BackupType.Full).Select(b => (DateTimeOffset?)b.StartedAt).Max();
        var lastAny = catalog.Backups.Values.Where(b => b.Status is BackupStatus.Completed or BackupStatus.Running).Select(b => (DateTimeOffset?)b.StartedAt).Max();
        if (lastFull is null)
        {
            return (BackupType.Full, now);
        }

        var fullDue = lastFull.Value + Full;
        var anyDue = (lastAny ?? lastFull.Value) + Incremental;
        if (now >= fullDue)
        {
            return (BackupType.Full, now);
        }

        if (now >= anyDue)
        {
            return (BackupType.Incremental, now);
        }

        return (null, fullDue < anyDue ? fullDue : anyDue);
    }

    /// <summary>
    /// Regions whose last drill is <see cref="Drill"/> old (or that never had one) and that hold
    /// a completed backup to drill; and when the next one falls due.
    /// </summary>
    public (IReadOnlyList<string> Due, DateTimeOffset? Next) NextDrills(BackupCatalog catalog, IEnumerable<string> regions, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var due = new List<string>();
        DateTimeOffset? next = null;
        foreach (var region in regions)
        {
            var firstBackup = catalog.Completed.Where(b => !b.HeldBy.IsDefault && b.HeldBy.Contains(region)).Select(b => (DateTimeOffset?)b.CompletedAt).Min();
            if (firstBackup is null)
            {
                continue; // nothing to drill yet; the first completed backup arms it
            }

            var last = catalog.Drills.Where(d => d.Region == region).Select(d => (DateTimeOffset?)d.At).Max();
            var when = last is null ? firstBackup.Value : last.Value + Drill;
            if (now >= when)
            {
                due.Add(region);
            }
            else if (next is null || when < next)
            {
                next = when;
            }
        }

        return (due, next);
    }
}

/// <summary>How long backups are kept.</summary>
/// <param name="KeepChains">Full backups (each with its incrementals) kept at least, newest first.</param>
/// <param name="MaxAge">Chains whose newest backup is older than this are removed even within <paramref name="KeepChains"/> (null: no age limit).</param>
public sealed record RetentionPolicy(int KeepChains = 4, TimeSpan? MaxAge = null);

/// <summary>One removal retention decided: a backup from a region.</summary>
public sealed record Removal(string BackupId, string Region);

/// <summary>
/// Retention by count and age that never breaks a chain and never removes a region's last
/// restorable copy. A full backup and its incrementals are kept or removed together (an
/// incremental without its parents restores nothing). A chain goes when it is older than the
/// newest <see cref="RetentionPolicy.KeepChains"/> chains, or when its newest backup is older
/// than <see cref="RetentionPolicy.MaxAge"/>; but in each region, the newest chain that region
/// holds completely is always kept, whatever its age.
/// </summary>
public static class Retention
{
    /// <summary>What to remove now (failed backups' leftovers are not here: the coordinator removes them when they fail).</summary>
    public static IReadOnlyList<Removal> Plan(BackupCatalog catalog, RetentionPolicy policy, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(policy);
        var completed = catalog.Completed.ToList();
        var chains = completed.GroupBy(b => b.Base)
            .Where(g => g.Any(b => b.Id == g.Key))
            .Select(g => (Base: g.Key, Members: g.ToList(), Newest: g.Max(b => b.StartedAt)))
            .OrderByDescending(c => c.Newest)
            .ToList();

        // A backup still running extends a chain: never remove what it builds on.
        var building = catalog.Running?.Base;
        var removals = new List<Removal>();
        var regions = completed.SelectMany(b => b.HeldBy.IsDefault ? [] : b.HeldBy).Distinct(StringComparer.Ordinal).ToList();
        foreach (var region in regions)
        {
            // Chains this region holds completely, newest first: its newest one is untouchable.
            var held = chains.Where(c => c.Members.All(b => Holds(b, region))).ToList();
            var keep = held.Count > 0 ? held[0].Base : null;
            // Oldest chains first, each newest member first: a crash part-way leaves prefixes of chains, never a gap.
            for (var i = chains.Count - 1; i >= 0; i--)
            {
                var chain = chains[i];
                var expired = i >= policy.KeepChains || (policy.MaxAge is { } age && now - chain.Newest > age);
                if (!expired || chain.Base == keep || chain.Base == building)
                {
                    continue;
                }

                removals.AddRange(chain.Members.Where(b => Holds(b, region)).OrderByDescending(b => b.StartedAt).Select(b => new Removal(b.Id, region)));
            }
        }

        return removals;
    }

    private static bool Holds(CatalogBackup backup, string region) => !backup.HeldBy.IsDefault && backup.HeldBy.Contains(region);
}

/// <summary>Time-ordered ids for backups, restores, drills and key backups: <c>{prefix}-{UTC yyyyMMddTHHmmssfffZ}-{random}</c>.</summary>
public static class BackupIds
{
    /// <summary>A new id; sorting ids sorts by time.</summary>
    public static string New(string prefix, DateTimeOffset time) =>
        $"{prefix}-{time.UtcDateTime:yyyyMMdd'T'HHmmssfff'Z'}-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3))}";
}
