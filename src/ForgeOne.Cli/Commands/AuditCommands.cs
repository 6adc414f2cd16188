using System.CommandLine;
using System.Globalization;
using ForgeOne.Cli.Infrastructure;
using ForgeOne.Common.Api;

namespace ForgeOne.Cli.Commands;

/// <summary><c>audit verify | seal | public-key</c>.</summary>
public static class AuditCommands
{
    /// <summary>Builds the <c>audit</c> group.</summary>
    public static Command Build(Verbs verbs)
    {
        ArgumentNullException.ThrowIfNull(verbs);
        var verify = new Command("verify", "Verifies the seal history (signatures, numbering, links) under the audit public key and lists every shard's chain head");
        verbs.Action(verify, async (ctx, ct) =>
        {
            var seals = await ctx.Client.VerifySealsAsync(ct).ConfigureAwait(false);
            var heads = await ctx.Client.GetAuditHeadsAsync(ct).ConfigureAwait(false);
            ctx.Output.Result(new AuditVerifyView(seals, heads), CliJsonContext.Default.AuditVerifyView, o =>
            {
                o.WriteLine(seals.Valid
                    ? $"Seals: {seals.Checked.ToString(CultureInfo.InvariantCulture)} verified under key {seals.PublicKeyFingerprint}: valid"
                    : $"Seals: INVALID at seal {seals.FirstBadNumber?.ToString(CultureInfo.InvariantCulture) ?? "?"} ({seals.Failure}): {seals.Message}");
                o.Table(["shard", "seq", "head hash"], heads.Heads.OrderBy(h => h.Shard, StringComparer.Ordinal).Select(h => new[] { h.Shard, h.Sequence.ToString(CultureInfo.InvariantCulture), h.Hash }));
                foreach (var missing in heads.Missing)
                {
                    o.WriteLine($"  {missing}: no answer");
                }
            }, quiet: seals.Valid ? "valid" : "invalid");
            return seals.Valid && heads.Missing.Length == 0 ? ExitCodes.Ok : ExitCodes.Failed;
        });

        var seal = new Command("seal", "Seals every shard's audit head now (a signed Merkle root) instead of at the next interval");
        verbs.Action(seal, async (ctx, ct) =>
        {
            var written = await ctx.Client.SealNowAsync(ct).ConfigureAwait(false);
            ctx.Output.Result(written, ApiJsonContext.Default.SealWritten,
                o => o.WriteLine($"Seal {written.Number.ToString(CultureInfo.InvariantCulture)} written at {CliOutput.Time(written.Time)} over {written.Heads.ToString(CultureInfo.InvariantCulture)} chain heads"),
                quiet: written.Number.ToString(CultureInfo.InvariantCulture));
            return ExitCodes.Ok;
        });

        var publicKey = new Command("public-key", "The audit public key (PEM) that seals and exported chains verify under");
        verbs.Action(publicKey, async (ctx, ct) =>
        {
            var key = await ctx.Client.GetAuditPublicKeyAsync(ct).ConfigureAwait(false);
            ctx.Output.Result(key, ApiJsonContext.Default.AuditPublicKeyView, o => ctx.Console.Out.Write(key.Pem.EndsWith('\n') ? key.Pem : key.Pem + "\n"), quiet: key.Pem.TrimEnd('\n'));
            return ExitCodes.Ok;
        });

        return Verbs.Group("audit", "The tamper-evident audit chains and their seals", [verify, seal, publicKey, .. EvidenceCommands.AuditProofCommands(verbs)]);
    }
}
