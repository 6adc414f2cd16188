using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using ForgeOne.Common;
using ForgeOne.Security;

namespace ForgeOne.Evidence.Tests;

/// <summary>
/// Packages written from real audit chains and format-3 seals, then verified the way an auditor
/// does: from the file on disk and the public key PEM only, with every kind of tampering.
/// </summary>
public sealed class EvidencePackageTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly AuditSigner _signer = AuditSigner.Generate();
    private readonly string _dir = Directory.CreateTempSubdirectory("forgeone-evidence-").FullName;

    public void Dispose()
    {
        _signer.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private static (ShardAudit Audit, MerkleLog Tree) Chain(string shard, params (string Action, AuditOutcome Outcome)[] ops)
    {
        var chain = new AuditChain(shard);
        var tree = new MerkleLog();
        var entries = new List<AuditEntry>();
        for (var i = 0; i < ops.Length; i++)
        {
            var record = chain.Append(T0.AddMinutes(i), i % 2 == 0 ? "svc-payments" : "admin", ops[i].Action, $"{shard}/topic:", ops[i].Outcome, $"{{\"op\":{i}}}");
            tree.Append(AuditRecordCodec.Encode(record));
            entries.Add(new AuditEntry(record, i % 3 == 0 ? "payments.audit" : null));
        }

        return (new ShardAudit(shard, entries), tree);
    }

    private EvidenceSources Sources()
    {
        var logs = Chain("logs-0001",
            ("logs.append", AuditOutcome.Success), ("logs.query", AuditOutcome.Success), ("logs.append", AuditOutcome.Denied),
            ("keys.rotated", AuditOutcome.Success), ("logs.append", AuditOutcome.Success), ("schema.migrate", AuditOutcome.Success));
        var events = Chain("events-0002",
            ("events.topic_create", AuditOutcome.Success), ("events.publish", AuditOutcome.Success), ("events.retention_sweep", AuditOutcome.Success),
            ("events.topic_legal_hold", AuditOutcome.Success), ("backup.shard", AuditOutcome.Success));
        var system = Chain("system-0000", ("system.setting_put", AuditOutcome.Success), ("backup.drill_completed", AuditOutcome.Success), ("system.integrity_event", AuditOutcome.Success));

        // Seal 1 covers a prefix of each chain, seal 2 all of it; both carry tree roots.
        var chains = new[] { logs, events, system };
        Seal SealAt(Seal? previous, int take) => _signer.CreateSeal(previous, T0.AddHours(take), chains.Select(c => c.Audit.Entries[Math.Min(take, c.Audit.Entries.Count) - 1].Record.HeadFor(c.Audit.ShardId)),
            treeRoots: chains.ToDictionary(c => c.Audit.ShardId, c => c.Tree.Root(Math.Min(take, c.Audit.Entries.Count))));
        var seal1 = SealAt(null, 2);
        var seal2 = SealAt(seal1, 6);
        return new EvidenceSources(
            [logs.Audit, events.Audit, system.Audit],
            [seal1, seal2],
            [new EvidenceItem(EvidenceCategories.Drills, "backup-catalog", JsonNode.Parse("""{"id":"drill-7","passed":true,"restoreSeconds":4.2}""")!)],
            [
                new ProcessingTopic("payments.audit", "logs", "acme", T0, TimeSpan.FromDays(30), "eu", 2, false, new Dictionary<string, string> { ["purpose"] = "payment fraud investigation" }),
                new ProcessingTopic("orders", "events", "globex", T0, null, null, 0, true, new Dictionary<string, string>()),
            ],
            [("integration-tests.trx", Encoding.UTF8.GetBytes("<TestRun outcome=\"Passed\"/>"))],
            new ProcessingController("Acme Ltd", "dpo@acme.example"),
            ["eu", "us"]);
    }

    private string Export(string framework, EvidenceSources? sources = null, AuditSigner? signer = null, string? tenant = null)
    {
        var path = Path.Combine(_dir, $"{framework}-{Guid.NewGuid():N}.tar.gz");
        using var file = File.Create(path);
        EvidenceExport.Write(file, sources ?? Sources(), new EvidenceScope([framework], T0, T0.AddDays(1), tenant, "admin"), signer ?? _signer, T0.AddDays(2));
        return path;
    }

    // The auditor's side: a file and a PEM, nothing else.
    private EvidenceVerification VerifyFile(string path, string? publicKeyPem = null)
    {
        using var key = new SealVerifier(publicKeyPem ?? _signer.ExportPublicKeyPem());
        using var file = File.OpenRead(path);
        return new EvidenceVerifier(key).Verify(file);
    }

    private static Dictionary<string, byte[]> Unpack(string path)
    {
        using var file = File.OpenRead(path);
        return EvidencePackage.Read(file).ToDictionary(f => f.Key, f => f.Value);
    }

    // Rewrites the tar.gz as an attacker would: same entries, no re-signing.
    private string Repack(string path, Action<Dictionary<string, byte[]>> edit)
    {
        var files = Unpack(path);
        edit(files);
        var output = path + ".edited.tar.gz";
        using var stream = File.Create(output);
        using var gzip = new GZipStream(stream, CompressionLevel.Fastest);
        using var tar = new TarWriter(gzip, TarEntryFormat.Pax);
        foreach (var (name, bytes) in files)
        {
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(bytes) });
        }

        return output;
    }

    [Theory]
    [InlineData("soc2", new[] { "CC6.1", "CC6.6", "CC6.7", "CC7.2", "CC7.3", "A1.2", "A1.3" })]
    [InlineData("iso27001", new[] { "5.15", "5.17", "5.18", "5.28", "5.33", "5.34", "8.13", "8.15", "8.16", "8.24" })]
    [InlineData("gdpr", new[] { "Art. 30(1)(a)", "Art. 30(1)(b)", "Art. 30(1)(c)", "Art. 30(1)(d)", "Art. 30(1)(e)", "Art. 30(1)(f)", "Art. 30(1)(g)", "Art. 32(1)(a)", "Art. 32(1)(b)", "Art. 32(1)(c)", "Art. 32(1)(d)" })]
    public void Package_VerifiesOffline_WithOnlyTheFileAndThePublicKey(string framework, string[] required)
    {
        var path = Export(framework);

        var result = VerifyFile(path);

        Assert.True(result.IsValid, string.Join("\n", result.Findings.Select(f => $"{f.Kind} {f.Path}: {f.Message}")));
        Assert.Equal([framework], result.Manifest!.Frameworks);
        Assert.Equal(_signer.PublicKeyFingerprint, result.Manifest.KeyId);
        var controls = result.Controls.Where(c => c.Framework == framework).ToDictionary(c => c.Id);
        foreach (var id in required)
        {
            Assert.True(controls.ContainsKey(id), $"control {id} missing");
            Assert.Equal(ControlStatus.Verified, controls[id].Status);
            Assert.NotEmpty(controls[id].Files);
        }

        Assert.Contains(result.Checks, c => c == "2 seals verified (1..2): signatures, links, heads");
        Assert.Contains(result.Checks, c => c.StartsWith("logs-0001: 6 records 1..6 chained; sealed up to 6, 2 tree roots matched", StringComparison.Ordinal));
    }

    [Fact]
    public void PackageForAll_HoldsEveryCategoryMapAndTheIso2013Numbers()
    {
        var files = Unpack(Export("all"));

        foreach (var expected in new[] { "audit/logs-0001.jsonl", "audit/events-0002.jsonl", "audit/system-0000.jsonl", "seals/seals.jsonl", "seals/verification.json", "keys/events.jsonl",
                     "backups/backups.jsonl", "backups/drills.jsonl", "schema/history.jsonl", "policy/versions.jsonl", "apikeys/events.jsonl", "retention/sweeps.jsonl",
                     "retention/legal-holds.jsonl", "access/denied.jsonl", "gdpr/records-of-processing.json", "controls/soc2.json", "controls/iso27001.json", "controls/gdpr.json",
                     "controls/iso27001.md", "attachments/integration-tests.trx", "README.txt", "manifest.json", "manifest.sig" })
        {
            Assert.True(files.ContainsKey(expected), $"{expected} missing");
        }

        var iso = Encoding.UTF8.GetString(files["controls/iso27001.json"]);
        Assert.Contains("\"iso2013\": \"A.9.1.1, A.9.1.2\"", iso);
        Assert.Contains("\"iso2013\": \"A.10.1.1, A.10.1.2\"", iso);
        Assert.Contains("\"iso2013\": \"A.12.3.1\"", iso);
        var keyEvents = Encoding.UTF8.GetString(files["keys/events.jsonl"]).Trim().Split('\n');
        Assert.Single(keyEvents);
        Assert.Contains("\"action\":\"keys.rotated\"", keyEvents[0]);
        Assert.Contains("\"seq\":4", keyEvents[0]);
        Assert.Contains("drill-7", Encoding.UTF8.GetString(files["backups/drills.jsonl"]));
        Assert.Contains("\"action\":\"logs.append\",\"resource\":\"logs-0001/topic:\",\"outcome\":\"Denied\"", Encoding.UTF8.GetString(files["access/denied.jsonl"]));
        // Each audit line carries the stored bytes the chain hashes, and the readable decrypted subject.
        var line = JsonNode.Parse(Encoding.UTF8.GetString(files["audit/logs-0001.jsonl"]).Split('\n')[0])!;
        Assert.Equal("payments.audit", (string?)line["subject"]);
        Assert.Equal(1, AuditRecordCodec.Decode(Convert.FromBase64String((string)line["stored"]!)).Seq);
    }

    [Fact]
    public void RecordsOfProcessing_ComeFromTopicsTenantsRetentionAndResidency_LimitedToTheTenant()
    {
        var all = JsonNode.Parse(Unpack(Export("gdpr"))["gdpr/records-of-processing.json"])!;
        Assert.Equal("Acme Ltd", (string?)all["controller"]!["name"]);
        var activities = all["activities"]!.AsArray();
        Assert.Equal(2, activities.Count);
        var payments = activities.Single(a => (string?)a!["topic"] == "payments.audit")!;
        Assert.Equal("payment fraud investigation", (string?)payments["purpose"]);
        Assert.Equal("pinned to residency zone eu: stored and processed only on nodes of region eu", (string?)payments["transfers"]);
        Assert.Equal("erased 30 days after the record's time by retention sweeps", (string?)payments["erasure"]);
        var orders = activities.Single(a => (string?)a!["topic"] == "orders")!;
        Assert.StartsWith("not declared", (string?)orders["purpose"]);
        Assert.True((bool)orders["legalHold"]!);
        Assert.Equal(1, (int)all["retentionSweepsInPeriod"]!);

        var acme = JsonNode.Parse(Unpack(Export("gdpr", tenant: "acme"))["gdpr/records-of-processing.json"])!;
        Assert.Equal(["payments.audit"], acme["activities"]!.AsArray().Select(a => (string?)a!["topic"]));
    }

    [Fact]
    public void AlteredFile_FailsNamingIt_AndFailsItsControls()
    {
        var path = Repack(Export("iso27001"), files => files["keys/events.jsonl"] = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(files["keys/events.jsonl"]).Replace("keys.rotated", "keys.retired")));

        var result = VerifyFile(path);

        var finding = Assert.Single(result.Findings);
        Assert.Equal(EvidenceFindingKind.Altered, finding.Kind);
        Assert.Equal("keys/events.jsonl", finding.Path);
        var control = result.Controls.Single(c => c.Id == "8.24");
        Assert.Equal(ControlStatus.Failed, control.Status);
        Assert.Contains("keys/events.jsonl", control.Detail);
        Assert.Equal(ControlStatus.Verified, result.Controls.Single(c => c.Id == "8.13").Status);
    }

    [Fact]
    public void RemovedFile_FailsNamingIt()
    {
        var result = VerifyFile(Repack(Export("soc2"), files => files.Remove("backups/drills.jsonl")));

        var finding = Assert.Single(result.Findings);
        Assert.Equal((EvidenceFindingKind.Missing, "backups/drills.jsonl"), (finding.Kind, finding.Path));
        Assert.Equal(ControlStatus.Failed, result.Controls.Single(c => c.Id == "A1.3").Status);
    }

    [Fact]
    public void AddedFile_FailsNamingIt()
    {
        var result = VerifyFile(Repack(Export("gdpr"), files => files["attachments/extra-report.pdf"] = [1, 2, 3]));

        var finding = Assert.Single(result.Findings);
        Assert.Equal((EvidenceFindingKind.Added, "attachments/extra-report.pdf"), (finding.Kind, finding.Path));
    }

    [Fact]
    public void RemovedAuditChain_FailsAsMissing_AndAsAnUnchainedSealedShard()
    {
        var result = VerifyFile(Repack(Export("soc2"), files => files.Remove("audit/events-0002.jsonl")));

        Assert.Equal(
            [(EvidenceFindingKind.Missing, "audit/events-0002.jsonl"), (EvidenceFindingKind.ChainInvalid, "audit/events-0002.jsonl")],
            result.Findings.Select(f => (f.Kind, f.Path)));
    }

    [Fact]
    public void EditedAuditRecord_FailsChainVerification_EvenUnderAReSignedManifest()
    {
        // An insider with the signing key edits record 3 (Denied -> Success), re-hashes it and re-signs the package.
        var sources = Sources();
        var logs = sources.Audit.Single(a => a.ShardId == "logs-0001");
        var edited = logs.Entries[2].Record with { Outcome = AuditOutcome.Success };
        edited = edited with { Hash = AuditRecordCodec.ComputeHash(edited) };
        var entries = logs.Entries.ToList();
        entries[2] = new AuditEntry(edited);
        var path = Export("iso27001", sources with { Audit = [.. sources.Audit.Select(a => a.ShardId == "logs-0001" ? new ShardAudit("logs-0001", entries) : a)] });

        var result = VerifyFile(path);

        var finding = Assert.Single(result.Findings);
        Assert.Equal((EvidenceFindingKind.ChainInvalid, "audit/logs-0001.jsonl"), (finding.Kind, finding.Path));
        Assert.Contains("Modified at seq 3", finding.Message);
        Assert.Equal(ControlStatus.Failed, result.Controls.Single(c => c.Id == "8.15").Status);
    }

    [Fact]
    public void TruncatedAuditChain_FailsAgainstTheSealedHead_UnderAReSignedManifest()
    {
        var sources = Sources();
        var path = Export("soc2", sources with { Audit = [.. sources.Audit.Select(a => a.ShardId == "logs-0001" ? a with { Entries = a.Entries.Take(5).ToList() } : a)] });

        var finding = Assert.Single(VerifyFile(path).Findings);

        Assert.Equal((EvidenceFindingKind.ChainInvalid, "audit/logs-0001.jsonl"), (finding.Kind, finding.Path));
        Assert.Contains("Truncated", finding.Message);
    }

    [Fact]
    public void ReadableFieldEdited_IsNamedAsAMismatchWithTheStoredBytes()
    {
        var sources = Sources();
        var logs = sources.Audit.Single(a => a.ShardId == "logs-0001");
        var path = Export("iso27001", sources);
        var repacked = Repack(path, files => files["audit/logs-0001.jsonl"] = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(files["audit/logs-0001.jsonl"]).Replace("\"outcome\":\"Denied\"", "\"outcome\":\"Success\"")));

        var result = VerifyFile(repacked);

        Assert.Equal(
            [(EvidenceFindingKind.Altered, "audit/logs-0001.jsonl"), (EvidenceFindingKind.ReadableMismatch, "audit/logs-0001.jsonl")],
            result.Findings.Select(f => (f.Kind, f.Path)));
        Assert.Equal(6, logs.Entries.Count);
    }

    [Fact]
    public void Package_FailsUnderAnotherPublicKey_AndWithAForgedManifest()
    {
        using var other = AuditSigner.Generate();
        var path = Export("soc2");

        var wrongKey = VerifyFile(path, other.ExportPublicKeyPem());
        Assert.Contains(wrongKey.Findings, f => f.Kind == EvidenceFindingKind.WrongKey && f.Path == "manifest.sig");
        Assert.All(wrongKey.Controls, c => Assert.Equal(ControlStatus.Failed, c.Status));

        // The attacker re-signs with their own key but claims ours: the signature fails.
        var forged = Repack(Export("soc2", signer: other), files =>
            files["manifest.sig"] = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(files["manifest.sig"]).Replace(other.PublicKeyFingerprint, _signer.PublicKeyFingerprint)));
        var finding = Assert.Single(VerifyFile(forged).Findings);
        Assert.Equal((EvidenceFindingKind.BadSignature, "manifest.json"), (finding.Kind, finding.Path));
    }

    [Fact]
    public void Reader_RefusesWhatIsNotAPackage()
    {
        using var key = new SealVerifier(_signer.ExportPublicKeyPem());
        var verifier = new EvidenceVerifier(key);
        Assert.Equal(ErrorCodes.EvidenceMalformed, Assert.Throws<ForgeOneException>(() => verifier.Verify(new MemoryStream("not a package"u8.ToArray()))).Code);

        foreach (var entry in new TarEntry[]
                 {
                     new PaxTarEntry(TarEntryType.SymbolicLink, "audit/logs-0001.jsonl") { LinkName = "/etc/passwd" },
                     new PaxTarEntry(TarEntryType.RegularFile, "../escape.txt") { DataStream = new MemoryStream([1]) },
                     new PaxTarEntry(TarEntryType.RegularFile, "/abs.txt") { DataStream = new MemoryStream([1]) },
                 })
        {
            var bytes = new MemoryStream();
            using (var gzip = new GZipStream(bytes, CompressionLevel.Fastest, leaveOpen: true))
            using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
            {
                tar.WriteEntry(entry);
            }

            bytes.Position = 0;
            Assert.Equal(ErrorCodes.EvidenceMalformed, Assert.Throws<ForgeOneException>(() => verifier.Verify(bytes)).Code);
        }

        var noManifest = verifier.Verify(new Dictionary<string, byte[]> { ["x"] = [] });
        Assert.Equal((EvidenceFindingKind.Malformed, "manifest.json"), (noManifest.Findings[0].Kind, noManifest.Findings[0].Path));
    }
}
