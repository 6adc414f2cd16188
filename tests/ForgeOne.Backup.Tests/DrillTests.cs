using ForgeOne.Common;

namespace ForgeOne.Backup.Tests;

/// <summary>DR drills: restore from one region into scratch, verify, sample-decrypt, report with RTO/RPO, signed and retained.</summary>
public sealed class DrillTests : IDisposable
{
    private readonly BackupWorld _world = new();

    public void Dispose() => _world.Dispose();

    [Fact]
    public void Drill_RestoresTheNewestBackupOfTheRegion_DecryptsEveryKind_AndSignsItsReport()
    {
        foreach (var shard in _world.Shards)
        {
            shard.Append(50);
        }

        var full = _world.Backup();
        _world.Shards[1].Append(10);
        var incremental = _world.Backup(full);
        _world.Time.Advance(TimeSpan.FromHours(2));
        var scratch = Path.Combine(_world.Root, "scratch");
        var liveBefore = _world.Contents();

        var report = Drill.Run("d-1", "us-east", scratch, _world.Repository, _world.Kek, _world.Signer, "cluster-test", "node-1", _world.Time);

        Assert.True(report.Passed, string.Join("; ", report.Failures));
        Assert.Equal(incremental.Id, report.BackupId);
        Assert.Equal([full.Id, incremental.Id], report.Chain);
        Assert.Equal(5, report.Shards.Length);
        Assert.All(report.Shards, s => Assert.Equal(s.Sampled, s.Decrypted));
        Assert.Equal(["blobs", "events", "logs", "system"], report.SampledByKind.Keys.Order());
        Assert.All(report.SampledByKind.Values, n => Assert.True(n > 0));
        // RPO: the backup's snapshots were taken two hours (plus the backup step) before the drill.
        Assert.InRange(report.RpoSeconds!.Value, 7200, 7200 + 600);
        Assert.True(report.RtoSeconds > 0);
        Assert.False(Directory.Exists(Path.Combine(scratch, "d-1")));
        Assert.Equal(liveBefore, _world.Contents()); // never touches live data

        Assert.Equal(["eu-west", "us-east"], Drill.Store(report, _world.Targets, _world.Signer));
        var loaded = Drill.Load("d-1", _world.Repository);
        Assert.Equal(report.Encode(), loaded.Encode());
        Assert.Contains("PASSED", _world.Targets[0].ReadAll("drills/d-1/report.md").AsSpan().ToArray() is var md ? System.Text.Encoding.UTF8.GetString(md) : "", StringComparison.Ordinal);
    }

    [Fact]
    public void Drill_OfARegionWithACorruptFile_FailsWithEvidenceNamingTheFile_AndUsesNoOtherRegion()
    {
        _world.Shards[1].Append(100);
        var full = _world.Backup();
        var file = full.Find(_world.Shards[1].Ref)!;
        RestoreTests.FlipByte(_world.Targets[0], file.File, file.Size / 2);

        var report = Drill.Run("d-2", "eu-west", Path.Combine(_world.Root, "scratch"), _world.Repository, _world.Kek, _world.Signer, "cluster-test", "node-1", _world.Time);

        Assert.False(report.Passed);
        var failure = Assert.Single(report.Failures);
        Assert.StartsWith(ErrorCodes.BackupFileCorrupt, failure, StringComparison.Ordinal);
        Assert.Contains(file.File, failure, StringComparison.Ordinal);
        Assert.DoesNotContain("us-east", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void StoredReport_EditedInEveryRegion_IsRefused()
    {
        _world.Backup();
        var report = Drill.Run("d-3", "eu-west", Path.Combine(_world.Root, "scratch"), _world.Repository, _world.Kek, _world.Signer, "cluster-test", "node-1", _world.Time);
        Drill.Store(report, _world.Targets, _world.Signer);
        foreach (var target in _world.Targets)
        {
            RestoreTests.FlipByte(target, "drills/d-3/report.json", 30);
        }

        Assert.Equal(ErrorCodes.BackupManifestInvalid, Assert.Throws<ForgeOneException>(() => Drill.Load("d-3", _world.Repository)).Code);
    }
}
