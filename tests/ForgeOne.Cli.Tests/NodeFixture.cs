using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using ForgeOne.IntegrationTests;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ForgeOne.Cli.Tests;

/// <summary>
/// One ForgeOne node process (storage + edge on free loopback ports, data and keys in a temp
/// directory) shared by every test of the "node" collection. The edge also accepts HS256 JWTs
/// under a secret the fixture holds, so tests can act as any role (a reader, say). Backups go to
/// two region targets under the same directory.
/// </summary>
public sealed class NodeFixture : IAsyncLifetime
{
    private const string Issuer = "forgeone-cli-tests";
    private const string Audience = "forgeone";
    private readonly TempDir _dir = new();
    private readonly byte[] _jwtSecret = RandomNumberGenerator.GetBytes(32);
    private NodeProcess? _node;

    public string Url { get; private set; } = string.Empty;

    public string AdminKey { get; private set; } = string.Empty;

    public string AdminKeyFile => Path.Combine(_dir.Path, "keys", "bootstrap-admin.key");

    public string Directory => _dir.Path;

    /// <summary>The node's keys directory.</summary>
    public string KeysDirectory => Path.Combine(_dir.Path, "keys");

    /// <summary>Where backup target <paramref name="region"/> keeps its files.</summary>
    public string RegionPath(string region) => Path.Combine(_dir.Path, "backups", region);

    /// <summary>Environment that points the CLI at this node as the bootstrap admin.</summary>
    public Dictionary<string, string> AdminEnvironment => new() { ["FORGEONE_URL"] = Url, ["FORGEONE_API_KEY"] = AdminKey };

    public async Task InitializeAsync()
    {
        var port = NodeProcess.FreePort().ToString(CultureInfo.InvariantCulture);
        var edgePort = NodeProcess.FreePort().ToString(CultureInfo.InvariantCulture);
        _node = NodeProcess.Start("cli-node", _dir.Path,
        [
            $"--ForgeOne:Port={port}",
            $"--ForgeOne:SeedNodes:0=akka.ssl.tcp://forgeone@127.0.0.1:{port}",
            $"--ForgeOne:DataRoot={Path.Combine(_dir.Path, "data")}",
            $"--ForgeOne:KeysDirectory={Path.Combine(_dir.Path, "keys")}",
            $"--ForgeOne:BootstrapKeyFile={AdminKeyFile}",
            "--ForgeOne:Shards:NoSync=true",
            "--ForgeOne:Edge:Jwt:Algorithm=HS256",
            $"--ForgeOne:Edge:Jwt:Issuer={Issuer}",
            $"--ForgeOne:Edge:Jwt:Audience={Audience}",
            $"--ForgeOne:Edge:Jwt:Secret={Convert.ToBase64String(_jwtSecret)}",
            // Two region targets so the backup, drill and key-backup verbs have somewhere to write;
            // no schedule (only the tests start backups) and a cheap Argon2id for key backups.
            "--ForgeOne:Backup:Targets:0:Region=eu-west",
            $"--ForgeOne:Backup:Targets:0:Path={RegionPath("eu-west")}",
            "--ForgeOne:Backup:Targets:1:Region=us-east",
            $"--ForgeOne:Backup:Targets:1:Path={RegionPath("us-east")}",
            "--ForgeOne:Backup:Scheduled=false",
            "--ForgeOne:Backup:KeyBackupOpsLimit=1",
            "--ForgeOne:Backup:KeyBackupMemoryKiB=8192",
            "--Logging:LogLevel:Akka=Warning",
        ], new Dictionary<string, string> { ["FORGEONE__EDGE__PORT"] = edgePort });
        await _node.WaitReadyAsync(TimeSpan.FromSeconds(120));
        Url = _node.EdgeAddress?.ToString().TrimEnd('/') ?? throw new InvalidOperationException("the node printed no edge address:\n" + _node.Output);
        AdminKey = (await File.ReadAllTextAsync(AdminKeyFile)).Trim();
    }

    /// <summary>A JWT for a principal with <paramref name="roles"/> of tenant acme.</summary>
    public string Jwt(string subject, params string[] roles)
    {
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            Subject = new ClaimsIdentity([new Claim("sub", subject)]),
            Claims = new Dictionary<string, object> { ["roles"] = roles, ["regions"] = new[] { "*" }, ["clearance"] = 0, ["tenant"] = "acme" },
            IssuedAt = now,
            NotBefore = now.AddSeconds(-5),
            Expires = now.AddMinutes(30),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(_jwtSecret), SecurityAlgorithms.HmacSha256),
        });
    }

    public Task DisposeAsync()
    {
        _node?.Dispose();
        _dir.Dispose();
        return Task.CompletedTask;
    }
}

[CollectionDefinition("node")]
public sealed class NodeCollection : ICollectionFixture<NodeFixture>;
