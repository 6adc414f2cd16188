using System.CommandLine;
using System.Globalization;
using ForgeOne.Cli.Infrastructure;
using ForgeOne.Evidence;
using ForgeOne.Security;

namespace ForgeOne.Cli.Commands;

/// <summary>
/// <c>evidence export | verify</c>, and the proof verbs of <c>audit</c>: packages and proofs come
/// from the edge; verifying them is offline (the file and the public key, no cluster).
/// </summary>
public static class EvidenceCommands
{
    /// <summary>Builds the <c>evidence</c> group.</summary>
    public static Command Build(Verbs verbs)
    {
        ArgumentNullException.ThrowIfNull(verbs);
        var framework = new Option<string>("--framework") { Description = "soc2, iso27001, gdpr or all", DefaultValueFactory = _ => "all" };
        var from = new Option<string>("--from") { Description = "Start of the period (ISO 8601, or ago: 30d)", Required = true };
        var to = new Option<string>("--to") { Description = "End of the period (ISO 8601, 'now', or ago; default now)", DefaultValueFactory = _ => "now" };
        var tenant = new Option<string?>("--tenant") { Description = "Limit the records of processing to this tenant" };
        var output = new Option<string?>("--out", "-o") { Description = "The package file (default: forgeone-evidence-FRAMEWORK-FROM-TO.tar.gz)" };
        var attach = new Option<FileInfo[]>("--attach") { Description = "Test reports to include under attachments/ (repeatable; covered by the signed manifest)" };
        var export = new Command("export", "Writes a signed evidence package (tar.gz) of the period: audit chains, seals, key/backup/drill/schema/policy/API-key/retention evidence, control maps") { framework, from, to, tenant, output, attach };
        verbs.Action(export, async (ctx, ct) =>
        {
            var now = DateTimeOffset.UtcNow;
            var start = TimeArgument.Parse(ctx.Get(from), now, "--from");
            var end = TimeArgument.Parse(ctx.Get(to), now, "--to");
            var path = ctx.Get(output) ?? $"forgeone-evidence-{ctx.Get(framework)}-{start:yyyyMMdd}-{end:yyyyMMdd}.tar.gz";
            var temp = path + ".partial";
            try
            {
                await using (var file = File.Create(temp))
                {
                    var attachments = (ctx.Get(attach) ?? []).Select(f => (f.Name, ReadAll(f))).ToList();
                    await ctx.Client.ExportEvidenceAsync(ctx.Get(framework), start, end, ctx.Get(tenant), file, attachments, ct).ConfigureAwait(false);
                }

                // Only a complete package gets the name: an interrupted download leaves no file that looks whole.
                File.Move(temp, path, overwrite: true);
            }
            finally
            {
                File.Delete(temp);
            }

            var size = new FileInfo(path).Length;
            ctx.Output.Result(new EvidenceFileView(Path.GetFullPath(path), size), CliJsonContext.Default.EvidenceFileView,
                o => o.WriteLine($"Evidence package written to {path} ({CliOutput.Bytes(size)}); verify it with: forgeone evidence verify {path} --public-key audit-public.pem"),
                quiet: path);
            return ExitCodes.Ok;
        });

        var package = new Argument<FileInfo>("package") { Description = "The evidence package (tar.gz)" };
        var publicKey = new Option<FileInfo>("--public-key") { Description = "The audit public key PEM (from the operator, out of band)", Required = true };
        var verify = new Command("verify", "Verifies a package offline: manifest signature, every file's SHA-256, seals and their chain, audit chains against the seals; per-control summary") { package, publicKey };
        verbs.Action(verify, (ctx, _) =>
        {
            using var key = LoadKey(ctx.Get(publicKey));
            EvidenceVerification result;
            using (var file = Open(ctx.Get(package)))
            {
                result = new EvidenceVerifier(key).Verify(file);
            }

            var view = new EvidenceVerifyView(result.IsValid, [.. result.Findings.Select(f => new EvidenceFindingView(f.Kind.ToString(), f.Path, f.Message))],
                [.. result.Controls.Select(c => new ControlView(c.Framework, c.Id, c.Iso2013, c.Title, c.Status.ToString(), c.Files, c.Detail))], [.. result.Checks]);
            ctx.Output.Result(view, CliJsonContext.Default.EvidenceVerifyView, o =>
            {
                foreach (var check in result.Checks)
                {
                    o.WriteLine($"  {check}");
                }

                foreach (var f in result.Findings)
                {
                    o.WriteLine($"  FAILED {f.Kind} {f.Path}: {f.Message}");
                }

                o.Table(["framework", "control", "2013", "status", "detail"], result.Controls.Select(c => new[] { c.Framework, c.Id, c.Iso2013 ?? "", c.Status.ToString(), c.Detail }));
                o.WriteLine(result.IsValid ? "Package verified" : $"Package INVALID: {result.Findings.Count.ToString(CultureInfo.InvariantCulture)} findings");
            }, quiet: result.IsValid ? "valid" : "invalid");
            return Task.FromResult(result.IsValid ? ExitCodes.Ok : ExitCodes.Failed);
        });

        return Verbs.Group("evidence", "Compliance evidence packages an auditor verifies offline", export, verify);
    }

    /// <summary><c>audit prove | consistency | verify-proof | verify-consistency</c>.</summary>
    public static IEnumerable<Command> AuditProofCommands(Verbs verbs)
    {
        var id = new Option<string>("--id") { Description = "The audit record: chain:seq, e.g. logs-0003:42", Required = true };
        var output = new Option<string?>("--out", "-o") { Description = "The proof file (default: CHAIN-SEQ.proof)" };
        var prove = new Command("prove", "Writes a proof (a few hundred bytes) that the audit record, as stored, is in its chain as a signed seal covers it") { id, output };
        verbs.Action(prove, async (ctx, ct) =>
        {
            var (chain, seq) = RecordId(ctx.Get(id));
            var bytes = await ctx.Client.GetAuditProofAsync(chain, seq, ct).ConfigureAwait(false);
            var path = ctx.Get(output) ?? $"{chain}-{seq.ToString(CultureInfo.InvariantCulture)}.proof";
            await File.WriteAllBytesAsync(path, bytes, ct).ConfigureAwait(false);
            ctx.Output.Result(new EvidenceFileView(Path.GetFullPath(path), bytes.Length), CliJsonContext.Default.EvidenceFileView,
                o => o.WriteLine($"Proof of {chain}:{seq.ToString(CultureInfo.InvariantCulture)} written to {path} ({bytes.Length.ToString(CultureInfo.InvariantCulture)} bytes)"), quiet: path);
            return ExitCodes.Ok;
        });

        var chainOption = new Option<string>("--chain") { Description = "The chain, e.g. logs-0003", Required = true };
        var fromSeal = new Option<long?>("--from-seal") { Description = "The earlier seal number (default: the first format-3 seal)" };
        var toSeal = new Option<long?>("--to-seal") { Description = "The later seal number (default: the last)" };
        var consistencyOut = new Option<string?>("--out", "-o") { Description = "The proof file (default: CHAIN.consistency)" };
        var consistency = new Command("consistency", "Writes a proof that the chain at a later seal extends the chain at an earlier one (nothing sealed changed)") { chainOption, fromSeal, toSeal, consistencyOut };
        verbs.Action(consistency, async (ctx, ct) =>
        {
            var chain = ctx.Get(chainOption);
            var bytes = await ctx.Client.GetAuditConsistencyAsync(chain, ctx.Get(fromSeal), ctx.Get(toSeal), ct).ConfigureAwait(false);
            var path = ctx.Get(consistencyOut) ?? $"{chain}.consistency";
            await File.WriteAllBytesAsync(path, bytes, ct).ConfigureAwait(false);
            ctx.Output.Result(new EvidenceFileView(Path.GetFullPath(path), bytes.Length), CliJsonContext.Default.EvidenceFileView,
                o => o.WriteLine($"Consistency proof of {chain} written to {path} ({bytes.Length.ToString(CultureInfo.InvariantCulture)} bytes)"), quiet: path);
            return ExitCodes.Ok;
        });

        var file = new Argument<FileInfo>("file") { Description = "The proof file" };
        var publicKey = new Option<FileInfo>("--public-key") { Description = "The audit public key PEM", Required = true };
        var verifyProof = new Command("verify-proof", "Checks a record proof offline with the public key") { file, publicKey };
        verbs.Action(verifyProof, (ctx, _) => Verify(ctx, ctx.Get(file), ctx.Get(publicKey), (v, bytes) => v.Verify(AuditProofCodec.DecodeRecordProof(bytes))));
        var cfile = new Argument<FileInfo>("file") { Description = "The consistency proof file" };
        var cpublicKey = new Option<FileInfo>("--public-key") { Description = "The audit public key PEM", Required = true };
        var verifyConsistency = new Command("verify-consistency", "Checks a consistency proof offline with the public key") { cfile, cpublicKey };
        verbs.Action(verifyConsistency, (ctx, _) => Verify(ctx, ctx.Get(cfile), ctx.Get(cpublicKey), (v, bytes) => v.Verify(AuditProofCodec.DecodeConsistencyProof(bytes))));
        return [prove, consistency, verifyProof, verifyConsistency];
    }

    private static Task<int> Verify(CliContext ctx, FileInfo file, FileInfo publicKey, Func<ProofVerifier, byte[], ProofVerification> check)
    {
        using var key = LoadKey(publicKey);
        var bytes = ReadAll(file);
        var result = check(new ProofVerifier(key), bytes);
        ctx.Output.Result(new ProofVerifyView(result.IsValid, result.Failure.ToString(), result.Message), CliJsonContext.Default.ProofVerifyView,
            o => o.WriteLine(result.IsValid ? $"Proof verified: {result.Message}" : $"Proof INVALID ({result.Failure}): {result.Message}"), quiet: result.IsValid ? "valid" : "invalid");
        return Task.FromResult(result.IsValid ? ExitCodes.Ok : ExitCodes.Failed);
    }

    private static (string Chain, long Seq) RecordId(string id)
    {
        var colon = id.LastIndexOf(':');
        return colon > 0 && long.TryParse(id.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var seq) && seq > 0
            ? (id[..colon], seq)
            : throw CliException.Usage($"--id '{id}' is not chain:seq (e.g. logs-0003:42)");
    }

    private static SealVerifier LoadKey(FileInfo file) => new(File.ReadAllText(Existing(file).FullName));

    private static FileStream Open(FileInfo file) => File.OpenRead(Existing(file).FullName);

    private static byte[] ReadAll(FileInfo file) => File.ReadAllBytes(Existing(file).FullName);

    private static FileInfo Existing(FileInfo file) => file.Exists ? file : throw CliException.Usage($"no such file: {file.FullName}");
}
