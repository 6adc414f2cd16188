using ForgeOne.Common;

namespace ForgeOne.Security;

/// <summary>
/// Classes of sensitive fields, each with its own key derived from the data key. A policy
/// grants readable classes per role; the byte value is written into field ciphertexts.
/// </summary>
public enum FieldClass : byte
{
    /// <summary><c>log.message</c></summary>
    LogMessage = 1,

    /// <summary><c>log.metadata</c></summary>
    LogMetadata = 2,

    /// <summary><c>event.payload</c></summary>
    EventPayload = 3,

    /// <summary><c>event.metadata</c></summary>
    EventMetadata = 4,

    /// <summary><c>blob.name</c></summary>
    BlobName = 5,

    /// <summary><c>blob.metadata</c></summary>
    BlobMetadata = 6,
}

/// <summary>Names of field classes as they appear in policies and key derivation.</summary>
public static class FieldClasses
{
    /// <summary>Every class.</summary>
    public static IReadOnlySet<FieldClass> All { get; } = new HashSet<FieldClass>(Enum.GetValues<FieldClass>());

    /// <summary>No class (everything redacted).</summary>
    public static IReadOnlySet<FieldClass> None { get; } = new HashSet<FieldClass>();

    /// <summary>Dotted name, e.g. <c>log.message</c>.</summary>
    public static string Name(this FieldClass fieldClass) => fieldClass switch
    {
        FieldClass.LogMessage => "log.message",
        FieldClass.LogMetadata => "log.metadata",
        FieldClass.EventPayload => "event.payload",
        FieldClass.EventMetadata => "event.metadata",
        FieldClass.BlobName => "blob.name",
        FieldClass.BlobMetadata => "blob.metadata",
        _ => throw new ForgeOneException(ErrorCodes.InvalidArgument, $"unknown field class {(int)fieldClass}"),
    };

    /// <summary>Parses a dotted name; false for unknown names.</summary>
    public static bool TryParse(string name, out FieldClass fieldClass)
    {
        foreach (var c in Enum.GetValues<FieldClass>())
        {
            if (string.Equals(c.Name(), name, StringComparison.Ordinal))
            {
                fieldClass = c;
                return true;
            }
        }

        fieldClass = default;
        return false;
    }

    /// <summary>The text a reader without the class sees instead of the value.</summary>
    public static string RedactionMarker(this FieldClass fieldClass) => $"[redacted:{fieldClass.Name()}]";
}

/// <summary>A field as a given reader sees it: the plaintext, or redacted.</summary>
/// <param name="Class">The field's class (from the ciphertext header).</param>
/// <param name="Redacted">True when the reader may not read the class; then <paramref name="Value"/> is null.</param>
/// <param name="Value">The plaintext when readable.</param>
public sealed record RevealedField(FieldClass Class, bool Redacted, byte[]? Value)
{
    /// <summary>The UTF-8 value, or the redaction marker.</summary>
    public string ToDisplayString() => Redacted ? Class.RedactionMarker() : System.Text.Encoding.UTF8.GetString(Value!);
}
