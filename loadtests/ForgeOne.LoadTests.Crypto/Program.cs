using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ForgeOne.Security;

namespace ForgeOne.LoadTests.Crypto;

/// <summary>
/// Seal+unseal (encrypt then decrypt) of one record per operation, single-threaded, through
/// <see cref="RecordCipher"/> and through a raw <see cref="AesGcm"/> on the same data in the
/// same run. The raw baseline does what any correct GCM use must do per record too: a fresh
/// random 96-bit nonce and associated data of the same length (precomputed, so it costs the
/// baseline nothing). Rounds interleave the variants (and alternate their order) so drift in
/// a shared machine's load hits all of them alike.
/// </summary>
internal static class Program
{
    private const double Target = 0.8;

    private static int Main(string[] args)
    {
        var roundMs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 150;
        var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 24;
        var kekText = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var kek = new EnvironmentKekProvider(readVariable: name => name == EnvironmentKekProvider.DefaultVariable ? kekText : null);
        var keyring = Keyring.Create("logs-0001", kek, TimeProvider.System).Keyring;
        using var cipher = new RecordCipher(keyring);
        var recordKey = RandomNumberGenerator.GetBytes(16); // a record id
        var rawKey = RandomNumberGenerator.GetBytes(32);
        using var raw = new AesGcm(rawKey, 16);

        Console.WriteLine($"# ForgeOne record encryption benchmark");
        Console.WriteLine();
        Console.WriteLine($"{RuntimeInfo()}; {rounds} interleaved rounds of {roundMs} ms per variant; 1 op = encrypt + decrypt of one record, 1 thread; ops/s = total over all rounds, ratio = median of per-round ratios; load average {LoadAverage()}.");
        Console.WriteLine();
        Console.WriteLine("| record | raw AesGcm ops/s | RecordCipher span ops/s | ratio | RecordCipher byte[] ops/s | ratio | target |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | --- |");

        var failed = false;
        foreach (var size in new[] { 200, 4096 })
        {
            var plain = RandomNumberGenerator.GetBytes(size);
            var ctx = new Context("logs-0001", "logs", recordKey);
            var rawAad = new byte[9 + 2 + Encoding.UTF8.GetByteCount("logs-0001") + 2 + 4 + 4 + recordKey.Length];
            RandomNumberGenerator.Fill(rawAad);

            var variants = new (string Name, Func<int, long> Run)[]
            {
                ("raw", n => RunRaw(raw, plain, rawAad, n)),
                ("span", n => RunCipherSpan(cipher, plain, ctx, n)),
                ("array", n => RunCipherArray(cipher, plain, ctx, n)),
            };

            // Check both paths actually round-trip before timing them.
            Verify(cipher, plain, ctx);
            foreach (var v in variants)
            {
                Measure(v.Run, 300); // JIT + tiering warm-up
            }

            var ops = new double[variants.Length];
            var seconds = new double[variants.Length];
            var spanRatios = new List<double>();
            var arrayRatios = new List<double>();
            for (var r = 0; r < rounds; r++)
            {
                var roundRate = new double[variants.Length];
                for (var k = 0; k < variants.Length; k++)
                {
                    var i = r % 2 == 0 ? k : variants.Length - 1 - k;
                    var (count, elapsed) = Measure(variants[i].Run, roundMs);
                    ops[i] += count;
                    seconds[i] += elapsed;
                    roundRate[i] = count / elapsed;
                }

                spanRatios.Add(roundRate[1] / roundRate[0]);
                arrayRatios.Add(roundRate[2] / roundRate[0]);
            }

            // Ratios are the median over rounds of (variant / raw) measured back to back in the
            // same round: a load burst from other processes skews one round, not the result.
            var rate = ops.Zip(seconds, (o, s) => o / s).ToArray();
            var spanRatio = Median(spanRatios);
            var arrayRatio = Median(arrayRatios);
            var ok = spanRatio >= Target;
            failed |= !ok;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {(size >= 1024 ? $"{size / 1024} KiB" : $"{size} B")} | {rate[0]:N0} | {rate[1]:N0} | {spanRatio:F2} | {rate[2]:N0} | {arrayRatio:F2} | {(ok ? "met" : "MISSED")} (>= {Target:F1}x raw) |"));
        }

        Console.WriteLine();
        Console.WriteLine("The span row is the shard's hot path (caller-owned buffers); the byte[] row allocates the output arrays.");
        return failed ? 1 : 0;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string LoadAverage()
    {
        try
        {
            return File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    private static (long Ops, double Seconds) Measure(Func<int, long> run, int milliseconds)
    {
        var sw = Stopwatch.StartNew();
        long ops = 0;
        var limit = TimeSpan.FromMilliseconds(milliseconds);
        while (sw.Elapsed < limit)
        {
            ops += run(64);
        }

        return (ops, sw.Elapsed.TotalSeconds);
    }

    private static long RunRaw(AesGcm aes, byte[] plain, byte[] aad, int n)
    {
        Span<byte> nonce = stackalloc byte[12];
        Span<byte> tag = stackalloc byte[16];
        var ct = Buffers.Get(plain.Length, 0);
        var back = Buffers.Get(plain.Length, 1);
        for (var i = 0; i < n; i++)
        {
            RandomNumberGenerator.Fill(nonce);
            aes.Encrypt(nonce, plain, ct, tag, aad);
            aes.Decrypt(nonce, ct, tag, back, aad);
        }

        return n;
    }

    private static long RunCipherSpan(RecordCipher cipher, byte[] plain, Context c, int n)
    {
        var ct = Buffers.Get(RecordCipher.GetCiphertextLength(plain.Length), 2);
        var back = Buffers.Get(plain.Length, 3);
        for (var i = 0; i < n; i++)
        {
            var ctx = new RecordContext(c.Store, c.Table, c.Key);
            var written = cipher.Encrypt(plain, ct, ctx);
            cipher.Decrypt(ct.AsSpan(0, written), back, ctx);
        }

        return n;
    }

    private static long RunCipherArray(RecordCipher cipher, byte[] plain, Context c, int n)
    {
        for (var i = 0; i < n; i++)
        {
            var ctx = new RecordContext(c.Store, c.Table, c.Key);
            cipher.Decrypt(cipher.Encrypt(plain, ctx), ctx);
        }

        return n;
    }

    private static void Verify(RecordCipher cipher, byte[] plain, Context c)
    {
        var ctx = new RecordContext(c.Store, c.Table, c.Key);
        if (!cipher.Decrypt(cipher.Encrypt(plain, ctx), ctx).AsSpan().SequenceEqual(plain))
        {
            throw new InvalidOperationException("RecordCipher round trip failed");
        }
    }

    private static string RuntimeInfo() =>
        $"{System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, {Environment.ProcessorCount} cores, AES-NI {System.Runtime.Intrinsics.X86.Aes.IsSupported}";

    private sealed record Context(string Store, string Table, byte[] Key);

    /// <summary>Reused output buffers so no variant pays for allocation except the byte[] one.</summary>
    private static class Buffers
    {
        private static readonly Dictionary<(int, int), byte[]> Cache = [];

        public static byte[] Get(int length, int slot)
        {
            if (!Cache.TryGetValue((length, slot), out var buffer))
            {
                Cache[(length, slot)] = buffer = new byte[length];
            }

            return buffer;
        }
    }
}
