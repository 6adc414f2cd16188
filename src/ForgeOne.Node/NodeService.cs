using System.Security.Cryptography;
using System.Text;
using Akka.Actor;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Security;
using ForgeOne.Cluster.Shards;
using ForgeOne.Common;
using ForgeOne.Common.Validation;
using ForgeOne.Edge;
using ForgeOne.Security;
using ForgeOne.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ForgeOne.Node;

/// <summary>
/// Starts ForgeOne on the node's actor system once Akka.Hosting has started it: keys, shard
/// regions, singletons, the shard-count check, the bootstrap admin key, then reports ready.
/// Stopping is Akka.Hosting's job: the host's shutdown runs CoordinatedShutdown, which hands
/// off every shard (flush, close the file) and leaves the cluster.
/// </summary>
internal sealed partial class NodeService : IHostedService
{
    private readonly ActorSystem _system;
    private readonly ForgeOneNodeOptions _options;
    private readonly NodeState _state;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger<NodeService> _log;
    private readonly EdgeCluster? _edge;
    private AuditSigner? _signer;

    public NodeService(ActorSystem system, ForgeOneNodeOptions options, NodeState state, IHostApplicationLifetime lifetime, ILogger<NodeService> log, IServiceProvider services)
    {
        _edge = services.GetService(typeof(EdgeCluster)) as EdgeCluster;
        _system = system;
        _options = options;
        _state = state;
        _lifetime = lifetime;
        _log = log;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            ShardHost? host = null;
            BackupHosting? backup = null;
            var address = Akka.Cluster.Cluster.Get(_system).SelfAddress;
            if (_options.IsStorage)
            {
                RefuseDataWithoutItsKeys(_options);
            }

            // Every node holds the cluster authentication key (it proves its own requests and,
            // on storage and edge nodes, verifies or issues principals' tokens).
            var security = new NodeSecurity(
                AuthenticationKeyring.LoadOrCreate(_options.KeysDirectoryFull, _options.IsStorage ? _options.DataRootFull : null),
                TimeProvider.System,
                address.ToString(),
                verifyTokens: _options.Security.VerifyTokens,
                tokenLifetime: _options.Security.TokenLifetime);
            if (!_options.Security.VerifyTokens)
            {
                LogTokensNotVerified();
            }

            if (_options.IsStorage)
            {
                Directory.CreateDirectory(_options.DataRootFull);
                var akka = Akka.Cluster.Cluster.Get(_system);
                _state.Claim = DataRootClaim.Register(_options.DataRootFull, new DataRootHolder(
                    _options.ClusterName, akka.SelfAddress.ToString(), akka.SelfUniqueAddress.Uid, [.. _options.SeedNodes], Environment.ProcessId));
                var kek = new FileKekProvider(_options.KeysDirectoryFull, _options.DataRootFull);

                // The seals file outside the data root says whether this cluster has sealed: then
                // its signing key must be there (never silently replaced by a new one).
                var seals = SealLogFile.OutsideDataRoot(_options.Audit.SealsFileFull, _options.DataRootFull);
                _signer = AuditSigner.LoadFor(seals, _options.KeysDirectoryFull, _options.DataRootFull);
                host = new ShardHost(
                    _options.DataRootFull,
                    _options.ShardCounts.ToCounts(),
                    _options.Shards,
                    new ShardSecurityFactory(kek, security, TimeProvider.System),
                    ShardHandlers.CreateDefault(),
                    TimeProvider.System,
                    Limits.Default)
                {
                    Backup = BackupHosting.Writer(_options, kek, TimeProvider.System),
                    Claim = _state.Claim,
                }.WithTamperEvidence(seals, _signer, _options.Scrubber);
                backup = new BackupHosting(kek, _options.KeysDirectoryFull);
            }

            var cluster = await ForgeOneCluster.StartAsync(_system, _options, host, _signer, TimeSpan.FromSeconds(60), security, backup: backup).ConfigureAwait(false);
            await EnsureBootstrapKeyAsync(cluster).ConfigureAwait(false);
            _edge?.Attach(cluster);

            // The greppable readiness line (tests and the launcher wait for it), then the banner.
            foreach (var line in NodeBanner.Lines(_options, address.ToString(), _state.EdgeAddress))
            {
                await Console.Out.WriteLineAsync(line).ConfigureAwait(false);
            }

            await Console.Out.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ForgeOneException e)
        {
            LogRefused(e.Code, e.Error.Message);
            await Console.Error.WriteLineAsync($"ForgeOne node refused to start ({e.Code}): {e.Error.Message}").ConfigureAwait(false);
            _state.ExitCode = e.Code switch
            {
                ErrorCodes.ShardCountMismatch => 3,
                ErrorCodes.InvalidConfiguration => 2,
                _ => 4,
            };
            _lifetime.StopApplication();
        }
    }

    /// <summary>
    /// A data root that already holds shard files was encrypted under some keys directory's KEK.
    /// If the configured keys directory has no KEK, it is almost certainly the wrong one: a node
    /// that went on would create a fresh KEK and signing key there and then fail on every shard
    /// (crypto.wrong_key), leaving stray keys behind. Refuse before creating anything (Program
    /// also checks this before the dev TLS certificates are created in the keys directory).
    /// </summary>
    internal static void RefuseDataWithoutItsKeys(ForgeOneNodeOptions options)
    {
        var systemShard = ShardStore.PathFor(options.DataRootFull, ShardKind.System, 0);
        var keys = options.KeysDirectoryFull;
        var hasKek = Directory.Exists(keys) && Directory.EnumerateFiles(keys, "kek-v*.key").Any();
        if (File.Exists(systemShard) && !hasKek)
        {
            throw new ForgeOneException(ErrorCodes.CryptoKeyUnavailable,
                $"The data root {options.DataRootFull} holds shard files, but the keys directory {keys} {(Directory.Exists(keys) ? "has no kek-v*.key" : "does not exist")}. "
                + "Set ForgeOne:KeysDirectory to the directory that holds this data's keys (the one the node used when it created the data); nothing was created.");
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _signer?.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Makes sure the cluster has its bootstrap admin API key, as a record of the API-key store
    /// (id <c>bootstrap</c>, role admin, revocable like any key). The key file is written first
    /// (0600 from creation) and only then its salted hash registered: a node that dies in between
    /// finds the file on its next start and registers it then, so a registered key is never one
    /// nobody holds. A file whose key the store does not take (another node registered the
    /// cluster's key first) is deleted again: it would authenticate nobody. A cluster created
    /// before the store kept the key's plain SHA-256; presenting the same key migrates it.
    /// </summary>
    private async Task EnsureBootstrapKeyAsync(ForgeOneCluster cluster)
    {
        var path = NodeBanner.BootstrapKeyPath(_options);
        var created = false;
        string key;
        if (File.Exists(path))
        {
            key = (await File.ReadAllTextAsync(path).ConfigureAwait(false)).Trim();
            if (await IsRegisteredAsync(cluster, key).ConfigureAwait(false))
            {
                return;
            }
        }
        else
        {
            key = ApiKeySecret.NewBootstrapKey();
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var fileOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                // Created 0600 from the start: never readable by others, not even briefly.
                fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            try
            {
                await using var file = new FileStream(path, fileOptions);
                await file.WriteAsync(Encoding.UTF8.GetBytes(key + "\n")).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
                created = true;
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another node sharing this keys directory created it first: use theirs.
                key = (await File.ReadAllTextAsync(path).ConfigureAwait(false)).Trim();
            }
        }

        if (!ApiKeySecret.TryParseId(key, out var id) || id != ApiKeySecret.BootstrapId)
        {
            throw new ForgeOneException(ErrorCodes.InvalidConfiguration, $"{path} does not hold a bootstrap admin key (fo_admin_...); move it away to have a new one issued, if the cluster has none.");
        }

        var salt = RandomNumberGenerator.GetBytes(ApiKeySecret.SaltLength);
        var request = new SystemProtocol.RegisterBootstrapKey(cluster.Tokens.Current, salt, ApiKeySecret.Hash(salt, key), SHA256.HashData(Encoding.UTF8.GetBytes(key)));
        switch (await cluster.Region(ShardKind.System).Ask<object>(request, TimeSpan.FromSeconds(30)).ConfigureAwait(false))
        {
            case SystemProtocol.BootstrapKeyRegistered { Created: true } registered:
                if (created)
                {
                    await Console.Out.WriteLineAsync($"Bootstrap admin API key written to {path} (0600). It is shown nowhere else; only its salted hash is stored.").ConfigureAwait(false);
                }
                else if (registered.Migrated)
                {
                    LogBootstrapMigrated(path);
                }

                break;
            case SystemProtocol.BootstrapKeyRegistered:
                if (created)
                {
                    File.Delete(path);
                }

                LogBootstrapExists(path);
                break;
            case IFailureReply failed:
                throw new ForgeOneException(failed.Error);
        }
    }

    // True when the store's bootstrap record is this key (checked here, under the stored salt).
    private static async Task<bool> IsRegisteredAsync(ForgeOneCluster cluster, string key)
    {
        var reply = await cluster.Region(ShardKind.System).Ask<object>(new SystemProtocol.GetApiKeyCredential(cluster.Tokens.Current, ApiKeySecret.BootstrapId), TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        return reply switch
        {
            SystemProtocol.ApiKeyCredential c => ApiKeySecret.Matches(c.Salt, c.Hash, key),
            IFailureReply { Error.Code: ErrorCodes.NotFound } => false,
            IFailureReply failed => throw new ForgeOneException(failed.Error),
            _ => false,
        };
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "ForgeOne node refused to start ({Code}): {Reason}")]
    private partial void LogRefused(string code, string reason);

    [LoggerMessage(Level = LogLevel.Critical, Message = "ForgeOne:Security:VerifyTokens is false: this node believes any principal token without checking it. Benchmarks only; never with real data.")]
    private partial void LogTokensNotVerified();

    [LoggerMessage(Level = LogLevel.Information, Message = "The cluster's bootstrap admin API key is another one (not the key in {Path}, if any); none written here")]
    private partial void LogBootstrapExists(string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "The bootstrap admin API key of {Path} was migrated into the API-key store")]
    private partial void LogBootstrapMigrated(string path);
}
