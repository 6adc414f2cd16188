using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using ForgeOne.Common;

namespace ForgeOne.Security.Tests;

/// <summary>Formats added for run-time tamper evidence: record MAC, audit records with sealed subjects, seals with key id, failures and incarnations.</summary>
public sealed partial class TamperFormatTests : IDisposable
{
    private readonly AuditSigner _signer = AuditSigner.Generate();
    private readonly SealVerifier _verifier;
    private readonly DateTimeOffset _t0 = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);

    public TamperFormatTests() => _verifier = new SealVerifier(_signer.ExportPublicKeyPem());

    public void Dispose()
    {
        _signer.Dispose();
        _verifier.Dispose();
    }

    [LibraryImport("libsodium")]
    private static unsafe partial int crypto_shorthash_siphashx24(byte* output, byte* input, ulong length, byte* key);

    [Fact]
    public unsafe void SipHash128_MatchesTheReferenceVectorAndLibsodiumForEveryLengthUpTo64()
    {
        var key = Enumerable.Range(0, 16).Select(i => (byte)i).ToArray();
        var k0 = BitConverter.ToUInt64(key, 0);
        var k1 = BitConverter.ToUInt64(key, 8);
        var output = new byte[16];

        // vectors_sip128[0] of the SipHash reference implementation: empty input, key 00..0f.
        RecordMac.SipHash128(k0, k1, [], output);
        Assert.Equal("a3817f04ba25a8e66df67214c7550293", Convert.ToHexStringLower(output));

        var expected = new byte[16];
        for (var n = 0; n <= 64; n++)
        {
            var input = Enumerable.Range(0, n).Select(i => (byte)i).ToArray();
            RecordMac.SipHash128(k0, k1, input, output);
            fixed (byte* o = expected)
            fixed (byte* m = input)
            fixed (byte* k = key)
            {
                Assert.Equal(0, crypto_shorthash_siphashx24(o, m, (ulong)n, k));
            }

            Assert.Equal(Convert.ToHexStringLower(expected), Convert.ToHexStringLower(output));
        }
    }

    [Fact]
    public void RecordMac_BindsTableKeyAndValue()
    {
        var mac = new RecordMac(RandomNumberGenerator.GetBytes(16));
        var tag = mac.Compute("log_index", [1, 2, 3], [9]);

        Assert.True(mac.Verify("log_index", [1, 2, 3], [9], tag));
        Assert.False(mac.Verify("event_index", [1, 2, 3], [9], tag));
        Assert.False(mac.Verify("log_index", [1, 2, 4], [9], tag));
        Assert.False(mac.Verify("log_index", [1, 2, 3], [8], tag));
        Assert.False(mac.Verify("log_index", [1, 2, 3], [9], tag.AsSpan(0, 15)));
        Assert.False(new RecordMac(RandomNumberGenerator.GetBytes(16)).Verify("log_index", [1, 2, 3], [9], tag));
    }

    private sealed class XorSealer : IAuditSubjectSealer
    {
        public SealedAuditSubject Seal(long seq, string subject) =>
            new(SHA256.HashData(Encoding.UTF8.GetBytes(subject))[..16], [.. Encoding.UTF8.GetBytes(subject).Select(b => (byte)(b ^ 0x5a)), (byte)seq]);
    }

    [Fact]
    public void AuditChain_WithASealer_StoresOnlyTheScopeInClear_AndVerifiesWithoutAnyKey()
    {
        var chain = new AuditChain("logs-0001", new XorSealer());
        var records = new[]
        {
            chain.Append(_t0, "alice", "logs.append", "logs/1/topic:payments.secret", AuditOutcome.Success, "count=1"),
            chain.Append(_t0, "system", "keys.rotated", "keys/logs-0001/v2", AuditOutcome.Success, ""),
        };

        var encoded = records.Select(AuditRecordCodec.Encode).ToArray();
        Assert.All(encoded, e => Assert.Equal(AuditRecordCodec.FormatV2, e[0]));
        Assert.DoesNotContain("payments.secret", Encoding.UTF8.GetString(encoded[0]), StringComparison.Ordinal);
        var decoded = encoded.Select(e => AuditRecordCodec.Decode(e)).ToArray();
        Assert.Equal("logs/1/topic:", decoded[0].Resource);
        Assert.Equal(records[0].Subject!.Ciphertext, decoded[0].Subject!.Ciphertext);
        Assert.Equal("keys/logs-0001/v2", decoded[1].Resource);
        Assert.Null(decoded[1].Subject);
        Assert.True(AuditVerifier.Verify(decoded, "logs-0001").IsValid);

        // The hash covers the stored ciphertext: editing it is a modification.
        var edited = (byte[])encoded[0].Clone();
        edited[Encoding.UTF8.GetString(edited).IndexOf("topic:", StringComparison.Ordinal) + 6 + 1 + 16 + 2] ^= 1;
        var result = AuditVerifier.Verify([AuditRecordCodec.Decode(edited), decoded[1]], "logs-0001");
        Assert.Equal(AuditFailure.Modified, result.Failure);
        Assert.Equal(1, result.FirstBadSeq);
    }

    [Fact]
    public void AuditChain_Format1RecordsStillDecodeAndVerify_AndAFormat2RecordMayFollowThem()
    {
        var legacy = new AuditChain("logs-0001");
        var first = legacy.Append(_t0, "alice", "logs.append", "logs/1/topic:orders", AuditOutcome.Success, "");
        var next = new AuditChain(legacy.Head, new XorSealer()).Append(_t0, "alice", "logs.append", "logs/1/topic:orders", AuditOutcome.Success, "");

        var decoded = new[] { first, next }.Select(r => AuditRecordCodec.Decode(AuditRecordCodec.Encode(r))).ToArray();

        Assert.Equal(AuditRecordCodec.FormatV1, decoded[0].Format);
        Assert.Equal("logs/1/topic:orders", decoded[0].Resource);
        Assert.Equal(AuditRecordCodec.FormatV2, decoded[1].Format);
        Assert.True(AuditVerifier.Verify(decoded, "logs-0001").IsValid);
    }

    [Theory]
    [InlineData("logs/3/topic:orders", "logs/3/topic:", "orders")]
    [InlineData("events/1/topic:a.b/group:g:1", "events/1/topic:", "a.b/group:g:1")]
    [InlineData("keys/logs-0003/v2", "keys/logs-0003/v2", null)]
    [InlineData("logs/3", "logs/3", null)]
    [InlineData("logs/3/topic:", "logs/3/topic:", null)]
    public void AuditResource_SplitsAtTheFirstColon(string resource, string scope, string? subject) =>
        Assert.Equal((scope, subject), AuditResource.Split(resource));

    private static ChainHead Head(string shard, long seq) => new(shard, seq, SHA256.HashData(Encoding.UTF8.GetBytes($"{shard}:{seq}")));

    [Fact]
    public void Seal_Format2_CarriesKeyIdFailuresAndIncarnations_AndRoundTrips()
    {
        var seal = _signer.CreateSeal(null, _t0, [Head("logs-0002", 4), Head("logs-0001", 7)],
            [new SealedShardFailure("logs-0003", ErrorCodes.AuditChainBroken, "logs-0003: Deleted at seq 5")], ["logs-0002"]);

        var decoded = SealCodec.Decode(SealCodec.Encode(seal));

        Assert.Equal(SealCodec.FormatV2, decoded.Format);
        Assert.Equal(_signer.KeyId, decoded.KeyId);
        Assert.Equal(_signer.PublicKeyFingerprint, decoded.KeyIdHex);
        Assert.Equal(["logs-0002"], decoded.NewIncarnations);
        Assert.Equal([new SealedShardFailure("logs-0003", ErrorCodes.AuditChainBroken, "logs-0003: Deleted at seq 5")], decoded.Failed);
        Assert.True(_verifier.Verify(decoded).IsValid);
        Assert.Equal(SealCodec.Hash(seal), SealCodec.Hash(decoded));
    }

    [Fact]
    public void SealVerifier_RefusesASealOfAnotherKeyByItsId_AndAnEditedFailureListByItsSignature()
    {
        using var other = AuditSigner.Generate();
        var foreign = other.CreateSeal(null, _t0, [Head("logs-0001", 1)]);
        Assert.Equal(SealFailure.WrongKey, _verifier.Verify(foreign).Failure);

        var seal = _signer.CreateSeal(null, _t0, [Head("logs-0001", 1)], [new SealedShardFailure("logs-0002", ErrorCodes.Unavailable, "no answer")]);
        var hidden = seal with { Failed = [] };
        Assert.Equal(SealFailure.BadSignature, _verifier.Verify(hidden).Failure);
    }

    [Fact]
    public void VerifyHistory_AcceptsARewindOnlyWhenTheSealNamesANewIncarnation()
    {
        var s1 = _signer.CreateSeal(null, _t0, [Head("logs-0001", 10), Head("logs-0002", 3)]);
        var rewound = _signer.CreateSeal(s1, _t0.AddMinutes(1), [Head("logs-0001", 4), Head("logs-0002", 3)]);
        var restored = _signer.CreateSeal(s1, _t0.AddMinutes(1), [Head("logs-0001", 4), Head("logs-0002", 3)], newIncarnations: ["logs-0001"]);
        var after = _signer.CreateSeal(restored, _t0.AddMinutes(2), [Head("logs-0001", 6), Head("logs-0002", 3)]);

        var bad = _verifier.VerifyHistory([s1, rewound]);
        Assert.Equal(SealFailure.HeadRegressed, bad.Failure);
        Assert.Equal("logs-0001", bad.ShardId);
        Assert.True(_verifier.VerifyHistory([s1, restored, after]).IsValid);
    }

    [Fact]
    public void Format1Seals_StillDecodeAndVerify()
    {
        var heads = new[] { Head("logs-0001", 1) };
        var root = SealCodec.MerkleRoot(heads);
        var v1 = new Seal(1, _t0, heads, root, SealCodec.NoPreviousSeal, []);
        v1 = v1 with { Signature = _signer.Sign(SealCodec.SignatureInput(v1)) };

        var decoded = SealCodec.Decode(SealCodec.Encode(v1));

        Assert.Equal(SealCodec.FormatV1, decoded.Format);
        Assert.Null(decoded.KeyId);
        Assert.True(_verifier.Verify(decoded).IsValid);
    }
}
