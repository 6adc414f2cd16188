using System.Security.Cryptography;
using System.Text;
using ForgeOne.Common;

namespace ForgeOne.Security.Tests;

public sealed class SealLogFileTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "forgeone-seallog-" + Guid.NewGuid().ToString("N"));
    private readonly AuditSigner _signer = AuditSigner.Generate();
    private readonly DateTimeOffset _t0 = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);

    public void Dispose()
    {
        _signer.Dispose();
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private static ChainHead Head(string shard, long seq) => new(shard, seq, SHA256.HashData(Encoding.UTF8.GetBytes($"{shard}:{seq}")));

    private List<Seal> Write(SealLogFile file, int count)
    {
        var seals = new List<Seal>();
        Seal? previous = null;
        for (var i = 1; i <= count; i++)
        {
            // logs-0002 fails in every even seal: the newest seal covering it is an odd one.
            previous = i % 2 == 0
                ? _signer.CreateSeal(previous, _t0.AddMinutes(i), [Head("logs-0001", i)], [new SealedShardFailure("logs-0002", ErrorCodes.AuditChainBroken, "broken")])
                : _signer.CreateSeal(previous, _t0.AddMinutes(i), [Head("logs-0001", i), Head("logs-0002", i)]);
            file.Append(previous);
            seals.Add(previous);
        }

        return seals;
    }

    [Fact]
    public void Append_ThenReadAllLatestAndLatestCovering()
    {
        var file = new SealLogFile(Path.Combine(_dir, "seals.log"));
        Assert.Null(file.Latest());
        Assert.Empty(file.ReadAll());

        var seals = Write(file, 6);

        Assert.Equal(seals.Select(SealCodec.Hash).Select(Convert.ToHexString), file.ReadAll().Select(SealCodec.Hash).Select(Convert.ToHexString));
        Assert.Equal(6, file.Latest()!.Number);
        Assert.Equal(6, file.LatestCovering("logs-0001")!.Number);
        Assert.Equal(5, file.LatestCovering("logs-0002")!.Number);
        Assert.Null(file.LatestCovering("logs-0009"));
        using var verifier = new SealVerifier(_signer.ExportPublicKeyPem());
        Assert.True(verifier.VerifyHistory(file.ReadAll()).IsValid);
    }

    [Fact]
    public void TornLastEntry_IsIgnoredByReaders_AndCutOffByTheNextAppend()
    {
        var path = Path.Combine(_dir, "seals.log");
        var file = new SealLogFile(path);
        var seals = Write(file, 2);
        var whole = new FileInfo(path).Length;
        using (var stream = new FileStream(path, FileMode.Append))
        {
            stream.Write([0, 0, 0, 200, 1, 2, 3]); // an append that crashed after 7 of 208 bytes
        }

        Assert.Equal(2, file.Latest()!.Number);
        Assert.Equal(2, file.ReadAll().Count);

        var third = _signer.CreateSeal(seals[^1], _t0.AddHours(1), [Head("logs-0001", 9)]);
        file.Append(third);
        Assert.Equal([1L, 2, 3], file.ReadAll().Select(s => s.Number));
        Assert.Equal(whole + SealCodec.Encode(third).Length + 8, new FileInfo(path).Length);
    }

    [Fact]
    public void AFileThatIsNotASealsFile_IsRefusedWithATypedError()
    {
        Directory.CreateDirectory(_dir);
        var path = Path.Combine(_dir, "other.log");
        File.WriteAllText(path, "hello, this is not a seals file");

        var error = Assert.Throws<ForgeOneException>(() => new SealLogFile(path).Latest());

        Assert.Equal(ErrorCodes.AuditUnknownFormat, error.Code);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OutsideDataRoot_RefusesAPathInsideTheDataRoot()
    {
        var root = Path.Combine(_dir, "data");
        var error = Assert.Throws<ForgeOneException>(() => SealLogFile.OutsideDataRoot(Path.Combine(root, "seals.log"), root));
        Assert.Equal(ErrorCodes.InvalidConfiguration, error.Code);
        Assert.Equal(Path.Combine(_dir, "seals", "seals.log"), SealLogFile.OutsideDataRoot(Path.Combine(_dir, "seals", "seals.log"), root).Path);
    }

    [Fact]
    public void Load_RefusesAMissingSigningKey_LoadOrCreateMakesOne()
    {
        var keys = Path.Combine(_dir, "keys");
        var error = Assert.Throws<ForgeOneException>(() => AuditSigner.Load(keys));
        Assert.Equal(ErrorCodes.AuditSigningKeyMissing, error.Code);
        Assert.False(AuditSigner.Exists(keys));

        using var created = AuditSigner.LoadOrCreate(keys);
        using var loaded = AuditSigner.Load(keys);
        Assert.Equal(created.KeyId, loaded.KeyId);
    }
}

public sealed class SigningKeyForSealsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "forgeone-signing-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public void LoadFor_ACusterWithSeals_RefusesAMissingKey_AndAnotherKey_NeverCreatingOne()
    {
        var keys = Path.Combine(_dir, "keys");
        var seals = new SealLogFile(Path.Combine(_dir, "seals", "audit-seals.log"));
        using (var first = AuditSigner.LoadFor(seals, keys))
        {
            seals.Append(first.CreateSeal(null, DateTimeOffset.UnixEpoch, [new ChainHead("logs-0000", 1, new byte[32])]));
        }

        File.Delete(Path.Combine(keys, AuditSigner.KeyFileName));
        Assert.Equal(ErrorCodes.AuditSigningKeyMissing, Assert.Throws<ForgeOneException>(() => AuditSigner.LoadFor(seals, keys)).Code);
        Assert.False(AuditSigner.Exists(keys));

        // A key that appeared from elsewhere did not sign these seals.
        using (AuditSigner.LoadOrCreate(keys))
        {
        }

        var mismatch = Assert.Throws<ForgeOneException>(() => AuditSigner.LoadFor(seals, keys));
        Assert.Equal(ErrorCodes.AuditSigningKeyMismatch, mismatch.Code);
        Assert.Contains("seal 1", mismatch.Message, StringComparison.Ordinal);
    }
}
