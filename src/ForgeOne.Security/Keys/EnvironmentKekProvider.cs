using System.Globalization;
using ForgeOne.Common;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ForgeOne.Security;

/// <summary>
/// KEK from environment variables (containers, CI). <c>FORGEONE_KEK</c> holds the current key in
/// base64 (32 bytes); <c>FORGEONE_KEK_VERSION</c> its version (default 1); older versions stay
/// available as <c>FORGEONE_KEK_V{n}</c>. Rotation is an operator action (set a new variable and
/// restart), so <see cref="Rotate"/> refuses.
/// </summary>
public sealed class EnvironmentKekProvider : IKekProvider
{
    /// <summary>Default variable name.</summary>
    public const string DefaultVariable = "FORGEONE_KEK";

    private readonly string _variable;
    private readonly Func<string, string?> _read;
    private readonly KeyEncryptionKey _current;

    /// <param name="variable">Name of the variable holding the current key.</param>
    /// <param name="readVariable">Reads a variable (tests inject one); defaults to <see cref="Environment.GetEnvironmentVariable(string)"/>.</param>
    /// <param name="logger">Receives which version was loaded (never the value).</param>
    public EnvironmentKekProvider(string variable = DefaultVariable, Func<string, string?>? readVariable = null, ILogger? logger = null)
    {
        _variable = variable;
        _read = readVariable ?? Environment.GetEnvironmentVariable;
        var versionText = _read(variable + "_VERSION");
        var version = 1;
        if (!string.IsNullOrEmpty(versionText) && (!int.TryParse(versionText, NumberStyles.None, CultureInfo.InvariantCulture, out version) || version < 1))
        {
            throw new ForgeOneException(ErrorCodes.InvalidConfiguration, $"{variable}_VERSION must be a positive integer");
        }

        _current = Decode(variable, version);
        Log.KekFromEnvironment(logger ?? NullLogger.Instance, version, variable);
    }

    /// <inheritdoc />
    public int CurrentVersion => _current.Version;

    /// <inheritdoc />
    public KeyEncryptionKey GetCurrent() => _current;

    /// <inheritdoc />
    public KeyEncryptionKey Get(int version) =>
        version == _current.Version ? _current : Decode($"{_variable}_V{version}", version);

    /// <inheritdoc />
    public KeyEncryptionKey Rotate() =>
        throw new ForgeOneException(ErrorCodes.InvalidConfiguration,
            $"KEKs from the environment are rotated by the operator: set {_variable}_V{_current.Version} to the old key, {_variable} to the new one and {_variable}_VERSION={_current.Version + 1}, then restart");

    private KeyEncryptionKey Decode(string variable, int version)
    {
        var text = _read(variable);
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new ForgeOneException(ErrorCodes.CryptoKeyUnavailable, $"KEK v{version}: environment variable {variable} is not set");
        }

        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(text.Trim());
        }
        catch (FormatException)
        {
            // Never echo the value: it is (almost) a key.
            throw new ForgeOneException(ErrorCodes.CryptoKeyUnavailable, $"KEK v{version}: environment variable {variable} is not valid base64");
        }

        try
        {
            return new KeyEncryptionKey(version, bytes);
        }
        finally
        {
            Array.Clear(bytes);
        }
    }
}
