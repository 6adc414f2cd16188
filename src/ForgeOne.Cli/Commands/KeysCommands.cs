using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using ForgeOne.Cli.Infrastructure;
using ForgeOne.Common.Api;

namespace ForgeOne.Cli.Commands;

/// <summary>
/// <c>keys rotate [--shard kind-n] | events | backup [verify | list] | restore</c>: data-key rotation,
/// the key event history, key backups through the edge, and the offline restore of a keys directory.
/// </summary>
public static partial class KeysCommands
{
    /// <summary>Builds the <c>keys</c> group.</summary>
    public static Command Build(Verbs verbs)
    {
        ArgumentNullException.ThrowIfNull(verbs);
        var shard = new Option<string?>("--shard") { Description = "Rotate only this shard's data key: kind-number, e.g. logs-3 (default: every shard)", HelpName = "kind-n" };
        var reason = new Option<string?>("--reason") { Description = "Why (recorded in the audit chain)" };
        var rotate = new Command("rotate", "Rotates data keys now: every shard's, or one shard's (--shard); old versions stay decrypt-only") { shard, reason };
        verbs.Action(rotate, async (ctx, ct) =>
        {
            if (ctx.Get(shard) is { } name)
            {
                var one = await ctx.Client.RotateShardKeyAsync(ShardName(name), ctx.Get(reason), ct).ConfigureAwait(false);
                ctx.Output.Result(one, ApiJsonContext.Default.ShardKeyRotationView,
                    o => o.WriteLine($"{one.Shard}: data key v{one.ActiveVersion.ToString(CultureInfo.InvariantCulture)} active ({(one.Rotated ? "rotated" : "not rotated")})"),
                    quiet: one.ActiveVersion.ToString(CultureInfo.InvariantCulture));
                return ExitCodes.Ok;
            }

            var all = await ctx.Client.RotateKeysAsync(ctx.Get(reason), ct).ConfigureAwait(false);
            ctx.Output.Result(all, ApiJsonContext.Default.KeyRotationView, o =>
            {
                o.WriteLine($"Rotated: {all.Rotated.ToString(CultureInfo.InvariantCulture)} of {all.Checked.ToString(CultureInfo.InvariantCulture)} shards");
                foreach (var failure in all.Failures)
                {
                    o.WriteLine($"  failed: {failure}");
                }
            }, quiet: all.Rotated.ToString(CultureInfo.InvariantCulture));
            return all.Failures.Length == 0 ? ExitCodes.Ok : ExitCodes.Failed;
        });

        var events = new Command("events", "The cluster-wide key event history (time shard event), oldest first");
        verbs.Action(events, async (ctx, ct) =>
        {
            var history = await ctx.Client.GetKeyEventsAsync(ct).ConfigureAwait(false);
            ctx.Output.Result(history, ApiJsonContext.Default.KeyEventsView, o =>
            {
                foreach (var e in history.Events)
                {
                    o.WriteLine(e);
                }

                o.WriteLine($"Count: {history.Events.Length.ToString(CultureInfo.InvariantCulture)} events");
            }, quiet: history.Events.Length.ToString(CultureInfo.InvariantCulture));
            return ExitCodes.Ok;
        });

        return Verbs.Group("keys", "Data keys (DEKs), their rotation, and key backups under a recovery secret", rotate, events, KeyBackup(verbs), KeyRestore(verbs));
    }

    private static Option<FileInfo?> SecretFileOption() =>
        new("--secret-file") { Description = "File holding the recovery secret (or env FORGEONE_RECOVERY_SECRET; never on the command line, where every user of the machine can read it)", HelpName = "path" };

    private static Command KeyBackup(Verbs verbs)
    {
        var secretFile = SecretFileOption();
        var backup = new Command("backup", "Seals the whole keys directory under the recovery secret (Argon2id) and stores it in every region's key folder") { secretFile };
        verbs.Action(backup, async (ctx, ct) =>
        {
            var secret = await SecretAsync(ctx, ctx.Get(secretFile), ct).ConfigureAwait(false);
            var made = await BackupCommands.FollowAsync(ctx, "keys backup", c => ctx.Client.BackupKeysAsync(secret, c), ct).ConfigureAwait(false);
            ctx.Output.Result(made, BackupApiJsonContext.Default.KeyBackupView, o => o.WriteLine($"Key backup {made.Id} stored in {string.Join(", ", made.Regions)}: {made.Summary}"), quiet: made.Id);
            return ExitCodes.Ok;
        });

        var verifySecret = SecretFileOption();
        var id = new Option<string?>("--id") { Description = "The key backup (default: the newest)", HelpName = "id" };
        var verify = new Command("verify", "Proves the recovery secret opens a key backup and compares it with the live keys directory; restores nothing") { verifySecret, id };
        verbs.Action(verify, async (ctx, ct) =>
        {
            var secret = await SecretAsync(ctx, ctx.Get(verifySecret), ct).ConfigureAwait(false);
            var v = await ctx.Client.VerifyKeyBackupAsync(secret, ctx.Get(id), ct).ConfigureAwait(false);
            var complete = v.MissingFromDirectory.Length == 0 && v.Different.Length == 0 && v.NotInBackup.Length == 0;
            ctx.Output.Result(v, BackupApiJsonContext.Default.KeyBackupVerifiedView, o =>
            {
                o.WriteLine($"The recovery secret opens key backup {v.Id} (read from {v.Region}): {v.Summary}");
                o.WriteLine($"  against the keys directory: {v.Matching.Length.ToString(CultureInfo.InvariantCulture)} matching, {v.MissingFromDirectory.Length.ToString(CultureInfo.InvariantCulture)} missing from it, "
                    + $"{v.Different.Length.ToString(CultureInfo.InvariantCulture)} different, {v.NotInBackup.Length.ToString(CultureInfo.InvariantCulture)} not in the backup");
                foreach (var (what, names) in new[] { ("missing from the directory", v.MissingFromDirectory), ("different", v.Different), ("not in the backup", v.NotInBackup) })
                {
                    foreach (var name in names)
                    {
                        o.WriteLine($"    {what}: {name}");
                    }
                }
            }, quiet: complete ? "current" : "outdated");
            return ExitCodes.Ok;
        });

        var list = new Command("list", "The key backups the regions hold");
        verbs.Action(list, async (ctx, ct) =>
        {
            var all = await ctx.Client.ListKeyBackupsAsync(ct).ConfigureAwait(false);
            ctx.Output.Result(all, BackupApiJsonContext.Default.KeyBackupListView, o =>
            {
                o.Table(["id", "regions"], all.KeyBackups.Select(k => new[] { k.Id, string.Join(", ", k.Regions) }));
                o.WriteLine($"Count: {all.KeyBackups.Length.ToString(CultureInfo.InvariantCulture)} key backups");
            }, quiet: string.Join('\n', all.KeyBackups.Select(k => k.Id)));
            return ExitCodes.Ok;
        });

        backup.Subcommands.Add(verify);
        backup.Subcommands.Add(list);
        return backup;
    }

    private static Command KeyRestore(Verbs verbs)
    {
        var from = new Option<FileInfo>("--from") { Description = "The key backup file ({region}/keys/{id}.fokeys)", Required = true, HelpName = "file.fokeys" };
        var keysDir = new Option<DirectoryInfo>("--keys-dir") { Description = "The keys directory to fill (it must not hold any of the backup's files yet)", Required = true, HelpName = "dir" };
        var dataRoot = new Option<DirectoryInfo?>("--data-root") { Description = "The node's data root: refused when the keys directory lies inside it", HelpName = "dir" };
        var verifyOnly = new Option<bool>("--verify-only") { Description = "Only prove the secret opens the backup and compare it with --keys-dir; write nothing" };
        var secretFile = SecretFileOption();
        var restore = new Command("restore", "OFFLINE, on the machine itself (no node running, no edge): restores a keys directory from a key backup file, before 'ForgeOne.Node offline restore'")
        {
            from, keysDir, dataRoot, verifyOnly, secretFile,
        };
        verbs.Action(restore, async (ctx, ct) =>
        {
            var file = ctx.Get(from);
            if (!file.Exists)
            {
                throw CliException.Usage($"{file.FullName} does not exist");
            }

            var secret = await SecretAsync(ctx, ctx.Get(secretFile), ct).ConfigureAwait(false);
            var keys = ctx.Get(keysDir).FullName;
            if (ctx.Get(verifyOnly))
            {
                var (header, contents, comparison) = Backup.OfflineRestore.VerifyKeys(file.FullName, secret, keys);
                var view = new KeyRestoreView(header.Id, keys, false, [.. comparison.Matching], [.. comparison.MissingFromDirectory], contents.Summary);
                ctx.Output.Result(view, CliJsonContext.Default.KeyRestoreView,
                    o => o.WriteLine($"The recovery secret opens key backup {header.Id}: {contents.Summary}; {keys} has {comparison.Matching.Count.ToString(CultureInfo.InvariantCulture)} of its files, lacks {comparison.MissingFromDirectory.Count.ToString(CultureInfo.InvariantCulture)}"),
                    quiet: header.Id);
                return ExitCodes.Ok;
            }

            var (restored, written) = Backup.OfflineRestore.RestoreKeys(file.FullName, secret, keys, ctx.Get(dataRoot)?.FullName);
            var result = new KeyRestoreView(restored.Id, keys, true, [.. written], [], $"{written.Count.ToString(CultureInfo.InvariantCulture)} files");
            ctx.Output.Result(result, CliJsonContext.Default.KeyRestoreView,
                o => o.WriteLine($"Key backup {restored.Id} restored into {keys}: {string.Join(", ", written)}"), quiet: restored.Id);
            return ExitCodes.Ok;
        });
        return restore;
    }

    /// <summary>The recovery secret from <paramref name="file"/> or <c>FORGEONE_RECOVERY_SECRET</c>; neither is a usage error.</summary>
    private static async Task<string> SecretAsync(CliContext ctx, FileInfo? file, CancellationToken cancellationToken)
    {
        if (file is not null)
        {
            if (!file.Exists)
            {
                throw CliException.Usage($"--secret-file {file.FullName} does not exist");
            }

            return (await File.ReadAllTextAsync(file.FullName, cancellationToken).ConfigureAwait(false)).TrimEnd('\r', '\n');
        }

        return ctx.Console.Environment("FORGEONE_RECOVERY_SECRET") is { Length: > 0 } secret
            ? secret
            : throw CliException.Usage("give the recovery secret with --secret-file <file> or FORGEONE_RECOVERY_SECRET");
    }

    /// <summary>A shard name as the API takes it (<c>logs-3</c>); a malformed one is a usage error (nothing sent).</summary>
    public static string ShardName(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var m = ShardPattern().Match(text.Trim());
        return m.Success
            ? $"{m.Groups[1].Value}-{int.Parse(m.Groups[2].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture)}"
            : throw CliException.Usage($"--shard '{text}' is not a shard: kind-number, e.g. logs-3 (kinds: system, logs, events, blobs)");
    }

    [GeneratedRegex("^(system|logs|events|blobs)[-/]([0-9]{1,6})$")]
    private static partial Regex ShardPattern();
}
