using System.Text;
using ForgeOne.Common;
using FsCheck;
using FsCheck.Xunit;

namespace ForgeOne.Security.Tests;

/// <summary>FsCheck properties over arbitrary inputs.</summary>
public sealed class PropertyTests
{
    private static readonly TestKekProvider Kek = new();
    private static readonly Keyring Ring = Fixtures.NewKeyring("logs-0042", Kek);
    private static readonly RecordCipher Records = new(Ring);
    private static readonly FieldCipher Fields = new(Ring);

    [Property(MaxTest = 300)]
    public bool RecordCipher_RoundTripsArbitraryBytesAndContexts(byte[] plain, NonNull<string> store, NonNull<string> table, byte[] key)
    {
        var ctx = new RecordContext(store.Get, table.Get, key);
        var ct = Records.Encrypt(plain, ctx);
        return ct.Length == plain.Length + RecordCipher.Overhead && Records.Decrypt(ct, ctx).AsSpan().SequenceEqual(plain);
    }

    [Property(MaxTest = 300)]
    public bool RecordCipher_AnySingleByteFlipFailsWithATypedError(byte[] plain, NonNegativeInt position, byte mask)
    {
        var ctx = new RecordContext("logs-0042", "logs", "id"u8);
        var ct = Records.Encrypt(plain, ctx);
        ct[position.Get % ct.Length] ^= (byte)(mask == 0 ? 1 : mask);
        try
        {
            Records.Decrypt(ct, new RecordContext("logs-0042", "logs", "id"u8));
            return false;
        }
        catch (ForgeOneException e)
        {
            return e.Code.StartsWith("crypto.", StringComparison.Ordinal);
        }
    }

    [Property(MaxTest = 200)]
    public bool RecordCipher_AnotherRecordKeyFails(byte[] plain, NonEmptyArray<byte> keyA, NonEmptyArray<byte> keyB)
    {
        if (keyA.Get.AsSpan().SequenceEqual(keyB.Get))
        {
            return true;
        }

        var ct = Records.Encrypt(plain, new RecordContext("logs-0042", "logs", keyA.Get));
        try
        {
            Records.Decrypt(ct, new RecordContext("logs-0042", "logs", keyB.Get));
            return false;
        }
        catch (ForgeOneException e)
        {
            return e.Code == ErrorCodes.CryptoTampered;
        }
    }

    [Property(MaxTest = 200)]
    public bool FieldCipher_RoundTripsAndRedacts(byte[] plain, NonNegativeInt classSeed, NonNegativeInt readableMask)
    {
        var fieldClass = (FieldClass)(1 + (classSeed.Get % 6));
        var readable = Enum.GetValues<FieldClass>().Where(c => (readableMask.Get & (1 << (int)c)) != 0).ToHashSet();
        var ctx = new RecordContext("logs-0042", "logs", "id"u8);
        var revealed = Fields.Reveal(Fields.Encrypt(fieldClass, plain, ctx), ctx, readable);
        return readable.Contains(fieldClass)
            ? !revealed.Redacted && revealed.Value!.AsSpan().SequenceEqual(plain)
            : revealed.Redacted && revealed.Value is null;
    }

    [Property(MaxTest = 100)]
    public bool Keyring_SerializeLoadRoundTripsAfterAnyOperationSequence(int[] operations)
    {
        var clock = new ManualTimeProvider();
        var ring = Keyring.Create("blobs-0003", Kek, clock).Keyring;
        foreach (var op in operations.Take(12))
        {
            clock.Advance(TimeSpan.FromMinutes(1));
            switch (Math.Abs(op % 3))
            {
                case 0:
                    ring = ring.Rotate(clock, "p").Keyring;
                    break;
                case 1 when ring.MinDecryptionVersion < ring.ActiveVersion:
                    ring = ring.Retire(ring.MinDecryptionVersion + 1, clock).Keyring;
                    break;
                case 2 when ring.Versions.FirstOrDefault(v => v.State == KeyState.Retired) is { } retired:
                    ring = ring.Destroy(retired.Version, clock).Keyring;
                    break;
            }
        }

        var loaded = Keyring.Load(ring.Serialize(Kek), Kek);
        return loaded.Versions.SequenceEqual(ring.Versions)
            && loaded.ActiveVersion == ring.ActiveVersion
            && loaded.MinDecryptionVersion == ring.MinDecryptionVersion
            && ring.Keys.Zip(loaded.Keys).All(p => (p.First.Material ?? []).AsSpan().SequenceEqual(p.Second.Material ?? []));
    }

    [Property(MaxTest = 300)]
    public bool AuditChain_AnyModificationIsDetectedAtItsPosition(PositiveInt sizeSeed, NonNegativeInt indexSeed, NonNegativeInt kindSeed)
    {
        const string shard = "logs-0042";
        var n = 2 + (sizeSeed.Get % 30);
        var records = AuditChainTests.BuildChain(n, shard);
        var sealedHead = records[^1].HeadFor(shard);
        var i = indexSeed.Get % n;
        long expectedSeq;
        AuditFailure expected;
        switch (kindSeed.Get % 6)
        {
            case 0:
                records[i] = records[i] with { Principal = records[i].Principal + "x" };
                (expected, expectedSeq) = (AuditFailure.Modified, i + 1);
                break;
            case 1:
                var changed = records[i] with { Time = records[i].Time.AddTicks(1) };
                records[i] = changed with { Hash = AuditRecordCodec.ComputeHash(changed) };
                (expected, expectedSeq) = (AuditFailure.Modified, i + 1);
                break;
            case 2:
                records.RemoveAt(i);
                (expected, expectedSeq) = (i == n - 1 ? AuditFailure.Truncated : AuditFailure.Deleted, i + 1);
                break;
            case 3:
                var j = Math.Min(i, n - 2);
                (records[j], records[j + 1]) = (records[j + 1], records[j]);
                (expected, expectedSeq) = (AuditFailure.Reordered, j + 1);
                break;
            case 4:
                records = records.Take(i).ToList();
                (expected, expectedSeq) = (AuditFailure.Truncated, i + 1);
                break;
            default:
                var detail = (byte[])records[i].DetailHash.Clone();
                detail[indexSeed.Get % 32] ^= 0x01;
                records[i] = records[i] with { DetailHash = detail };
                (expected, expectedSeq) = (AuditFailure.Modified, i + 1);
                break;
        }

        var result = AuditVerifier.Verify(records, shard, [sealedHead]);
        return result.Failure == expected && result.FirstBadSeq == expectedSeq;
    }

    [Property(MaxTest = 200)]
    public bool AuditRecordCodec_RoundTripsArbitraryFields(NonNull<string> principal, NonNull<string> action, NonNull<string> resource, byte[] detail, long ticks)
    {
        var time = new DateTimeOffset(Math.Abs(ticks % DateTimeOffset.MaxValue.UtcTicks), TimeSpan.Zero);
        var record = new AuditChain("s").Append(time, principal.Get, action.Get, resource.Get, AuditOutcome.Failed, detail);
        var decoded = AuditRecordCodec.Decode(AuditRecordCodec.Encode(record));
        // Lone surrogates become U+FFFD in UTF-8, so compare the encoded forms.
        return AuditRecordCodec.Encode(decoded).AsSpan().SequenceEqual(AuditRecordCodec.Encode(record))
            && decoded.Seq == 1 && decoded.Time == time
            && Encoding.UTF8.GetBytes(decoded.Principal).AsSpan().SequenceEqual(Encoding.UTF8.GetBytes(principal.Get));
    }

    [Property(MaxTest = 100)]
    public bool BlindIndex_DistinctTopicsGetDistinctTokens(NonNull<string> a, NonNull<string> b)
    {
        var index = new BlindIndex(Ring);
        var same = Encoding.UTF8.GetBytes(a.Get).AsSpan().SequenceEqual(Encoding.UTF8.GetBytes(b.Get));
        return same == index.Token(a.Get).AsSpan().SequenceEqual(index.Token(b.Get));
    }
}
