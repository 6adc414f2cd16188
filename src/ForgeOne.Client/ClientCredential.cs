using ForgeOne.Cluster.Security;
using ForgeOne.Security;

namespace ForgeOne.Client;

/// <summary>What an actor client presents to prove who it is.</summary>
public abstract class ClientCredential
{
    private protected ClientCredential()
    {
    }

    /// <summary>Tokens obtained elsewhere (a gateway that already authenticated its caller, tests).</summary>
    public static ClientCredential FromTokens(IPrincipalTokenSource tokens) => new TokenCredential(tokens ?? throw new ArgumentNullException(nameof(tokens)));

    /// <summary>One token, as given.</summary>
    public static ClientCredential FromToken(PrincipalToken token) => FromTokens(new FixedTokenSource(token ?? throw new ArgumentNullException(nameof(token))));

    internal abstract IPrincipalTokenSource Tokens { get; }

    private sealed class TokenCredential(IPrincipalTokenSource tokens) : ClientCredential
    {
        internal override IPrincipalTokenSource Tokens => tokens;
    }
}
