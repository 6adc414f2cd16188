using System.Text.Json;
using ForgeOne.Cli.Audit;
using ForgeOne.Cli.Infrastructure;

namespace ForgeOne.Cli.Tests;

/// <summary>
/// <c>audit export</c> then <c>audit verify --offline</c> the way an auditor runs it: on files
/// alone with a trusted public key and no node (a process pointed at nothing). Edits of the
/// exported files (a record deleted, altered, two swapped) are caught and the record is named.
/// </summary>
[Collection("node")]
[Trait("Category", "MultiProcess")]
public sealed class AuditExportCliTests(NodeFixture node)
{
    private static readonly Dictionary<string, string> NoNode = new() { ["FORGEONE_URL"] = "http://127.0.0.1:9" };

    [Fact]
    public async Task AuditVerifyOffline_OnAnExport_IsValid_AndNamesADeletedAlteredOrReorderedRecord()
    {
        var topic = "cli.audit." + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(0, (await Forgeone.InProcessAsync(["logs", "append", topic], node.AdminEnvironment, input: "one\ntwo\nthree\nfour\n")).ExitCode);
        var pem = Path.Combine(node.Directory, "trusted-audit-key.pem");
        await File.WriteAllTextAsync(pem, (await Forgeone.InProcessAsync(["audit", "public-key"], node.AdminEnvironment)).Stdout);

        var export = Path.Combine(node.Directory, "audit-export-" + Guid.NewGuid().ToString("N")[..8]);
        var exported = await Forgeone.InProcessAsync(["audit", "export", "--output", export, "--json"], node.AdminEnvironment);
        Assert.True(exported.ExitCode == 0, exported.ToString());
        var manifest = JsonSerializer.Deserialize(exported.Stdout, AuditExportJsonContext.Default.AuditExportManifest)!;
        Assert.Contains(manifest.Chains, c => c.ChainId == "system-0000" && c.FirstSeq == 1);
        Assert.Empty(Directory.GetDirectories(node.Directory, ".audit-export-*"));

        var valid = await Forgeone.ProcessAsync(["audit", "verify", "--offline", export, "--public-key", pem], NoNode);
        Assert.True(valid.ExitCode == 0, valid.ToString());
        Assert.StartsWith("Result: valid (", valid.Lines[^1], StringComparison.Ordinal);

        // The longest chain, and a record in its middle.
        var chain = manifest.Chains.OrderByDescending(c => c.Records).First();
        Assert.True(chain.Records >= 4, $"{chain.ChainId} has {chain.Records} records");
        var lines = await File.ReadAllLinesAsync(Path.Combine(export, chain.File));
        var k = lines.Length / 2;
        var seqAtK = JsonDocument.Parse(lines[k]).RootElement.GetProperty("seq").GetInt64();

        var deleted = await VerifyEditedAsync(export, chain.File, pem, l => [.. l[..k], .. l[(k + 1)..]]);
        Assert.Equal((chain.ChainId, seqAtK, "Deleted"), deleted);

        var altered = await VerifyEditedAsync(export, chain.File, pem, l =>
        {
            var copy = l.ToArray();
            copy[k] = copy[k].Replace("\"principal\":\"", "\"principal\":\"x", StringComparison.Ordinal);
            return copy;
        });
        Assert.Equal((chain.ChainId, seqAtK, "Modified"), altered);

        var reordered = await VerifyEditedAsync(export, chain.File, pem, l =>
        {
            var copy = l.ToArray();
            (copy[k], copy[k + 1]) = (copy[k + 1], copy[k]);
            return copy;
        });
        Assert.Equal((chain.ChainId, seqAtK, "Reordered"), reordered);

        // The human report names the chain and the record.
        var copyDir = CopyExport(export);
        await File.WriteAllLinesAsync(Path.Combine(copyDir, chain.File), [.. lines[..k], .. lines[(k + 1)..]]);
        var human = await Forgeone.ProcessAsync(["audit", "verify", "--offline", copyDir, "--public-key", pem], NoNode);
        Assert.True(human.ExitCode == ExitCodes.Failed, human.ToString());
        Assert.Contains(human.Lines, l => l.StartsWith($"INVALID {chain.ChainId} record {seqAtK}: Deleted: ", StringComparison.Ordinal));

        // A key that is not the cluster's: the seals do not verify.
        using var other = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var otherPem = Path.Combine(node.Directory, "other-key.pem");
        await File.WriteAllTextAsync(otherPem, other.ExportSubjectPublicKeyInfoPem());
        var forged = await Forgeone.InProcessAsync(["audit", "verify", "--offline", export, "--public-key", otherPem, "--json"], NoNode);
        Assert.Equal(ExitCodes.Failed, forged.ExitCode);
        var report = JsonSerializer.Deserialize(forged.Stdout, AuditExportJsonContext.Default.OfflineAuditReport)!;
        // Seals name their key id: a key that is not the one they name is refused as the wrong key.
        Assert.Equal(("seals", "WrongKey"), (report.Problems[0].Where, report.Problems[0].Failure));

        var exists = await Forgeone.InProcessAsync(["audit", "export", "--output", export], node.AdminEnvironment);
        Assert.Equal(ExitCodes.Usage, exists.ExitCode);
    }

    [Fact]
    public async Task AuditTail_PrintsARecordCommittedAfterItStarted()
    {
        var topic = "cli.tail." + Guid.NewGuid().ToString("N")[..8];
        using var cancel = new CancellationTokenSource();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new StringWriter();
        var console = CliConsole.Captured(new LineWatcher(output, line => line.Contains(" logs.append ", StringComparison.Ordinal), cancel),
            new LineWatcher(new StringWriter(), line => line.StartsWith("Tailing the audit records", StringComparison.Ordinal) && started.TrySetResult(), new CancellationTokenSource()),
            new Dictionary<string, string>(node.AdminEnvironment) { ["FORGEONE_CONFIG"] = "/nonexistent" });
        var tail = ForgeOneCli.RunAsync(["audit", "tail"], console, cancel.Token);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(0, (await Forgeone.InProcessAsync(["logs", "append", topic, "audited"], node.AdminEnvironment)).ExitCode);
        Assert.Equal(ExitCodes.Interrupted, await tail.WaitAsync(TimeSpan.FromSeconds(60)));
        // The collection's tests run one at a time: the only append while the tail runs is this one
        // (the system shard's own records may be there too). Fields are matched by shape: the
        // resource may be a blind token.
        var line = Assert.Single(output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.Contains(" logs.append ", StringComparison.Ordinal));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT[0-9:.]+Z logs-\d{4} #\d+ \S+ logs\.append \S+ Success$", line);
    }

    /// <summary>Verifies a copy of the export whose chain file was edited; the first problem as (where, seq, failure).</summary>
    private async Task<(string, long?, string)> VerifyEditedAsync(string export, string file, string pem, Func<string[], string[]> edit)
    {
        var copy = CopyExport(export);
        var path = Path.Combine(copy, file);
        await File.WriteAllLinesAsync(path, edit(await File.ReadAllLinesAsync(path)));
        var run = await Forgeone.InProcessAsync(["audit", "verify", "--offline", copy, "--public-key", pem, "--json"], NoNode);
        Assert.True(run.ExitCode == ExitCodes.Failed, run.ToString());
        var report = JsonSerializer.Deserialize(run.Stdout, AuditExportJsonContext.Default.OfflineAuditReport)!;
        Assert.False(report.Valid);
        var first = report.Problems[0];
        return (first.Where, first.Seq, first.Failure);
    }

    private string CopyExport(string export)
    {
        var copy = Path.Combine(node.Directory, "edited-" + Guid.NewGuid().ToString("N")[..8]);
        foreach (var source in Directory.GetFiles(export, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(copy, Path.GetRelativePath(export, source));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(source, target);
        }

        return copy;
    }
}
