using ForgeOne.Common;
using LightningDB;

namespace ForgeOne.Storage;

/// <summary>Translates LMDB result codes into ForgeOne's stable error codes.</summary>
internal static class LmdbErrors
{
    private const int NoSpace = 28;
    private const int QuotaExceeded = 122;

    public static ForgeOneException ToForgeOne(MDBResultCode code, string context, Exception? inner = null)
    {
        var errorCode = code switch
        {
            MDBResultCode.Invalid or MDBResultCode.Corrupted or MDBResultCode.PageNotFound
                or MDBResultCode.Panic or MDBResultCode.BadChecksum => ErrorCodes.StorageCorruptFile,
            MDBResultCode.VersionMismatch => ErrorCodes.StorageUnknownFormat,
            MDBResultCode.BadValSize => ErrorCodes.InvalidArgument,
            // LMDB passes the OS error through (ENOSPC, EDQUOT from write or fsync), or reports a
            // write that stopped part way, which on a local file system means it is full.
            (MDBResultCode)NoSpace or (MDBResultCode)QuotaExceeded or MDBResultCode.ShortWrite => ErrorCodes.StorageDiskFull,
            _ => ErrorCodes.StorageIo,
        };
        return new ForgeOneException(errorCode, $"{context}: LMDB {code} ({(int)code})", inner);
    }

    /// <summary>
    /// LightningDB wraps open failures in an exception with status 0 whose inner exception
    /// carries the real code; dig for the first non-zero one.
    /// </summary>
    public static MDBResultCode StatusOf(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is LightningException { StatusCode: not 0 } le)
            {
                return (MDBResultCode)le.StatusCode;
            }
        }

        return MDBResultCode.Problem;
    }

    public static void ThrowOnError(MDBResultCode code, string context)
    {
        if (code != MDBResultCode.Success)
        {
            throw ToForgeOne(code, context);
        }
    }
}
