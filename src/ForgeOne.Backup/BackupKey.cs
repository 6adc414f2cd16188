using System.Security.Cryptography;
using System.Text;
using ForgeOne.Security;

namespace ForgeOne.Backup;

/// <summary>
/// The data key of one backup: 32 random bytes that encrypt every file of that backup, kept
/// only wrapped by the KEK (in the manifest and the coordinator's journal). The wrap binds the
/// backup id, so a wrapped key copied into another backup's manifest does not unwrap there.
/// Restoring therefore needs the KEK version that wrapped it: a key version the manifest lists.
/// </summary>
public static class BackupKey
{
    /// <summary>A new data key for <paramref name="backupId"/>, wrapped under the KEK's current version.</summary>
    public static byte[] CreateWrapped(IKekProvider kek, string backupId)
    {
        ArgumentNullException.ThrowIfNull(kek);
        var key = RandomNumberGenerator.GetBytes(32);
        try
        {
            return kek.Wrap(kek.CurrentVersion, key, Aad(backupId));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>The data key of <paramref name="backupId"/>. Errors: <c>crypto.key_unavailable</c> (KEK version missing), <c>crypto.wrong_key</c>.</summary>
    public static byte[] Unwrap(IKekProvider kek, ReadOnlySpan<byte> wrapped, string backupId)
    {
        ArgumentNullException.ThrowIfNull(kek);
        return kek.Unwrap(wrapped, Aad(backupId));
    }

    /// <summary>The KEK version <paramref name="wrapped"/> needs.</summary>
    public static int KekVersionOf(ReadOnlySpan<byte> wrapped) => KeyWrap.ReadKekVersion(wrapped);

    private static byte[] Aad(string backupId) => Encoding.UTF8.GetBytes("forgeone.backup.data-key.v1\0" + backupId);
}
