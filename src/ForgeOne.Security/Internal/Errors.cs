using ForgeOne.Common;

namespace ForgeOne.Security;

/// <summary>
/// Builds the typed exceptions this library throws. Messages name versions, paths and lengths,
/// never key bytes or plaintext: a test scans them for the test keys.
/// </summary>
internal static class Errors
{
    public static ForgeOneException Invalid(string message) =>
        new(ErrorCodes.InvalidArgument, message);
}
