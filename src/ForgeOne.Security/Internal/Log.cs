using Microsoft.Extensions.Logging;

namespace ForgeOne.Security;

/// <summary>
/// Every log line this library writes. Arguments are versions, paths and ids only: never key
/// bytes (the no-secrets test captures these lines and scans them).
/// </summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 6001, Level = LogLevel.Warning, Message = "Created key-encryption key v{Version} at {Path}")]
    public static partial void KekCreated(ILogger logger, int version, string path);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Information, Message = "Loaded key-encryption key v{Version} from {Path}")]
    public static partial void KekLoaded(ILogger logger, int version, string path);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Warning, Message = "Rotated key-encryption key to v{Version}")]
    public static partial void KekRotated(ILogger logger, int version);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Information, Message = "Loaded key-encryption key v{Version} from environment variable {Variable}")]
    public static partial void KekFromEnvironment(ILogger logger, int version, string variable);

    [LoggerMessage(EventId = 6010, Level = LogLevel.Warning, Message = "Created audit signing key at {Path} (public key fingerprint {Fingerprint})")]
    public static partial void SigningKeyCreated(ILogger logger, string path, string fingerprint);

    [LoggerMessage(EventId = 6011, Level = LogLevel.Information, Message = "Loaded audit signing key from {Path} (public key fingerprint {Fingerprint})")]
    public static partial void SigningKeyLoaded(ILogger logger, string path, string fingerprint);

    [LoggerMessage(EventId = 6020, Level = LogLevel.Warning, Message = "Created cluster authentication key v{Version} at {Path}")]
    public static partial void AuthKeyCreated(ILogger logger, int version, string path);

    [LoggerMessage(EventId = 6021, Level = LogLevel.Warning, Message = "Rotated the cluster authentication key to v{Version}")]
    public static partial void AuthKeyRotated(ILogger logger, int version);
}
