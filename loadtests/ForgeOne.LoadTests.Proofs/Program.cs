using System.Diagnostics;
using System.Security.Cryptography;
using ForgeOne.Security;

namespace ForgeOne.LoadTests.Proofs;

/// <summary>
/// Record proofs against a format-3 seal of a default-sized cluster (21 shards: system, 8 logs,
/// 8 events, 4 blobs), one shard holding <c>n</c> real audit records (format 1 chain records
/// built by <see cref="AuditChain"/>). For each n it prints the largest proof file over 64
/// records spread through the chain and the median time to decode and verify one offline; the
/// reference in the same run is one bare ECDSA P-256 verification (the floor every proof pays),
/// so the ratio shows what the two audit paths add. Targets: under 2 KiB and 1 ms at 1,000,000.
/// <c>--quick</c>: 1,000 and 100,000 only.
/// </summary>
internal static class Program
{
    private const int MaxBytes = 2048;
    private const double MaxMs = 1.0;

    private static int Main(string[] args)
    {
        var quick = args.Contains("--quick");
        long[] sizes = quick ? [1_000, 100_000] : [1_000, 100_000, 1_000_000];
        using var signer = AuditSigner.Generate();
        using var seals = new SealVerifier(signer.ExportPublicKeyPem());
        var verifier = new ProofVerifier(seals);
        var t0 = new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);

        Console.WriteLine("# ForgeOne audit record proof benchmark");
        Console.WriteLine();
        Console.WriteLine($".NET {Environment.Version}, {Environment.ProcessorCount} cores, load average {LoadAverage()}; seal of 21 shards; 64 proofs per size, each verified 200 times; time = median per proof (decode + verify).");
        Console.WriteLine();
        Console.WriteLine("| records in shard | max path hashes | max proof bytes | verify median us | ECDSA verify us (reference) | ratio | target |");
        Console.WriteLine("| ---: | ---: | ---: | ---: | ---: | ---: | --- |");

        var failed = false;
        foreach (var n in sizes)
        {
            var chain = new AuditChain("logs-0004");
            var tree = new MerkleLog();
            var stored = new byte[n][];
            for (var i = 0; i < n; i++)
            {
                var record = chain.Append(t0.AddMilliseconds(i), "svc-payments", "logs.append", "logs/4/topic:payments.audit", AuditOutcome.Success, "{\"count\":100,\"bytes\":51200}");
                stored[i] = AuditRecordCodec.Encode(record);
                tree.Append(stored[i]);
            }

            var heads = new List<ChainHead> { chain.Head };
            var roots = new Dictionary<string, byte[]> { ["logs-0004"] = tree.Root() };
            foreach (var id in OtherShards())
            {
                heads.Add(new ChainHead(id, 12_345, RandomNumberGenerator.GetBytes(32)));
                roots[id] = RandomNumberGenerator.GetBytes(32);
            }

            var seal = signer.CreateSeal(null, t0.AddDays(1), heads, treeRoots: roots);
            var files = new List<byte[]>();
            for (var k = 0; k < 64; k++)
            {
                var seq = 1 + (k * (n - 1) / 63);
                files.Add(AuditProofCodec.Encode(RecordProof.Create(seal, "logs-0004", tree, seq, stored[seq - 1])));
            }

            // Every proof must verify before it is timed.
            foreach (var file in files)
            {
                var result = verifier.Verify(AuditProofCodec.DecodeRecordProof(file));
                if (!result.IsValid)
                {
                    Console.Error.WriteLine($"proof does not verify: {result.Message}");
                    return 1;
                }
            }

            var header = SealCodec.SignatureInput(seal);
            var verifyUs = Median(files.Select(f => TimeUs(() => verifier.Verify(AuditProofCodec.DecodeRecordProof(f)).IsValid)));
            var ecdsaUs = Median(files.Select(_ => TimeUs(() => seals.VerifySignature(header, seal.Signature))));
            var maxBytes = files.Max(f => f.Length);
            var pathHashes = files.Max(f => AuditProofCodec.DecodeRecordProof(f).Path.Count);
            var target = n == 1_000_000 ? $"< {MaxBytes} B, < {MaxMs} ms" : "";
            var met = n != 1_000_000 || (maxBytes < MaxBytes && verifyUs < MaxMs * 1000);
            failed |= !met;
            Console.WriteLine($"| {n:N0} | {pathHashes} | {maxBytes:N0} | {verifyUs:F1} | {ecdsaUs:F1} | {verifyUs / ecdsaUs:F2} | {target}{(target.Length > 0 ? met ? " met" : " MISSED" : "")} |");
        }

        return failed ? 1 : 0;
    }

    private static IEnumerable<string> OtherShards() =>
        ["system-0000", .. Enumerable.Range(0, 8).Where(i => i != 4).Select(i => $"logs-{i:D4}"), .. Enumerable.Range(0, 8).Select(i => $"events-{i:D4}"), .. Enumerable.Range(0, 4).Select(i => $"blobs-{i:D4}")];

    // Median over 200 runs of one operation, after 20 warm-up runs.
    private static double TimeUs(Func<bool> op)
    {
        for (var i = 0; i < 20; i++)
        {
            op();
        }

        var samples = new double[200];
        for (var i = 0; i < samples.Length; i++)
        {
            var start = Stopwatch.GetTimestamp();
            if (!op())
            {
                throw new InvalidOperationException("a timed verification failed");
            }

            samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        return Median(samples);
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }

    private static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return "n/a";
        }
    }
}
