namespace ForgeOne.Security;

/// <summary>
/// When a shard's active data key must be rotated: by age or by number of encryptions.
/// AES-GCM with random 96-bit nonces must stay well under 2^32 encryptions per key (NIST
/// SP 800-38D), so the default is 2^30.
/// </summary>
/// <param name="MaxAge">Rotate when the active version is at least this old.</param>
/// <param name="MaxEncryptions">Rotate when the active version has encrypted this many times.</param>
public sealed record RotationPolicy(TimeSpan MaxAge, long MaxEncryptions)
{
    /// <summary>Hard ceiling enforced by the ciphers even if rotation never runs.</summary>
    public const long HardEncryptionLimit = 1L << 32;

    /// <summary>90 days or 2^30 encryptions, whichever comes first.</summary>
    public static RotationPolicy Default { get; } = new(TimeSpan.FromDays(90), 1L << 30);

    /// <summary>True when the active version is due for rotation.</summary>
    /// <param name="keyring">The keyring.</param>
    /// <param name="now">Current time from the caller's <see cref="TimeProvider"/>.</param>
    /// <param name="usage">Live counts; when null the persisted counts are used.</param>
    public bool ShouldRotate(Keyring keyring, DateTimeOffset now, KeyUsage? usage = null) => Reason(keyring, now, usage) is not null;

    /// <summary>Why rotation is due (for the audit detail), or null when it is not.</summary>
    public string? Reason(Keyring keyring, DateTimeOffset now, KeyUsage? usage = null)
    {
        ArgumentNullException.ThrowIfNull(keyring);
        var active = keyring.Active;
        var count = Math.Max(active.Encryptions, usage?.Get(active.Version) ?? 0);
        if (count >= MaxEncryptions)
        {
            return $"usage: v{active.Version} has {count} encryptions (limit {MaxEncryptions})";
        }

        var age = now - active.CreatedAt;
        return age >= MaxAge ? $"age: v{active.Version} is {age.TotalDays:F1} days old (limit {MaxAge.TotalDays:F1})" : null;
    }
}
