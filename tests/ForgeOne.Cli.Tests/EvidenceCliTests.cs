using System.Formats.Tar;
using System.IO.Compression;
using ForgeOne.Cli.Infrastructure;
using ForgeOne.Evidence;
using ForgeOne.Security;

namespace ForgeOne.Cli.Tests;

/// <summary>The offline verbs: a package and proofs checked with a PEM file only, no node anywhere.</summary>
public sealed class EvidenceCliTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly AuditSigner _signer = AuditSigner.Generate();
    private readonly string _dir = Directory.CreateTempSubdirectory("forgeone-cli-evidence-").FullName;

    public void Dispose()
    {
        _signer.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private (string Package, string Key, string Proof) Prepare()
    {
        var chain = new AuditChain("logs-0001");
        var tree = new MerkleLog();
        var entries = new List<AuditEntry>();
        for (var i = 0; i < 10; i++)
        {
            var r = chain.Append(T0.AddMinutes(i), "svc", i == 4 ? "keys.rotated" : "logs.append", "logs/1", AuditOutcome.Success, "{}");
            tree.Append(AuditRecordCodec.Encode(r));
            entries.Add(new AuditEntry(r));
        }

        var seal = _signer.CreateSeal(null, T0.AddHours(1), [chain.Head], treeRoots: new Dictionary<string, byte[]> { ["logs-0001"] = tree.Root() });
        var package = Path.Combine(_dir, "q1.tar.gz");
        using (var file = File.Create(package))
        {
            EvidenceExport.Write(file, new EvidenceSources([new ShardAudit("logs-0001", entries)], [seal]), new EvidenceScope(["iso27001"], T0, T0.AddDays(1), null, "admin"), _signer, T0.AddDays(1));
        }

        var key = Path.Combine(_dir, "audit-public.pem");
        File.WriteAllText(key, _signer.ExportPublicKeyPem());
        var proof = Path.Combine(_dir, "r3.proof");
        File.WriteAllBytes(proof, AuditProofCodec.Encode(RecordProof.Create(seal, "logs-0001", tree, 3, AuditRecordCodec.Encode(entries[2].Record))));
        return (package, key, proof);
    }

    [Fact]
    public async Task EvidenceVerify_PassesOffline_AndNamesAnAlteredFile()
    {
        var (package, key, _) = Prepare();

        var ok = await Forgeone.InProcessAsync(["evidence", "verify", package, "--public-key", key, "--url", "http://127.0.0.1:1"]);
        Assert.True(ok.ExitCode == ExitCodes.Ok, ok.ToString());
        Assert.Contains("Package verified", ok.Stdout, StringComparison.Ordinal);
        Assert.Contains("8.24", ok.Stdout, StringComparison.Ordinal);

        // Rewrite keys/events.jsonl inside the tar.gz.
        var files = new Dictionary<string, byte[]>();
        using (var read = File.OpenRead(package))
        {
            foreach (var (path, bytes) in EvidencePackage.Read(read))
            {
                files[path] = path == "keys/events.jsonl" ? [.. bytes, (byte)' '] : bytes;
            }
        }

        var edited = Path.Combine(_dir, "edited.tar.gz");
        using (var stream = File.Create(edited))
        using (var gzip = new GZipStream(stream, CompressionLevel.Fastest))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            foreach (var (path, bytes) in files)
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, path) { DataStream = new MemoryStream(bytes) });
            }
        }

        var bad = await Forgeone.InProcessAsync(["evidence", "verify", edited, "--public-key", key]);
        Assert.True(bad.ExitCode == ExitCodes.Failed, bad.ToString());
        Assert.Contains("FAILED Altered keys/events.jsonl", bad.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyProof_PassesWithTheKey_AndFailsUnderAnother()
    {
        var (_, key, proof) = Prepare();
        var ok = await Forgeone.InProcessAsync(["audit", "verify-proof", proof, "--public-key", key, "--json"]);
        Assert.True(ok.ExitCode == ExitCodes.Ok, ok.ToString());
        Assert.Contains("\"valid\": true", ok.Stdout, StringComparison.Ordinal);

        using var other = AuditSigner.Generate();
        var otherKey = Path.Combine(_dir, "other.pem");
        File.WriteAllText(otherKey, other.ExportPublicKeyPem());
        var bad = await Forgeone.InProcessAsync(["audit", "verify-proof", proof, "--public-key", otherKey]);
        Assert.True(bad.ExitCode == ExitCodes.Failed, bad.ToString());
        Assert.Contains("Proof INVALID (WrongKey)", bad.Stdout, StringComparison.Ordinal);
    }
}
