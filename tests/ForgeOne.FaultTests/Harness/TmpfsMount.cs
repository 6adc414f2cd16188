using System.Diagnostics;
using System.Globalization;

namespace ForgeOne.FaultTests.Harness;

/// <summary>
/// A small tmpfs the test mounts (as root) to give a data root a hard size limit: writes past
/// it fail with ENOSPC, and a remount with a larger size gives the space back. Unmounted on dispose.
/// </summary>
public sealed class TmpfsMount : IDisposable
{
    private TmpfsMount(string path) => Path = path;

    /// <summary>Where it is mounted.</summary>
    public string Path { get; }

    /// <summary>Mounts a tmpfs of <paramref name="sizeMiB"/> at a new directory under <paramref name="parent"/>, or says why it cannot.</summary>
    public static (TmpfsMount? Mount, string? WhyNot) TryCreate(string parent, int sizeMiB)
    {
        if (!OperatingSystem.IsLinux())
        {
            return (null, "tmpfs mounts need Linux");
        }

        var path = System.IO.Path.Combine(parent, "tmpfs-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(path);
        var (ok, output) = Run("mount", "-t", "tmpfs", "-o", $"size={sizeMiB.ToString(CultureInfo.InvariantCulture)}m,mode=0755", "tmpfs", path);
        if (!ok)
        {
            Directory.Delete(path);
            return (null, $"mount -t tmpfs failed (needs root or CAP_SYS_ADMIN): {output.Trim()}");
        }

        return (new TmpfsMount(path), null);
    }

    /// <summary>Changes the size limit (a larger one frees space at once).</summary>
    public void Resize(int sizeMiB)
    {
        var (ok, output) = Run("mount", "-o", $"remount,size={sizeMiB.ToString(CultureInfo.InvariantCulture)}m", Path);
        if (!ok)
        {
            throw new InvalidOperationException($"remount of {Path} failed: {output}");
        }
    }

    /// <summary>Bytes still free on the mount.</summary>
    public long FreeBytes => new DriveInfo(Path).AvailableFreeSpace;

    /// <inheritdoc />
    public void Dispose()
    {
        Run("umount", "-l", Path);
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static (bool Ok, string Output) Run(string file, params string[] args)
    {
        try
        {
            var info = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in args)
            {
                info.ArgumentList.Add(a);
            }

            using var p = Process.Start(info)!;
            var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
            p.WaitForExit();
            return (p.ExitCode == 0, output);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (false, e.Message);
        }
    }
}
