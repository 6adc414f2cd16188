namespace ForgeOne.Security;

/// <summary>
/// Source of the key-encryption key. The dev defaults are <see cref="FileKekProvider"/> and
/// <see cref="EnvironmentKekProvider"/>. An external KMS plugs in here: it implements
/// <see cref="Wrap"/> and <see cref="Unwrap"/> with remote calls (the KEK never leaves the KMS)
/// and may throw <c>crypto.key_unavailable</c> from <see cref="Get"/>.
/// </summary>
public interface IKekProvider
{
    /// <summary>The version new wraps use.</summary>
    int CurrentVersion { get; }

    /// <summary>The current KEK.</summary>
    KeyEncryptionKey GetCurrent() => Get(CurrentVersion);

    /// <summary>A KEK by version; throws <c>crypto.key_unavailable</c> if that version is not held.</summary>
    KeyEncryptionKey Get(int version);

    /// <summary>Makes a new current version and returns it. Old versions stay readable for unwrapping.</summary>
    KeyEncryptionKey Rotate();

    /// <summary>Wraps a data key under KEK <paramref name="kekVersion"/> (format: docs/FORMATS.md, "Wrapped key").</summary>
    byte[] Wrap(int kekVersion, ReadOnlySpan<byte> key, ReadOnlySpan<byte> associatedData) =>
        KeyWrap.Wrap(Get(kekVersion), key, associatedData);

    /// <summary>Unwraps a wrapped key; the KEK version is read from the wrapped bytes.</summary>
    byte[] Unwrap(ReadOnlySpan<byte> wrapped, ReadOnlySpan<byte> associatedData) =>
        KeyWrap.Unwrap(this, wrapped, associatedData);
}
