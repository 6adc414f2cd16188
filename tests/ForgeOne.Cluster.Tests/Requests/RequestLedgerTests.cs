using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Security;
using ForgeOne.Cluster.Shards.Requests;
using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage;
using ForgeOne.Storage.Records;
using ForgeOne.Storage.Testing;

namespace ForgeOne.Cluster.Tests.Requests;

/// <summary>The request ledger alone, over the in-memory store: in-flight bookkeeping, outcomes, the window, pruning.</summary>
public sealed class RequestLedgerTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly byte[] Fp = [1, 2, 3];
    private readonly TempRoot _root = new();
    private readonly InMemoryShardStore _store = new(ShardKind.Logs, 0, 4);
    private readonly IShardSecurity _security;
    private readonly RequestLedger _ledger;

    public RequestLedgerTests()
    {
        _security = new ShardSecurityFactory(new FileKekProvider(_root.KeysDirectory, _root.DataRoot), TestAuth.Node(), TimeProvider.System).Open(_store, ShardKind.Logs, 0);
        _ledger = new RequestLedger(_security, TimeSpan.FromHours(1));
    }

    private RequestTicket Begin(string principal, RequestId id, byte[]? fingerprint = null)
    {
        var (ticket, refusal) = _ledger.Begin(principal, id, fingerprint ?? Fp);
        Assert.Null(refusal);
        return ticket!;
    }

    private void Record(RequestTicket ticket, DateTimeOffset at, params RecordId[] ids) =>
        _store.Write(txn =>
        {
            _ledger.Record(txn, ticket, ids, at);
            return 0;
        });

    private RequestOutcome? Find(RequestTicket ticket, DateTimeOffset at) => _store.Read(txn => _ledger.Find(txn, ticket, at));

    private long Count(string table) => _store.Read(txn => txn.Count(table));

    [Fact]
    public void Begin_RefusesADuplicateInFlight_InFlightWithTheSameFingerprint_KeyReusedWithAnother()
    {
        var id = new RequestId("p1", 7);
        Begin("alice", id);

        var (same, inFlight) = _ledger.Begin("alice", id, Fp);
        var (other, reused) = _ledger.Begin("alice", id, [9]);

        Assert.Null(same);
        Assert.Equal(ErrorCodes.RequestInFlight, inFlight!.Code);
        Assert.Null(other);
        Assert.Equal(ErrorCodes.RequestKeyReused, reused!.Code);
        Assert.Equal(1, _ledger.InFlight);
    }

    [Fact]
    public void End_LetsTheSameIdBeAdmittedAgain()
    {
        var id = new RequestId("p1", 7);
        var first = Begin("alice", id);
        _ledger.End(first);

        var second = Begin("alice", id);

        Assert.NotSame(first, second);
        Assert.Equal(first.Key, second.Key);
        Assert.Equal(1, _ledger.InFlight);
    }

    [Fact]
    public void Begin_ScopesIdsByPrincipal_AnotherPrincipalsIdentialIdIsNotInFlight()
    {
        var id = new RequestId("p1", 7);
        var alice = Begin("alice", id);

        var bob = Begin("bob", id);

        Assert.NotEqual(alice.Key, bob.Key);
        Assert.Equal(2, _ledger.InFlight);
    }

    [Fact]
    public void Keys_OfOneProducer_AreAdjacentAndAscending_AndHoldNoPlaintext()
    {
        var keys = Enumerable.Range(1, 3).Select(i => Begin("alice", new RequestId("producer-xyz", i)).Key).ToArray();

        Assert.All(keys, k => Assert.Equal(RequestKeys.LedgerKeyLength, k.Length));
        Assert.All(keys, k => Assert.Equal(keys[0][..16], k[..16]));
        Assert.True(keys[0].AsSpan().SequenceCompareTo(keys[1]) < 0 && keys[1].AsSpan().SequenceCompareTo(keys[2]) < 0);
        Assert.DoesNotContain("producer", System.Text.Encoding.Latin1.GetString(keys[0]), StringComparison.Ordinal);
    }

    [Fact]
    public void Find_ReturnsTheRecordedOutcomeWithinTheWindow_AndNothingAfterIt()
    {
        var ticket = Begin("alice", new RequestId("p1", 1));
        var ids = new[] { new RecordId(11), new RecordId(12) };
        Record(ticket, T0, ids);

        var within = Find(ticket, T0 + TimeSpan.FromMinutes(59));
        var after = Find(ticket, T0 + TimeSpan.FromMinutes(61));

        Assert.NotNull(within);
        Assert.Equal(ids, within!.Ids);
        Assert.Equal(Fp, within.Fingerprint);
        Assert.True(RequestLedger.SameRequest(within, ticket));
        Assert.Null(after);
    }

    [Fact]
    public void Record_OverAnExpiredOutcome_ReplacesItAndItsExpiryEntry()
    {
        var ticket = Begin("alice", new RequestId("p1", 1));
        Record(ticket, T0, new RecordId(1));
        var later = T0 + TimeSpan.FromHours(2);

        Assert.Null(Find(ticket, later));
        Record(ticket, later, new RecordId(2));

        Assert.Equal([new RecordId(2)], Find(ticket, later)!.Ids);
        Assert.Equal(1, Count(Tables.Requests));
        Assert.Equal(1, Count(Tables.RequestExpiry));
    }

    [Fact]
    public void Prune_DeletesOnlyExpiredOutcomes_OldestFirst_AtMostMax()
    {
        var tickets = Enumerable.Range(1, 5).Select(i => Begin("alice", new RequestId("p1", i))).ToArray();
        for (var i = 0; i < tickets.Length; i++)
        {
            Record(tickets[i], T0 + TimeSpan.FromMinutes(i * 10), new RecordId((ulong)i + 1));
        }

        // At T0 + 1h25m the window starts at T0 + 25m: outcomes at 0, 10, 20 min are expired.
        var now = T0 + TimeSpan.FromMinutes(85);
        var first = _store.Write(txn => _ledger.Prune(txn, now, max: 2));
        var second = _store.Write(txn => _ledger.Prune(txn, now, max: 10));

        Assert.Equal(2, first);
        Assert.Equal(1, second);
        Assert.Equal(2, Count(Tables.Requests));
        Assert.Equal(2, Count(Tables.RequestExpiry));
        Assert.Null(Find(tickets[0], T0));
        Assert.Null(Find(tickets[2], T0));
        Assert.NotNull(Find(tickets[3], now));
    }

    [Fact]
    public void StoredOutcome_IsEncrypted_AndBoundToItsKey()
    {
        var a = Begin("alice", new RequestId("p1", 1));
        var b = Begin("alice", new RequestId("p1", 2));
        Record(a, T0, new RecordId(0x1122334455667788));
        Record(b, T0, new RecordId(1));

        // An attacker with the file moves a's outcome under b's key: it no longer decrypts.
        _store.Write(txn =>
        {
            txn.Put(Tables.Requests, b.Key, txn.Get(Tables.Requests, a.Key)!);
            return 0;
        });

        var stored = _store.Read(txn => txn.Get(Tables.Requests, a.Key))!;
        Assert.Equal(-1, stored.AsSpan().IndexOf((ReadOnlySpan<byte>)[0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]));
        Assert.Throws<ForgeOneException>(() => Find(b, T0));
    }

    [Theory]
    [InlineData("", 0)]
    [InlineData("has\nnewline", 0)]
    [InlineData("ok", -1)]
    public void Validate_RefusesMalformedIds(string producer, long sequence) =>
        Assert.Equal(ErrorCodes.InvalidArgument, new RequestId(producer, sequence).Validate()!.Code);

    [Fact]
    public void Validate_RefusesOversizedProducerAndFingerprint()
    {
        Assert.NotNull(new RequestId(new string('x', RequestId.MaxProducerBytes + 1), 0).Validate());
        Assert.NotNull(new RequestId("ok", 0, new byte[RequestId.MaxFingerprintBytes + 1]).Validate());
        Assert.NotNull(new RequestId("ok", 0, []).Validate());
        Assert.Null(RequestId.ForKey(new string('x', RequestId.MaxProducerBytes), new byte[32]).Validate());
    }

    public void Dispose()
    {
        _security.Dispose();
        _store.Dispose();
        _root.Dispose();
    }
}
