namespace ForgeOne.Cluster.Protocol;

/// <summary>
/// The authenticated principal an operation runs as, in the shape it travels between nodes.
/// Authentication happens at the boundary (edge API key / JWT, actor client credentials);
/// the shard trusts this value only because cluster membership is trusted, and re-authorizes
/// every operation against it.
/// </summary>
/// <param name="Id">Stable principal id (audited).</param>
/// <param name="Roles">Role names (admin, operator, writer, reader, auditor).</param>
/// <param name="Tenant">Tenant the principal belongs to, if any.</param>
/// <param name="Regions">Residency regions the principal may touch (<c>*</c> for all).</param>
/// <param name="Clearance">Highest data classification the principal may touch (0 = public).</param>
public sealed record Caller(string Id, string[] Roles, string? Tenant, string[] Regions, int Clearance)
{
    /// <summary>The node itself (singletons, maintenance). Audited under this id.</summary>
    public static readonly Caller System = new("system", ["admin"], null, ["*"], int.MaxValue);

    /// <inheritdoc />
    public override string ToString() => $"{Id}[{string.Join(',', Roles)}]";
}
