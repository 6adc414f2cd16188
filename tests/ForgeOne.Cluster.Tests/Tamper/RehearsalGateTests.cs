using ForgeOne.Backup;
using ForgeOne.Cluster.Integrity;
using ForgeOne.Common;
using ForgeOne.Security;

namespace ForgeOne.Cluster.Tests.Tamper;

/// <summary>
/// The gate of <c>schema migrate</c> and the rehearsal reports it trusts: only a passing report of
/// the same target version, young enough, signed by the audit key; a forged or edited report in a
/// backup target is not one.
/// </summary>
public sealed class RehearsalGateTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan MaxAge = TimeSpan.FromDays(7);
    private readonly string _root = Path.Combine(Path.GetTempPath(), "forgeone-rehearsal-" + Guid.NewGuid().ToString("N"));
    private readonly AuditSigner _signer = AuditSigner.Generate();

    public void Dispose()
    {
        _signer.Dispose();
        if (!Directory.Exists(_root))
        {
            return;
        }

        // Stored reports are sealed read-only (evidence): make them writable to remove them.
        foreach (var entry in Directory.EnumerateFileSystemEntries(_root, "*", SearchOption.AllDirectories).Prepend(_root))
        {
            if (OperatingSystem.IsWindows())
            {
                break;
            }

            File.SetUnixFileMode(entry, Directory.Exists(entry) ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute : UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        Directory.Delete(_root, recursive: true);
    }

    private static RehearsalReport Report(string id, bool passed = true, int target = 2, DateTimeOffset? at = null) =>
        new(RehearsalReport.FormatName, id, (at ?? Now) - TimeSpan.FromSeconds(5), at ?? Now, "test", "b-1", target, 1.5, 0.5, passed, passed ? [] : ["logs-0000: reached schema 1, not 2"], [], "fp", "node", "root");

    [Fact]
    public void APassingRehearsalOfTheSameTarget_WithinTheAge_OpensTheGate_NamingIt()
    {
        Assert.Equal($"rehearsal=rh-1 backup=b-1 rehearsed_at={Now:O}", RehearsalGate.Check(Report("rh-1"), 2, Now + TimeSpan.FromHours(1), MaxAge, false, null));
    }

    [Theory]
    [InlineData("none")]
    [InlineData("failed")]
    [InlineData("other-target")]
    [InlineData("too-old")]
    public void WithoutAPassingRecentRehearsalOfTheTarget_TheGateRefuses(string why)
    {
        var latest = why switch
        {
            "none" => null,
            "failed" => Report("rh-1", passed: false),
            "other-target" => Report("rh-1", target: 3),
            _ => Report("rh-1", at: Now - MaxAge - TimeSpan.FromSeconds(1)),
        };

        var e = Assert.Throws<ForgeOneException>(() => RehearsalGate.Check(latest, 2, Now, MaxAge, false, null));

        Assert.Equal(ErrorCodes.SchemaRehearsalRequired, e.Code);
    }

    [Fact]
    public void TheOverride_NeedsAReason_AndNamesIt()
    {
        Assert.Equal(ErrorCodes.InvalidArgument, Assert.Throws<ForgeOneException>(() => RehearsalGate.Check(null, 2, Now, MaxAge, true, "  ")).Code);
        Assert.Equal("without-rehearsal reason=hotfix", RehearsalGate.Check(null, 2, Now, MaxAge, true, " hotfix "));
    }

    [Fact]
    public void AForgedOrEditedReportInATarget_IsNotTheLatest_TheGenuineOneIs()
    {
        var targets = new[] { new BackupTarget(new BackupTargetOptions("eu", Path.Combine(_root, "eu"))) };
        var repository = new BackupRepository(targets, _signer.ExportPublicKeyPem());
        SchemaRehearsal.Store(Report("rh-20261201T000000000Z-aaaaaa", passed: false), targets, _signer);
        Assert.False(SchemaRehearsal.Latest(repository)!.Passed);

        // A newer "passed" report signed by another key, and the genuine failed one edited to "passed".
        using var mallory = AuditSigner.Generate();
        SchemaRehearsal.Store(Report("rh-20261201T010000000Z-bbbbbb"), targets, mallory);
        var genuine = Path.Combine(_root, "eu", SchemaRehearsal.FolderOf("rh-20261201T000000000Z-aaaaaa"));
        var edited = Path.Combine(_root, "eu", SchemaRehearsal.FolderOf("rh-20261201T020000000Z-cccccc"));
        Directory.CreateDirectory(edited);
        File.WriteAllBytes(Path.Combine(edited, "report.json"), Report("rh-20261201T020000000Z-cccccc").Encode());
        File.Copy(Path.Combine(genuine, "report.sig"), Path.Combine(edited, "report.sig"));

        var latest = SchemaRehearsal.Latest(repository);

        Assert.Equal("rh-20261201T000000000Z-aaaaaa", latest!.Id);
        Assert.Equal(ErrorCodes.SchemaRehearsalRequired, Assert.Throws<ForgeOneException>(() => RehearsalGate.Check(latest, 2, Now, MaxAge, false, null)).Code);
    }
}
