using System.Diagnostics;
using Akka.Actor;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Protocol.Wire;
using ForgeOne.Cluster.Singletons;
using ForgeOne.Common;
using Xunit.Abstractions;

namespace ForgeOne.Cluster.Tests.Wire;

/// <summary>
/// Property and fuzz tests of every wire deserializer, run over every allow-listed message type:
/// random valid instances round-trip byte for byte; random and mutated bytes (bit flips, byte
/// overwrites, truncation, extension, insertion, deletion, huge length prefixes) decode to a value
/// of the manifest's type or fail with a <see cref="WireFormatException"/>, never another
/// exception, never allocating more than <see cref="AllocationPerByte"/> bytes per input byte
/// plus <see cref="AllocationSlack"/>, and never taking long (decoding is linear in the input).
/// </summary>
public sealed class WireFuzzTests : IDisposable
{
    // Stated bound: every element of a decoded collection costs at least one input byte, and no
    // decoded object costs more than ~20 bytes per byte that encodes it (a 1-byte null reference
    // becomes a 16-byte nullable slot, a 2-byte record a 32-byte object and its reference).
    private const int AllocationPerByte = 32;
    private const int AllocationSlack = 16 * 1024;
    private const int Seeds = 12;
    private const int MutationsPerSample = 24;

    private static readonly TimeSpan SlowDecode = TimeSpan.FromSeconds(1);

    private readonly ITestOutputHelper _output;
    private readonly ActorSystem _system = ActorSystem.Create("wire-fuzz", "akka.loglevel = WARNING");
    private readonly ForgeOneWireSerializer _serializer;

    public WireFuzzTests(ITestOutputHelper output)
    {
        _output = output;
        _serializer = new ForgeOneWireSerializer((ExtendedActorSystem)_system);
    }

    public static TheoryData<string> Manifests() => new(ProtocolTypes.ByManifest.Keys.Order(StringComparer.Ordinal));

    public void Dispose() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));

    [Theory]
    [MemberData(nameof(Manifests))]
    public void RandomInstances_RoundTripByteForByte(string manifest)
    {
        var type = ProtocolTypes.ByManifest[manifest];
        for (var seed = 0; seed < Seeds; seed++)
        {
            var value = new WireSamples(seed, _system.DeadLetters).Create(type);
            var bytes = _serializer.ToBinary(value);
            var back = _serializer.FromBinary(bytes, _serializer.Manifest(value));
            Assert.IsType(type, back);
            Assert.Equal(bytes, _serializer.ToBinary(back));
        }
    }

    [Theory]
    [MemberData(nameof(Manifests))]
    public void MutatedAndRandomBytes_FailTypedWithinBounds(string manifest)
    {
        var type = ProtocolTypes.ByManifest[manifest];
        var random = new Random(manifest.GetHashCode(StringComparison.Ordinal));
        var valid = Enumerable.Range(0, Seeds).Select(seed => _serializer.ToBinary(new WireSamples(seed, _system.DeadLetters).Create(type))).ToList();
        foreach (var bytes in valid)
        {
            // Compiles the codecs (nested ones on first use), so allocations measured below are the decoder's own.
            Assert.Equal("decoded", Decode(manifest, bytes, measure: false));
        }

        var outcomes = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var bytes in valid)
        {
            for (var i = 0; i < MutationsPerSample; i++)
            {
                Count(outcomes, Decode(manifest, Mutate(bytes, random)));
            }
        }

        // Random bodies behind a valid header reach the field decoders; fully random bytes stop at the header.
        foreach (var length in new[] { 0, 1, 4, 5, 6, 9, 17, 64, 300, 4096 })
        {
            var noise = new byte[length];
            random.NextBytes(noise);
            Count(outcomes, Decode(manifest, noise));
            if (length >= 5)
            {
                valid[0].AsSpan(0, 5).CopyTo(noise);
                Count(outcomes, Decode(manifest, noise));
            }
        }

        _output.WriteLine($"{manifest}: {string.Join(", ", outcomes.Select(kv => $"{kv.Key} x{kv.Value}"))}");
    }

    [Fact]
    public void StatusFailure_TravelsAsATypedErrorAndItsBytesAreFuzzed()
    {
        var bytes = _serializer.ToBinary(new Status.Failure(new ForgeOneException(ErrorCodes.Forbidden, "no")));
        var back = Assert.IsType<Status.Failure>(_serializer.FromBinary(bytes, ForgeOneWireSerializer.FailureManifest));
        Assert.Equal(new ForgeOneError(ErrorCodes.Forbidden, "no"), Assert.IsType<ForgeOneException>(back.Cause).Error);
        var random = new Random(7);
        for (var i = 0; i < 500; i++)
        {
            Decode(ForgeOneWireSerializer.FailureManifest, Mutate(bytes, random));
        }
    }

    [Fact]
    public void SingletonJournalEvents_RefuseCorruptBytesTyped()
    {
        var serializer = new SingletonEventSerializer((ExtendedActorSystem)_system);
        var random = new Random(11);
        var samples = new object[]
        {
            new KeyEventsRecorded(DateTimeOffset.UnixEpoch, "logs-0001", ["keys.rotated v2", "keys.retired v1"]),
            new BackupScheduleSet(TimeSpan.FromHours(1), DateTimeOffset.UnixEpoch, "root"),
        };
        foreach (var sample in samples)
        {
            var bytes = serializer.ToBinary(sample);
            for (var i = 0; i < 500; i++)
            {
                var mutated = Mutate(bytes, random);
                var before = GC.GetAllocatedBytesForCurrentThread();
                try
                {
                    serializer.FromBinary(mutated, serializer.Manifest(sample));
                }
                catch (ForgeOneException)
                {
                }

                Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, (AllocationPerByte * mutated.Length) + AllocationSlack);
            }
        }
    }

    private string Decode(string manifest, byte[] bytes, bool measure = true)
    {
        var clock = Stopwatch.StartNew();
        var before = GC.GetAllocatedBytesForCurrentThread();
        string outcome;
        try
        {
            var value = _serializer.FromBinary(bytes, manifest);
            outcome = "decoded";
            Assert.True(manifest == ForgeOneWireSerializer.FailureManifest ? value is Status.Failure : value.GetType() == ProtocolTypes.ByManifest[manifest],
                $"{manifest} decoded to {value.GetType()}");
        }
        catch (WireFormatException e)
        {
            outcome = e.Error.Code;
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(!measure || allocated <= (AllocationPerByte * (long)bytes.Length) + AllocationSlack, $"{manifest}: {allocated} bytes allocated decoding {bytes.Length} bytes ({Convert.ToHexString(bytes)})");
        Assert.True(clock.Elapsed < SlowDecode, $"{manifest}: decoding {bytes.Length} bytes took {clock.Elapsed}");
        return outcome;
    }

    private static byte[] Mutate(byte[] bytes, Random random)
    {
        var list = bytes.ToList();
        var at = list.Count == 0 ? 0 : random.Next(list.Count);
        switch (random.Next(8))
        {
            case 0 when list.Count > 0:
                list[at] ^= (byte)(1 << random.Next(8));
                break;
            case 1 when list.Count > 0:
                list[at] = (byte)random.Next(256);
                break;
            case 2:
                list.RemoveRange(at, list.Count - at);
                break;
            case 3:
                list.AddRange(Enumerable.Range(0, random.Next(1, 16)).Select(_ => (byte)random.Next(256)));
                break;
            case 4:
                list.Insert(at, (byte)random.Next(256));
                break;
            case 5 when list.Count > 0:
                list.RemoveAt(at);
                break;
            case 6:
                // A huge varint where a length may be: must not allocate what it claims.
                list.InsertRange(at, [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]);
                break;
            default:
                // Mutate past the header, so most cases reach the field decoders.
                if (list.Count > 5)
                {
                    var past = random.Next(5, list.Count);
                    list[past] = (byte)random.Next(256);
                }

                break;
        }

        return [.. list];
    }

    private static void Count(Dictionary<string, int> outcomes, string outcome) =>
        outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
}
