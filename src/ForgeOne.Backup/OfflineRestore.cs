using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage;

namespace ForgeOne.Backup;

/// <summary>
/// Disaster recovery on a machine where no node runs (a fresh machine, or a cluster stopped
/// for the operation): first the keys from a key backup and the recovery secret, then the data
/// from the region targets into a new version of the data root. Nodes started afterwards serve
/// the restored version, and the backup coordinator records the restore when it next starts.
/// </summary>
public static class OfflineRestore
{
    /// <summary>
    /// Restores the keys directory from a sealed key backup. Refuses a keys directory that
    /// already holds any of the files, and a wrong secret, before writing anything.
    /// </summary>
    public static (KeyBackupHeader Header, IReadOnlyList<string> Written) RestoreKeys(string keyBackupFile, string secret, string keysDirectory, string? dataRoot)
    {
        var sealedBackup = ReadFile(keyBackupFile, "key backup");
        var header = KeyBackup.ReadHeader(sealedBackup);
        var contents = KeyBackup.Open(sealedBackup, secret);
        return (header, KeyBackup.RestoreInto(contents, keysDirectory, dataRoot));
    }

    /// <summary>Proves <paramref name="secret"/> opens the key backup and compares it with a keys directory; writes nothing.</summary>
    public static (KeyBackupHeader Header, KeyBackupContents Contents, KeyBackupComparison Comparison) VerifyKeys(string keyBackupFile, string secret, string keysDirectory)
    {
        var sealedBackup = ReadFile(keyBackupFile, "key backup");
        var contents = KeyBackup.Open(sealedBackup, secret);
        return (KeyBackup.ReadHeader(sealedBackup), contents, KeyBackup.Compare(contents, keysDirectory));
    }

    /// <summary>
    /// Restores backup <paramref name="backupId"/> (or the newest started at or before
    /// <paramref name="before"/>, or the newest of all) from <paramref name="targets"/> into a
    /// new version of <paramref name="dataRoot"/>, verifies it, and makes it the active version.
    /// The keys directory must already hold the cluster's KEK versions and audit signing key
    /// (restore them first): nothing here creates a key.
    /// </summary>
    public static (DataVersion Version, RestoreResult Result) RestoreData(string dataRoot, string keysDirectory, IReadOnlyList<BackupTarget> targets, string? backupId, DateTimeOffset? before, string by, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(targets);
        var keys = Path.GetFullPath(keysDirectory);
        if (!Directory.Exists(keys) || !Directory.EnumerateFiles(keys, "kek-v*.key").Any() || !File.Exists(Path.Combine(keys, AuditSigner.KeyFileName)))
        {
            // A node would create fresh keys here, which could never open the backup.
            throw new ForgeOneException(ErrorCodes.CryptoKeyUnavailable,
                $"keys directory '{keys}' lacks the cluster's KEK files or its audit signing key: restore them from a key backup first (offline keys-restore); nothing was changed");
        }

        if (targets.Count == 0)
        {
            throw new ForgeOneException(ErrorCodes.BackupNoTargets, "no backup targets are configured (ForgeOne:Backup:Targets)");
        }

        var kek = new FileKekProvider(keys, dataRoot);
        using var signer = AuditSigner.LoadOrCreate(keys, dataRoot);
        var repository = new BackupRepository(targets, signer.ExportPublicKeyPem());
        var id = backupId ?? Newest(repository, before)
            ?? throw new ForgeOneException(ErrorCodes.BackupNotFound, before is { } t ? $"no region holds a backup started at or before {t:O}" : "no region holds a backup that verifies");
        var chain = repository.Chain(id);
        var layout = new DataRootLayout(dataRoot);
        Directory.CreateDirectory(layout.Root);
        var current = layout.Versions().Count == 0 ? null : layout.Active;
        var prepared = layout.Prepare();
        RestoreResult result;
        try
        {
            result = Restorer.RestoreInto(prepared, chain, repository, kek);
        }
        catch
        {
            DataRootLayout.Abandon(prepared);
            throw;
        }

        var incarnation = Math.Max(current?.Info.Incarnation ?? 0, chain[^1].Manifest.Incarnation) + 1;
        var version = layout.Publish(prepared, new DataVersionInfo(incarnation, time.GetUtcNow(), by, id, $"offline restore of {id} (chain {string.Join(" -> ", result.Chain)})"));
        layout.Activate(version.Name);
        return (layout.Active, result);
    }

    private static string? Newest(BackupRepository repository, DateTimeOffset? before)
    {
        foreach (var id in repository.ListBackups().Reverse())
        {
            try
            {
                var manifest = repository.Load(id).Manifest;
                if (before is null || manifest.StartedAt <= before)
                {
                    return id;
                }
            }
            catch (ForgeOneException)
            {
                // Damaged or foreign: not a candidate.
            }
        }

        return null;
    }

    private static byte[] ReadFile(string path, string what)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new ForgeOneException(ErrorCodes.BackupFileMissing, $"cannot read the {what} '{path}': {e.Message}");
        }
    }
}
