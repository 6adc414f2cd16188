using ForgeOne.Backup;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Integrity;
using ForgeOne.Common;
using ForgeOne.Security;

namespace ForgeOne.Node;

/// <summary>
/// <c>ForgeOne.Node offline &lt;verb&gt;</c>: disaster recovery with no node running (a fresh
/// machine, or a stopped cluster). The node's usual configuration (<c>--config</c>,
/// <c>--ForgeOne:...</c>, environment) says where the keys, the data root and the backup targets are.
/// <code>
///   offline keys-restore --from &lt;file.fokeys&gt; --secret-file &lt;file&gt;   keys directory from a key backup
///   offline keys-verify  --from &lt;file.fokeys&gt; --secret-file &lt;file&gt;   prove the secret opens it; writes nothing
///   offline restore [--backup &lt;id&gt; | --before &lt;ISO time&gt;]             data root: new version from the targets, activated
/// </code>
/// The secret comes from a file or <c>FORGEONE_RECOVERY_SECRET</c>, never from the command line
/// (where every user of the machine could read it). Exit codes: 0 done, 2 usage or configuration,
/// 4 refused (the typed error is printed; nothing was changed).
/// </summary>
internal static class OfflineCommand
{
    public const string Verb = "offline";

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0 || args[0] is not ("keys-restore" or "keys-verify" or "restore"))
        {
            await Console.Error.WriteLineAsync("usage: ForgeOne.Node offline keys-restore|keys-verify --from <file.fokeys> --secret-file <file> | restore [--backup <id> | --before <time>] [node configuration]");
            return 2;
        }

        var verb = args[0];
        var flags = new Dictionary<string, string>(StringComparer.Ordinal);
        var rest = new List<string>();
        for (var i = 1; i < args.Length; i++)
        {
            if (args[i] is "--from" or "--secret-file" or "--backup" or "--before")
            {
                if (i + 1 >= args.Length)
                {
                    await Console.Error.WriteLineAsync($"{args[i]} needs a value");
                    return 2;
                }

                flags[args[i]] = args[++i];
            }
            else
            {
                rest.Add(args[i]);
            }
        }

        var loaded = NodeConfiguration.Load([.. rest], Directory.GetCurrentDirectory(), AppContext.BaseDirectory);
        if (loaded.Errors.Count > 0)
        {
            await Console.Error.WriteLineAsync($"invalid configuration ({ErrorCodes.InvalidConfiguration}):");
            foreach (var error in loaded.Errors)
            {
                await Console.Error.WriteLineAsync("  - " + error);
            }

            return 2;
        }

        var options = loaded.Options;
        try
        {
            switch (verb)
            {
                case "keys-restore":
                    {
                        var (header, written) = OfflineRestore.RestoreKeys(Required(flags, "--from"), await SecretAsync(flags), options.KeysDirectoryFull, options.DataRootFull);
                        await Console.Out.WriteLineAsync($"Key backup {header.Id} ({header.CreatedAt:O}) restored into {options.KeysDirectoryFull}: {string.Join(", ", written)}");
                        return 0;
                    }

                case "keys-verify":
                    {
                        var (header, contents, comparison) = OfflineRestore.VerifyKeys(Required(flags, "--from"), await SecretAsync(flags), options.KeysDirectoryFull);
                        await Console.Out.WriteLineAsync($"The recovery secret opens key backup {header.Id} ({header.CreatedAt:O}): {contents.Summary}. Against {options.KeysDirectoryFull}: "
                            + $"{comparison.Matching.Count} matching, {comparison.MissingFromDirectory.Count} missing, {comparison.Different.Count} different, {comparison.NotInBackup.Count} not in the backup.");
                        return 0;
                    }

                default:
                    {
                        DateTimeOffset? before = flags.TryGetValue("--before", out var b)
                            ? DateTimeOffset.TryParse(b, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var t) ? t : throw new ForgeOneException(ErrorCodes.InvalidTimestamp, $"--before '{b}' is not a time (ISO 8601)")
                            : null;
                        var (version, result) = OfflineRestore.RestoreData(options.DataRootFull, options.KeysDirectoryFull, BackupHosting.Targets(options),
                            flags.GetValueOrDefault("--backup"), before, Environment.UserName, TimeProvider.System);
                        await Console.Out.WriteLineAsync($"Backup {result.Chain[^1]} (chain {string.Join(" -> ", result.Chain)}) restored and verified into data-root version {version.Name} "
                            + $"(incarnation {version.Info.Incarnation}), now active: {result.Shards.Count} shards, {result.Bytes:N0} bytes in {result.Elapsed.TotalSeconds:F1} s.");

                        // The rewind is authorized in the seals file, or the shards' open checks call it a truncation.
                        var seals = SealLogFile.OutsideDataRoot(options.Audit.SealsFileFull, options.DataRootFull);
                        using (var signer = AuditSigner.Load(options.KeysDirectoryFull, options.DataRootFull))
                        {
                            var seal = OfflineIncarnation.Record(seals, signer, result.Shards, TimeProvider.System.GetUtcNow());
                            await Console.Out.WriteLineAsync(seal is null
                                ? $"The seals file {seals.Path} holds no seal: nothing to accept."
                                : $"Seal {seal.Number} appended to {seals.Path}: {seal.NewIncarnations.Count} chains start a new incarnation at their restored heads.");
                        }

                        foreach (var warning in result.Warnings)
                        {
                            await Console.Out.WriteLineAsync("  warning: " + warning);
                        }

                        return 0;
                    }
            }
        }
        catch (ForgeOneException e)
        {
            await Console.Error.WriteLineAsync($"refused ({e.Code}): {e.Error.Message}");
            return 4;
        }
    }

    private static string Required(Dictionary<string, string> flags, string name) =>
        flags.TryGetValue(name, out var value) ? value : throw new ForgeOneException(ErrorCodes.InvalidArgument, $"{name} is required");

    private static async Task<string> SecretAsync(Dictionary<string, string> flags)
    {
        if (flags.TryGetValue("--secret-file", out var file))
        {
            try
            {
                return (await File.ReadAllTextAsync(file)).TrimEnd('\r', '\n');
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ForgeOneException(ErrorCodes.InvalidArgument, $"cannot read the secret file '{file}': {e.Message}");
            }
        }

        return Environment.GetEnvironmentVariable("FORGEONE_RECOVERY_SECRET")
            ?? throw new ForgeOneException(ErrorCodes.InvalidArgument, "give the recovery secret with --secret-file <file> or FORGEONE_RECOVERY_SECRET");
    }
}
