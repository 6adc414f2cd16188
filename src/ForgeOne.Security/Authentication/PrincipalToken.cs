namespace ForgeOne.Security;

/// <summary>
/// Proof of a principal that a command carries: <see cref="TokenClaims"/> signed with the
/// cluster authentication key (<see cref="AuthenticationKeyring"/>), in the binary layout of
/// <see cref="PrincipalTokenCodec"/>. Opaque to whoever holds it. It is a bearer credential
/// until it expires: never log or persist it.
/// </summary>
/// <param name="Value">The encoded, signed token.</param>
public sealed record PrincipalToken(byte[] Value)
{
    /// <inheritdoc />
    public override string ToString() => $"PrincipalToken({Value?.Length ?? 0} bytes)";
}

/// <summary>What a verified token says.</summary>
/// <param name="Principal">Who, with roles and attributes.</param>
/// <param name="CredentialId">
/// The credential it was issued for (an API key id, <c>node:</c> for a node's own identity, an
/// edge-issued id for a JWT subject): revoking the credential refuses every token issued for it.
/// </param>
/// <param name="IssuedAt">When it was issued.</param>
/// <param name="ExpiresAt">Refused from this instant on (plus the verifier's clock-skew allowance).</param>
/// <param name="KeyVersion">Version of the authentication key that signed it.</param>
public sealed record TokenClaims(Principal Principal, string CredentialId, DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt, int KeyVersion);

/// <summary>
/// The outcome of checking a token: the claims, or why it is refused (always
/// <see cref="Common.ErrorCodes.Unauthenticated"/>, distinct from a policy's <c>auth.forbidden</c>).
/// </summary>
public sealed record AuthenticationResult
{
    private AuthenticationResult(TokenClaims? claims, Common.ForgeOneError? error)
    {
        Claims = claims;
        Error = error;
    }

    /// <summary>The verified claims; null when refused.</summary>
    public TokenClaims? Claims { get; }

    /// <summary>Why the token was refused; null when verified.</summary>
    public Common.ForgeOneError? Error { get; }

    /// <summary>True when the token verified.</summary>
    public bool IsAuthenticated => Claims is not null;

    /// <summary>The verified principal (throws when refused).</summary>
    public Principal Principal => Claims?.Principal ?? throw new InvalidOperationException("The token was refused: " + Error);

    /// <summary>A verified token.</summary>
    public static AuthenticationResult Verified(TokenClaims claims) => new(claims ?? throw new ArgumentNullException(nameof(claims)), null);

    /// <summary>A refusal with <paramref name="reason"/>.</summary>
    public static AuthenticationResult Refused(string reason) => new(null, new Common.ForgeOneError(Common.ErrorCodes.Unauthenticated, reason));
}
