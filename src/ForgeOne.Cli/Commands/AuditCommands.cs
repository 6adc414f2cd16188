using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using ForgeOne.Cli.Audit;
using ForgeOne.Cli.Infrastructure;
using ForgeOne.Common.Api;

namespace ForgeOne.Cli.Commands;

/// <summary><c>audit verify [--offline dir] | seal | public-key | export | tail</c>, and the proof verbs of <see cref="EvidenceCommands"/>.</summary>
public static class AuditCommands
{
    /// <summary>Builds the <c>audit</c> group.</summary>
    public static Command Build(Verbs verbs)
    {
        ArgumentNullException.ThrowIfNull(verbs);
        var offline = new Option<DirectoryInfo?>("--offline") { Description = "Verify an export directory ('audit export') here, with no cluster: seals, then every record of every chain", HelpName = "dir" };
        var publicKey = new Option<FileInfo?>("--public-key") { Description = "With --offline: the audit public key (PEM) you trust (default: the copy inside the export, which only proves self-consistency)", HelpName = "pem" };
        var verify = new Command("verify", "Verifies the seal history (signatures, numbering, links) under the audit public key and lists every shard's chain head; --offline checks an export") { offline, publicKey };
        verbs.Action(verify, async (ctx, ct) =>
        {
            if (ctx.Get(offline) is { } dir)
            {
                return await VerifyOfflineAsync(ctx, dir, ctx.Get(publicKey), ct).ConfigureAwait(false);
            }

            if (ctx.Get(publicKey) is not null)
            {
                throw CliException.Usage("--public-key goes with --offline");
            }

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

        var pemCommand = new Command("public-key", "The audit public key (PEM) that seals and exported chains verify under");
        verbs.Action(pemCommand, async (ctx, ct) =>
        {
            var key = await ctx.Client.GetAuditPublicKeyAsync(ct).ConfigureAwait(false);
            ctx.Output.Result(key, ApiJsonContext.Default.AuditPublicKeyView, o => ctx.Console.Out.Write(key.Pem.EndsWith('\n') ? key.Pem : key.Pem + "\n"), quiet: key.Pem.TrimEnd('\n'));
            return ExitCodes.Ok;
        });

        return Verbs.Group("audit", "The tamper-evident audit chains and their seals", [verify, seal, pemCommand, Export(verbs), Tail(verbs), .. EvidenceCommands.AuditProofCommands(verbs)]);
    }

    private static readonly TimeSpan TailInterval = TimeSpan.FromSeconds(1);

    private static Command Tail(Verbs verbs)
    {
        var shard = new Option<string?>("--shard") { Description = "Only this shard's chain: kind-number, e.g. logs-3 (default: every shard)", HelpName = "kind-n" };
        var all = new Option<bool>("--all") { Description = "Also print reads of the audit trail itself (audit.head, audit.export: the tail's own polling is audited too)" };
        var tail = new Command("tail", "Audit records as they are committed, every shard's chain (audit:export), until Ctrl-C") { shard, all };
        verbs.Action(tail, async (ctx, ct) =>
        {
            var only = ctx.Get(shard) is { } s ? KeysCommands.ShardName(s) : null;
            var client = ctx.Client;
            // Start at every chain's committed head: only records committed from now on are printed.
            var positions = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var head in (await client.GetAuditHeadsAsync(ct).ConfigureAwait(false)).Heads.Where(h => only is null || h.Shard == only))
            {
                positions[head.Shard] = head.Sequence;
            }

            if (only is not null && positions.Count == 0)
            {
                throw new CliException(ExitCodes.Failed, $"storage.not_found: there is no shard {only}", ForgeOne.Common.ErrorCodes.NotFound);
            }

            ctx.Output.Note($"Tailing the audit records of {positions.Count.ToString(CultureInfo.InvariantCulture)} chains of {ctx.Endpoint.Url} (Ctrl-C to stop)...");
            // The edge has no audit stream: the heads are polled (one small request a second) and new records paged.
            using var timer = new PeriodicTimer(TailInterval, ctx.Console.Time);
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                var heads = await client.GetAuditHeadsAsync(ct).ConfigureAwait(false);
                foreach (var head in heads.Heads.Where(h => positions.TryGetValue(h.Shard, out var at) && h.Sequence > at).OrderBy(h => h.Shard, StringComparer.Ordinal))
                {
                    while (positions[head.Shard] < head.Sequence)
                    {
                        var page = await client.GetAuditChainAsync(head.Shard, positions[head.Shard], 256, ct).ConfigureAwait(false);
                        foreach (var r in page.Records)
                        {
                            positions[head.Shard] = r.Seq;
                            if (!ctx.Get(all) && r.Action is "audit.head" or "audit.export")
                            {
                                continue;
                            }

                            var line = new AuditTailLine(page.ChainId, r.Seq, r.Time, r.Principal, r.Action, r.Resource, r.Outcome, r.Hash);
                            ctx.Output.Line(line, CliJsonContext.Default.AuditTailLine, $"{CliOutput.Time(r.Time)} {page.ChainId} #{r.Seq.ToString(CultureInfo.InvariantCulture)} {r.Principal} {r.Action} {r.Resource} {r.Outcome}", quiet: $"{page.ChainId} {r.Seq.ToString(CultureInfo.InvariantCulture)}");
                        }

                        if (page.Records.Length == 0)
                        {
                            break;
                        }
                    }
                }
            }

            return ExitCodes.Ok;
        });
        return tail;
    }

    private static Command Export(Verbs verbs)
    {
        var output = new Option<DirectoryInfo>("--output", "-o") { Description = "The directory to create (it must not exist; written whole or not at all)", Required = true, HelpName = "dir" };
        var from = new Option<string?>("--from") { Description = "Only records at or after this time (ISO 8601, or 2h / 7d ago)", HelpName = "time" };
        var to = new Option<string?>("--to") { Description = "Only records before this time", HelpName = "time" };
        var noSeal = new Option<bool>("--no-seal") { Description = "Do not seal first: export up to the latest existing seal" };
        var export = new Command("export", "Exports every shard's audit chain up to a fresh seal (JSON Lines), with the seals and the public key, for 'audit verify --offline'") { output, from, to, noSeal };
        verbs.Action(export, async (ctx, ct) =>
        {
            var now = ctx.Console.Time.GetUtcNow();
            DateTimeOffset? since = ctx.Get(from) is { } f ? TimeArgument.Parse(f, now, "--from") : null;
            DateTimeOffset? until = ctx.Get(to) is { } t ? TimeArgument.Parse(t, now, "--to") : null;
            if (since >= until)
            {
                throw CliException.Usage("--from must be before --to");
            }

            var target = Path.GetFullPath(ctx.Get(output).FullName);
            if (Directory.Exists(target) || File.Exists(target))
            {
                throw CliException.Usage($"{target} exists; give a new directory");
            }

            var client = ctx.Client;
            if (!ctx.Get(noSeal))
            {
                // A fresh seal covers every record acknowledged until now, so the whole export is signed.
                await client.SealNowAsync(ct).ConfigureAwait(false);
            }

            var seals = await client.GetEncodedSealsAsync(10_000, ct).ConfigureAwait(false);
            var bounding = seals.Seals.Select(s => AuditExportFormat.DecodeSeal(s)).LastOrDefault() ?? throw new CliException(ExitCodes.Failed, "there is no seal yet: run 'forgeone audit seal' (or export without --no-seal)", "audit.no_seal");
            var key = await client.GetAuditPublicKeyAsync(ct).ConfigureAwait(false);
            var partial = Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.forgeone-{Guid.NewGuid():N}.partial");
            Directory.CreateDirectory(Path.Combine(partial, AuditExportFormat.ChainsFolder));
            try
            {
                var chains = await TransferProgress.RunAsync(ctx.Output, "audit export", bounding.Heads.Sum(h => h.Seq), bytes: false, async progress =>
                {
                    var written = new List<AuditExportChain>();
                    long done = 0;
                    foreach (var head in bounding.Heads.Where(h => h.Seq > 0))
                    {
                        written.Add(await ExportChainAsync(client, head, partial, since, until, n => progress.Report(done + n), ct).ConfigureAwait(false));
                        done += head.Seq;
                        progress.Report(done);
                    }

                    return written;
                }).ConfigureAwait(false);
                await File.WriteAllTextAsync(Path.Combine(partial, AuditExportFormat.PublicKeyFile), key.Pem, ct).ConfigureAwait(false);
                await File.WriteAllLinesAsync(Path.Combine(partial, AuditExportFormat.SealsFile), seals.Seals.Select(s => JsonSerializer.Serialize(s, ApiJsonContext.Default.EncodedSealView)), ct).ConfigureAwait(false);
                var manifest = new AuditExportManifest(AuditExportFormat.Format, now, ctx.Endpoint.Url.ToString(), since, until, bounding.Number, key.Fingerprint, [.. chains.Where(c => c.Records > 0)]);
                await File.WriteAllBytesAsync(Path.Combine(partial, AuditExportFormat.ManifestFile), JsonSerializer.SerializeToUtf8Bytes(manifest, AuditExportJsonContext.Default.AuditExportManifest), ct).ConfigureAwait(false);
                Directory.Move(partial, target);
                var records = manifest.Chains.Sum(c => c.Records);
                ctx.Output.Result(manifest, AuditExportJsonContext.Default.AuditExportManifest,
                    o => o.WriteLine($"Exported {records.ToString(CultureInfo.InvariantCulture)} audit records of {manifest.Chains.Length.ToString(CultureInfo.InvariantCulture)} chains up to seal {bounding.Number.ToString(CultureInfo.InvariantCulture)} into {target}"),
                    quiet: target);
                return ExitCodes.Ok;
            }
            finally
            {
                if (Directory.Exists(partial))
                {
                    Directory.Delete(partial, recursive: true);
                }
            }
        });
        return export;
    }

    /// <summary>Writes one chain's records up to the sealed head (and inside the time window) as JSON Lines.</summary>
    private static async Task<AuditExportChain> ExportChainAsync(ForgeOne.Client.Http.ForgeOneHttpClient client, ForgeOne.Security.ChainHead head, string directory, DateTimeOffset? since, DateTimeOffset? until, Action<long> progress, CancellationToken ct)
    {
        var file = $"{AuditExportFormat.ChainsFolder}/{head.ShardId}.jsonl";
        await using var writer = new StreamWriter(Path.Combine(directory, file), append: false, new System.Text.UTF8Encoding(false));
        long first = 0, last = 0, count = 0, after = 0;
        var startHash = "";
        while (after < head.Seq)
        {
            var page = await client.GetAuditChainAsync(head.ShardId, after, 256, ct).ConfigureAwait(false);
            if (page.ChainId != head.ShardId)
            {
                throw new CliException(ExitCodes.Failed, $"the node answered chain {page.ChainId} for {head.ShardId}", ForgeOne.Common.ErrorCodes.Internal);
            }

            foreach (var r in page.Records.TakeWhile(r => r.Seq <= head.Seq))
            {
                after = r.Seq;
                if ((since is { } s && r.Time < s) || (until is { } u && r.Time >= u))
                {
                    continue;
                }

                if (count == 0)
                {
                    (first, startHash) = (r.Seq, r.PrevHash);
                }

                last = r.Seq;
                count++;
                await writer.WriteLineAsync(AuditExportFormat.Line(r).AsMemory(), ct).ConfigureAwait(false);
            }

            progress(after);
            if (page.Records.Length == 0 || page.Next is null)
            {
                break;
            }
        }

        if (after < head.Seq)
        {
            throw new CliException(ExitCodes.Failed, $"chain {head.ShardId} ended at record {after} below its sealed head {head.Seq}", ForgeOne.Common.ErrorCodes.AuditChainBroken);
        }

        return new AuditExportChain(ShardName(head.ShardId), head.ShardId, file, first, last, startHash, count);
    }

    private static string ShardName(string chainId)
    {
        var dash = chainId.LastIndexOf('-');
        return dash > 0 && int.TryParse(chainId.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? $"{chainId[..dash]}-{n.ToString(CultureInfo.InvariantCulture)}" : chainId;
    }

    private static async Task<int> VerifyOfflineAsync(CliContext ctx, DirectoryInfo dir, FileInfo? publicKey, CancellationToken ct)
    {
        if (!dir.Exists)
        {
            throw CliException.Usage($"{dir.FullName} does not exist");
        }

        string? pem = null;
        if (publicKey is not null)
        {
            pem = publicKey.Exists ? await File.ReadAllTextAsync(publicKey.FullName, ct).ConfigureAwait(false) : throw CliException.Usage($"--public-key {publicKey.FullName} does not exist");
        }

        var report = OfflineAuditVerifier.Verify(dir.FullName, pem);
        ctx.Output.Result(report, AuditExportJsonContext.Default.OfflineAuditReport, o =>
        {
            o.WriteLine($"Seals: {report.Seals.ToString(CultureInfo.InvariantCulture)} under {report.PublicKey}; records bounded by seal {report.BoundingSeal?.ToString(CultureInfo.InvariantCulture) ?? "-"}");
            o.Table(["chain", "records", "seq", "result"], report.Chains.Select(c => new[]
            {
                c.ChainId, c.Records.ToString(CultureInfo.InvariantCulture), $"{c.FirstSeq.ToString(CultureInfo.InvariantCulture)}..{c.LastSeq.ToString(CultureInfo.InvariantCulture)}", c.Valid ? "valid" : "INVALID",
            }));
            foreach (var p in report.Problems)
            {
                o.WriteLine($"INVALID {p.Where}{(p.Seq is { } seq ? " record " + seq.ToString(CultureInfo.InvariantCulture) : "")}: {p.Failure}: {p.Message}");
            }

            o.WriteLine(report.Valid ? $"Result: valid ({report.Chains.Sum(c => c.Records).ToString(CultureInfo.InvariantCulture)} records)" : $"Result: INVALID ({report.Problems.Length.ToString(CultureInfo.InvariantCulture)} problems)");
        }, quiet: report.Valid ? "valid" : "invalid");
        return report.Valid ? ExitCodes.Ok : ExitCodes.Failed;
    }
}
