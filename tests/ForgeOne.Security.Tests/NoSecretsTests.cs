using System.Text;
using ForgeOne.Common;

namespace ForgeOne.Security.Tests;

/// <summary>
/// Key material must never reach a log line or an exception message. Runs key operations and
/// every failure path with known keys, captures all log output and exception text, and searches
/// it for the keys in base64 and hex.
/// </summary>
public sealed class NoSecretsTests
{
    [Fact]
    public void LogsAndExceptionMessages_NeverContainKeyMaterial()
    {
        using var dir = new TempDir();
        var log = new CapturingLogger();
        var texts = new List<string>();
        var secrets = new List<byte[]>();
        var clock = new ManualTimeProvider();

        void Capture(Action action)
        {
            try
            {
                action();
                texts.Add("(no exception)");
            }
            catch (Exception e)
            {
                for (var x = e; x is not null; x = x.InnerException)
                {
                    texts.Add(x.Message);
                }

                texts.Add(e.ToString());
            }
        }

        // File KEKs: create, rotate, reload; the key files' bytes are secrets.
        var keys = dir.Sub("keys");
        var files = new FileKekProvider(keys, logger: log);
        files.Rotate();
        _ = new FileKekProvider(keys, logger: log).Get(1);
        secrets.Add(File.ReadAllBytes(files.PathOf(1)));
        secrets.Add(File.ReadAllBytes(files.PathOf(2)));

        // Environment KEK with a known value, and malformed values that resemble it.
        var envKey = TestKekProvider.Bytes(0x5A);
        secrets.Add(envKey);
        var envKek = new EnvironmentKekProvider(readVariable: n => n == "FORGEONE_KEK" ? Convert.ToBase64String(envKey) : null, logger: log);
        Capture(() => new EnvironmentKekProvider(readVariable: n => n == "FORGEONE_KEK" ? Convert.ToBase64String(envKey) + "!" : null, logger: log));
        Capture(() => new EnvironmentKekProvider(readVariable: n => n == "FORGEONE_KEK" ? Convert.ToBase64String(envKey[..31]) : null, logger: log));
        Capture(() => new KeyEncryptionKey(1, envKey[..20]));

        // Keyrings under both providers; their data keys and index keys are secrets.
        var ring = Keyring.Create("logs-0009", files, clock).Keyring.Rotate(clock, "test").Keyring;
        var envRing = Keyring.Create("logs-0010", envKek, clock).Keyring;
        foreach (var r in new[] { ring, envRing })
        {
            secrets.Add(r.IndexKey);
            secrets.AddRange(r.Keys.Select(k => k.Material!));
            texts.Add(r.ToString());
            texts.AddRange(r.Versions.Select(v => v.ToString()));
        }

        texts.Add(files.GetCurrent().ToString());
        texts.Add(envKek.GetCurrent().ToString());
        var stored = ring.Serialize(files);
        var tamperedRing = (byte[])stored.Clone();
        tamperedRing[^3] ^= 0xFF;
        Capture(() => Keyring.Load(stored, envKek));
        Capture(() => Keyring.Load(tamperedRing, files));
        Capture(() => Keyring.Load(stored.AsSpan(0, 30), files));

        // Ciphers: every decrypt failure.
        static RecordContext Ctx(string key = "id-1") => new("logs-0009", "logs", Encoding.UTF8.GetBytes(key));
        using var records = new RecordCipher(ring);
        using var fields = new FieldCipher(ring);
        var ct = records.Encrypt("plaintext"u8, Ctx());
        var fieldCt = fields.EncryptString(FieldClass.LogMessage, "field", Ctx());
        var flipped = (byte[])ct.Clone();
        flipped[^1] ^= 1;
        Capture(() => records.Decrypt(flipped, Ctx()));
        Capture(() => records.Decrypt(ct, Ctx("id-2")));
        Capture(() => records.Decrypt(ct.AsSpan(0, 12), Ctx()));
        Capture(() => records.Decrypt([9, 9, 9], Ctx()));
        using (var other = new RecordCipher(envRing))
        {
            Capture(() => other.Decrypt(ct, Ctx()));
        }

        var retired = ring.Retire(2, clock).Keyring;
        using (var retiredCipher = new RecordCipher(retired))
        {
            Capture(() => retiredCipher.Decrypt(ct, Ctx()));
        }

        var v1Ct = new RecordCipher(Keyring.Create("logs-0009", files, clock).Keyring).Encrypt("x"u8, Ctx());
        using (var destroyed = new RecordCipher(retired.Destroy(1, clock).Keyring))
        {
            Capture(() => destroyed.Decrypt(v1Ct, Ctx()));
        }

        var fieldFlipped = (byte[])fieldCt.Clone();
        fieldFlipped[^1] ^= 1;
        Capture(() => fields.Decrypt(fieldFlipped, Ctx()));
        Capture(() => ring.Destroy(2, clock));

        // Audit signing key: created, loaded, refused when too open.
        var signerKeys = dir.Sub("signer");
        using (var signer = AuditSigner.LoadOrCreate(signerKeys, logger: log))
        {
            texts.Add(signer.ExportPublicKeyPem());
        }

        var pem = File.ReadAllText(Path.Combine(signerKeys, AuditSigner.KeyFileName));
        secrets.Add(Convert.FromBase64String(string.Concat(pem.Split('\n').Where(l => !l.StartsWith("-----", StringComparison.Ordinal)))));
        Capture(() => AuditSigner.FromPem(pem.Replace("A", "B", StringComparison.Ordinal)));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(files.PathOf(1), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
            Capture(() => new FileKekProvider(keys, logger: log));
        }

        var haystack = string.Join("\n", log.Lines.Concat(texts));
        Assert.NotEmpty(log.Lines);
        Assert.Contains("Created key-encryption key v1", haystack, StringComparison.Ordinal);
        Assert.Contains(ErrorCodes.CryptoTampered, haystack, StringComparison.Ordinal);
        Assert.Contains(ErrorCodes.CryptoKeyFileInsecure, haystack, StringComparison.Ordinal);
        foreach (var secret in secrets)
        {
            Assert.True(secret.Length >= 32);
            foreach (var encoded in Encodings(secret))
            {
                Assert.DoesNotContain(encoded, haystack, StringComparison.Ordinal);
            }
        }
    }

    // Full base64 and hex, plus hex of 8-byte windows (a partial key in hex is still a leak;
    // hex substrings, unlike base64 ones, do not depend on alignment).
    private static IEnumerable<string> Encodings(byte[] secret)
    {
        yield return Convert.ToBase64String(secret);
        yield return Convert.ToBase64String(secret).TrimEnd('=');
        yield return Convert.ToHexString(secret);
        yield return Convert.ToHexStringLower(secret);
        for (var i = 0; i + 8 <= secret.Length; i += 4)
        {
            yield return Convert.ToHexString(secret, i, 8);
            yield return Convert.ToHexStringLower(secret.AsSpan(i, 8));
        }

        yield return Encoding.Latin1.GetString(secret);
    }
}
