using System.Net;
using ForgeOne.Common.Api;
using ForgeOne.Evidence;
using ForgeOne.Security;

namespace ForgeOne.Edge.Tests;

/// <summary>
/// Evidence packages and record proofs through the edge of a real cluster, then checked the way
/// an auditor does: offline, with the package or proof file and the public key only.
/// </summary>
[Collection(EdgeCollection.Name)]
public sealed class EvidenceApiTests(EdgeFixture fx)
{
    private async Task<string> PublicKeyAsync() =>
        (await (await fx.Admin.GetAsync("/v1/audit/public-key")).ReadAsync<AuditPublicKeyView>()).Pem;

    private async Task<byte[]> BytesAsync(string path, string contentType)
    {
        var response = await fx.Admin.GetAsync(path);
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {System.Text.Encoding.UTF8.GetString(body)}");
        Assert.Equal(contentType, response.Content.Headers.ContentType?.MediaType);
        return body;
    }

    [Fact]
    public async Task EvidenceExport_VerifiesOfflineWithThePublicKeyAlone()
    {
        var from = DateTimeOffset.UtcNow.AddMinutes(-30);
        await (await fx.Admin.PostJsonAsync($"/v1/logs/{Http.Unique("evidence")}", """{"severity":"info","message":"for the auditor"}""")).ReadAsync<LogAppended>(HttpStatusCode.Created);
        await (await fx.Admin.PostAsync("/v1/audit/seals", null)).ReadAsync<SealWritten>(HttpStatusCode.Created);

        var package = await BytesAsync($"/v1/evidence/export?framework=all&from={Uri.EscapeDataString(from.ToString("O"))}&to={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMinutes(5).ToString("O"))}", "application/gzip");

        using var key = new SealVerifier(await PublicKeyAsync());
        var result = new EvidenceVerifier(key).Verify(new MemoryStream(package));
        Assert.True(result.IsValid, string.Join("\n", result.Findings.Select(f => $"{f.Kind} {f.Path}: {f.Message}")));
        Assert.Equal(["iso27001", "soc2", "gdpr"], result.Manifest!.Frameworks);
        Assert.Equal(1 + EdgeFixture.Counts.Logs + EdgeFixture.Counts.Events + EdgeFixture.Counts.Blobs, result.Manifest.Files.Count(f => f.Path.StartsWith("audit/", StringComparison.Ordinal)));
        Assert.Equal(ControlStatus.Verified, result.Controls.Single(c => c.Framework == "iso27001" && c.Id == "8.15").Status);
        Assert.Contains(result.Checks, c => c.EndsWith("signatures, links, heads", StringComparison.Ordinal));

        // Signing the manifest was audited in the system shard's chain before it was signed: the next package shows it.
        var next = EvidencePackage.Read(new MemoryStream(await BytesAsync($"/v1/evidence/export?framework=all&from={Uri.EscapeDataString(from.ToString("O"))}&to={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMinutes(5).ToString("O"))}", "application/gzip")));
        Assert.Contains("\"audit.evidence_sign\"", System.Text.Encoding.UTF8.GetString(next["integrity/events.jsonl"]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RecordAndConsistencyProofs_VerifyOffline_AndAnAlteredRecordDoesNot()
    {
        await (await fx.Admin.PostAsync("/v1/audit/seals", null)).ReadAsync<SealWritten>(HttpStatusCode.Created);
        await (await fx.Admin.PutJsonAsync($"/v1/system/settings/{Http.Unique("proof")}", """{"value":"moves the system head"}""")).ReadAsync<SettingView>();
        await (await fx.Admin.PostAsync("/v1/audit/seals", null)).ReadAsync<SealWritten>(HttpStatusCode.Created);
        using var key = new SealVerifier(await PublicKeyAsync());
        var verifier = new ProofVerifier(key);

        var proof = AuditProofCodec.DecodeRecordProof(await BytesAsync("/v1/audit/proofs/system-0000/1", "application/octet-stream"));
        var result = verifier.Verify(proof);
        Assert.True(result.IsValid, result.Message);
        Assert.Equal(1, AuditRecordCodec.Decode(proof.Record).Seq);
        var altered = proof.Record.ToArray();
        altered[^40] ^= 0x01; // the prev hash
        Assert.False(verifier.Verify(proof with { Record = altered }).IsValid);

        var consistency = AuditProofCodec.DecodeConsistencyProof(await BytesAsync("/v1/audit/consistency/system-0000", "application/octet-stream"));
        Assert.True(verifier.Verify(consistency).IsValid, verifier.Verify(consistency).Message);
        Assert.True(consistency.Newer.Head.Seq > consistency.Older.Head.Seq);
    }

    [Fact]
    public async Task EvidenceAndProofs_RefuseTheAnonymousAndBadInput()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await fx.Anonymous.GetAsync("/v1/evidence/export?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await fx.Anonymous.GetAsync("/v1/audit/proofs/system-0000/1")).StatusCode);
        await (await fx.Admin.GetAsync("/v1/evidence/export?framework=pci&from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z")).ProblemAsync(HttpStatusCode.BadRequest, "validation.invalid_argument");
        await (await fx.Admin.GetAsync("/v1/evidence/export?framework=soc2")).ProblemAsync(HttpStatusCode.BadRequest, "validation.invalid_argument");
        await (await fx.Admin.GetAsync("/v1/audit/proofs/nosuch-0001/1")).ProblemAsync(HttpStatusCode.BadRequest, "validation.invalid_argument");
        await (await fx.Admin.GetAsync("/v1/audit/proofs/system-0000/999999999")).ProblemAsync(HttpStatusCode.NotFound, "storage.not_found");
    }
}
