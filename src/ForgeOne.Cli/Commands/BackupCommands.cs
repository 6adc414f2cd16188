using System.CommandLine;
using System.Globalization;
using ForgeOne.Cli.Infrastructure;
using ForgeOne.Client.Http;
using ForgeOne.Common.Api;

namespace ForgeOne.Cli.Commands;

/// <summary>
/// <c>backup run | list | show | verify | restore | versions | discard-version | progress</c> and
/// <c>dr drill | list | show</c>: the backup coordinator's operations over the edge's backup API.
/// The coordinator authorizes (<c>backup:admin</c>) and audits each; the CLI only asks and prints.
/// </summary>
public static class BackupCommands
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>Builds the <c>backup</c> group.</summary>
    public static Command Backup(Verbs verbs)
    {
        ArgumentNullException.ThrowIfNull(verbs);
        return Verbs.Group("backup", "Backups of every shard to the region targets: run, list, show, verify, restore, data-root versions",
            Run(verbs), List(verbs), Show(verbs), Verify(verbs), Restore(verbs), Versions(verbs), Discard(verbs), Progress(verbs));
    }

    /// <summary>Builds the <c>dr</c> group.</summary>
    public static Command Dr(Verbs verbs)
    {
        ArgumentNullException.ThrowIfNull(verbs);
        return Verbs.Group("dr", "Disaster-recovery drills: restore a region's latest backup into scratch, verify, report RTO/RPO (signed evidence)",
            Drill(verbs), Drills(verbs), ShowDrill(verbs));
    }

    private static Option<bool> WaitOption(string what) => new("--wait") { Description = $"Wait until the {what} ended (progress on standard error) and print its outcome; default: print its id at once" };

    private static Command Run(Verbs verbs)
    {
        var type = new Option<string?>("--type") { Description = "full or incremental (default: what the schedule would take now)", HelpName = "full|incremental" };
        type.AcceptOnlyFromAmong("full", "incremental");
        var wait = WaitOption("backup");
        var run = new Command("run", "Starts a backup of every shard to every region (joins the one already running)") { type, wait };
        verbs.Action(run, async (ctx, ct) =>
        {
            if (!ctx.Get(wait))
            {
                var accepted = await ctx.Client.StartBackupAsync(ctx.Get(type), ct).ConfigureAwait(false);
                ctx.Output.Result(accepted, BackupApiJsonContext.Default.BackupAcceptedView,
                    o => o.WriteLine($"Backup {accepted.Id} ({accepted.Type}{(accepted.Parent is null ? "" : ", after " + accepted.Parent)}) {(accepted.Joined ? "was already running" : "started")}; follow it with 'forgeone backup progress'"),
                    quiet: accepted.Id);
                return ExitCodes.Ok;
            }

            var done = await FollowAsync(ctx, "backup", c => ctx.Client.RunBackupAsync(ctx.Get(type), c), ct).ConfigureAwait(false);
            ctx.Output.Result(done, BackupApiJsonContext.Default.BackupView, o => Describe(o, done), quiet: done.Id);
            return Completed(done) ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return run;
    }

    private static Command List(Verbs verbs)
    {
        var limit = new Option<int>("--limit", "-n") { Description = "At most this many, newest first", DefaultValueFactory = _ => 100 };
        var list = new Command("list", "The backup catalog, newest first") { limit };
        verbs.Action(list, async (ctx, ct) =>
        {
            var n = ctx.Get(limit);
            if (n is < 1 or > 10_000)
            {
                throw CliException.Usage($"--limit {n.ToString(CultureInfo.InvariantCulture)} must be between 1 and 10000");
            }

            var catalog = await ctx.Client.ListBackupsAsync(n, ct).ConfigureAwait(false);
            ctx.Output.Result(catalog, BackupApiJsonContext.Default.BackupListView, o =>
            {
                o.Table(["id", "type", "status", "started", "completed", "size", "shards", "regions"], catalog.Backups.Select(b => new[]
                {
                    b.Id, b.Type, b.Status, CliOutput.Time(b.StartedAt), b.CompletedAt is { } c ? CliOutput.Time(c) : "-", CliOutput.Bytes(b.Size),
                    $"{b.ShardsDone.ToString(CultureInfo.InvariantCulture)}/{b.Shards.ToString(CultureInfo.InvariantCulture)}", string.Join(",", b.Regions),
                }));
                o.WriteLine($"Count: {catalog.Backups.Length.ToString(CultureInfo.InvariantCulture)} backups");
            }, quiet: string.Join('\n', catalog.Backups.Select(b => b.Id)));
            return ExitCodes.Ok;
        });
        return list;
    }

    private static Command Show(Verbs verbs)
    {
        var id = new Argument<string>("id") { Description = "The backup id (b-...)" };
        var show = new Command("show", "One backup: its shards' files, sizes, SHA-256, audit heads and seals, and the KEK versions a restore needs") { id };
        verbs.Action(show, async (ctx, ct) =>
        {
            var details = await ctx.Client.GetBackupAsync(ctx.Get(id), ct).ConfigureAwait(false);
            ctx.Output.Result(details, BackupApiJsonContext.Default.BackupDetailsView, o =>
            {
                Describe(o, details.Backup);
                o.WriteLine($"KEK versions needed: {string.Join(", ", details.KekVersions.Select(v => v.ToString(CultureInfo.InvariantCulture)))}");
                o.Table(["shard", "size", "records", "txn", "audit seq", "seal", "sha256"], details.Shards.Select(s => new[]
                {
                    s.Shard, CliOutput.Bytes(s.Size), s.Records.ToString(CultureInfo.InvariantCulture), s.TxnId.ToString(CultureInfo.InvariantCulture),
                    s.AuditSeq.ToString(CultureInfo.InvariantCulture), s.SealNumber?.ToString(CultureInfo.InvariantCulture) ?? "-", s.Sha256,
                }));
                o.WriteLine($"Count: {details.Shards.Length.ToString(CultureInfo.InvariantCulture)} shards");
            }, quiet: details.Backup.Status);
            return ExitCodes.Ok;
        });
        return show;
    }

    private static Command Verify(Verbs verbs)
    {
        var id = new Argument<string>("id") { Description = "The backup id (its whole chain is verified)" };
        var verify = new Command("verify", "Re-reads the backup's chain in every region: manifest signatures, every file's size and SHA-256 (exit 1 when anything is wrong)") { id };
        verbs.Action(verify, async (ctx, ct) =>
        {
            var verified = await FollowAsync(ctx, "verify", c => ctx.Client.VerifyBackupAsync(ctx.Get(id), c), ct).ConfigureAwait(false);
            ctx.Output.Result(verified, BackupApiJsonContext.Default.BackupVerifiedView, o =>
            {
                o.WriteLine($"Backup {verified.Id} (chain {string.Join(" -> ", verified.Chain)}): {(verified.Ok ? "valid" : "INVALID")}");
                foreach (var region in verified.Regions)
                {
                    o.WriteLine($"  {region.Region}: {(region.Complete && region.Problems.Length == 0 ? "complete" : region.Complete ? "complete with problems" : "incomplete")}");
                    foreach (var problem in region.Problems)
                    {
                        o.WriteLine($"    {problem}");
                    }
                }
            }, quiet: verified.Ok ? "valid" : "invalid");
            return verified.Ok ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return verify;
    }

    private static Command Restore(Verbs verbs)
    {
        var id = new Argument<string?>("id") { Description = "The backup to restore (default: the newest, or the newest at or before --to-time)", Arity = ArgumentArity.ZeroOrOne };
        var toTime = new Option<string?>("--to-time") { Description = "Restore the newest backup started at or before this time (ISO 8601, or 2h / 1d ago)", HelpName = "time" };
        var wait = WaitOption("restore");
        var restore = new Command("restore", "Restores a backup into a new data-root version, verifies it and switches every shard to it (the previous version is kept)") { id, toTime, wait };
        verbs.Action(restore, async (ctx, ct) =>
        {
            var backupId = ctx.Get(id);
            DateTimeOffset? atOrBefore = ctx.Get(toTime) is { } t ? TimeArgument.Parse(t, ctx.Console.Time.GetUtcNow(), "--to-time") : null;
            if (backupId is not null && atOrBefore is not null)
            {
                throw CliException.Usage("give a backup id or --to-time, not both");
            }

            var input = new RestoreInput(backupId, atOrBefore);
            if (!ctx.Get(wait))
            {
                var accepted = await ctx.Client.StartRestoreAsync(input, ct).ConfigureAwait(false);
                ctx.Output.Result(accepted, BackupApiJsonContext.Default.RestoreAcceptedView,
                    o => o.WriteLine($"Restore {accepted.Id} of backup {accepted.BackupId} started; follow it with 'forgeone backup progress'"), quiet: accepted.Id);
                return ExitCodes.Ok;
            }

            var done = await FollowAsync(ctx, "restore", c => ctx.Client.RestoreAsync(input, c), ct).ConfigureAwait(false);
            ctx.Output.Result(done, BackupApiJsonContext.Default.RestoreView, o =>
            {
                o.WriteLine(done.Succeeded
                    ? $"Restore {done.Id}: backup {done.BackupId} (chain {string.Join(" -> ", done.Chain)}) is active as data-root version {done.Version} (incarnation {done.Incarnation.ToString(CultureInfo.InvariantCulture)})"
                    : $"Restore {done.Id} of backup {done.BackupId} FAILED: {done.Detail}");
                foreach (var warning in done.Warnings)
                {
                    o.WriteLine($"  warning: {warning}");
                }
            }, quiet: done.Version ?? done.Id);
            return done.Succeeded ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return restore;
    }

    private static Command Versions(Verbs verbs)
    {
        var versions = new Command("versions", "The data root's versions: the active one and those kept after restores");
        verbs.Action(versions, async (ctx, ct) =>
        {
            var list = await ctx.Client.ListDataVersionsAsync(ct).ConfigureAwait(false);
            ctx.Output.Result(list, BackupApiJsonContext.Default.DataVersionList, o =>
            {
                o.Table(["name", "active", "incarnation", "created", "by", "restored from"], list.Versions.Select(v => new[]
                {
                    v.Name, v.Active ? "yes" : "no", v.Incarnation.ToString(CultureInfo.InvariantCulture), CliOutput.Time(v.CreatedAt), v.CreatedBy, v.RestoredFrom ?? "-",
                }));
                o.WriteLine($"Count: {list.Versions.Length.ToString(CultureInfo.InvariantCulture)} versions");
            }, quiet: string.Join('\n', list.Versions.Where(v => v.Active).Select(v => v.Name)));
            return ExitCodes.Ok;
        });
        return versions;
    }

    private static Command Discard(Verbs verbs)
    {
        var name = new Argument<string>("version") { Description = "A data-root version that is not active (see 'backup versions')" };
        var discard = new Command("discard-version", "Deletes a data-root version kept after a restore (the active one is refused)") { name };
        verbs.Action(discard, async (ctx, ct) =>
        {
            var version = ctx.Get(name);
            await ctx.Client.DiscardDataVersionAsync(version, ct).ConfigureAwait(false);
            ctx.Output.Result(new DataVersionDiscarded(version), CliJsonContext.Default.DataVersionDiscarded, o => o.WriteLine($"Data-root version {version} discarded"), quiet: version);
            return ExitCodes.Ok;
        });
        return discard;
    }

    private static Command Progress(Verbs verbs)
    {
        var progress = new Command("progress", "What the backup coordinator is doing now (idle, backup, restore, drill, verify) and how far it got");
        verbs.Action(progress, async (ctx, ct) =>
        {
            var p = await ctx.Client.GetBackupProgressAsync(ct).ConfigureAwait(false);
            ctx.Output.Result(p, BackupApiJsonContext.Default.BackupProgressView, o => o.WriteLine(p.Id is null
                ? p.Operation
                : $"{p.Operation} {p.Id}: {p.Done.ToString(CultureInfo.InvariantCulture)} of {p.Total.ToString(CultureInfo.InvariantCulture)} files, {CliOutput.Bytes(p.Bytes)} in {p.ElapsedSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s ({CliOutput.Bytes((long)p.BytesPerSecond)}/s)"),
                quiet: p.Operation);
            return ExitCodes.Ok;
        });
        return progress;
    }

    private static Command Drill(Verbs verbs)
    {
        var region = new Option<string?>("--region", "-r") { Description = "The region whose latest backup is restored into scratch (default: every region in turn)", HelpName = "region" };
        var wait = WaitOption("drill");
        var drill = new Command("drill", "Runs a DR drill (never touches live data): restore into scratch, verify, decrypt a sample, RTO/RPO, signed report") { region, wait };
        verbs.Action(drill, async (ctx, ct) =>
        {
            if (!ctx.Get(wait))
            {
                var accepted = await ctx.Client.StartDrillAsync(ctx.Get(region), ct).ConfigureAwait(false);
                ctx.Output.Result(accepted, BackupApiJsonContext.Default.DrillAcceptedView,
                    o => o.WriteLine($"Drill {accepted.Id} of {accepted.Region} started; 'forgeone dr list' shows its outcome"), quiet: accepted.Id);
                return ExitCodes.Ok;
            }

            var done = await FollowAsync(ctx, "drill", c => ctx.Client.RunDrillAsync(ctx.Get(region), c), ct).ConfigureAwait(false);
            ctx.Output.Result(done, BackupApiJsonContext.Default.DrillView, o =>
            {
                o.WriteLine($"Drill {done.Id} of {done.Region}: {(done.Passed ? "PASSED" : "FAILED")} (backup {done.BackupId ?? "-"}, RTO {Seconds(done.RtoSeconds)}, RPO {(done.RpoSeconds is { } rpo ? Seconds(rpo) : "-")})");
                foreach (var failure in done.Failures)
                {
                    o.WriteLine($"  failed: {failure}");
                }

                o.WriteLine($"Report stored in: {string.Join(", ", done.StoredIn)}");
            }, quiet: done.Id);
            return done.Passed ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return drill;
    }

    private static Command Drills(Verbs verbs)
    {
        var list = new Command("list", "DR drills, newest first");
        verbs.Action(list, async (ctx, ct) =>
        {
            var drills = await ctx.Client.ListDrillsAsync(ct).ConfigureAwait(false);
            ctx.Output.Result(drills, BackupApiJsonContext.Default.DrillListView, o =>
            {
                o.Table(["id", "region", "at", "backup", "result", "rto", "rpo"], drills.Drills.Select(d => new[]
                {
                    d.Id, d.Region, CliOutput.Time(d.At), d.BackupId ?? "-", d.Passed ? "passed" : "FAILED", Seconds(d.RtoSeconds), d.RpoSeconds is { } rpo ? Seconds(rpo) : "-",
                }));
                o.WriteLine($"Count: {drills.Drills.Length.ToString(CultureInfo.InvariantCulture)} drills");
            }, quiet: string.Join('\n', drills.Drills.Select(d => d.Id)));
            return ExitCodes.Ok;
        });
        return list;
    }

    private static Command ShowDrill(Verbs verbs)
    {
        var id = new Argument<string>("id") { Description = "The drill id" };
        var show = new Command("show", "A drill's signed evidence report: Markdown for people, the signed JSON and its signature with --json") { id };
        verbs.Action(show, async (ctx, ct) =>
        {
            var report = await ctx.Client.GetDrillAsync(ctx.Get(id), ct).ConfigureAwait(false);
            ctx.Output.Result(report, BackupApiJsonContext.Default.DrillReportView, o => ctx.Console.Out.Write(report.Markdown.EndsWith('\n') ? report.Markdown : report.Markdown + "\n"), quiet: report.Id);
            return ExitCodes.Ok;
        });
        return show;
    }

    /// <summary>
    /// Runs <paramref name="operation"/> (a request the edge holds until the coordinator's
    /// operation ends) while the progress bar follows the coordinator's progress report. The
    /// report is only shown: a failed poll changes nothing, the operation's answer decides.
    /// </summary>
    internal static Task<T> FollowAsync<T>(CliContext ctx, string label, Func<CancellationToken, Task<T>> operation, CancellationToken cancellationToken)
    {
        var client = ctx.Client;
        return TransferProgress.RunAsync(ctx.Output, label, null, bytes: false, async progress =>
        {
            var running = operation(cancellationToken);
            if (ctx.Output.Mode != OutputMode.Human)
            {
                return await running.ConfigureAwait(false);
            }

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var poll = PollAsync(client, progress, ctx.Console.Time, stop.Token);
            try
            {
                return await running.ConfigureAwait(false);
            }
            finally
            {
                await stop.CancelAsync().ConfigureAwait(false);
                await poll.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        });
    }

    private static async Task PollAsync(ForgeOneHttpClient client, IProgressReporter progress, TimeProvider time, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(PollInterval, time);
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            try
            {
                var p = await client.GetBackupProgressAsync(cancellationToken).ConfigureAwait(false);
                if (p.Id is not null && p.Total > 0)
                {
                    progress.SetTotal(p.Total);
                    progress.Report(p.Done);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Display only: the bar stands still until the next answer.
            }
        }
    }

    private static bool Completed(BackupView backup) => backup.Status == "completed";

    private static void Describe(CliOutput o, BackupView b)
    {
        o.WriteLine($"Backup {b.Id} ({b.Type}{(b.Parent is null ? "" : ", after " + b.Parent)}): {b.Status}, {b.ShardsDone.ToString(CultureInfo.InvariantCulture)} of {b.Shards.ToString(CultureInfo.InvariantCulture)} shards, {CliOutput.Bytes(b.Size)} in {string.Join(", ", b.Regions)}");
        o.WriteLine($"  started {CliOutput.Time(b.StartedAt)}{(b.CompletedAt is { } c ? ", completed " + CliOutput.Time(c) : "")} by {b.By}");
        if (b.Error is not null)
        {
            o.WriteLine($"  error: {b.Error}");
        }
    }

    private static string Seconds(double seconds) => seconds.ToString("0.0", CultureInfo.InvariantCulture) + " s";
}
