using System.Security.Cryptography;

namespace ForgeOne.Security;

/// <summary>
/// A small lock-free pool of <see cref="AesGcm"/> instances for one key. AesGcm is not
/// thread-safe and creating one costs a key schedule plus a native handle (far more than a
/// 200-byte encryption), so each operation rents one and returns it. Slots are taken with
/// <see cref="Interlocked.Exchange{T}(ref T, T)"/>, starting at a per-thread offset to spread contention.
/// </summary>
internal sealed class AesGcmPool : IDisposable
{
    public const int TagLength = 16;

    private readonly byte[] _key;
    private readonly AesGcm?[] _slots;
    private volatile bool _disposed;

    public AesGcmPool(ReadOnlySpan<byte> key)
    {
        _key = key.ToArray();
        _slots = new AesGcm?[Math.Max(4, Environment.ProcessorCount * 2)];
    }

    public AesGcm Rent()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var start = Environment.CurrentManagedThreadId;
        for (var i = 0; i < _slots.Length; i++)
        {
            var item = Interlocked.Exchange(ref _slots[(start + i) % _slots.Length], null);
            if (item is not null)
            {
                return item;
            }
        }

        return new AesGcm(_key, TagLength);
    }

    public void Return(AesGcm item)
    {
        if (!_disposed)
        {
            var start = Environment.CurrentManagedThreadId;
            for (var i = 0; i < _slots.Length; i++)
            {
                if (Interlocked.CompareExchange(ref _slots[(start + i) % _slots.Length], item, null) is null)
                {
                    return;
                }
            }
        }

        item.Dispose();
    }

    public void Dispose()
    {
        _disposed = true;
        for (var i = 0; i < _slots.Length; i++)
        {
            Interlocked.Exchange(ref _slots[i], null)?.Dispose();
        }

        Array.Clear(_key);
    }
}
