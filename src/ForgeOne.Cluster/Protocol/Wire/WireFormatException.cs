using System.Runtime.Serialization;
using ForgeOne.Common;

namespace ForgeOne.Cluster.Protocol.Wire;

/// <summary>
/// A message could not be encoded or decoded by the ForgeOne wire format: an unknown manifest,
/// a schema that differs from this node's, malformed or truncated bytes, or a value the schema
/// does not allow (a null where the field is not nullable, an undefined enum value).
/// </summary>
/// <remarks>
/// A <see cref="SerializationException"/> because that is what Akka's remoting expects from a
/// serializer: it logs the failure and drops the one message, the association stays up. The
/// typed <see cref="Error"/> says why in the stable error-code vocabulary.
/// </remarks>
public sealed class WireFormatException : SerializationException
{
    /// <summary>Creates the exception.</summary>
    public WireFormatException(string code, string message, Exception? inner = null)
        : base($"{code}: {message}", inner)
    {
        Error = new ForgeOneError(code, message);
    }

    /// <summary>The typed reason.</summary>
    public ForgeOneError Error { get; }

    internal static WireFormatException Malformed(string message) => new(ErrorCodes.WireMalformed, message);
}
