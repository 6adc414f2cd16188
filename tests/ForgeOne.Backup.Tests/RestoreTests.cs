using ForgeOne.Common;
using ForgeOne.Storage;

namespace ForgeOne.Backup.Tests;

/// <summary>
/// Backups of real shard files restored from region targets: exact round trips through a
/// chain, and every kind of damage caught with an error naming file, region or shard before
/// anything could be switched.
/// </summary>
public sealed class RestoreTests : IDisposable
{
    private readonly BackupWorld _world = new();

    public void Dispose() => _world.Dispose();

    private TestShard Logs0 => _world.Shards[1];

    [Fact]
    public void FullPlusThreeIncrementals_RestoringTheMiddleOne_GivesExactlyItsData()
    {
        foreach (var shard in _world.Shards)
        {
            shard.Append(300, shard.Ref.Kind == ShardKind.Blobs ? 20_000 : 200);
        }

        var full = _world.Backup();
        Logs0.Append(100);
        var first = _world.Backup(full);
        Logs0.DeleteOldest(50);
        _world.Shards[3].Append(3, 300_000); // overflow pages
        var second = _world.Backup(first);
        var expected = _world.Contents();
        Logs0.Append(500);
        var third = _world.Backup(second);

        Assert.Equal([BackupType.Full, BackupType.Incremental, BackupType.Incremental, BackupType.Incremental], new[] { full, first, second, third }.Select(m => m.Type));
        Assert.Equal(full.Id, third.Base);
        Assert.True(first.Size < full.Size / 3, $"incremental {first.Size} bytes vs full {full.Size}");

        var chain = _world.Repository.Chain(second.Id);
        Assert.Equal([full.Id, first.Id, second.Id], chain.Select(c => c.Manifest.Id));
        var root = _world.RestoreTo(second.Id);
        Assert.Equal(expected, _world.ContentsAt(root));

        // The newest one too, and its head is the live head.
        var newest = _world.RestoreTo(third.Id);
        Assert.Equal(_world.Contents(), _world.ContentsAt(newest));
    }

    [Fact]
    public void Manifest_ListsKeyVersionsHeadsCountsAndSizes_AndIsSigned()
    {
        Logs0.Append(10);
        var full = _world.Backup();
        var entry = full.Find(Logs0.Ref)!;
        Assert.Equal(2, entry.Records[Tables.Audit]); // the keyring's creation and one append
        Assert.Equal(2, entry.AuditSeq);
        Assert.Equal(10, entry.Records[Tables.Logs]);
        Assert.Equal([1], full.KekVersions);
        Assert.Equal([1], entry.DataKeyVersions);
        Assert.Equal(["eu-west", "us-east"], full.Regions);
        Assert.Equal(5, full.Shards.Length);
        Assert.Contains(full.Shards, s => s.Zone == "eu" && s.File.Contains("/zones/eu/events/", StringComparison.Ordinal));
        foreach (var target in _world.Targets)
        {
            Assert.True(target.Exists(BackupTarget.SignaturePath(full.Id)));
            Assert.Equal(entry.Size, target.Length(entry.File));
            // Complete backups are read-only evidence.
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead, File.GetUnixFileMode(Path.Combine(target.Root, entry.File)));
        }
    }

    [Fact]
    public void FlippedByteInOneRegion_IsReported_AndTheOtherRegionsCopyIsUsed()
    {
        Logs0.Append(200);
        var full = _world.Backup();
        var file = full.Find(Logs0.Ref)!;
        FlipByte(_world.Targets[0], file.File, file.Size / 2);

        var destination = Path.Combine(_world.Root, "r");
        var result = Restorer.RestoreInto(destination, _world.Repository.Chain(full.Id), _world.Repository, _world.Kek);

        var warning = Assert.Single(result.Warnings);
        Assert.Contains(file.File, warning, StringComparison.Ordinal);
        Assert.Contains("region eu-west", warning, StringComparison.Ordinal);
        Assert.Contains("fails authentication", warning, StringComparison.Ordinal);
        Assert.Contains("used region us-east", warning, StringComparison.Ordinal);
        Assert.Equal(_world.Contents(), _world.ContentsAt(destination));
    }

    [Fact]
    public void FlippedByteInEveryRegion_StopsTheRestoreNamingTheFileAndBothRegions()
    {
        Logs0.Append(200);
        var full = _world.Backup();
        var file = full.Find(Logs0.Ref)!;
        FlipByte(_world.Targets[0], file.File, file.Size / 2);
        FlipByte(_world.Targets[1], file.File, file.Size - 3);

        var e = Assert.Throws<ForgeOneException>(() => _world.RestoreTo(full.Id));
        Assert.Equal(ErrorCodes.BackupFileCorrupt, e.Code);
        Assert.Contains(file.File, e.Message, StringComparison.Ordinal);
        Assert.Contains("region eu-west", e.Message, StringComparison.Ordinal);
        Assert.Contains("region us-east", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FlippedManifestByte_InOneRegionUsesTheOther_InBothIsRefused()
    {
        var full = _world.Backup();
        FlipByte(_world.Targets[0], BackupTarget.ManifestPath(full.Id), 40);
        var loaded = _world.Repository.Load(full.Id);
        Assert.Equal("us-east", loaded.Region);
        Assert.Contains(loaded.Problems, p => p.Contains("eu-west", StringComparison.Ordinal) && p.Contains("modified after signing", StringComparison.Ordinal));

        FlipByte(_world.Targets[1], BackupTarget.ManifestPath(full.Id), 60);
        var e = Assert.Throws<ForgeOneException>(() => _world.RestoreTo(full.Id));
        Assert.Equal(ErrorCodes.BackupManifestInvalid, e.Code);
        Assert.Contains(full.Id, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingRegionCopy_IsReported_AndMissingEverywhereIsRefused()
    {
        Logs0.Append(50);
        var full = _world.Backup();
        var file = full.Find(Logs0.Ref)!;
        Delete(_world.Targets[1], file.File);
        var destination = Path.Combine(_world.Root, "r");
        var result = Restorer.RestoreInto(destination, _world.Repository.Chain(full.Id), _world.Repository, _world.Kek, ["us-east", "eu-west"]);
        Assert.Contains(result.Warnings, w => w.Contains("region us-east has no copy", StringComparison.Ordinal) && w.Contains("used region eu-west", StringComparison.Ordinal));

        Delete(_world.Targets[0], file.File);
        var e = Assert.Throws<ForgeOneException>(() => _world.RestoreTo(full.Id));
        Assert.Equal(ErrorCodes.BackupFileMissing, e.Code);
        Assert.Contains(file.File, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingKeyVersion_IsRefusedBeforeAnyFileIsRead_NamingTheVersion()
    {
        _world.Kek.Rotate();
        var full = _world.Backup(); // data key wrapped under KEK v2, shard keyrings under v1
        File.Delete(Path.Combine(_world.Keys, "kek-v1.key"));
        var fresh = new ForgeOne.Security.FileKekProvider(_world.Keys, _world.Data);

        var destination = Path.Combine(_world.Root, "r");
        var e = Assert.Throws<ForgeOneException>(() => Restorer.RestoreInto(destination, _world.Repository.Chain(full.Id), _world.Repository, fresh));
        Assert.Equal(ErrorCodes.CryptoKeyUnavailable, e.Code);
        Assert.Contains("KEK v1", e.Message, StringComparison.Ordinal);
        Assert.Contains("logs-0000", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(destination));
    }

    [Fact]
    public void BrokenIncrementalChain_IsRefusedNamingTheMissingParent()
    {
        var full = _world.Backup();
        Logs0.Append(5);
        var first = _world.Backup(full);
        Logs0.Append(5);
        var second = _world.Backup(first);
        foreach (var target in _world.Targets)
        {
            target.Delete(BackupTarget.BackupFolder(first.Id));
        }

        var e = Assert.Throws<ForgeOneException>(() => _world.Repository.Chain(second.Id));
        Assert.Equal(ErrorCodes.BackupChainBroken, e.Code);
        Assert.Contains(first.Id, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ManifestSignedByAnotherKey_IsRefusedNamingBothKeys()
    {
        var full = _world.Backup();
        using var intruder = ForgeOne.Security.AuditSigner.Generate();
        foreach (var target in _world.Targets)
        {
            var bytes = target.ReadAll(BackupTarget.ManifestPath(full.Id));
            var signature = Path.Combine(target.Root, BackupTarget.SignaturePath(full.Id));
            File.SetUnixFileMode(Path.GetDirectoryName(signature)!, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            File.SetUnixFileMode(signature, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.WriteAllBytes(signature, DetachedSignature.Create(intruder, bytes));
        }

        var e = Assert.Throws<ForgeOneException>(() => _world.Repository.Load(full.Id));
        Assert.Equal(ErrorCodes.BackupManifestInvalid, e.Code);
        Assert.Contains(intruder.PublicKeyFingerprint, e.Message, StringComparison.Ordinal);
        Assert.Contains(_world.Signer.PublicKeyFingerprint, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FileOfAnotherShardRenamedIntoPlace_FailsAuthentication()
    {
        Logs0.Append(20);
        _world.Shards[2].Append(20);
        var full = _world.Backup();
        var a = full.Find(Logs0.Ref)!;
        var b = full.Find(_world.Shards[2].Ref)!;
        foreach (var target in _world.Targets)
        {
            var path = Path.Combine(target.Root, a.File);
            File.SetUnixFileMode(Path.GetDirectoryName(path)!, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            File.Delete(path);
            File.Copy(Path.Combine(target.Root, b.File), path);
        }

        var e = Assert.Throws<ForgeOneException>(() => _world.RestoreTo(full.Id));
        Assert.Equal(ErrorCodes.BackupFileCorrupt, e.Code);
        Assert.Contains(a.File, e.Message, StringComparison.Ordinal);
    }

    internal static void FlipByte(BackupTarget target, string relative, long offset)
    {
        var path = Path.Combine(target.Root, relative);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        stream.Position = offset;
        var b = stream.ReadByte();
        stream.Position = offset;
        stream.WriteByte((byte)(b ^ 0x20));
    }

    private static void Delete(BackupTarget target, string relative)
    {
        var path = Path.Combine(target.Root, relative);
        File.SetUnixFileMode(Path.GetDirectoryName(path)!, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.Delete(path);
    }
}
