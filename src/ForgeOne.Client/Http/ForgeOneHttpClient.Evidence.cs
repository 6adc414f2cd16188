using System.Globalization;
using ForgeOne.Common.Api;

namespace ForgeOne.Client.Http;

/// <summary>Evidence packages and audit proofs (binary downloads the holder verifies offline).</summary>
public sealed partial class ForgeOneHttpClient
{
    /// <summary>
    /// Writes the evidence package of a period to <paramref name="destination"/> (tar.gz, signed
    /// manifest): <paramref name="framework"/> is soc2, iso27001, gdpr or all.
    /// </summary>
    public async Task ExportEvidenceAsync(string framework, DateTimeOffset from, DateTimeOffset to, string? tenant, Stream destination,
        IReadOnlyList<(string Name, byte[] Content)>? attachments = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (attachments is { Count: > 0 })
        {
            // Attachments travel in the body: the package (and its signed manifest) is made at the edge.
            var input = new EvidenceExportInput(framework, from, to, tenant, [.. attachments.Select(a => new EvidenceAttachmentInput(a.Name, a.Content))]);
            using var posted = await SendRawAsync(HttpMethod.Post, "/v1/evidence/export",
                () => System.Net.Http.Json.JsonContent.Create(input, EvidenceApiJsonContext.Default.EvidenceExportInput), retryable: true, null, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            await posted.Content.CopyToAsync(destination, cancellationToken).ConfigureAwait(false);
            return;
        }

        var path = $"/v1/evidence/export?framework={Escape(framework)}&from={Escape(from.ToString("O", CultureInfo.InvariantCulture))}&to={Escape(to.ToString("O", CultureInfo.InvariantCulture))}"
            + (tenant is null ? "" : $"&tenant={Escape(tenant)}");
        using var response = await SendRawAsync(HttpMethod.Get, path, null, retryable: true, null, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        await response.Content.CopyToAsync(destination, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The proof file (FOAP) that audit record <paramref name="seq"/> of <paramref name="chain"/> is in its sealed chain.</summary>
    public Task<byte[]> GetAuditProofAsync(string chain, long seq, CancellationToken cancellationToken = default) =>
        BytesAsync($"/v1/audit/proofs/{Escape(chain)}/{seq.ToString(CultureInfo.InvariantCulture)}", cancellationToken);

    /// <summary>The consistency proof file of <paramref name="chain"/> between two seals (default: its first and last format-3 seals).</summary>
    public Task<byte[]> GetAuditConsistencyAsync(string chain, long? fromSeal = null, long? toSeal = null, CancellationToken cancellationToken = default)
    {
        var query = string.Join("&", new[] { fromSeal is { } f ? $"from={f.ToString(CultureInfo.InvariantCulture)}" : null, toSeal is { } t ? $"to={t.ToString(CultureInfo.InvariantCulture)}" : null }.OfType<string>());
        return BytesAsync($"/v1/audit/consistency/{Escape(chain)}{(query.Length == 0 ? "" : "?" + query)}", cancellationToken);
    }

    private async Task<byte[]> BytesAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await SendRawAsync(HttpMethod.Get, path, null, retryable: true, null, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
    }
}
