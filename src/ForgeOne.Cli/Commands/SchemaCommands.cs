using System.CommandLine;
using System.Globalization;
using ForgeOne.Cli.Infrastructure;
using ForgeOne.Common.Api;

namespace ForgeOne.Cli.Commands;

/// <summary>
/// <c>schema status | rehearse | migrate</c> over the edge's schema API. A shard whose file is at
/// an older schema serves no data until <c>migrate</c>, which the cluster refuses without a
/// passing rehearsal of the same target version (or <c>--without-rehearsal --reason</c>, audited).
/// </summary>
public static class SchemaCommands
{
    /// <summary>Builds the <c>schema</c> group.</summary>
    public static Command Build(Verbs verbs)
    {
        ArgumentNullException.ThrowIfNull(verbs);
        return Verbs.Group("schema", "Shard schema versions: status, rehearse on a restored staging copy, migrate (gated on the rehearsal)",
            Status(verbs), Rehearse(verbs), Migrate(verbs));
    }

    private static Command Status(Verbs verbs)
    {
        var status = new Command("status", "Per shard: schema version, pending migrations (a shard with any serves no data), last history step; and the newest rehearsal");
        verbs.Action(status, async (ctx, ct) =>
        {
            var view = await ctx.Client.GetSchemaStatusAsync(ct).ConfigureAwait(false);
            var pending = view.Shards.Count(s => s.Pending.Length > 0);
            ctx.Output.Result(view, BackupApiJsonContext.Default.SchemaStatusView, o =>
            {
                o.Table(["shard", "version", "target", "pending", "last change"], view.Shards.Select(s => new[]
                {
                    s.Shard, Num(s.Version), Num(s.TargetVersion),
                    s.Pending.Length == 0 ? "-" : string.Join("; ", s.Pending.Select(p => $"{Num(p.FromVersion)} -> {Num(p.ToVersion)}")),
                    s.History.LastOrDefault() is { } h ? $"{Num(h.FromVersion)} -> {Num(h.ToVersion)} at {(h.At is { } at ? CliOutput.Time(at) : "-")}" : "-",
                }));
                foreach (var missing in view.Unreachable)
                {
                    o.WriteLine($"  NO ANSWER {missing}");
                }

                o.WriteLine(view.LastRehearsal is { } r
                    ? $"Last rehearsal: {r.Id} {(r.Passed ? "PASSED" : "FAILED")} for schema {Num(r.TargetVersion)} at {CliOutput.Time(r.FinishedAt)} (backup {r.BackupId ?? "-"})"
                    : "Last rehearsal: none (run 'forgeone schema rehearse' before 'forgeone schema migrate')");
                o.WriteLine($"Count: {Num(view.Shards.Length)} shards, {Num(pending)} with pending migrations");
            }, quiet: Num(pending));
            return view.Unreachable.Length == 0 ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return status;
    }

    private static Command Rehearse(Verbs verbs)
    {
        var rehearse = new Command("rehearse", "Restores the newest backup into scratch, runs the pending migrations there, checks deep integrity, chains and record counts; prints the signed report (exit 1 when it failed)");
        verbs.Action(rehearse, async (ctx, ct) =>
        {
            var report = await ctx.Client.RehearseSchemaAsync(ct).ConfigureAwait(false);
            ctx.Output.Result(report, BackupApiJsonContext.Default.RehearsalView, o =>
            {
                o.WriteLine($"Rehearsal {report.Id} of schema {Num(report.TargetVersion)} on backup {report.BackupId ?? "-"}: {(report.Passed ? "PASSED" : "FAILED")}");
                o.WriteLine($"  restore {report.RestoreSeconds.ToString("F2", CultureInfo.InvariantCulture)} s, migrations and checks {report.MigrateSeconds.ToString("F2", CultureInfo.InvariantCulture)} s; signed by {report.SignedBy}, stored in {string.Join(", ", report.StoredIn)}");
                o.Table(["shard", "from", "to", "records", "after", "audit", "problems"], report.Shards.Select(s => new[]
                {
                    s.Shard, Num(s.FromVersion), Num(s.ToVersion), s.Records.ToString(CultureInfo.InvariantCulture), s.RecordsAfter.ToString(CultureInfo.InvariantCulture),
                    $"{s.AuditBefore.ToString(CultureInfo.InvariantCulture)} -> {s.AuditAfter.ToString(CultureInfo.InvariantCulture)}", s.Problems.Length == 0 ? "-" : string.Join("; ", s.Problems),
                }));
                foreach (var failure in report.Failures)
                {
                    o.WriteLine($"  FAILED {failure}");
                }
            }, quiet: report.Passed ? "passed" : "failed");
            return report.Passed ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return rehearse;
    }

    private static Command Migrate(Verbs verbs)
    {
        var without = new Option<bool>("--without-rehearsal") { Description = "Migrate although no passing rehearsal of this target exists (needs --reason; audited as an override)" };
        var reason = new Option<string?>("--reason") { Description = "Why the override is needed (goes into the audit record)" };
        var migrate = new Command("migrate", "Runs every shard's pending migrations (each step in one transaction with its schema_history row and audit record); refused without a passing rehearsal") { without, reason };
        verbs.Action(migrate, async (ctx, ct) =>
        {
            if (ctx.Get(without) && string.IsNullOrWhiteSpace(ctx.Get(reason)))
            {
                throw CliException.Usage("--without-rehearsal needs --reason \"...\" (the override is audited with it)");
            }

            var done = await ctx.Client.MigrateSchemaAsync(ctx.Get(without), ctx.Get(reason), ct).ConfigureAwait(false);
            ctx.Output.Result(done, BackupApiJsonContext.Default.SchemaMigratedView, o =>
            {
                o.WriteLine($"Schema {Num(done.TargetVersion)}: {done.Gate}");
                o.Table(["shard", "from", "now", "applied"], done.Shards.Select(s => new[]
                {
                    s.Shard, Num(s.FromVersion), Num(s.Version), s.Applied.Length == 0 ? "-" : string.Join("; ", s.Applied.Select(a => $"{Num(a.FromVersion)} -> {Num(a.ToVersion)}")),
                }));
                foreach (var failure in done.Failures)
                {
                    o.WriteLine($"  FAILED {failure}");
                }

                o.WriteLine($"Count: {Num(done.Shards.Sum(s => s.Applied.Length))} steps applied on {Num(done.Shards.Length)} shards, {Num(done.Failures.Length)} failed");
            }, quiet: Num(done.Failures.Length));
            return done.Failures.Length == 0 ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return migrate;
    }

    private static string Num(int value) => value.ToString(CultureInfo.InvariantCulture);
}
