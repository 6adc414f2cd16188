using System.Security.Cryptography;

namespace ForgeOne.Security;

/// <summary>
/// Random 96-bit GCM nonces (the per-key message count bounds their collision risk) from the OS CSPRNG, drawn 4 KiB at a time per
/// thread: one <see cref="RandomNumberGenerator.Fill"/> call costs ~1.5 us on OpenSSL 3, more
/// than encrypting a 200-byte record. Every byte is handed out once and wiped from the buffer.
/// </summary>
internal static class NonceSource
{
    private const int BufferLength = 4096;

    [ThreadStatic]
    private static byte[]? _buffer;

    [ThreadStatic]
    private static int _next;

    public static void Fill(Span<byte> nonce)
    {
        if (nonce.Length > BufferLength)
        {
            RandomNumberGenerator.Fill(nonce);
            return;
        }

        var buffer = _buffer;
        if (buffer is null || _next + nonce.Length > BufferLength)
        {
            buffer = _buffer ??= new byte[BufferLength];
            RandomNumberGenerator.Fill(buffer);
            _next = 0;
        }

        var slice = buffer.AsSpan(_next, nonce.Length);
        slice.CopyTo(nonce);
        slice.Clear();
        _next += nonce.Length;
    }
}
