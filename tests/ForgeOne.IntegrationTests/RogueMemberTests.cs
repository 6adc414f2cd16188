using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.Remote;
using Akka.Remote.Transport.DotNetty;
using ForgeOne.Client;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;
using ForgeOne.Common.Model;
using ForgeOne.Security;
using ForgeOne.Storage;
using LightningDB;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.IntegrationTests;

/// <summary>
/// Members authenticate each other: processes that speak ForgeOne's protocol perfectly, and even
/// hold a valid admin's principal token, but no certificate of the cluster's CA (none at all, a
/// self-signed one, one of another cluster's CA) try to join a real node and to send it a log
/// append and a key rotation by actor selection. None gets through, and the node's shard files
/// are exactly as before.
/// </summary>
[Trait("Category", "MultiProcess")]
public sealed class RogueMemberTests : IAsyncLifetime
{
    private static readonly TimeSpan Refusal = TimeSpan.FromSeconds(30);
    private readonly TempDir _dir = new();
    private readonly List<ActorSystem> _rogues = [];
    private NodeProcess _node = null!;
    private ForgeOneActorClient _client = null!;
    private TokenIssuer _issuer = null!;
    private int _port;

    private string DataRoot => Path.Combine(_dir.Path, "data");

    private string Keys => Path.Combine(_dir.Path, "keys");

    public async Task InitializeAsync()
    {
        _port = NodeProcess.FreePort();
        var port = _port.ToString(CultureInfo.InvariantCulture);
        _node = NodeProcess.Start("node", _dir.Path,
        [
            $"--ForgeOne:Port={port}",
            "--ForgeOne:Roles:0=storage",
            $"--ForgeOne:DataRoot={DataRoot}",
            $"--ForgeOne:KeysDirectory={Keys}",
            "--ForgeOne:ShardCounts:Logs=2",
            "--ForgeOne:ShardCounts:Events=1",
            "--ForgeOne:ShardCounts:Blobs=1",

            // Nothing of the node's own writes a shard while the test compares the files.
            "--ForgeOne:Singletons:SealInterval=01:00:00",
            "--ForgeOne:Compliance:MetricsInterval=01:00:00",
            "--ForgeOne:Compliance:RetentionSweepInterval=01:00:00",
            "--ForgeOne:Backup:Scheduled=false",

            // A read's audit record commits at once, so it is in the files before they are compared.
            "--ForgeOne:Shards:ReadAuditDelay=00:00:00",
        ]);
        await _node.WaitReadyAsync(TimeSpan.FromSeconds(90));

        // A legitimate member: its certificate issued from the dev CA the node created, its
        // principal proven by a token of the node's authentication key.
        _issuer = new TokenIssuer(AuthenticationKeyring.LoadOrCreate(Keys), TimeProvider.System);
        var writer = _issuer.Issue(Principal.Of("svc", ["writer"], "acme", ["*"], 0), "svc", TimeSpan.FromHours(1)).Token;
        _client = await ForgeOneActorClient.ConnectAsync([$"akka.ssl.tcp://forgeone@127.0.0.1:{port}"], new ShardCountOptions { Logs = 2, Events = 1, Blobs = 1 },
            ClientCredential.FromToken(writer), configure: o => o.KeysDirectory = Keys);
    }

    public async Task DisposeAsync()
    {
        foreach (var rogue in _rogues)
        {
            await rogue.Terminate();
        }

        await _client.DisposeAsync();
        _node.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task ProcessesWithoutAClusterCertificate_CannotJoinOrSend_AndNothingIsWritten()
    {
        await _client.AppendLogAsync("rogue.target", new LogInput(DateTimeOffset.UtcNow, Severity.Info, "before"));
        var before = ShardFiles.Snapshot(DataRoot);
        Assert.Contains(before, f => f.Key.StartsWith("logs", StringComparison.Ordinal) && f.Value.Tables.GetValueOrDefault(Tables.Logs) == 1);

        using var otherCa = new TempDir();
        var other = ClusterCertificates.LoadOrCreateDev(otherCa.Path, null, "forgeone", ClusterCertificates.NodeFile, ["127.0.0.1"], mayCreateCa: true, TimeProvider.System);
        using var selfSigned = SelfSigned();
        var attempts = new[]
        {
            Attack("no certificate", tls: null),
            Attack("self-signed", selfSigned),
            Attack("another cluster's CA", other.Certificate),
        };
        var outcomes = await Task.WhenAll(attempts);

        foreach (var (name, associationFailed, appendReply, rotateReply, identified) in outcomes)
        {
            Assert.True(associationFailed, $"{name}: no association error was reported");
            Assert.True(appendReply is AskTimeoutException, $"{name}: the append got {appendReply}");
            Assert.True(rotateReply is AskTimeoutException, $"{name}: the rotation got {rotateReply}");
            Assert.False(identified, $"{name}: a shard region answered Identify");
        }

        // The node refused the two that presented a certificate, naming why.
        await _node.WaitForOutputAsync("UntrustedChain", Refusal);
        Assert.Contains(Akka.Cluster.Cluster.Get(_client.System).State.Members, m => m.Address.Port == _port);
        Assert.Equal(2, Akka.Cluster.Cluster.Get(_client.System).State.Members.Count); // the node and the legitimate client only

        var after = ShardFiles.Snapshot(DataRoot);
        Assert.Equal(before.Keys.Order(StringComparer.Ordinal), after.Keys.Order(StringComparer.Ordinal));
        foreach (var (file, shard) in before)
        {
            Assert.Equal(shard, after[file]);
        }
    }

    private async Task<(string Name, bool AssociationFailed, object AppendReply, object RotateReply, bool Identified)> Attack(string name, X509Certificate2? tls)
    {
        // The attacker runs ForgeOne's own configuration, so it speaks the protocol perfectly; it
        // accepts any server certificate, so only the node's check can stop it.
        var options = new ForgeOneNodeOptions { Port = 0, Roles = [ForgeOneNodeOptions.ClientRole], Tls = new TlsOptions { Enabled = tls is not null } };
        var bootstrap = BootstrapSetup.Create().WithConfig(ConfigurationFactory.ParseString("akka.loglevel = ERROR").WithFallback(ClusterConfig.Build(options)));
        var system = ActorSystem.Create("forgeone", tls is null ? ActorSystemSetup.Create(bootstrap) : bootstrap.And(new DotNettySslSetup(tls, suppressValidation: true, requireMutualAuthentication: true)));
        _rogues.Add(system);

        var failed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var watcher = system.ActorOf(Props.Create(() => new AssociationWatcher(failed)));
        system.EventStream.Subscribe(watcher, typeof(AssociationErrorEvent));

        var node = new Address(options.TransportScheme, "forgeone", "127.0.0.1", _port);
        Akka.Cluster.Cluster.Get(system).Join(node);
        var region = system.ActorSelection(new RootActorPath(node) / "system" / "sharding" / "logs");
        // A stolen admin token: only the missing certificate stands between this process and the shard.
        var admin = _issuer.Issue(Principal.Of("stolen-admin", ["admin"], null, ["*"], int.MaxValue), "stolen-admin", TimeSpan.FromHours(1)).Token;
        var append = region.Ask<object>(new AppendLog(admin, "rogue.target", new LogInput(DateTimeOffset.UtcNow, Severity.Critical, "from a rogue")), TimeSpan.FromSeconds(5));
        var rotate = region.Ask<object>(new ShardProtocol.RotateKey(admin, ShardKind.Logs, 0, "rogue", false), TimeSpan.FromSeconds(5));
        var identify = region.Ask<ActorIdentity>(new Identify(1), TimeSpan.FromSeconds(5));

        var associationFailed = await Task.WhenAny(failed.Task, Task.Delay(Refusal)) == failed.Task;
        return (name, associationFailed, await Outcome(append), await Outcome(rotate), (await Outcome(identify)) is ActorIdentity { Subject: not null });
    }

    private static async Task<object> Outcome<T>(Task<T> ask)
    {
        try
        {
            return (await ask)!;
        }
        catch (AskTimeoutException e)
        {
            return e;
        }
    }

    private static X509Certificate2 SelfSigned()
    {
        // A member-shaped certificate under the very subject of the dev CA, signed by its own key.
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=ForgeOne dev CA, O=ForgeOne cluster forgeone", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(30));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
    }

    private sealed class AssociationWatcher : ReceiveActor
    {
        public AssociationWatcher(TaskCompletionSource failed) => Receive<AssociationErrorEvent>(_ => failed.TrySetResult());
    }
}

/// <summary>
/// What a shard file holds, read straight from the LMDB files of a running node (LMDB lets other
/// processes read): entries per table and the audit chain's last record.
/// </summary>
internal static class ShardFiles
{
    public static Dictionary<string, ShardFile> Snapshot(string dataRoot)
    {
        NativeLmdb.EnsureInstalled();
        var result = new Dictionary<string, ShardFile>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFiles(dataRoot, "shard-*.mdb", SearchOption.AllDirectories))
        {
            using var env = new LightningEnvironment(path, new EnvironmentConfiguration { MaxDatabases = 64 });
            env.Open(EnvironmentOpenFlags.NoSubDir | EnvironmentOpenFlags.ReadOnly);
            using var txn = env.BeginTransaction(TransactionBeginFlags.ReadOnly);
            var tables = new SortedDictionary<string, long>(StringComparer.Ordinal);
            using (var main = txn.OpenDatabase())
            using (var cursor = txn.CreateCursor(main))
            {
                foreach (var (key, _) in cursor.AsEnumerable())
                {
                    var name = System.Text.Encoding.UTF8.GetString(key.AsSpan()).TrimEnd('\0');
                    using var table = txn.OpenDatabase(name);
                    tables[name] = txn.GetEntriesCount(table);
                }
            }

            var head = "";
            using (var audit = txn.OpenDatabase(Tables.Audit))
            using (var cursor = txn.CreateCursor(audit))
            {
                var (code, key, value) = cursor.Last();
                if (code == MDBResultCode.Success)
                {
                    head = Convert.ToHexString(key.CopyToNewArray()) + ":" + Convert.ToHexString(SHA256.HashData(value.CopyToNewArray()));
                }
            }

            result[Path.GetRelativePath(dataRoot, path)] = new ShardFile(string.Join(",", tables.Select(t => $"{t.Key}={t.Value}")), head, tables);
        }

        return result;
    }
}

/// <summary>One shard file's contents in brief: equal when entry counts and the audit head are.</summary>
internal sealed record ShardFile(string Counts, string AuditHead, IReadOnlyDictionary<string, long> Tables)
{
    public bool Equals(ShardFile? other) => other is not null && Counts == other.Counts && AuditHead == other.AuditHead;

    public override int GetHashCode() => HashCode.Combine(Counts, AuditHead);
}
