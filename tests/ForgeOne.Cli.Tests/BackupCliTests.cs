using System.Text.Json;
using ForgeOne.Cli.Infrastructure;
using ForgeOne.Common.Api;

namespace ForgeOne.Cli.Tests;

/// <summary>
/// The backup, DR and key-backup verbs against the shared node's two region targets: a full
/// backup waited for, listed, shown, verified and drilled; a restore that really rewinds data;
/// key backups with the right and a wrong secret, and the offline key restore with no node at all.
/// </summary>
[Collection("node")]
[Trait("Category", "MultiProcess")]
public sealed class BackupCliTests(NodeFixture node)
{
    private const string Secret = "a long recovery secret for the cli tests";

    [Fact]
    public async Task BackupRun_Waited_IsListedShownVerifiedAndDrilled()
    {
        // As a process in human mode: the outcome on stdout, plain progress lines on stderr (no terminal).
        var run = await Forgeone.ProcessAsync(["backup", "run", "--type", "full", "--wait"], node.AdminEnvironment, TimeSpan.FromMinutes(3));
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Matches(@"^Backup (b-[0-9A-Za-z-]+) \(full\): completed, (\d+) of \2 shards, ", run.Lines[0]);
        Assert.Contains("backup: done in ", run.Stderr, StringComparison.Ordinal);
        var id = run.Lines[0].Split(' ')[1];

        var list = await Forgeone.InProcessAsync(["backup", "list", "--quiet"], node.AdminEnvironment);
        Assert.Contains(id, list.Lines);

        var show = await Forgeone.InProcessAsync(["backup", "show", id, "--json"], node.AdminEnvironment);
        Assert.True(show.ExitCode == 0, show.ToString());
        var details = JsonSerializer.Deserialize(show.Stdout, BackupApiJsonContext.Default.BackupDetailsView)!;
        Assert.Equal((id, "completed"), (details.Backup.Id, details.Backup.Status));
        Assert.Equal(["eu-west", "us-east"], details.Backup.Regions);
        Assert.Equal(details.Backup.Shards, details.Shards.Length);
        Assert.Contains(details.Shards, s => s.Shard == "system-0000");
        Assert.All(details.Shards, s => Assert.Matches("^[0-9a-f]{64}$", s.Sha256));
        var human = await Forgeone.InProcessAsync(["backup", "show", id], node.AdminEnvironment);
        Assert.Equal($"Count: {details.Shards.Length} shards", human.Lines[^1]);

        var verify = await Forgeone.InProcessAsync(["backup", "verify", id], node.AdminEnvironment);
        Assert.True(verify.ExitCode == 0, verify.ToString());
        Assert.Equal($"Backup {id} (chain {id}): valid", verify.Lines[0]);
        Assert.Equal(["  eu-west: complete", "  us-east: complete"], verify.Lines[1..]);

        var drill = await Forgeone.InProcessAsync(["dr", "drill", "--region", "us-east", "--wait", "--json"], node.AdminEnvironment);
        Assert.True(drill.ExitCode == 0, drill.ToString());
        var outcome = JsonSerializer.Deserialize(drill.Stdout, BackupApiJsonContext.Default.DrillView)!;
        Assert.True(outcome.Passed, string.Join("; ", outcome.Failures));
        Assert.Equal("us-east", outcome.Region);
        Assert.Contains(outcome.Id, (await Forgeone.InProcessAsync(["dr", "list", "--quiet"], node.AdminEnvironment)).Lines);
        var report = await Forgeone.InProcessAsync(["dr", "show", outcome.Id], node.AdminEnvironment);
        Assert.Contains("PASSED", report.Stdout, StringComparison.Ordinal);
        Assert.Equal(["idle"], (await Forgeone.InProcessAsync(["backup", "progress", "--quiet"], node.AdminEnvironment)).Lines);
    }

    [Fact]
    public async Task BackupVerbs_FailureClasses()
    {
        var unknown = await Forgeone.ProcessAsync(["backup", "show", "b-nonexistent", "--json"], node.AdminEnvironment);
        Assert.True(unknown.ExitCode == ExitCodes.Failed, unknown.ToString());
        Assert.Equal("backup.not_found", JsonDocument.Parse(unknown.Stderr).RootElement.GetProperty("code").GetString());

        var badType = await Forgeone.InProcessAsync(["backup", "run", "--type", "weekly"], node.AdminEnvironment);
        Assert.Equal(ExitCodes.Usage, badType.ExitCode);

        var writer = await Forgeone.InProcessAsync(["backup", "run", "--url", node.Url, "--key", node.Jwt("cli-writer", "writer")]);
        Assert.Equal(ExitCodes.Refused, writer.ExitCode);
        Assert.Contains("auth.forbidden", writer.Stderr, StringComparison.Ordinal);

        var active = JsonSerializer.Deserialize((await Forgeone.InProcessAsync(["backup", "versions", "--json"], node.AdminEnvironment)).Stdout, BackupApiJsonContext.Default.DataVersionList)!
            .Versions.Single(v => v.Active);
        var discardActive = await Forgeone.InProcessAsync(["backup", "discard-version", active.Name], node.AdminEnvironment);
        Assert.Equal(ExitCodes.Failed, discardActive.ExitCode);

        var noSecret = await Forgeone.InProcessAsync(["keys", "backup"], node.AdminEnvironment);
        Assert.Equal(ExitCodes.Usage, noSecret.ExitCode);
        Assert.Contains("FORGEONE_RECOVERY_SECRET", noSecret.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BackupRestore_RewindsTheData_AndKeepsThePreviousVersion()
    {
        var topic = "cli.restore." + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(0, (await Forgeone.InProcessAsync(["logs", "append", topic, "before the backup"], node.AdminEnvironment)).ExitCode);
        var backup = await Forgeone.InProcessAsync(["backup", "run", "--type", "full", "--wait", "--quiet"], node.AdminEnvironment);
        Assert.True(backup.ExitCode == 0, backup.ToString());
        var id = backup.Lines.Single();
        Assert.Equal(0, (await Forgeone.InProcessAsync(["logs", "append", topic, "after the backup"], node.AdminEnvironment)).ExitCode);

        var restore = await Forgeone.ProcessAsync(["backup", "restore", id, "--wait", "--json"], node.AdminEnvironment, TimeSpan.FromMinutes(3));
        Assert.True(restore.ExitCode == 0, restore.ToString());
        var done = JsonSerializer.Deserialize(restore.Stdout, BackupApiJsonContext.Default.RestoreView)!;
        Assert.True(done.Succeeded, done.Detail);
        Assert.Equal(id, done.BackupId);

        var query = await Forgeone.InProcessAsync(["logs", "query", "--topic", topic, "--from", "1h", "--quiet"], node.AdminEnvironment);
        Assert.True(query.ExitCode == 0, query.ToString());
        Assert.Equal(["before the backup"], query.Lines);

        var versions = JsonSerializer.Deserialize((await Forgeone.InProcessAsync(["backup", "versions", "--json"], node.AdminEnvironment)).Stdout, BackupApiJsonContext.Default.DataVersionList)!;
        var now = Assert.Single(versions.Versions, v => v.Active);
        Assert.Equal((done.Version, id), (now.Name, now.RestoredFrom));
        var previous = versions.Versions.Where(v => !v.Active).OrderByDescending(v => v.CreatedAt).First();
        var discard = await Forgeone.InProcessAsync(["backup", "discard-version", previous.Name, "--quiet"], node.AdminEnvironment);
        Assert.True(discard.ExitCode == 0, discard.ToString());
        Assert.DoesNotContain((await Forgeone.InProcessAsync(["backup", "versions", "--json"], node.AdminEnvironment)).Stdout, previous.Name, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeyBackup_VerifiesWithTheSecret_RefusesAWrongOne_AndRestoresOfflineWithNoNode()
    {
        var secretFile = Path.Combine(node.Directory, "recovery-secret.txt");
        await File.WriteAllTextAsync(secretFile, Secret + "\n");
        var made = await Forgeone.InProcessAsync(["keys", "backup", "--secret-file", secretFile, "--json"], node.AdminEnvironment);
        Assert.True(made.ExitCode == 0, made.ToString());
        var view = JsonSerializer.Deserialize(made.Stdout, BackupApiJsonContext.Default.KeyBackupView)!;
        Assert.Equal(["eu-west", "us-east"], view.Regions);
        Assert.Contains(view.Id, (await Forgeone.InProcessAsync(["keys", "backup", "list", "--quiet"], node.AdminEnvironment)).Lines);

        var verified = await Forgeone.InProcessAsync(["keys", "backup", "verify", "--id", view.Id, "--quiet"],
            new Dictionary<string, string>(node.AdminEnvironment) { ["FORGEONE_RECOVERY_SECRET"] = Secret });
        Assert.True(verified.ExitCode == 0, verified.ToString());
        Assert.Equal(["current"], verified.Lines);
        var wrong = await Forgeone.InProcessAsync(["keys", "backup", "verify", "--id", view.Id],
            new Dictionary<string, string>(node.AdminEnvironment) { ["FORGEONE_RECOVERY_SECRET"] = "not the recovery secret" });
        Assert.Equal(ExitCodes.Refused, wrong.ExitCode);
        Assert.Contains("backup.recovery_secret_invalid", wrong.Stderr, StringComparison.Ordinal);

        // Offline, as on a fresh machine: no --url, no key, nothing listening; only the file and the secret.
        var file = Path.Combine(node.RegionPath("eu-west"), "keys", view.Id + ".fokeys");
        var target = Path.Combine(node.Directory, "restored-keys-" + Guid.NewGuid().ToString("N")[..8]);
        var offline = new Dictionary<string, string> { ["FORGEONE_URL"] = "http://127.0.0.1:9" };
        var restore = await Forgeone.ProcessAsync(["keys", "restore", "--from", file, "--keys-dir", target, "--secret-file", secretFile, "--json"], offline);
        Assert.True(restore.ExitCode == 0, restore.ToString());
        var restored = JsonSerializer.Deserialize(restore.Stdout, CliJsonContext.Default.KeyRestoreView)!;
        Assert.True(restored.Restored);
        Assert.NotEmpty(restored.Files);
        foreach (var name in restored.Files)
        {
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(node.KeysDirectory, name)), await File.ReadAllBytesAsync(Path.Combine(target, name)));
        }

        var again = await Forgeone.InProcessAsync(["keys", "restore", "--from", file, "--keys-dir", target, "--secret-file", secretFile], offline);
        Assert.Equal(ExitCodes.Failed, again.ExitCode);
        var badSecret = await Forgeone.InProcessAsync(["keys", "restore", "--from", file, "--keys-dir", target + "-2", "--verify-only"],
            new Dictionary<string, string>(offline) { ["FORGEONE_RECOVERY_SECRET"] = "not the recovery secret" });
        Assert.Equal(ExitCodes.Refused, badSecret.ExitCode);
        Assert.False(Directory.Exists(target + "-2"));
    }
}
