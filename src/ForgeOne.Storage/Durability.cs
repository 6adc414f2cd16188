using System.Runtime.InteropServices;
using ForgeOne.Common;

namespace ForgeOne.Storage;

/// <summary>
/// fsync of a directory, so a file created or renamed in it survives a power loss (POSIX
/// makes the directory entry durable only when the directory itself is synced). .NET has no
/// API for it: a directory cannot be opened as a FileStream.
/// </summary>
public static partial class Durability
{
    /// <summary>Flushes <paramref name="directory"/>'s entries to disk (no-op on Windows, where NTFS journals them).</summary>
    public static void SyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var fd = open(directory, 0); // O_RDONLY: enough to fsync a directory
        if (fd < 0)
        {
            throw new ForgeOneException(ErrorCodes.StorageIo, $"cannot open directory {directory} to sync it (errno {Marshal.GetLastPInvokeError()})");
        }

        try
        {
            if (fsync(fd) != 0)
            {
                throw new ForgeOneException(ErrorCodes.StorageIo, $"fsync of directory {directory} failed (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            _ = close(fd);
        }
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fsync(int fd);

    [LibraryImport("libc")]
    private static partial int close(int fd);
}
