using System.Buffers.Binary;
using ForgeOne.Common;
using ForgeOne.Storage;

// Usage: ForgeOne.Storage.CrashWriter <dataRoot> <putsPerBatch>
//
// Writes batch n = 1, 2, 3, ... into logs shard 0 of 1: K records in `logs` keyed (n, i)
// plus one marker in `checkpoints` keyed n whose value is K. Prints "committed n" only after
// Write returned, i.e. after the durable commit. Runs until killed.
if (args.Length != 2 || !int.TryParse(args[1], out var putsPerBatch) || putsPerBatch < 1)
{
    Console.Error.WriteLine("usage: ForgeOne.Storage.CrashWriter <dataRoot> <putsPerBatch>");
    return 2;
}

using var store = ShardStore.Open(new ShardStoreOptions(args[0], ShardKind.Logs, 0, 1) { InitialMapSize = 1L << 20 });
Console.WriteLine("ready");
var key = new byte[12];
var marker = new byte[4];
for (ulong n = 1; ; n++)
{
    store.Write(txn =>
    {
        for (var i = 0; i < putsPerBatch; i++)
        {
            BinaryPrimitives.WriteUInt64BigEndian(key, n);
            BinaryPrimitives.WriteInt32BigEndian(key.AsSpan(8), i);

            // Varying sizes (some over a page) so commits touch leaf, branch and overflow pages.
            var value = new byte[64 + (int)((n * 31 + (ulong)i * 17) % 6000)];
            value.AsSpan().Fill((byte)n);
            txn.Put(Tables.Logs, key, value);
        }

        BinaryPrimitives.WriteInt32BigEndian(marker, putsPerBatch);
        txn.Put(Tables.Checkpoints, KeyCodec.UInt64(n), marker);
        return 0;
    });

    // Console.Out auto-flushes, so the line reaches the pipe before the next batch starts.
    Console.WriteLine($"committed {n}");
}
