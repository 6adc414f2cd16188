using System.Collections.Concurrent;
using ForgeOne.Common;
using Microsoft.Extensions.Logging;

namespace ForgeOne.Security.Tests;

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualTimeProvider : TimeProvider
{
    private DateTimeOffset _now;

    public ManualTimeProvider(DateTimeOffset? start = null) => _now = start ?? new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}

/// <summary>A KEK provider in memory: versions are fixed byte patterns the no-secrets test can search for.</summary>
internal sealed class TestKekProvider : IKekProvider
{
    private readonly Dictionary<int, KeyEncryptionKey> _keys = [];

    public TestKekProvider(byte seed = 0x11) => Add(1, seed);

    public int CurrentVersion { get; private set; }

    public KeyEncryptionKey Get(int version) =>
        _keys.TryGetValue(version, out var k) ? k : throw new ForgeOneException(ErrorCodes.CryptoKeyUnavailable, $"no KEK v{version}");

    public KeyEncryptionKey Rotate() => Add(CurrentVersion + 1, (byte)(0x40 + CurrentVersion));

    public static byte[] Bytes(byte seed) => Enumerable.Range(0, 32).Select(i => (byte)(seed + (i * 7))).ToArray();

    public byte[] RawKey(int version) => Get(version).Key.ToArray();

    private KeyEncryptionKey Add(int version, byte seed)
    {
        var k = new KeyEncryptionKey(version, Bytes(seed));
        _keys[version] = k;
        CurrentVersion = version;
        return k;
    }
}

/// <summary>A temp directory removed at dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => System.IO.Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "forgeone-sec-" + Guid.NewGuid().ToString("N"));

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>An ILogger that keeps every formatted line (and exception text).</summary>
internal sealed class CapturingLogger : ILogger
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        Lines.Enqueue($"{logLevel} {eventId.Id} {formatter(state, exception)} {exception}");
        if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
        {
            foreach (var p in pairs)
            {
                Lines.Enqueue($"  {p.Key}={p.Value}");
            }
        }
    }
}

internal static class Fixtures
{
    public static readonly ManualTimeProvider Clock = new();

    public static Keyring NewKeyring(string storeId = "logs-0001", IKekProvider? kek = null) =>
        Keyring.Create(storeId, kek ?? new TestKekProvider(), Clock).Keyring;

    public static ForgeOneException Throws(string code, Action action)
    {
        var e = Assert.Throws<ForgeOneException>(action);
        Assert.Equal(code, e.Code);
        return e;
    }
}
