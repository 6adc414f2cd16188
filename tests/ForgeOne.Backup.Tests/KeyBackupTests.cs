using ForgeOne.Common;
using ForgeOne.Security;

namespace ForgeOne.Backup.Tests;

/// <summary>Key backups sealed under a recovery secret: restore onto an empty keys directory, refusal of a wrong secret or an edited file.</summary>
public sealed class KeyBackupTests : IDisposable
{
    private static readonly KeyBackupCost Cheap = new(1, 8 * 1024);
    private readonly string _root = Directory.CreateTempSubdirectory("forgeone-keys-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Keys => Path.Combine(_root, "keys");

    [Fact]
    public void RestoreOntoAnEmptyKeysDirectory_WithTheRightSecret_GivesBackEveryKeyByteForByte()
    {
        var kek = new FileKekProvider(Keys);
        kek.Rotate();
        using (AuditSigner.LoadOrCreate(Keys))
        {
        }

        Directory.CreateDirectory(Path.Combine(Keys, "tls"));
        File.WriteAllText(Path.Combine(Keys, "tls", "cluster-ca.pem"), "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
        File.WriteAllBytes(Path.Combine(Keys, "cluster-auth-v1.key"), new byte[32]);
        File.SetUnixFileMode(Path.Combine(Keys, "cluster-auth-v1.key"), UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var contents = KeyBackup.Collect(Keys);
        Assert.Equal("Kek=2 AuditSigning=1 ClusterAuthentication=1 ClusterCa=1", contents.Summary);
        var sealedBackup = KeyBackup.Seal(contents, "k-1", DateTimeOffset.UnixEpoch, "correct horse battery staple", Cheap);

        var empty = Path.Combine(_root, "fresh-keys");
        var written = KeyBackup.RestoreInto(KeyBackup.Open(sealedBackup, "correct horse battery staple"), empty);
        Assert.Equal(5, written.Count);
        foreach (var file in contents.Files)
        {
            Assert.Equal(file.Content, File.ReadAllBytes(Path.Combine(empty, file.Path)));
        }

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(empty, "kek-v2.key")));
        var restoredKek = new FileKekProvider(empty);
        Assert.Equal(2, restoredKek.CurrentVersion);
        var wrapped = ((IKekProvider)kek).Wrap(1, new byte[32], "x"u8);
        Assert.Equal(new byte[32], ((IKekProvider)restoredKek).Unwrap(wrapped, "x"u8));
        var comparison = KeyBackup.Compare(KeyBackup.Open(sealedBackup, "correct horse battery staple"), empty);
        Assert.Equal(5, comparison.Matching.Count);
        Assert.Empty(comparison.MissingFromDirectory);
    }

    [Fact]
    public void WrongSecret_IsRefusedClearly_AndNothingIsWritten()
    {
        _ = new FileKekProvider(Keys);
        var sealedBackup = KeyBackup.Seal(KeyBackup.Collect(Keys), "k-2", DateTimeOffset.UnixEpoch, "correct horse battery staple", Cheap);

        var e = Assert.Throws<ForgeOneException>(() => KeyBackup.Open(sealedBackup, "correct horse battery stapler"));
        Assert.Equal(ErrorCodes.BackupRecoverySecretInvalid, e.Code);
        Assert.Contains("k-2", e.Message, StringComparison.Ordinal);
        Assert.Equal(ErrorCodes.BackupRecoverySecretInvalid, Assert.Throws<ForgeOneException>(() => KeyBackup.Open(sealedBackup, "")).Code);
    }

    [Fact]
    public void SealedFile_RevealsNoKeyBytes_AndAnEditedByteIsRefused()
    {
        _ = new FileKekProvider(Keys);
        var kekBytes = File.ReadAllBytes(Path.Combine(Keys, "kek-v1.key"));
        var sealedBackup = KeyBackup.Seal(KeyBackup.Collect(Keys), "k-3", DateTimeOffset.UnixEpoch, "correct horse battery staple", Cheap);
        Assert.Equal(-1, sealedBackup.AsSpan().IndexOf(kekBytes.AsSpan(0, 16)));
        Assert.Equal(-1, sealedBackup.AsSpan().IndexOf("kek-v1"u8));

        sealedBackup[^20] ^= 1;
        Assert.Equal(ErrorCodes.BackupRecoverySecretInvalid, Assert.Throws<ForgeOneException>(() => KeyBackup.Open(sealedBackup, "correct horse battery staple")).Code);
    }

    [Fact]
    public void Restore_IntoADirectoryThatHoldsAKey_RefusesBeforeWritingAnything()
    {
        _ = new FileKekProvider(Keys);
        var sealedBackup = KeyBackup.Seal(KeyBackup.Collect(Keys), "k-4", DateTimeOffset.UnixEpoch, "correct horse battery staple", Cheap);
        var other = Path.Combine(_root, "other");
        _ = new FileKekProvider(other); // its own kek-v1.key

        var e = Assert.Throws<ForgeOneException>(() => KeyBackup.RestoreInto(KeyBackup.Open(sealedBackup, "correct horse battery staple"), other));
        Assert.Equal(ErrorCodes.Conflict, e.Code);
        Assert.Contains("kek-v1.key", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Seal_RefusesAShortSecret()
    {
        _ = new FileKekProvider(Keys);
        Assert.Equal(ErrorCodes.InvalidArgument, Assert.Throws<ForgeOneException>(() => KeyBackup.Seal(KeyBackup.Collect(Keys), "k", DateTimeOffset.UnixEpoch, "short", Cheap)).Code);
    }
}
