using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Akka.Actor;
using Akka.Configuration;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Security;
using ForgeOne.Cluster.Shards;
using ForgeOne.Common;
using ForgeOne.Common.Validation;
using ForgeOne.Security;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ForgeOne.Edge.Tests;

/// <summary>
/// A real cluster on loopback for the edge tests: two storage nodes (ActorSystems with shards on
/// LMDB files in a temp data root), one edge-only node, and a Kestrel edge server on a free
/// port in front of it. The bootstrap admin key is registered the way a node does it (its
/// SHA-256 in the system shard); JWTs are HS256 with a secret the tests hold.
/// </summary>
public sealed class EdgeFixture : IAsyncLifetime
{
    public const string Issuer = "https://idp.test";
    public const string Audience = "forgeone-tests";

    private readonly List<ActorSystem> _systems = [];
    private readonly List<ForgeOneCluster> _storageNodes = [];

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "forgeone-edge-tests", Guid.NewGuid().ToString("N"));

    public string AdminKey { get; } = "fo_admin_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));

    public byte[] JwtSecret { get; } = RandomNumberGenerator.GetBytes(32);

    public ForgeOneCluster EdgeNode { get; private set; } = null!;

    public string SeedNode { get; private set; } = null!;

    public EdgeServer Server { get; private set; } = null!;

    public HttpClient Anonymous { get; private set; } = null!;

    /// <summary>Authenticated with the bootstrap admin key.</summary>
    public HttpClient Admin { get; private set; } = null!;

    public IReadOnlyList<ActorSystem> StorageSystems => _systems.Take(2).ToList();

    /// <summary>The two storage nodes (another edge server can run on one: a second node to authenticate at).</summary>
    public IReadOnlyList<ForgeOneCluster> StorageNodes => _storageNodes;

    public static readonly ShardCountOptions Counts = new() { Logs = 4, Events = 2, Blobs = 2 };

    public async Task InitializeAsync()
    {
        var seed = FreePort();
        SeedNode = $"akka.ssl.tcp://forgeone@127.0.0.1:{seed}";
        var storage = new[] { seed, FreePort() };
        foreach (var port in storage)
        {
            var options = NodeOptions(port, seed, ["storage"]);
            var system = Start(options);
            var security = Security(system, options);
            var kek = new FileKekProvider(options.KeysDirectory, options.DataRoot);
            var host = new ShardHost(options.DataRoot, options.ShardCounts.ToCounts(), options.Shards,
                new ShardSecurityFactory(kek, security, TimeProvider.System),
                ShardHandlers.CreateDefault(), TimeProvider.System, Limits.Default) { Backup = BackupHosting.Writer(options, kek, TimeProvider.System) };
            _storageNodes.Add(await ForgeOneCluster.StartAsync(system, options, host, AuditSigner.LoadOrCreate(options.KeysDirectory, options.DataRoot), TimeSpan.FromSeconds(60), security,
                backup: new BackupHosting(kek, options.KeysDirectoryFull)));
        }

        var edgeOptions = NodeOptions(FreePort(), seed, ["edge"]);
        var edgeSystem = Start(edgeOptions);
        EdgeNode = await ForgeOneCluster.StartAsync(edgeSystem, edgeOptions, null, null, TimeSpan.FromSeconds(60), Security(edgeSystem, edgeOptions));
        var salt = RandomNumberGenerator.GetBytes(ApiKeySecret.SaltLength);
        var registered = await EdgeNode.Region(ShardKind.System).Ask<object>(
            new SystemProtocol.RegisterBootstrapKey(EdgeNode.Tokens.Current, salt, ApiKeySecret.Hash(salt, AdminKey), SHA256.HashData(Encoding.UTF8.GetBytes(AdminKey))), TimeSpan.FromSeconds(30));
        Assert.Equal(new SystemProtocol.BootstrapKeyRegistered(true), registered);

        Server = await StartServerAsync(o => { });
        Anonymous = new HttpClient { BaseAddress = Server.BaseAddress };
        Admin = Client(AdminKey);
    }

    /// <summary>A token for <paramref name="principal"/>, signed with the fixture's cluster authentication key.</summary>
    public PrincipalToken IssueToken(Principal principal) =>
        new TokenIssuer(AuthenticationKeyring.LoadOrCreate(Path.Combine(Root, "keys")), TimeProvider.System).Issue(principal, "test:" + principal.Id, TokenIssuer.MaxLifetime).Token;

    // Every node of the fixture shares one keys directory, so one cluster authentication key.
    private static NodeSecurity Security(ActorSystem system, ForgeOneNodeOptions options) =>
        new(AuthenticationKeyring.LoadOrCreate(options.KeysDirectory), TimeProvider.System, Akka.Cluster.Cluster.Get(system).SelfAddress.ToString());

    /// <summary>Another edge server on the same cluster (own port, own limits).</summary>
    public async Task<EdgeServer> StartServerAsync(Action<EdgeOptions> tune, int port = 0, ForgeOneCluster? node = null)
    {
        var options = new EdgeOptions
        {
            Port = port,
            RequestTimeout = TimeSpan.FromSeconds(20),
            MaxJsonBodyBytes = 256 * 1024,
            SubscriptionHeartbeat = TimeSpan.FromSeconds(1),
            Jwt = new EdgeJwtOptions { Algorithm = "HS256", Issuer = Issuer, Audience = Audience, Secret = Convert.ToBase64String(JwtSecret) },
        };
        tune(options);
        var server = EdgeServer.Create(options, new EdgeCluster(node ?? EdgeNode, options.RequestTimeout));
        await server.StartAsync();
        return server;
    }

    public HttpClient Client(string bearer, EdgeServer? server = null)
    {
        var client = new HttpClient { BaseAddress = (server ?? Server).BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        return client;
    }

    /// <summary>A JWT for <paramref name="subject"/> with <paramref name="roles"/>.</summary>
    public string Jwt(string subject, string[] roles, string? tenant = "acme", int clearance = 0, DateTime? expires = null, string audience = Audience, byte[]? secret = null, DateTime? notBefore = null)
    {
        var claims = new Dictionary<string, object> { ["roles"] = roles, ["regions"] = new[] { "*" }, ["clearance"] = clearance };
        if (tenant is not null)
        {
            claims["tenant"] = tenant;
        }

        var now = DateTime.UtcNow;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = audience,
            Subject = new ClaimsIdentity([new Claim("sub", subject)]),
            Claims = claims,
            IssuedAt = (expires ?? now.AddMinutes(5)) < now ? now.AddMinutes(-20) : now,
            NotBefore = notBefore ?? ((expires ?? now.AddMinutes(5)) < now ? now.AddMinutes(-20) : now.AddSeconds(-5)),
            Expires = expires ?? now.AddMinutes(5),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(secret ?? JwtSecret), SecurityAlgorithms.HmacSha256),
        };
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }

    public async Task DisposeAsync()
    {
        Anonymous?.Dispose();
        Admin?.Dispose();
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }

        foreach (var system in Enumerable.Reverse(_systems))
        {
            await system.Terminate().WaitAsync(TimeSpan.FromSeconds(20)).ContinueWith(_ => { });
        }

        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A file may still be closing; temp space is cleaned by the OS.
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private ForgeOneNodeOptions NodeOptions(int port, int seed, List<string> roles) => new()
    {
        Port = port,
        SeedNodes = [$"akka.ssl.tcp://forgeone@127.0.0.1:{seed}"],
        Roles = roles,
        DataRoot = Path.Combine(Root, "data"),
        KeysDirectory = Path.Combine(Root, "keys"),
        ShardCounts = Counts,
        Shards = new ShardOptions { NoSync = true },
        Singletons = new SingletonOptions { SealInterval = TimeSpan.FromMinutes(10) },
        Failure = new FailureOptions { AcceptableHeartbeatPause = TimeSpan.FromSeconds(2), StableAfter = TimeSpan.FromSeconds(2), DownRemovalMargin = TimeSpan.FromMilliseconds(500) },
        Backup = new BackupOptions
        {
            Targets = [new BackupTargetConfig { Region = "eu-west", Path = Path.Combine(Root, "region-a") }, new BackupTargetConfig { Region = "us-east", Path = Path.Combine(Root, "region-b") }],
            Scheduled = false,
            KeyBackupOpsLimit = 1,
            KeyBackupMemoryKiB = 8 * 1024,
        },
    };

    private ActorSystem Start(ForgeOneNodeOptions options)
    {
        const string fast = """
            akka.loglevel = WARNING
            akka.cluster.sharding.retry-interval = 200ms
            akka.cluster.sharding.waiting-for-state-timeout = 1s
            akka.cluster.gossip-interval = 300ms
            akka.cluster.leader-actions-interval = 300ms
            akka.cluster.singleton.hand-over-retry-interval = 300ms
            """;
        var system = ClusterConfig.CreateSystem(options, ConfigurationFactory.ParseString(fast));
        _systems.Add(system);
        return system;
    }
}

[CollectionDefinition(Name)]
public sealed class EdgeCollection : ICollectionFixture<EdgeFixture>
{
    public const string Name = "edge";
}
