using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace ForgeOne.Storage;

/// <summary>
/// Makes sure the LMDB that LightningDB binds to is LMDB 1.0.x. LightningDB's bundled
/// linux-x64 library needs glibc 2.38; on older systems the build output carries
/// <c>libforgeone-lmdb.so</c>, compiled from the LMDB 1.0.1 sources in the same package,
/// and this hook hands it to the runtime when the bundled library fails to load.
/// LightningDB already installs a DllImportResolver, so we use the ALC resolving event,
/// which runs only after every other probe failed.
/// </summary>
public static class NativeLmdb
{
    private const string FallbackFileName = "libforgeone-lmdb.so";
    private static int _installed;

    // The handle of our build once LightningDB was given it; 0 while LightningDB runs another
    // LMDB (a bundled one that loaded on a newer glibc). The page dump lives only in our build
    // and must run on environments of that same build, so it is resolved from this handle.
    private static nint _forgeOneBuild;

    /// <summary>
    /// The loaded ForgeOne LMDB build, or 0 when LightningDB bound to another LMDB library.
    /// Known once LightningDB first called into LMDB (any opened store).
    /// </summary>
    internal static nint ForgeOneBuild => Volatile.Read(ref _forgeOneBuild);

    /// <summary>Installs the fallback resolver (and the <see cref="NativeHeap"/> settings) once per process. Safe to call from anywhere.</summary>
    public static void EnsureInstalled()
    {
        if (Interlocked.Exchange(ref _installed, 1) == 1)
        {
            return;
        }

        NativeHeap.Tune();
        AssemblyLoadContext.Default.ResolvingUnmanagedDll += Resolve;
    }

    private static nint Resolve(Assembly assembly, string libraryName)
    {
        if (!libraryName.Contains("lmdb", StringComparison.OrdinalIgnoreCase))
        {
            return 0;
        }

        var path = Path.Combine(AppContext.BaseDirectory, FallbackFileName);
        if (!File.Exists(path))
        {
            path = Path.Combine(Path.GetDirectoryName(typeof(NativeLmdb).Assembly.Location) ?? ".", FallbackFileName);
        }

        if (!File.Exists(path))
        {
            return 0;
        }

        var handle = NativeLibrary.Load(path);
        Volatile.Write(ref _forgeOneBuild, handle);
        return handle;
    }
}
